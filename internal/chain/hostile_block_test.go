package chain

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/store"
	"github.com/cityid/cityid/internal/testnode"
)

// hostileWorld is the world the hostile transactions aim at, built by
// blocks 1–3: key 2's city (approved by key 1), its education sector, a
// unit, a school that is a dataset, and its health sector as grantee.
func hostileWorld(t *testing.T) (blocks [][][]byte, w testnode.HostileWorld) {
	t.Helper()
	appHash, herr := registry.ApplicationHash(pub(key(2)), shijiazhuang)
	if herr != nil {
		t.Fatal(herr)
	}
	data := registry.Value{Type: registry.TypeData, Dataset: &registry.Dataset{
		URI: "https://node.sjz.example/datasets/exam-2026.csv", SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		Size: 4096, MediaType: "text/csv",
	}}
	blocks = [][][]byte{
		{signTx(t, key(2), 1, registry.KindApplyCity, shijiazhuang)},
		{approveTx(t, 1, 1, shijiazhuang)},
		{
			signTx(t, key(2), 2, registry.KindRegisterSector, registry.RegisterSector{ID: "1561301001.85"}),
			signTx(t, key(2), 3, registry.KindRegisterUnit, registry.RegisterUnit{Parent: "1561301001.85", Name: "Education Bureau"}),
			signTx(t, key(2), 4, registry.KindRegister, registry.Register{ID: "1561301001.85.1/exam-2026", Values: []registry.Value{data}}),
			signTx(t, key(2), 5, registry.KindRegisterSector, registry.RegisterSector{ID: "1561301001.86"}),
		},
	}
	return blocks, testnode.HostileWorld{
		ChainID: testChain, Admin: key(2), AdminNonce: 5,
		City: "1561301001", Sector: "1561301001.85", Unit: "1561301001.85.1", Object: "1561301001.85.1/exam-2026",
		Grantee: "1561301001.86", Application: 1, AppHash: appHash, Height: int64(len(blocks)), Time: blockTime,
	}
}

// expectTx is one transaction of the hostile block and the result it must
// get there.
type expectTx struct {
	name string
	tx   []byte
	code string // registry code; "" for applied
}

