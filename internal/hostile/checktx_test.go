package hostile

import (
	"net/http"
	"testing"

	"github.com/cityid/cityid/internal/registry"
)

// CometBFT's check_tx RPC route asks CheckTx about a transaction that it
// does not add to the mempool. The transaction must not then hold its
// account's nonce: sent for real afterwards, it is committed (it was
// refused as taking a nonce of a transaction waiting in the mempool), and
// a second one behind it is not let in as if the first were waiting.
func TestCheckTxRouteQueuesNothing(t *testing.T) {
	w := newWorld(t)
	next := w.nextNonce(w.bob)
	tx := w.sign(w.bob, registry.KindRegister, registry.Register{ID: unit + "/asked-first", Values: text("asked first")})
	for range 2 {
		if c, err := w.rpcTx("check_tx", tx); err != nil || c.Code != 0 {
			t.Fatalf("check_tx: %+v, %v; want code 0", c, err)
		}
	}
	behind, err := registry.NewBody(registry.KindRegister, next+1, registry.Register{ID: unit + "/behind", Values: text("behind")})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := w.broadcast(w.signBody(w.bob, behind)); err != nil || c.Code == 0 {
		t.Errorf("nonce %d behind a transaction only asked about: %+v, %v; want a nonce gap", next+1, c, err)
	}
	if a := w.post(tx); a.Status != http.StatusOK {
		t.Fatalf("the transaction asked about, sent: %d %s: %s", a.Status, a.Code, a.Detail)
	}
	if n := w.nextNonce(w.bob); n != next+1 {
		t.Errorf("bob's next nonce %d, want %d", n, next+1)
	}
}
