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

// A pending state's records settle as a block's do, and a rebase on newer
// committed state unsettles them: a unit deactivated by a block after an
// account staged under it is read again, and the account's next
// registration under it refused, as its block would refuse it.
func TestPendingRebaseUnsettles(t *testing.T) {
	w := newWorld(t)
	h, ua := w.h, w.unitAdmin
	n := h.nonce(t, ua.pub)
	p := NewPending(h.kv.st.Latest())
	stage := func(nonce uint64, id string) *Error {
		t.Helper()
		tx, err := h.m.Prepare(ua.txNonce(t, nonce, KindRegister, M{"id": id, "values": []M{}}))
		if err != nil {
			t.Fatalf("prepare %s: %s", id, err.Msg)
		}
		return h.m.Stage(p, h.next(), tx)
	}
	if err := stage(n+1, w.unit+"/a"); err != nil {
		t.Fatalf("stage under the active unit: %s: %s", err.Code, err.Msg)
	}
	if err := stage(n+2, w.unit+"/b"); err != nil {
		t.Fatalf("stage again under the active unit: %s: %s", err.Code, err.Msg)
	}
	h.mustApply(t, w.cityAdmin.tx(t, KindDeactivate, M{"id": w.unit}))
	if err := p.Rebase(h.kv.st.Latest(), func(string) bool { return true }); err != nil {
		t.Fatalf("rebase: %s", err.Msg)
	}
	err := stage(n+3, w.unit+"/c")
	if err == nil || err.Code != CodeInactive {
		t.Fatalf("stage under the unit a block deactivated: %v, want %s", err, CodeInactive)
	}
}
