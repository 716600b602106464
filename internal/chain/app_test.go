package chain

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	ics23 "github.com/cosmos/ics23/go"

	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/store"
)

const testChain = "cityid-test"

var blockTime = time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)

func key(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

func pub(k ed25519.PrivateKey) string { return registry.KeyText(k.Public().(ed25519.PublicKey)) }

// issueCity commits blocks 1 and 2: key 2 applies for shijiazhuang, key 1
// approves it, and 1561301001 is issued to key 2.
func issueCity(t *testing.T, app *App) {
	t.Helper()
	block(t, app, 1, signTx(t, key(2), 1, registry.KindApplyCity, shijiazhuang))
	commit(t, app)
	block(t, app, 2, approveTx(t, 1, 1, shijiazhuang))
	commit(t, app)
}

// authorityHash is the content hash of msg filed by key 1, the authority.
func authorityHash(t *testing.T, msg registry.ApplyCity) string {
	t.Helper()
	hash, err := registry.ApplicationHash(pub(key(1)), msg)
	if err != nil {
		t.Fatal(err)
	}
	return hash
}

// shijiazhuang is the application the tests file with key 2.
var shijiazhuang = registry.ApplyCity{Country: "156", CityNumber: "130100", Name: "石家庄市"}

// approveTx is key 1's (the authority's) approval of application n, which
// key 2 filed as msg.
func approveTx(t *testing.T, nonce, n uint64, msg registry.ApplyCity) []byte {
	t.Helper()
	hash, err := registry.ApplicationHash(pub(key(2)), msg)
	if err != nil {
		t.Fatal(err)
	}
	return signTx(t, key(1), nonce, registry.KindApproveApplication, registry.Decision{Application: n, Hash: hash})
}

func signTx(t *testing.T, k ed25519.PrivateKey, nonce uint64, kind string, msg any) []byte {
	t.Helper()
	body, err := registry.NewBody(kind, nonce, msg)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := registry.Sign(testChain, body, k).Encode()
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

// signDeflatedTx is signTx with the body deflated (application version 4).
func signDeflatedTx(t *testing.T, k ed25519.PrivateKey, nonce uint64, kind string, msg any) []byte {
	t.Helper()
	body, err := registry.NewBody(kind, nonce, msg)
	if err != nil {
		t.Fatal(err)
	}
	env, err := registry.SignDeflate(testChain, body, registry.DeflateLevel, k)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := env.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

// newApp returns an App on st after InitChain with key 1 as the authority.
func newApp(t *testing.T, st *store.Store) *App {
	t.Helper()
	app := NewApp(testChain, st, nil)
	gen, _ := json.Marshal(registry.Genesis{
		Authority: registry.Authority{Members: []string{pub(key(1))}, Threshold: 1},
		Params:    registry.Params{OIDArc: "2.25.1", IAC: "MA"},
	})
	if _, err := app.InitChain(context.Background(), &abci.InitChainRequest{ChainId: testChain, InitialHeight: 1, AppStateBytes: gen}); err != nil {
		t.Fatal(err)
	}
	return app
}

func block(t *testing.T, app *App, height int64, txs ...[]byte) *abci.FinalizeBlockResponse {
	t.Helper()
	resp, err := app.FinalizeBlock(context.Background(), &abci.FinalizeBlockRequest{Height: height, Time: blockTime.Add(time.Duration(height) * time.Second), Txs: txs})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func commit(t *testing.T, app *App) {
	t.Helper()
	if _, err := app.Commit(context.Background(), &abci.CommitRequest{}); err != nil {
		t.Fatal(err)
	}
}

func checkTx(t *testing.T, app *App, tx []byte, typ abci.CheckTxType) *abci.CheckTxResponse {
	t.Helper()
	resp, err := app.CheckTx(context.Background(), &abci.CheckTxRequest{Tx: tx, Type: typ})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestABCICodesCoverRegistry(t *testing.T) {
	seen := map[uint32]string{}
	for _, c := range registry.Codes() {
		n := ABCICode(&registry.Error{Code: c})
		if n == CodeOK {
			t.Errorf("registry code %q maps to OK", c)
		}
		if prev, dup := seen[n]; dup {
			t.Errorf("ABCI code %d used by %q and %q", n, prev, c)
		}
		seen[n] = c
		if registryCode(n) != c {
			t.Errorf("registryCode(%d) = %q, want %q", n, registryCode(n), c)
		}
	}
}

func TestCheckTxNonces(t *testing.T) {
	st, _ := store.OpenMemory(store.Options{})
	app := newApp(t, st)
	block(t, app, 1)
	commit(t, app)
	// Key 1, the authority, files an application and approves it: the
	// approval is checked against the state the application will leave,
	// though the application is only waiting in the mempool.
	city, hash := shijiazhuang, authorityHash(t, shijiazhuang)
	tx1 := signTx(t, key(1), 1, registry.KindApplyCity, city)
	tx2 := signTx(t, key(1), 2, registry.KindApproveApplication, registry.Decision{Application: 1, Hash: hash})
	if r := checkTx(t, app, tx1, abci.CHECK_TX_TYPE_CHECK); r.Code != CodeOK {
		t.Fatalf("tx1: %v", r)
	}
	// Another account queues on committed state, apart.
	if r := checkTx(t, app, signTx(t, key(3), 1, registry.KindApplyCity, registry.ApplyCity{Country: "156", CityNumber: "130200", Name: "唐山市"}), abci.CHECK_TX_TYPE_CHECK); r.Code != CodeOK {
		t.Fatalf("another account: %v", r)
	}
	if r := checkTx(t, app, tx2, abci.CHECK_TX_TYPE_CHECK); r.Code != CodeOK {
		t.Fatalf("tx2 queued behind tx1: %v", r)
	}
	if next, ok := app.PendingNonce(pub(key(1))); !ok || next != 3 {
		t.Fatalf("pending nonce %d %v, want 3", next, ok)
	}
	// Its third transaction is checked against both: the application is
	// approved, and a second application would be a duplicate.
	if r := checkTx(t, app, signTx(t, key(1), 3, registry.KindApproveApplication, registry.Decision{Application: 1, Hash: hash}), abci.CHECK_TX_TYPE_CHECK); r.Code != abciOf(registry.CodeAlreadyDecided) {
		t.Fatalf("approval of a queued approval's application: %v, want already_decided", r)
	}
	if r := checkTx(t, app, signTx(t, key(1), 3, registry.KindApplyCity, city), abci.CHECK_TX_TYPE_CHECK); r.Code != abciOf(registry.CodeDuplicateCity) {
		t.Fatalf("application for a city a queued approval issues: %v, want duplicate_city", r)
	}
	if r := checkTx(t, app, signTx(t, key(1), 2, registry.KindApplyCity, city), abci.CHECK_TX_TYPE_CHECK); r.Code != abciOf(registry.CodeNonceReplayed) || !strings.Contains(r.Log, "waiting in the mempool") {
		t.Fatalf("second nonce 2: %v", r)
	}
	if r := checkTx(t, app, signTx(t, key(1), 5, registry.KindApplyCity, city), abci.CHECK_TX_TYPE_CHECK); r.Code != abciOf(registry.CodeNonceGap) || r.Info != registry.CodeNonceGap {
		t.Fatalf("nonce 5: %v", r)
	}
	resp := block(t, app, 2, tx1, tx2)
	for i, r := range resp.TxResults {
		if r.Code != CodeOK {
			t.Fatalf("tx %d in block: %v", i, r)
		}
	}
	commit(t, app)
	if _, ok := app.PendingNonce(pub(key(1))); ok {
		t.Fatal("pending nonces survived the commit")
	}
	// After the commit the used nonces are replays, and a recheck of a
	// committed transaction fails.
	if r := checkTx(t, app, tx1, abci.CHECK_TX_TYPE_RECHECK); r.Code != abciOf(registry.CodeNonceReplayed) {
		t.Fatalf("recheck of committed tx: %v", r)
	}
}

// One account's share of the mempool is bounded: past it, its next
// transaction is refused as account_busy until a block takes some.
func TestCheckTxAccountShare(t *testing.T) {
	st, _ := store.OpenMemory(store.Options{})
	app := newApp(t, st)
	block(t, app, 1)
	commit(t, app)
	for n := uint64(1); n <= MaxPendingTxs; n++ {
		// A set_authority of the 1-of-1 authority applies however many
		// are queued before it.
		tx := signTx(t, key(1), n, registry.KindSetAuthority, registry.SetAuthority{Members: []string{pub(key(1))}, Threshold: 1})
		if r := checkTx(t, app, tx, abci.CHECK_TX_TYPE_CHECK); r.Code != CodeOK {
			t.Fatalf("tx %d: %v", n, r)
		}
	}
	tx := signTx(t, key(1), MaxPendingTxs+1, registry.KindSetAuthority, registry.SetAuthority{Members: []string{pub(key(1))}, Threshold: 1})
	if r := checkTx(t, app, tx, abci.CHECK_TX_TYPE_CHECK); r.Code != abciOf(registry.CodeAccountBusy) || r.Info != registry.CodeAccountBusy {
		t.Fatalf("tx past the share: %v, want account_busy", r)
	}
	// Another account is not held up.
	if r := checkTx(t, app, signTx(t, key(2), 1, registry.KindApplyCity, shijiazhuang), abci.CHECK_TX_TYPE_CHECK); r.Code != CodeOK {
		t.Fatalf("another account: %v", r)
	}
}

// CheckTx runs a transaction against committed state when its account has
// nothing pending, so one bound to fail never enters a block.
func TestCheckTxDryRun(t *testing.T) {
	st, _ := store.OpenMemory(store.Options{})
	app := newApp(t, st)
	block(t, app, 1)
	commit(t, app)
	before := st.WorkingHash()
	tx := signTx(t, key(2), 1, registry.KindRegister, registry.Register{ID: "1561301001.85.1/x", Values: []registry.Value{{Type: "TEXT", Data: "x"}}})
	r := checkTx(t, app, tx, abci.CHECK_TX_TYPE_CHECK)
	if r.Code != abciOf(registry.CodeNotFound) || r.Codespace != Codespace || !strings.Contains(r.Log, "parent 1561301001.85.1 is not registered") {
		t.Fatalf("register under an unknown unit: %v", r)
	}
	if !bytes.Equal(st.WorkingHash(), before) {
		t.Fatal("CheckTx changed the working state")
	}
	bad := signTx(t, key(2), 1, registry.KindApplyCity, registry.ApplyCity{Country: "999", CityNumber: "130100", Name: "x"})
	if r := checkTx(t, app, bad, abci.CHECK_TX_TYPE_CHECK); r.Code != abciOf(registry.CodeInvalidID) || !strings.Contains(r.Log, "999") {
		t.Fatalf("unknown country: %v", r)
	}
}

// A node killed between FinalizeBlock and Commit restarts at the last
// committed height, and replaying the block gives the same app hash.
func TestInfoAndReplay(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	app := newApp(t, st)
	resp1 := block(t, app, 1, signTx(t, key(2), 1, registry.KindApplyCity, shijiazhuang))
	commit(t, app)
	info, _ := app.Info(context.Background(), &abci.InfoRequest{})
	if info.LastBlockHeight != 1 || !bytes.Equal(info.LastBlockAppHash, resp1.AppHash) || info.AppVersion != AppVersion {
		t.Fatalf("info after block 1: %+v, want height 1 hash %X", info, resp1.AppHash)
	}
	approve := approveTx(t, 1, 1, shijiazhuang)
	resp2 := block(t, app, 2, approve)
	if resp2.TxResults[0].Code != CodeOK || !strings.Contains(string(resp2.TxResults[0].Data), `"city_code":"1561301001"`) {
		t.Fatalf("approve: %v", resp2.TxResults[0])
	}
	// Crash: the store closes without Commit.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	app = NewApp(testChain, st, nil)
	info, _ = app.Info(context.Background(), &abci.InfoRequest{})
	if info.LastBlockHeight != 1 || !bytes.Equal(info.LastBlockAppHash, resp1.AppHash) {
		t.Fatalf("info after restart: %+v", info)
	}
	again := block(t, app, 2, approve)
	if !bytes.Equal(again.AppHash, resp2.AppHash) {
		t.Fatalf("replayed block 2: app hash %X, first run %X", again.AppHash, resp2.AppHash)
	}
	commit(t, app)
	if rec, ok, _ := registry.GetRecord(st.Latest(), "1561301001"); !ok || rec.Name != "石家庄市" {
		t.Fatalf("city after replay: %+v %v", rec, ok)
	}
}

// Submitters hear of a transaction only once its block is committed.
func TestNotifyAfterCommit(t *testing.T) {
	st, _ := store.OpenMemory(store.Options{})
	app := newApp(t, st)
	tx := signTx(t, key(2), 1, registry.KindApplyCity, registry.ApplyCity{Country: "156", CityNumber: "130100", Name: "c"})
	ch, cancel := app.Commits().Watch(registry.TxHash(tx))
	defer cancel()
	block(t, app, 1, tx)
	select {
	case r := <-ch:
		t.Fatalf("notified before commit: %+v", r)
	default:
	}
	commit(t, app)
	select {
	case r := <-ch:
		if r.Height != 1 || r.Code != CodeOK || r.Hash != registry.TxHash(tx) {
			t.Fatalf("notified %+v", r)
		}
	case <-time.After(time.Second):
		t.Fatal("not notified after commit")
	}
	if r, ok := app.Commits().Recent(registry.TxHash(tx)); !ok || r.Height != 1 {
		t.Fatalf("recent result: %+v %v", r, ok)
	}
}

// The prepared cache is keyed on the whole transaction and bounded in
// entries and bytes, the oldest going first.
func TestPreparedCache(t *testing.T) {
	c := newPreparedCache(2, 1000)
	a, b, d := [32]byte{1}, [32]byte{2}, [32]byte{3}
	ta, tb, td := &registry.Tx{Hash: "a"}, &registry.Tx{Hash: "b"}, &registry.Tx{Hash: "d"}
	c.add(a, ta, 10)
	c.add(b, tb, 10)
	c.add(d, td, 10) // evicts a
	if c.get(a) != nil || c.get(b) != tb || c.get(d) != td {
		t.Fatalf("cache of 2 after 3 adds: a %v b %v d %v", c.get(a), c.get(b), c.get(d))
	}
	big := newPreparedCache(100, 25)
	big.add(a, ta, 10)
	big.add(b, tb, 10)
	big.add(d, td, 10) // 30 bytes > 25: evicts a
	if big.get(a) != nil || big.get(b) == nil || big.bytes != 20 {
		t.Fatalf("byte bound: a %v b %v bytes %d", big.get(a), big.get(b), big.bytes)
	}
	// Many times round its ring, adding some again: the last maxTxs
	// kept, in their order, the bytes counted once.
	ring := newPreparedCache(1500, 1<<30)
	key := func(i int) [32]byte { return [32]byte{byte(i), byte(i >> 8), byte(i >> 16)} }
	const adds = 5000
	for i := range adds {
		ring.add(key(i), &registry.Tx{Hash: fmt.Sprint(i)}, 7)
		if i%3 == 0 {
			ring.add(key(i), &registry.Tx{Hash: fmt.Sprint(i)}, 7)
		}
	}
	for i := range adds {
		got, kept := ring.get(key(i)), i >= adds-1500
		if (got != nil) != kept || kept && got.Hash != fmt.Sprint(i) {
			t.Fatalf("after %d adds to a cache of 1500: entry %d is %v", adds, i, got)
		}
	}
	if ring.bytes != 1500*7 || len(ring.entries) != 1500 {
		t.Fatalf("after %d adds to a cache of 1500: %d entries, %d bytes", adds, len(ring.entries), ring.bytes)
	}
	// A committed transaction is dropped: not found, its bytes no longer
	// counted; prepared again, it is counted again; and the ring goes on
	// round past the dropped key.
	last := key(adds - 1)
	ring.drop(last)
	ring.drop(last)
	if ring.get(last) != nil || ring.bytes != 1499*7 {
		t.Fatalf("after a drop: %v, %d bytes", ring.get(last), ring.bytes)
	}
	ring.add(last, &registry.Tx{Hash: "again"}, 7)
	if got := ring.get(last); got == nil || got.Hash != "again" || ring.bytes != 1500*7 {
		t.Fatalf("prepared again after a drop: %v, %d bytes", got, ring.bytes)
	}
	// Prepared again after a drop, an entry is held to the byte bound.
	tight := newPreparedCache(10, 100)
	tight.add(a, ta, 60)
	tight.drop(a)
	tight.add(b, tb, 60)
	tight.add(a, ta, 60)
	if tight.bytes > 100 {
		t.Fatalf("prepared again after a drop: %d bytes held, bound 100", tight.bytes)
	}
	ring.drop(key(adds - 2))
	for i := range 1500 {
		ring.add(key(adds+i), &registry.Tx{Hash: fmt.Sprint(adds + i)}, 7)
	}
	if len(ring.entries) != 1500 || ring.bytes != 1500*7 || ring.get(key(adds+1499)) == nil {
		t.Fatalf("the ring round again past a dropped key: %d entries, %d bytes", len(ring.entries), ring.bytes)
	}
}

// FinalizeBlock drops the transactions it applied from the prepared
// cache: a committed one is never in a block again, and a decoded batch
// kept is memory the collector marks.
func TestFinalizeBlockDropsPrepared(t *testing.T) {
	st, _ := store.OpenMemory(store.Options{})
	app := newApp(t, st)
	block(t, app, 1)
	commit(t, app)
	tx := signTx(t, key(1), 1, registry.KindApplyCity, shijiazhuang)
	if r := checkTx(t, app, tx, abci.CHECK_TX_TYPE_CHECK); r.Code != CodeOK {
		t.Fatalf("check: %v", r)
	}
	if app.prepared.get(sha256.Sum256(tx)) == nil {
		t.Fatal("CheckTx kept no prepared transaction")
	}
	if r := block(t, app, 2, tx); r.TxResults[0].Code != CodeOK {
		t.Fatalf("block: %v", r.TxResults[0])
	}
	commit(t, app)
	if app.prepared.get(sha256.Sum256(tx)) != nil || app.prepared.bytes != 0 {
		t.Fatalf("the committed transaction is still prepared (%d bytes counted)", app.prepared.bytes)
	}
}

// Query with prove returns an ICS23 proof that verifies against the root
// of the queried version, for a present and for a missing identifier.
func TestQueryProof(t *testing.T) {
	st, _ := store.OpenMemory(store.Options{})
	app := newApp(t, st)
	issueCity(t, app)
	root := st.Hash()
	for _, c := range []struct {
		id     string
		exists bool
	}{{"1561301001", true}, {"1561301001.85", false}} {
		resp, err := app.Query(context.Background(), &abci.QueryRequest{Path: QueryID, Data: []byte(c.id), Prove: true})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Height != 2 || (resp.Value != nil) != c.exists || len(resp.ProofOps.Ops) != 1 || resp.ProofOps.Ops[0].Type != ProofOpType {
			t.Fatalf("query %s: %+v", c.id, resp)
		}
		var proof ics23.CommitmentProof
		if err := proof.Unmarshal(resp.ProofOps.Ops[0].Data); err != nil {
			t.Fatal(err)
		}
		key := registry.RecordKey(c.id)
		var ok bool
		if c.exists {
			ok = ics23.VerifyMembership(ics23.IavlSpec, root, &proof, key, resp.Value)
			tampered := append(bytes.Clone(resp.Value), ' ')
			if ics23.VerifyMembership(ics23.IavlSpec, root, &proof, key, tampered) {
				t.Errorf("%s: proof verifies a tampered value", c.id)
			}
		} else {
			ok = ics23.VerifyNonMembership(ics23.IavlSpec, root, &proof, key)
		}
		if !ok {
			t.Errorf("%s: proof does not verify against the app hash", c.id)
		}
	}
	// At an earlier height the city did not exist yet.
	resp, _ := app.Query(context.Background(), &abci.QueryRequest{Path: QueryID, Data: []byte("1561301001"), Height: 1})
	if resp.Value != nil || resp.Height != 1 {
		t.Fatalf("query at height 1: %+v", resp)
	}
	for _, q := range []*abci.QueryRequest{
		{Path: QueryID, Data: []byte("1561301002")},
		{Path: "/nothing"},
		{Path: QueryID, Data: []byte("1561301001"), Height: 99},
	} {
		resp, _ := app.Query(context.Background(), q)
		if resp.Code == CodeOK || resp.Log == "" {
			t.Errorf("query %s %q at %d: %+v, want an error", q.Path, q.Data, q.Height, resp)
		}
	}
}

// Two changes of one validator in a block reach CometBFT as one update,
// the last power, which is what CometBFT accepts.
func TestValidatorUpdatesMerged(t *testing.T) {
	st, _ := store.OpenMemory(store.Options{})
	app := NewApp(testChain, st, nil)
	gen, _ := json.Marshal(registry.Genesis{
		Authority: registry.Authority{Members: []string{pub(key(1))}, Threshold: 1},
		Params:    registry.Params{OIDArc: "2.25.1", IAC: "MA"},
	})
	val := key(9).Public().(ed25519.PublicKey)
	if _, err := app.InitChain(context.Background(), &abci.InitChainRequest{ChainId: testChain, InitialHeight: 1, AppStateBytes: gen,
		Validators: []abci.ValidatorUpdate{{PubKeyType: "ed25519", PubKeyBytes: val, Power: 10}}}); err != nil {
		t.Fatal(err)
	}
	newVal := pub(key(8))
	resp := block(t, app, 1,
		signTx(t, key(1), 1, registry.KindSetValidator, registry.SetValidator{PubKey: newVal, Power: 5}),
		signTx(t, key(1), 2, registry.KindSetValidator, registry.SetValidator{PubKey: newVal, Power: 7}),
	)
	for i, r := range resp.TxResults {
		if r.Code != CodeOK {
			t.Fatalf("tx %d: %v", i, r)
		}
	}
	if len(resp.ValidatorUpdates) != 1 || resp.ValidatorUpdates[0].Power != 7 || registry.KeyText(resp.ValidatorUpdates[0].PubKeyBytes) != newVal {
		t.Fatalf("validator updates %+v, want one update of %s to power 7", resp.ValidatorUpdates, newVal)
	}
}

// A snapshot taken by one node restores on another to the same app hash,
// and a tampered chunk or a wrong app hash is refused.
func TestSnapshotRoundTrip(t *testing.T) {
	src, _ := store.OpenMemory(store.Options{})
	a := NewApp(testChain, src, nil, AppOptions{Snapshots: SnapshotOptions{Dir: t.TempDir(), Interval: 3, Keep: 1}})
	gen, _ := json.Marshal(registry.Genesis{
		Authority: registry.Authority{Members: []string{pub(key(1))}, Threshold: 1},
		Params:    registry.Params{OIDArc: "2.25.1", IAC: "MA"},
	})
	if _, err := a.InitChain(context.Background(), &abci.InitChainRequest{ChainId: testChain, InitialHeight: 1, AppStateBytes: gen}); err != nil {
		t.Fatal(err)
	}
	for h := int64(1); h <= 6; h++ {
		// One open application per key: each city applies with its own.
		block(t, a, h, signTx(t, key(byte(10+h)), 1, registry.KindApplyCity, registry.ApplyCity{Country: "156", CityNumber: fmt.Sprintf("13%02d00", h), Name: fmt.Sprintf("city %d", h)}))
		commit(t, a)
		a.snaps.wg.Wait() // blocks here come faster than a snapshot is written
	}
	a.Close() // waits for the snapshots of heights 3 and 6
	list, _ := a.ListSnapshots(context.Background(), &abci.ListSnapshotsRequest{})
	if len(list.Snapshots) != 1 || list.Snapshots[0].Height != 6 {
		t.Fatalf("snapshots %+v, want only height 6 (keep 1)", list.Snapshots)
	}
	sn := list.Snapshots[0]
	v6, _ := src.At(6)
	want := v6.Hash()

	restore := func(appHash []byte, tamper bool) (abci.ApplySnapshotChunkResult, *store.Store) {
		dst, _ := store.OpenMemory(store.Options{})
		b := NewApp(testChain, dst, nil, AppOptions{Snapshots: SnapshotOptions{Dir: t.TempDir()}})
		off, _ := b.OfferSnapshot(context.Background(), &abci.OfferSnapshotRequest{Snapshot: sn, AppHash: appHash})
		if off.Result != abci.OFFER_SNAPSHOT_RESULT_ACCEPT {
			t.Fatalf("offer: %v", off.Result)
		}
		var last abci.ApplySnapshotChunkResult
		for i := uint32(0); i < sn.Chunks; i++ {
			chunk, _ := a.LoadSnapshotChunk(context.Background(), &abci.LoadSnapshotChunkRequest{Height: sn.Height, Format: sn.Format, Chunk: i})
			c := chunk.Chunk
			if tamper {
				c = append(bytes.Clone(c), 0)
			}
			r, _ := b.ApplySnapshotChunk(context.Background(), &abci.ApplySnapshotChunkRequest{Index: i, Chunk: c, Sender: "peer"})
			last = r.Result
			if r.Result != abci.APPLY_SNAPSHOT_CHUNK_RESULT_ACCEPT {
				break
			}
		}
		return last, dst
	}
	res, dst := restore(want, false)
	if res != abci.APPLY_SNAPSHOT_CHUNK_RESULT_ACCEPT || !bytes.Equal(dst.Hash(), want) || dst.Version() != 6 {
		t.Fatalf("restore: %v, version %d hash %X, want 6 %X", res, dst.Version(), dst.Hash(), want)
	}
	if app, ok, _ := registry.GetApplication(dst.Latest(), 6); !ok || app.Name != "city 6" {
		t.Fatalf("restored state: application 6 is %+v, %v", app, ok)
	}
	if res, _ := restore(want, true); res != abci.APPLY_SNAPSHOT_CHUNK_RESULT_RETRY {
		t.Fatalf("tampered chunk: %v, want RETRY", res)
	}
	wrong := bytes.Clone(want)
	wrong[0] ^= 1
	if res, dst := restore(wrong, false); res != abci.APPLY_SNAPSHOT_CHUNK_RESULT_REJECT_SNAPSHOT || dst.Version() != 0 {
		t.Fatalf("wrong app hash: %v, store version %d; want REJECT_SNAPSHOT and an empty store", res, dst.Version())
	}
}

// The audit's flood: a fresh key queues one valid apply_city, then
// register_batch transactions under a city it does not own. Only the
// first enters the mempool: the batches are checked against the state the
// application leaves, wherever they stand in the account's queue.
func TestCheckTxRefusesQueuedJunk(t *testing.T) {
	st, _ := store.OpenMemory(store.Options{})
	app := newApp(t, st)
	issueCity(t, app)
	block(t, app, 3, signTx(t, key(2), 2, registry.KindRegisterSector, registry.RegisterSector{ID: "1561301001.85"}),
		signTx(t, key(2), 3, registry.KindRegisterUnit, registry.RegisterUnit{Parent: "1561301001.85", Name: "Bureau"}))
	commit(t, app)

	stranger := key(9)
	if r := checkTx(t, app, signTx(t, stranger, 1, registry.KindApplyCity, registry.ApplyCity{Country: "250", CityNumber: "allocate", Name: "Ville"}), abci.CHECK_TX_TYPE_CHECK); r.Code != CodeOK {
		t.Fatalf("the stranger's application: %v", r)
	}
	entries := make([]registry.BatchEntry, 100)
	for i := range entries {
		entries[i] = registry.BatchEntry{ID: fmt.Sprintf("1561301001.85.1/junk-%d", i), Values: []registry.Value{}}
	}
	for i := 0; i < 4; i++ {
		entries[0].ID = fmt.Sprintf("1561301001.85.1/first-%d", i) // other bytes each time
		r := checkTx(t, app, signTx(t, stranger, 2, registry.KindRegisterBatch, registry.RegisterBatch{Entries: entries}), abci.CHECK_TX_TYPE_CHECK)
		if r.Code != abciOf(registry.CodeUnauthorized) {
			t.Fatalf("batch %d: %v, want unauthorized", i+1, r)
		}
	}
	// A second application from the same key is refused the same way.
	if r := checkTx(t, app, signTx(t, stranger, 2, registry.KindApplyCity, registry.ApplyCity{Country: "250", CityNumber: "allocate", Name: "Ville 2"}), abci.CHECK_TX_TYPE_CHECK); r.Code != abciOf(registry.CodeExists) {
		t.Fatalf("second application: %v, want exists", r)
	}
	if next, _ := app.PendingNonce(pub(stranger)); next != 2 {
		t.Errorf("stranger's next nonce %d, want 2: only the application is queued", next)
	}
}

// A proposal holding a transaction twice, or one whose nonce is used, is
// refused; one holding transactions FinalizeBlock will refuse is not (they
// land refused, with their codes).
func TestProcessProposal(t *testing.T) {
	st, _ := store.OpenMemory(store.Options{})
	app := newApp(t, st)
	apply := signTx(t, key(2), 1, registry.KindApplyCity, shijiazhuang)
	block(t, app, 1, apply)
	commit(t, app)
	process := func(txs ...[]byte) abci.ProcessProposalStatus {
		t.Helper()
		r, err := app.ProcessProposal(context.Background(), &abci.ProcessProposalRequest{Height: 2, Txs: txs})
		if err != nil {
			t.Fatal(err)
		}
		return r.Status
	}
	approve := approveTx(t, 1, 1, shijiazhuang)
	junk := signTx(t, key(3), 1, registry.KindRegister, registry.Register{ID: "1561301001.85.1/x", Values: []registry.Value{}})
	for _, tc := range []struct {
		name string
		txs  [][]byte
		want abci.ProcessProposalStatus
	}{
		{"an honest block", [][]byte{approve}, abci.PROCESS_PROPOSAL_STATUS_ACCEPT},
		{"an empty block", nil, abci.PROCESS_PROPOSAL_STATUS_ACCEPT},
		{"refusals FinalizeBlock judges", [][]byte{approve, junk, []byte("garbage")}, abci.PROCESS_PROPOSAL_STATUS_ACCEPT},
		{"a transaction twice", [][]byte{approve, junk, approve}, abci.PROCESS_PROPOSAL_STATUS_REJECT},
		{"garbage twice", [][]byte{[]byte("x"), []byte("x")}, abci.PROCESS_PROPOSAL_STATUS_REJECT},
		{"a committed transaction again", [][]byte{approve, apply}, abci.PROCESS_PROPOSAL_STATUS_REJECT},
		{"other bytes with a used nonce", [][]byte{signTx(t, key(2), 1, registry.KindApplyCity, registry.ApplyCity{Country: "156", CityNumber: "130200", Name: "唐山市"})}, abci.PROCESS_PROPOSAL_STATUS_REJECT},
		// The signer's used nonce is read once for the block.
		{"one signer's next nonces", [][]byte{
			signTx(t, key(2), 2, registry.KindRegisterSector, registry.RegisterSector{ID: "1561301001.85"}),
			signTx(t, key(2), 3, registry.KindRegisterSector, registry.RegisterSector{ID: "1561301001.86"}),
		}, abci.PROCESS_PROPOSAL_STATUS_ACCEPT},
		{"a used nonce after the signer's next", [][]byte{
			signTx(t, key(2), 2, registry.KindRegisterSector, registry.RegisterSector{ID: "1561301001.85"}),
			signTx(t, key(2), 1, registry.KindRegisterSector, registry.RegisterSector{ID: "1561301001.86"}),
		}, abci.PROCESS_PROPOSAL_STATUS_REJECT},
	} {
		if got := process(tc.txs...); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestBlockBudget: compressed bodies make a block of block.max_bytes
// stand for far more work than its bytes, so a block's plain bodies are
// bounded together (registry.MaxBlockBodyBytes). The proposer fills a
// block up to the budget and stops at the first transaction past it;
// a validator refuses a proposal past it, whether its bodies travel
// deflated or plain, and accepts one within it.
func TestBlockBudget(t *testing.T) {
	st, _ := store.OpenMemory(store.Options{})
	app := newApp(t, st)
	// Bodies of about 1 MiB that deflate several times (within
	// registry.MaxInflateRatio): counter digits.
	const body = 1 << 20
	var digits strings.Builder
	for i := 0; digits.Len() < body-200; i++ {
		fmt.Fprintf(&digits, "%08d,", i)
	}
	pad := digits.String()[:body-200]
	var deflated, plain [][]byte
	for i := range 10 {
		deflated = append(deflated, signDeflatedTx(t, key(5), uint64(i+1), registry.KindRegisterBatch, map[string]string{"pad": pad}))
	}
	for i := range 9 {
		plain = append(plain, signTx(t, key(6), uint64(i+1), registry.KindRegisterBatch, map[string]string{"pad": pad}))
	}
	traveled := 0
	for _, tx := range deflated {
		traveled += len(tx)
	}
	if traveled > registry.MaxBlockBodyBytes/2 {
		t.Fatalf("the 10 deflated transactions are %d bytes: the test wants them to fit a block's bytes twice over", traveled)
	}
	fits := registry.MaxBlockBodyBytes / body // whole bodies that fit
	process := func(txs [][]byte) abci.ProcessProposalStatus {
		t.Helper()
		r, err := app.ProcessProposal(context.Background(), &abci.ProcessProposalRequest{Height: 2, Txs: txs})
		if err != nil {
			t.Fatal(err)
		}
		return r.Status
	}
	if got := process(deflated[:fits]); got != abci.PROCESS_PROPOSAL_STATUS_ACCEPT {
		t.Errorf("%d deflated bodies of %d bytes, within the budget: %v", fits, body, got)
	}
	if got := process(deflated); got != abci.PROCESS_PROPOSAL_STATUS_REJECT {
		t.Errorf("10 deflated bodies of %d bytes (%d bytes traveled), past the budget of %d: %v", body, traveled, registry.MaxBlockBodyBytes, got)
	}
	if got := process(plain); got != abci.PROCESS_PROPOSAL_STATUS_REJECT {
		t.Errorf("9 plain bodies of %d bytes, past the budget: %v", body, got)
	}
	prep, err := app.PrepareProposal(context.Background(), &abci.PrepareProposalRequest{Height: 2, Txs: deflated, MaxTxBytes: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if len(prep.Txs) != fits || !bytes.Equal(prep.Txs[fits-1], deflated[fits-1]) {
		t.Errorf("the proposer took %d of 10 transactions, want the first %d", len(prep.Txs), fits)
	}
	if got := process(prep.Txs); got != abci.PROCESS_PROPOSAL_STATUS_ACCEPT {
		t.Errorf("the proposer's own block: %v", got)
	}
	// Bodies that inflate and then are no JSON weigh what they inflate to:
	// a byzantine proposer cannot pass the budget with them.
	var junk [][]byte
	for i := range 10 {
		z, err := registry.Deflate([]byte(pad), registry.DeflateLevel)
		if err != nil {
			t.Fatal(err)
		}
		k := key(byte(20 + i))
		env := registry.Envelope{Body: z, BodyEncoding: registry.EncodingDeflate, PubKey: pub(k), Signature: ed25519.Sign(k, registry.PAEDeflate(testChain, z))}
		tx, err := env.Encode()
		if err != nil {
			t.Fatal(err)
		}
		junk = append(junk, tx)
	}
	if got := process(junk); got != abci.PROCESS_PROPOSAL_STATUS_REJECT {
		t.Errorf("10 deflated bodies of %d bytes that are no JSON, past the budget: %v", len(pad), got)
	}
	if got := process(junk[:fits]); got != abci.PROCESS_PROPOSAL_STATUS_ACCEPT {
		t.Errorf("%d of them, within the budget (FinalizeBlock refuses each): %v", fits, got)
	}
	// CometBFT's byte bound holds too.
	prep, err = app.PrepareProposal(context.Background(), &abci.PrepareProposalRequest{Height: 2, Txs: deflated, MaxTxBytes: int64(len(deflated[0]) + len(deflated[1]))})
	if err != nil || len(prep.Txs) != 2 {
		t.Errorf("within MaxTxBytes of two transactions: %d taken (%v)", len(prep.Txs), err)
	}
}

// After a block, the transactions left in the mempool are rechecked
// cheaply (nonce, last height), and the account's pending state is built
// again when it sends its next transaction: that one is still checked
// against what the queued ones will write.
func TestCheckTxAfterRecheck(t *testing.T) {
	st, _ := store.OpenMemory(store.Options{})
	app := newApp(t, st)
	block(t, app, 1)
	commit(t, app)
	city, hash := shijiazhuang, authorityHash(t, shijiazhuang)
	apply := signTx(t, key(1), 1, registry.KindApplyCity, city)
	if r := checkTx(t, app, apply, abci.CHECK_TX_TYPE_CHECK); r.Code != CodeOK {
		t.Fatalf("apply: %v", r)
	}
	// A block that does not take it, then the recheck.
	block(t, app, 2)
	commit(t, app)
	if r := checkTx(t, app, apply, abci.CHECK_TX_TYPE_RECHECK); r.Code != CodeOK {
		t.Fatalf("recheck of the application: %v", r)
	}
	// The approval needs the queued application's state.
	if r := checkTx(t, app, signTx(t, key(1), 2, registry.KindApproveApplication, registry.Decision{Application: 1, Hash: hash}), abci.CHECK_TX_TYPE_CHECK); r.Code != CodeOK {
		t.Fatalf("approval behind a rechecked application: %v", r)
	}
	// And a second approval sees the first's.
	if r := checkTx(t, app, signTx(t, key(1), 3, registry.KindApproveApplication, registry.Decision{Application: 1, Hash: hash}), abci.CHECK_TX_TYPE_CHECK); r.Code != abciOf(registry.CodeAlreadyDecided) {
		t.Fatalf("a second approval: %v, want already_decided", r)
	}
	// A queued transaction past its last height is dropped at the recheck.
	body, _ := registry.NewBodyUntil(registry.KindApplyCity, 1, 3, registry.ApplyCity{Country: "156", CityNumber: "130200", Name: "唐山市"})
	late, _ := registry.Sign(testChain, body, key(4)).Encode()
	if r := checkTx(t, app, late, abci.CHECK_TX_TYPE_CHECK); r.Code != CodeOK {
		t.Fatalf("late: %v", r)
	}
	block(t, app, 3)
	commit(t, app)
	if r := checkTx(t, app, late, abci.CHECK_TX_TYPE_RECHECK); r.Code != abciOf(registry.CodeExpired) {
		t.Fatalf("recheck past its last height: %v, want expired", r)
	}
}

// abciOf is the ABCI number of a registry code, from the error table.
func abciOf(code string) uint32 { return ABCICode(&registry.Error{Code: code}) }

// Before its first block a chain stages CheckTx at the genesis time, the
// earliest any block of it may carry, not at the zero time.
func TestCheckTxBeforeFirstBlockAtGenesisTime(t *testing.T) {
	st, err := store.OpenMemory(store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	app := NewApp(testChain, st, nil)
	gen, _ := json.Marshal(registry.Genesis{
		Authority: registry.Authority{Members: []string{pub(key(1))}, Threshold: 1},
		Params:    registry.Params{OIDArc: "2.25.1", IAC: "MA"},
	})
	if _, err := app.InitChain(context.Background(), &abci.InitChainRequest{ChainId: testChain, InitialHeight: 1, Time: blockTime, AppStateBytes: gen}); err != nil {
		t.Fatal(err)
	}
	if got := app.LastBlock(); got.Height != 0 || !got.Time.Equal(blockTime) {
		t.Fatalf("before the first block: %+v, want height 0 at the genesis time %s", got, blockTime)
	}
}

// TestFinalizeBlockHashes: every result of a block carries its
// transaction's hash, whether the hash came from the transaction CheckTx
// prepared (one at its own address, and a copy of its bytes at another),
// from hashing it (one CheckTx never saw, garbage), or the block holds
// the very same bytes twice at one address.
func TestFinalizeBlockHashes(t *testing.T) {
	st, _ := store.OpenMemory(store.Options{})
	app := newApp(t, st)
	apply := signTx(t, key(2), 1, registry.KindApplyCity, shijiazhuang)
	if r := checkTx(t, app, apply, abci.CHECK_TX_TYPE_CHECK); r.Code != CodeOK {
		t.Fatalf("check tx: %d %s", r.Code, r.Log)
	}
	other := signTx(t, key(3), 1, registry.KindApplyCity, registry.ApplyCity{Country: "156", CityNumber: "130200", Name: "唐山市"})
	garbage := []byte("garbage")
	txs := [][]byte{apply, bytes.Clone(apply), other, garbage, garbage}
	block(t, app, 1, txs...)
	if len(app.hashes) != len(txs) {
		t.Fatalf("%d hashes for %d transactions", len(app.hashes), len(txs))
	}
	for i, tx := range txs {
		if want := registry.TxHash(tx); app.hashes[i] != want || app.results[i].Hash != want {
			t.Errorf("tx %d: hash %s, result's %s, want %s", i, app.hashes[i], app.results[i].Hash, want)
		}
	}
	commit(t, app)
	if r, ok := app.Commits().Recent(registry.TxHash(apply)); !ok || r.Err != nil {
		t.Errorf("the prepared transaction's result: %+v %v, want applied", r, ok)
	}
}

// A dry CheckTx (CometBFT's check_tx route) changes nothing of its
// account: run between a commit and the recheck of what waits, it must
// not rebase the account's pending state without its waiting
// transactions, which the recheck would not put back.
func TestDryCheckTxKeepsPendingState(t *testing.T) {
	st, _ := store.OpenMemory(store.Options{})
	app := newApp(t, st)
	block(t, app, 1)
	commit(t, app)
	apply1 := signTx(t, key(2), 1, registry.KindApplyCity, shijiazhuang)
	if r := checkTx(t, app, apply1, abci.CHECK_TX_TYPE_CHECK); r.Code != CodeOK {
		t.Fatalf("apply: %v", r)
	}
	block(t, app, 2) // apply1 still waits
	commit(t, app)
	if r, err := app.DryCheckTx(context.Background(), &abci.CheckTxRequest{Tx: apply1, Type: abci.CHECK_TX_TYPE_CHECK}); err != nil || r.Code != CodeOK {
		t.Fatalf("dry check of the waiting application: %v %v", r, err)
	}
	if r := checkTx(t, app, apply1, abci.CHECK_TX_TYPE_RECHECK); r.Code != CodeOK {
		t.Fatalf("recheck: %v", r)
	}
	// A second application behind the waiting one: refused as the key's
	// second open application, as without the dry run (not as a nonce
	// gap, as if the first were not waiting).
	if r := checkTx(t, app, signTx(t, key(2), 2, registry.KindApplyCity, shijiazhuang), abci.CHECK_TX_TYPE_CHECK); r.Code != abciOf(registry.CodeExists) {
		t.Fatalf("a second application behind the waiting one: %v, want %s", r, registry.CodeExists)
	}
}