// A byzantine proposer may put anything in a block. TestHostileBlock
// feeds FinalizeBlock one block holding every kind of transaction the
// registry refuses, with valid transactions between them and duplicates:
// each gets its refusal, the valid ones apply, the block commits, a
// second application fed the same blocks agrees byte for byte, and the
// chain takes the next block. It bypasses ProcessProposal, which refuses
// this block (it holds duplicates and used nonces: TestHostileProposal):
// FinalizeBlock must survive what honest validators would have refused,
// should such a block ever be decided.
func TestHostileBlock(t *testing.T) {
	world, w := hostileWorld(t)
	hostile, err := testnode.HostileTxs(w)
	if err != nil {
		t.Fatal(err)
	}
	m := registry.New(testChain)
	var txs []expectTx
	nonce := w.AdminNonce
	var validIDs []string
	valid := func() expectTx {
		nonce++
		id := fmt.Sprintf("%s/between-%d", w.Unit, nonce)
		validIDs = append(validIDs, id)
		return expectTx{name: "valid " + id, tx: signTx(t, w.Admin, nonce, registry.KindRegister,
			registry.Register{ID: id, Values: []registry.Value{{Type: "TEXT", Data: id}}})}
	}
	for i, h := range hostile {
		if h.Code == "" {
			t.Fatalf("%s: the table has no refusal for it", h.Name)
		}
		// What Prepare refuses never reaches the nonce check: check
		// the table says so.
		if _, perr := m.Prepare(h.Tx); perr != nil && h.UsesNonce {
			t.Errorf("%s: Prepare refuses it (%v), but the table says its refusal uses its nonce", h.Name, perr)
		}
		txs = append(txs, expectTx{name: h.Name, tx: h.Tx, code: h.Code})
		if i%4 == 3 {
			txs = append(txs, valid())
		}
	}
	// Duplicates in one block: a valid transaction applies once, then is
	// a replay; a stateless refusal is refused again the same way, and
	// one that used its nonce is a replay.
	dup := valid()
	txs = append(txs, dup, expectTx{name: "duplicate of " + dup.name, tx: dup.tx, code: registry.CodeNonceReplayed})
	for _, h := range hostile {
		switch h.Name {
		case "garbage", "poison_grant", "nonce_gap":
			txs = append(txs, expectTx{name: "duplicate " + h.Name, tx: h.Tx, code: h.Code})
		case "unauthorized_" + registry.KindRegister, "expired":
			txs = append(txs, expectTx{name: "duplicate " + h.Name, tx: h.Tx, code: registry.CodeNonceReplayed})
		}
	}
	txs = append(txs, valid())

	raw := make([][]byte, len(txs))
	for i, x := range txs {
		raw[i] = x.tx
	}
	height := int64(len(world) + 1)
	blocks := append(world, raw)
	// The chain goes on: a further block with a valid transaction.
	after := fmt.Sprintf("%s/after", w.Unit)
	blocks = append(blocks, [][]byte{signTx(t, w.Admin, nonce+1, registry.KindRegister,
		registry.Register{ID: after, Values: []registry.Value{{Type: "TEXT", Data: "after"}}})})

	// The first application has seen every transaction in CheckTx, as a
	// node whose mempool they reached: FinalizeBlock then takes what
	// CheckTx prepared. The second has seen none, as a node that only
	// receives the block. Both must agree.
	run := func(checked bool) ([]*abci.FinalizeBlockResponse, *store.Store, *App) {
		st, err := store.OpenMemory(store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		app := newApp(t, st)
		var out []*abci.FinalizeBlockResponse
		for i, b := range blocks {
			for _, tx := range b {
				if checked {
					if _, err := app.CheckTx(context.Background(), &abci.CheckTxRequest{Tx: tx, Type: abci.CHECK_TX_TYPE_CHECK}); err != nil {
						t.Fatalf("CheckTx before block %d: %v", i+1, err)
					}
				}
			}
			resp, err := app.FinalizeBlock(context.Background(), &abci.FinalizeBlockRequest{Height: int64(i + 1), Time: blockTime.Add(time.Duration(i+1) * time.Second), Txs: b})
			if err != nil {
				t.Fatalf("FinalizeBlock %d: %v", i+1, err)
			}
			if _, err := app.Commit(context.Background(), &abci.CommitRequest{}); err != nil {
				t.Fatalf("Commit %d: %v", i+1, err)
			}
			out = append(out, resp)
		}
		return out, st, app
	}
	first, st, app := run(true)
	defer st.Close()

	for i, r := range first[:len(world)] {
		for j, res := range r.TxResults {
			if res.Code != CodeOK {
				t.Fatalf("world block %d tx %d: %v", i+1, j, res)
			}
		}
	}
	res := first[height-1].TxResults
	if len(res) != len(txs) {
		t.Fatalf("%d results for %d transactions", len(res), len(txs))
	}
	applied := 0
	for i, x := range txs {
		want := CodeOK
		if x.code != "" {
			want = ABCICode(&registry.Error{Code: x.code})
		}
		if res[i].Code != want || (x.code != "" && res[i].Info != x.code) {
			t.Errorf("tx %d (%s): code %d %q (%s), want %d %q", i, x.name, res[i].Code, res[i].Info, res[i].Log, want, x.code)
		}
		if x.code == "" {
			applied++
		}
	}
	if r := first[height].TxResults[0]; r.Code != CodeOK {
		t.Errorf("the block after: %v", r)
	}
	// The valid ones applied, the refused ones wrote nothing.
	view := st.Latest()
	for _, id := range append(validIDs, after) {
		if _, ok, err := registry.GetRecord(view, id); err != nil || !ok {
			t.Errorf("%s: registered %v, %v", id, ok, err)
		}
	}
	for _, id := range []string{w.Unit + "/hostile", w.Unit + "/hostile-batch-1", w.Unit + "/hostile-replay", w.Unit + "/hostile-gap", w.City + ".36"} {
		if _, ok, err := registry.GetRecord(view, id); err != nil || ok {
			t.Errorf("%s: registered %v, %v; a refused transaction wrote it", id, ok, err)
		}
	}
	if g, ok, err := registry.GetGrant(view, w.Object, w.Grantee); err != nil || ok {
		t.Errorf("grant of %s to %s: %+v, %v, %v; want none", w.Object, w.Grantee, g, ok, err)
	}
	// A submitter of the duplicated transaction is told what it did the
	// first time, not the replay that followed.
	if r, ok := app.Commits().Recent(registry.TxHash(dup.tx)); !ok || r.Code != CodeOK || r.Height != height {
		t.Errorf("recent result of the duplicated transaction: %+v, %v; want applied at height %d", r, ok, height)
	}
	t.Logf("block %d: %d transactions, %d applied, %d refused", height, len(txs), applied, len(txs)-applied)

	// A second application fed the same blocks agrees byte for byte.
	second, st2, _ := run(false)
	defer st2.Close()
	for h := range first {
		a, b := first[h], second[h]
		if !bytes.Equal(a.AppHash, b.AppHash) {
			t.Errorf("height %d: app hash %X, second run %X", h+1, a.AppHash, b.AppHash)
		}
		for i := range a.TxResults {
			x, y := a.TxResults[i], b.TxResults[i]
			if x.Code != y.Code || x.Log != y.Log || x.Info != y.Info || !bytes.Equal(x.Data, y.Data) {
				t.Errorf("height %d tx %d: %v, second run %v", h+1, i, x, y)
			}
		}
	}
}

// TestHostileProposal checks the line between the two kinds of hostile
// transaction on the world they aim at: ProcessProposal accepts one
// proposal holding every transaction the table says is judged in the
// block, and refuses a proposal holding any one of those it marks
// RefusedAtProposal, even among honest ones. Once the judged ones are
// committed, a proposal holding one whose refusal used its nonce again
// is refused too, while one refused without using its nonce may be
// proposed again.
func TestHostileProposal(t *testing.T) {
	world, w := hostileWorld(t)
	hostile, err := testnode.HostileTxs(w)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenMemory(store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	app := newApp(t, st)
	for i, b := range world {
		block(t, app, int64(i+1), b...)
		commit(t, app)
	}
	height := int64(len(world) + 1)
	process := func(txs ...[]byte) abci.ProcessProposalStatus {
		t.Helper()
		r, err := app.ProcessProposal(context.Background(), &abci.ProcessProposalRequest{Height: height, Txs: txs})
		if err != nil {
			t.Fatal(err)
		}
		return r.Status
	}
	honest := signTx(t, w.Admin, w.AdminNonce+1, registry.KindRegister,
		registry.Register{ID: w.Unit + "/honest", Values: []registry.Value{{Type: "TEXT", Data: "honest"}}})
	var judged [][]byte
	marked := 0
	for _, h := range hostile {
		if !h.RefusedAtProposal {
			judged = append(judged, h.Tx)
			continue
		}
		marked++
		if got := process(honest, h.Tx); got != abci.PROCESS_PROPOSAL_STATUS_REJECT {
			t.Errorf("%s, marked refused at the proposal: %v", h.Name, got)
		}
	}
	if marked == 0 {
		t.Error("no hostile transaction is marked refused at the proposal: the nonce replay should be")
	}
	if got := process(judged...); got != abci.PROCESS_PROPOSAL_STATUS_ACCEPT {
		for _, h := range hostile {
			if !h.RefusedAtProposal && process(h.Tx) != abci.PROCESS_PROPOSAL_STATUS_ACCEPT {
				t.Errorf("%s, judged in the block: ProcessProposal refuses a proposal holding it", h.Name)
			}
		}
		t.Fatalf("a proposal of the %d judged hostile transactions: %v", len(judged), got)
	}
	block(t, app, height, judged...)
	commit(t, app)
	height++
	for _, h := range hostile {
		if h.RefusedAtProposal {
			continue
		}
		want := abci.PROCESS_PROPOSAL_STATUS_ACCEPT
		if h.UsesNonce {
			want = abci.PROCESS_PROPOSAL_STATUS_REJECT
		}
		if got := process(h.Tx); got != want {
			t.Errorf("%s, committed once (uses its nonce: %v), proposed again: %v, want %v", h.Name, h.UsesNonce, got, want)
		}
	}
}
