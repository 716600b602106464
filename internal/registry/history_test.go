package registry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// scan lists the keys with prefix, and their values, in the last committed
// state (the harness commits every block), in key order.
func scan(t testing.TB, h *harness, prefix []byte) (keys []string, values [][]byte) {
	t.Helper()
	err := h.kv.st.Latest().Iterate(prefix, nil, func(k, v []byte) bool {
		keys = append(keys, string(k))
		values = append(values, append([]byte(nil), v...))
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys, values
}

// TestHistory: every change of a record keeps the version it replaces under
// hist/<id>#<20-digit version>, byte for byte; registering writes none.
func TestHistory(t *testing.T) {
	w := newWorld(t)
	h := w.h
	id := w.unit + "/pump-1"
	h.mustApply(t, w.unitAdmin.tx(t, KindRegister, M{"id": id, "values": []M{{"type": "TEXT", "data": "v1"}}}))
	t.Run("register writes none", func(t *testing.T) {
		if keys, _ := scan(t, h, HistoryPrefix(id)); len(keys) != 0 {
			t.Errorf("history of a new record: %q", keys)
		}
		for _, node := range []string{w.city, w.sector, w.unit} {
			if keys, _ := scan(t, h, HistoryPrefix(node)); len(keys) != 0 {
				t.Errorf("history of %s, never changed: %q", node, keys)
			}
		}
	})
	successor := h.signer("pump-admin")
	var kept [][]byte // the record as it was before each change
	for _, step := range []struct {
		name string
		tx   func(t testing.TB) []byte
	}{
		{"update", func(t testing.TB) []byte {
			return w.unitAdmin.tx(t, KindUpdate, M{"id": id, "version": 1, "values": []M{{"type": "TEXT", "data": "v2"}}})
		}},
		{"deactivate", func(t testing.TB) []byte { return w.unitAdmin.tx(t, KindDeactivate, M{"id": id, "reason": "repair"}) }},
		{"reactivate", func(t testing.TB) []byte { return w.unitAdmin.tx(t, KindReactivate, M{"id": id, "version": 3}) }},
		{"transfer", func(t testing.TB) []byte {
			return w.unitAdmin.tx(t, KindTransfer, M{"id": id, "admins": []string{successor.pub}})
		}},
	} {
		t.Run(step.name+" keeps the version it replaces", func(t *testing.T) {
			before := h.rawRecord(t, id)
			version := h.record(t, id).Version
			o := h.mustApply(t, step.tx(t))
			kept = append(kept, before)
			if o.Version != version+1 {
				t.Errorf("version %d after %s of version %d", o.Version, step.name, version)
			}
			keys, values := scan(t, h, HistoryPrefix(id))
			if len(keys) != len(kept) {
				t.Fatalf("history %q, want %d entries", keys, len(kept))
			}
			for i := range keys {
				if want := fmt.Sprintf("hist/%s#%020d", id, i+1); keys[i] != want {
					t.Errorf("history key %d %q, want %q", i, keys[i], want)
				}
				if !bytes.Equal(values[i], kept[i]) {
					t.Errorf("history of version %d:\n%s\nwant the record as it was:\n%s", i+1, values[i], kept[i])
				}
				var rec Record
				if err := json.Unmarshal(values[i], &rec); err != nil || rec.Version != uint64(i+1) {
					t.Errorf("history entry %d: version %d, %v", i, rec.Version, err)
				}
			}
		})
	}
	t.Run("the versions a record went through", func(t *testing.T) {
		_, values := scan(t, h, HistoryPrefix(id))
		var got []string
		for _, v := range values {
			var rec Record
			if err := json.Unmarshal(v, &rec); err != nil {
				t.Fatal(err)
			}
			got = append(got, fmt.Sprintf("%d %s %s %s", rec.Version, rec.Status, rec.Values[0].Data, rec.Admins[0][:8]))
		}
		ua := w.unitAdmin.pub[:8]
		want := []string{"1 active v1 " + ua, "2 active v2 " + ua, "3 deactivated v2 " + ua, "4 active v2 " + ua}
		if strings.Join(got, "; ") != strings.Join(want, "; ") {
			t.Errorf("history\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if rec := h.record(t, id); rec.Version != 5 || rec.Admins[0] != successor.pub {
			t.Errorf("current record %+v", rec)
		}
	})
	t.Run("a refused change keeps no history", func(t *testing.T) {
		h.expectRejected(t, w.unitAdmin.tx(t, KindUpdate, M{"id": id, "version": 4, "values": []M{}}), CodeVersionMismatch)
		if keys, _ := scan(t, h, HistoryPrefix(id)); len(keys) != 4 {
			t.Errorf("history %q", keys)
		}
	})
	t.Run("an identifier's history holds none of another's that it prefixes", func(t *testing.T) {
		h.mustApply(t, w.unitAdmin.tx(t, KindRegister, M{"id": id + "0", "values": []M{}}))
		h.mustApply(t, w.unitAdmin.tx(t, KindUpdate, M{"id": id + "0", "version": 1, "values": []M{}}))
		h.mustApply(t, w.unitAdmin.tx(t, KindRegister, M{"id": id + "-b", "values": []M{}}))
		h.mustApply(t, w.unitAdmin.tx(t, KindDeactivate, M{"id": id + "-b"}))
		if keys, _ := scan(t, h, HistoryPrefix(id)); len(keys) != 4 {
			t.Errorf("history of %s: %q", id, keys)
		}
		if keys, _ := scan(t, h, HistoryPrefix(id+"0")); len(keys) != 1 {
			t.Errorf("history of %s0: %q", id, keys)
		}
	})
	t.Run("nodes keep history too", func(t *testing.T) {
		before := h.rawRecord(t, w.city)
		h.mustApply(t, w.cityAdmin.tx(t, KindUpdate, M{"id": w.city, "version": 1, "values": []M{{"type": "URL", "data": "https://www.sjz.gov.example/"}}}))
		keys, values := scan(t, h, HistoryPrefix(w.city))
		if len(keys) != 1 || keys[0] != "hist/"+w.city+"#00000000000000000001" || !bytes.Equal(values[0], before) {
			t.Errorf("city history %q", keys)
		}
		// The city's prefix holds none of its sectors' or objects' history.
		h.mustApply(t, w.cityAdmin.tx(t, KindDeactivate, M{"id": w.sector}))
		if keys, _ := scan(t, h, HistoryPrefix(w.city)); len(keys) != 1 {
			t.Errorf("city history %q after its sector changed", keys)
		}
		if keys, _ := scan(t, h, HistoryPrefix(w.sector)); len(keys) != 1 {
			t.Errorf("sector history %q", keys)
		}
	})
}

// TestChildIndex: a city's sectors and a sector's units are listed under
// child/<node>#<child>, with their kind; objects are not (they are found by
// the key prefix of their node).
func TestChildIndex(t *testing.T) {
	w := newWorld(t)
	h := w.h
	ca := w.cityAdmin
	h.mustApply(t, ca.tx(t, KindRegisterSector, M{"id": "1561301001.37"}))
	h.mustApply(t, ca.tx(t, KindRegisterSector, M{"id": "1561301001.86"}))
	h.mustApply(t, ca.tx(t, KindRegisterUnit, M{"parent": w.sector, "name": "Second bureau"}))
	h.mustApply(t, ca.tx(t, KindRegisterUnit, M{"parent": "1561301001.37", "name": "Sewage plant"}))
	h.mustApply(t, ca.tx(t, KindRegister, M{"id": w.sector + "/office", "values": []M{}}))
	h.mustApply(t, ca.tx(t, KindRegister, M{"id": w.city + "/hall", "values": []M{}}))
	h.mustApply(t, ca.tx(t, KindRegister, M{"id": w.unit, "allocate": true, "values": []M{}}))
	h.mustApply(t, ca.tx(t, KindRegisterBatch, batchMsg([]M{{"id": w.unit + "/b-1", "values": []M{}}})))
	h.mustApply(t, ca.tx(t, KindDeactivate, M{"id": "1561301001.85.2"}))

	children := func(t *testing.T, node string) string {
		t.Helper()
		keys, values := scan(t, h, ChildPrefix(node))
		var out []string
		for i, k := range keys {
			out = append(out, ChildFromKey([]byte(k))+"="+string(values[i]))
		}
		return strings.Join(out, " ")
	}
	for _, tc := range []struct{ node, want string }{
		{w.city, "1561301001.37=sector 1561301001.85=sector 1561301001.86=sector"},
		{w.sector, "1561301001.85.1=unit 1561301001.85.2=unit"}, // a deactivated unit stays listed
		{"1561301001.37", "1561301001.37.1=unit"},
		{"1561301001.86", ""},
		{w.unit, ""}, // objects are not indexed
		{"1561301001.37.1", ""},
		{"156110100X", ""},
	} {
		t.Run(tc.node, func(t *testing.T) {
			if got := children(t, tc.node); got != tc.want {
				t.Errorf("children of %s: %q, want %q", tc.node, got, tc.want)
			}
		})
	}
	t.Run("ChildPrefix and ChildFromKey", func(t *testing.T) {
		if got := string(ChildPrefix(w.city)); got != "child/1561301001#" {
			t.Errorf("ChildPrefix = %q", got)
		}
		if got := ChildFromKey([]byte("child/1561301001.85#1561301001.85.12")); got != "1561301001.85.12" {
			t.Errorf("ChildFromKey = %q", got)
		}
		if got := string(HistoryPrefix(w.object)); got != "hist/"+w.object+"#" {
			t.Errorf("HistoryPrefix = %q", got)
		}
	})
	t.Run("a refused registration writes no child", func(t *testing.T) {
		h.expectRejected(t, w.stranger.tx(t, KindRegisterSector, M{"id": "1561301001.36"}), CodeUnauthorized)
		if got := children(t, w.city); strings.Contains(got, "1561301001.36") {
			t.Errorf("children %q", got)
		}
	})
}
