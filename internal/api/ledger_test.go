package api_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cityid/cityid/internal/api"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/store"
	"github.com/cityid/cityid/internal/wire"
)

// ledger is committed state built by the registry's own state machine on a
// real store (IAVL in memory), one transaction a block, for tests that need
// to do to the state what a running node never lets them: read what a
// handler reads, or spoil an entry.
type ledger struct {
	t      testing.TB
	st     *store.Store
	m      *registry.Machine
	height int64
	nonces map[string]uint64
}

const ledgerChainID = "cityid-api-test"

// ledgerKey is the Ed25519 key of a named actor, the same on every run.
func ledgerKey(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("cityid api test key " + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

// newLedger commits a genesis whose authority is the key "operator", 1 of 1.
func newLedger(t testing.TB) *ledger {
	t.Helper()
	st, err := store.OpenMemory(store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	l := &ledger{t: t, st: st, m: registry.New(ledgerChainID), nonces: map[string]uint64{}}
	genesis, _ := json.Marshal(registry.Genesis{
		Authority: registry.Authority{Members: []string{registry.KeyText(ledgerKey("operator").Public().(ed25519.PublicKey))}, Threshold: 1},
		// Applications stay open 3 blocks, so a test sees one expire.
		Params: registry.Params{OIDArc: "1.3.6.1.4.1.99999", IAC: "MA", ApplicationBlocks: 3},
	})
	if err := l.m.InitGenesis(st, genesis, nil); err != nil {
		t.Fatal(err)
	}
	l.commit()
	return l
}

func (l *ledger) commit() {
	l.t.Helper()
	if _, v, err := l.st.Commit(); err != nil {
		l.t.Fatal(err)
	} else {
		l.height = v
	}
}

// send applies one signed transaction of the actor in its own block and
// commits it; a refusal fails the test.
func (l *ledger) send(actor, kind string, msg any) registry.Outcome {
	l.t.Helper()
	key := ledgerKey(actor)
	l.nonces[actor]++
	body, err := registry.NewBody(kind, l.nonces[actor], msg)
	if err != nil {
		l.t.Fatal(err)
	}
	tx, err := registry.Sign(ledgerChainID, body, key).Encode()
	if err != nil {
		l.t.Fatal(err)
	}
	prep, perr := l.m.Prepare(tx)
	if perr != nil {
		l.t.Fatalf("%s: %v", kind, perr)
	}
	blk := registry.Block{Height: l.height + 1, Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(l.height) * time.Second)}
	res, err := l.m.Apply(l.st, blk, prep)
	if err != nil {
		l.t.Fatalf("%s: %v", kind, err)
	}
	if res.Err != nil {
		l.t.Fatalf("%s refused: %v", kind, res.Err)
	}
	l.commit()
	var out registry.Outcome
	if err := json.Unmarshal(res.Data, &out); err != nil {
		l.t.Fatalf("%s result %s: %v", kind, res.Data, err)
	}
	return out
}

// city commits Shijiazhuang (1561301001) with its education sector and a
// unit, 1561301001.85.1, all administered by "alice".
func (l *ledger) city() {
	o := l.send("alice", registry.KindApplyCity, registry.ApplyCity{Country: "156", CityNumber: "130100", Name: "石家庄市"})
	l.send("operator", registry.KindApproveApplication, registry.Decision{Application: o.Application, Hash: o.Hash})
	l.send("alice", registry.KindRegisterSector, registry.RegisterSector{ID: "1561301001.85"})
	l.send("alice", registry.KindRegisterUnit, registry.RegisterUnit{Parent: "1561301001.85", Name: "Education Bureau"})
}

// serve answers the API over the ledger's store on a loopback port.
func (l *ledger) serve(opts api.Options) string {
	srv := httptest.NewServer(api.New(storeBackend{st: l.st}, opts))
	l.t.Cleanup(srv.Close)
	return srv.URL
}

// storeBackend is an api.Backend over committed state in a store; what
// needs a chain (blocks, the mempool) is refused.
type storeBackend struct{ st *store.Store }

var _ api.Backend = storeBackend{}

var errNoChain = errors.New("test backend: committed state only, no chain")

func (b storeBackend) Latest() *store.View                { return b.st.Latest() }
func (b storeBackend) At(h int64) (*store.View, error)    { return b.st.At(h) }
func (b storeBackend) PendingNonce(string) (uint64, bool) { return 0, false }
func (b storeBackend) Submit(context.Context, []byte) (wire.TxResult, error) {
	return wire.TxResult{}, errNoChain
}
func (b storeBackend) Status(context.Context) (wire.NodeStatus, error) {
	return wire.NodeStatus{ChainID: ledgerChainID, Height: b.st.Version(), AppHash: fmt.Sprintf("%X", b.st.Hash())}, nil
}
func (b storeBackend) Block(context.Context, int64) (wire.BlockInfo, error) {
	return wire.BlockInfo{}, errNoChain
}
func (b storeBackend) Tx(context.Context, string) (wire.TxInfo, error) {
	return wire.TxInfo{}, errNoChain
}
func (b storeBackend) LightBlock(context.Context, int64) (json.RawMessage, error) {
	return nil, errNoChain
}
