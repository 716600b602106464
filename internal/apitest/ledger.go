package apitest

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cityid/cityid/internal/api"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/store"
)

// ChainID is the chain every Ledger signs for.
const ChainID = "cityid-api-test"

// GenesisTime is the time of block 1; block h is h-1 seconds later, so
// every record's time is the same on every run.
var GenesisTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Key is the Ed25519 key of a named actor ("operator", "alice", ...), the
// same on every run, so the keys and signatures in answers are too.
func Key(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("cityid api test key " + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

// PubKey is the public key of a named actor as the registry writes it.
func PubKey(name string) string {
	return registry.KeyText(Key(name).Public().(ed25519.PublicKey))
}

// Ledger is committed state built by the registry's own state machine on a
// real store (IAVL in memory), one transaction a block: for tests that
// need state a running node would hold, or state a running node never
// lets them make (a spoiled entry), without starting one.
type Ledger struct {
	t      testing.TB
	st     *store.Store
	m      *registry.Machine
	height int64
	nonces map[string]uint64
}

// NewLedger commits a genesis whose authority is the key "operator", 1 of
// 1; the store is closed when the test ends.
func NewLedger(t testing.TB) *Ledger {
	t.Helper()
	st, err := store.OpenMemory(store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	l := &Ledger{t: t, st: st, m: registry.New(ChainID), nonces: map[string]uint64{}}
	genesis, err := json.Marshal(registry.Genesis{
		Authority: registry.Authority{Members: []string{PubKey("operator")}, Threshold: 1},
		// Applications stay open 3 blocks, so a test sees one expire.
		Params: registry.Params{OIDArc: "1.3.6.1.4.1.99999", IAC: "MA", ApplicationBlocks: 3},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.m.InitGenesis(st, genesis, nil); err != nil {
		t.Fatal(err)
	}
	l.Commit()
	return l
}

// Store is the ledger's store, for tests that read or spoil it directly.
func (l *Ledger) Store() *store.Store { return l.st }

// Height is the last committed height.
func (l *Ledger) Height() int64 { return l.height }

// Commit commits what was written since the last commit: after Send, an
// empty block.
func (l *Ledger) Commit() {
	l.t.Helper()
	_, v, err := l.st.Commit()
	if err != nil {
		l.t.Fatal(err)
	}
	l.height = v
}

// Send applies one signed transaction of the actor in its own block and
// commits it; a refusal fails the test.
func (l *Ledger) Send(actor, kind string, msg any) registry.Outcome {
	l.t.Helper()
	l.nonces[actor]++
	body, err := registry.NewBody(kind, l.nonces[actor], msg)
	if err != nil {
		l.t.Fatal(err)
	}
	tx, err := registry.Sign(ChainID, body, Key(actor)).Encode()
	if err != nil {
		l.t.Fatal(err)
	}
	prep, perr := l.m.Prepare(tx)
	if perr != nil {
		l.t.Fatalf("%s: %v", kind, perr)
	}
	blk := registry.Block{Height: l.height + 1, Time: GenesisTime.Add(time.Duration(l.height) * time.Second)}
	res, err := l.m.Apply(l.st, blk, prep)
	if err != nil {
		l.t.Fatalf("%s: %v", kind, err)
	}
	if res.Err != nil {
		l.t.Fatalf("%s refused: %v", kind, res.Err)
	}
	l.Commit()
	var out registry.Outcome
	if err := json.Unmarshal(res.Data, &out); err != nil {
		l.t.Fatalf("%s result %s: %v", kind, res.Data, err)
	}
	return out
}

// City commits Shijiazhuang (1561301001) with its education sector and a
// unit, 1561301001.85.1, all administered by "alice".
func (l *Ledger) City() {
	l.t.Helper()
	o := l.Send("alice", registry.KindApplyCity, registry.ApplyCity{Country: "156", CityNumber: "130100", Name: "石家庄市"})
	l.Send("operator", registry.KindApproveApplication, registry.Decision{Application: o.Application, Hash: o.Hash})
	l.Send("alice", registry.KindRegisterSector, registry.RegisterSector{ID: "1561301001.85"})
	l.Send("alice", registry.KindRegisterUnit, registry.RegisterUnit{Parent: "1561301001.85", Name: "Education Bureau"})
}

// Backend is the API's backend over the ledger's store.
func (l *Ledger) Backend() Backend { return Backend{Store: l.st, ChainID: ChainID} }

// Serve answers the API over the ledger's store on a loopback port until
// the test ends, and returns its base URL. Every answer is checked against
// the published OpenAPI document (Validated): one outside it fails the
// test.
func (l *Ledger) Serve(opts api.Options) string {
	srv := httptest.NewServer(Validated(l.t, api.New(l.Backend(), opts)))
	l.t.Cleanup(srv.Close)
	return srv.URL
}
