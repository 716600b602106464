package registry

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
)

// TestAccountWritesSameTree applies one block twice from the same state:
// through a BlockApply, which writes existing accounts' nonces at End,
// and transaction by transaction through Machine.Apply, which writes
// every nonce in its turn. The results and the tree's hash must be the
// same. The block interleaves registrations of several accounts (enough
// inserts that the tree rebalances around the account keys), the first
// and later transactions of accounts that do not exist yet (their key is
// inserted, then updated), and refusals, which write nonces too.
func TestAccountWritesSameTree(t *testing.T) {
	// With 2 new accounts the inserts of their keys happen not to move
	// the tree's upper nodes; with 40, inserted among 240 registrations,
	// writing them out of turn reshapes the tree (a change that deferred
	// new accounts' first writes fails here).
	for _, n := range []int{2, 40} {
		t.Run(fmt.Sprintf("%d new accounts", n), func(t *testing.T) { accountWritesSameTree(t, n) })
	}
}

func accountWritesSameTree(t *testing.T, freshAccounts int) {
	build := func() (*world, []*Tx) {
		w := newWorld(t)
		fresh := make([]*signer, freshAccounts)
		for i := range fresh {
			fresh[i] = w.h.signer(fmt.Sprintf("fresh-%d", i+1))
		}
		sent := make([]uint64, freshAccounts)
		u, c := w.unitAdmin.nextNonce(t), w.cityAdmin.nextNonce(t)
		var raw [][]byte
		for i := range 240 {
			switch i % 6 {
			case 0, 1, 2:
				raw = append(raw, w.unitAdmin.txNonce(t, u, KindRegister, M{
					"id": fmt.Sprintf("%s/same-tree-%03d", w.unit, i), "values": []M{{"type": "TEXT", "data": "x"}}}))
				u++
			case 3:
				raw = append(raw, w.cityAdmin.txNonce(t, c, KindRegister, M{
					"id": fmt.Sprintf("%s/by-city-%03d", w.unit, i), "values": []M{{"type": "TEXT", "data": "y"}}}))
				c++
			default:
				// Refused (not an admin), but each uses its nonce:
				// the account is created, then updated.
				k := (i/6*2 + i%6 - 4) % freshAccounts
				sent[k]++
				raw = append(raw, fresh[k].txNonce(t, sent[k], KindRegister, M{
					"id": fmt.Sprintf("%s/fresh-%03d", w.unit, i), "values": []M{{"type": "TEXT", "data": "z"}}}))
			}
		}
		txs := make([]*Tx, len(raw))
		for i, r := range raw {
			tx, err := w.h.m.Prepare(r)
			if err != nil {
				t.Fatalf("tx %d: %v", i, err)
			}
			txs[i] = tx
		}
		return w, txs
	}
	deferred, txs := build()
	inTurn, txs2 := build()
	blk := deferred.h.next()

	b := deferred.h.m.BeginBlock(deferred.h.kv, blk)
	var got, want []Result
	refused := 0
	for i, tx := range txs {
		r, err := b.Apply(tx)
		if err != nil {
			t.Fatalf("tx %d: %v", i, err)
		}
		if r.Err != nil {
			refused++
		}
		got = append(got, r)
	}
	if err := b.End(); err != nil {
		t.Fatal(err)
	}
	for i, tx := range txs2 {
		r, err := inTurn.h.m.Apply(inTurn.h.kv, blk, tx)
		if err != nil {
			t.Fatalf("tx %d in turn: %v", i, err)
		}
		r.Kind, r.Hash = tx.Kind, tx.Hash
		want = append(want, r)
	}
	if refused != 80 {
		t.Fatalf("%d refused, want the 80 of the fresh accounts", refused)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatal("the results differ")
	}
	if g, w := deferred.h.kv.Digest(), inTurn.h.kv.Digest(); !bytes.Equal(g, w) {
		t.Fatalf("tree hash %X with the nonces written at the end, %X written in turn", g, w)
	}
	for _, s := range []*signer{deferred.unitAdmin, deferred.cityAdmin, deferred.h.signer("fresh-1")} {
		if n := deferred.h.nonce(t, s.pub); n == 0 {
			t.Errorf("%s: nonce 0 after the block", s.pub)
		}
	}
}
