package chain

import (
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/store"
)

// Once the mempool is emptied to gossip its transactions again, the
// application forgets what waited, so the same transactions are taken
// again in their order; without that, each would be refused as taken.
func TestForgetPending(t *testing.T) {
	st, _ := store.OpenMemory(store.Options{})
	app := newApp(t, st)
	block(t, app, 1)
	commit(t, app)
	city, hash := shijiazhuang, authorityHash(t, shijiazhuang)
	txs := [][]byte{
		signTx(t, key(1), 1, registry.KindApplyCity, city),
		signTx(t, key(1), 2, registry.KindApproveApplication, registry.Decision{Application: 1, Hash: hash}),
	}
	for i, tx := range txs {
		if r := checkTx(t, app, tx, abci.CHECK_TX_TYPE_CHECK); r.Code != CodeOK {
			t.Fatalf("tx %d: %v", i+1, r)
		}
	}
	if r := checkTx(t, app, txs[0], abci.CHECK_TX_TYPE_CHECK); r.Code != abciOf(registry.CodeNonceReplayed) {
		t.Fatalf("tx 1 again while it waits: %v, want nonce_replayed", r)
	}
	app.forgetPending()
	if _, ok := app.PendingNonce(pub(key(1))); ok {
		t.Fatal("the account still has transactions waiting after forgetPending")
	}
	for i, tx := range txs {
		if r := checkTx(t, app, tx, abci.CHECK_TX_TYPE_CHECK); r.Code != CodeOK {
			t.Fatalf("tx %d checked again: %v", i+1, r)
		}
	}
	if next, ok := app.PendingNonce(pub(key(1))); !ok || next != 3 {
		t.Fatalf("pending nonce %d %v, want 3", next, ok)
	}
}
