package registry

import "testing"

// TestBlockCacheSettled: within one block, a record the block's cache
// answers without a read (settled) is read again once a transaction
// writes it. The unit is read by a registration, deactivated, read by a
// registration that must be refused for it, reactivated, and read by one
// that must apply; a registration refused after the deactivation leaves
// nothing behind that a later one could take for the unit.
func TestBlockCacheSettled(t *testing.T) {
	w := newWorld(t)
	h := w.h
	u, c := w.unitAdmin.nextNonce(t), w.cityAdmin.nextNonce(t)
	reg := func(nonce uint64, local string) []byte {
		return w.unitAdmin.txNonce(t, nonce, KindRegister, M{"id": w.unit + "/" + local, "values": []M{{"type": "TEXT", "data": "x"}}})
	}
	rs := h.applyBlock(t,
		reg(u, "cache-a"),
		w.cityAdmin.txNonce(t, c, KindDeactivate, M{"id": w.unit, "reason": "audit"}),
		reg(u+1, "cache-b"),
		w.cityAdmin.txNonce(t, c+1, KindReactivate, M{"id": w.unit}),
		reg(u+2, "cache-c"),
	)
	want := []string{"", "", CodeInactive, "", ""}
	for i, r := range rs {
		got := ""
		if r.Err != nil {
			got = r.Err.Code
		}
		if got != want[i] {
			t.Errorf("tx %d: code %q (%v), want %q", i, got, r.Err, want[i])
		}
	}
	if rec := h.record(t, w.unit); rec.Status != StatusActive || rec.Version != 3 {
		t.Errorf("unit after the block: %s version %d, want active version 3", rec.Status, rec.Version)
	}
}
