package registry

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cityid/cityid/code"
)

// newCity is a chain (authority 1 of 1) with the city 1561301001 issued to
// the returned admin and nothing under it.
func newCity(t testing.TB) (*harness, *signer) {
	t.Helper()
	h := newHarness(t, 1, 1)
	admin := h.signer("city-admin")
	h.mustApply(t, admin.tx(t, KindApplyCity, M{"country": "156", "city_number": "130100", "name": "石家庄市"}))
	h.mustApply(t, approve(t, h.members[0], 1))
	return h, admin
}

func TestSectorsAndUnits(t *testing.T) {
	h, admin := newCity(t)
	t.Run("sector takes the ISIC title as its default name", func(t *testing.T) {
		r := h.apply(t, admin.tx(t, KindRegisterSector, M{"id": "1561301001.85"}))
		if got, want := outcomeJSON(t, r), `{"id":"1561301001.85","version":1,"status":"active"}`; got != want {
			t.Errorf("outcome %s, want %s", got, want)
		}
		rec := h.record(t, "1561301001.85")
		if rec.Name != "Education" || rec.Kind != "sector" || len(rec.Admins) != 1 || rec.Admins[0] != admin.pub {
			t.Errorf("sector record %+v", rec)
		}
	})
	t.Run("sector 99 is an ISIC Rev.4 division", func(t *testing.T) {
		// ISIC Rev.4 section U, division 99: extraterritorial organizations.
		h.mustApply(t, admin.tx(t, KindRegisterSector, M{"id": "1561301001.99"}))
		if got := h.record(t, "1561301001.99").Name; got != "Activities of extraterritorial organizations and bodies" {
			t.Errorf("name %q", got)
		}
	})
	t.Run("sector with its own name", func(t *testing.T) {
		h.mustApply(t, admin.tx(t, KindRegisterSector, M{"id": "1561301001.86", "name": "卫生健康委员会"}))
		if got := h.record(t, "1561301001.86").Name; got != "卫生健康委员会" {
			t.Errorf("name %q", got)
		}
	})
	t.Run("units are numbered 1, 2, 3 per sector", func(t *testing.T) {
		for _, step := range []struct{ parent, want string }{
			{"1561301001.85", "1561301001.85.1"},
			{"1561301001.85", "1561301001.85.2"},
			{"1561301001.86", "1561301001.86.1"},
			{"1561301001.85", "1561301001.85.3"},
			{"1561301001.86", "1561301001.86.2"},
		} {
			r := h.apply(t, admin.tx(t, KindRegisterUnit, M{"parent": step.parent, "name": "Unit under " + step.parent}))
			if got, want := outcomeJSON(t, r), `{"id":"`+step.want+`","version":1,"status":"active"}`; got != want {
				t.Errorf("outcome %s, want %s", got, want)
			}
		}
		rec := h.record(t, "1561301001.85.3")
		if rec.Kind != "unit" || rec.Name != "Unit under 1561301001.85" || rec.Status != StatusActive {
			t.Errorf("unit record %+v", rec)
		}
		if got := stateGet(t, h, "seq/unit/1561301001.85"); got != "3" {
			t.Errorf("unit counter %q, want 3", got)
		}
	})
	t.Run("a deactivated unit's number is not reused", func(t *testing.T) {
		h.mustApply(t, admin.tx(t, KindDeactivate, M{"id": "1561301001.85.3", "reason": "merged"}))
		o := h.mustApply(t, admin.tx(t, KindRegisterUnit, M{"parent": "1561301001.85", "name": "Next"}))
		if o.ID != "1561301001.85.4" {
			t.Errorf("unit %s, want 1561301001.85.4", o.ID)
		}
	})
	t.Run("several units in one block get consecutive numbers", func(t *testing.T) {
		n := admin.nextNonce(t)
		rs := h.applyBlock(t,
			admin.txNonce(t, n, KindRegisterUnit, M{"parent": "1561301001.86", "name": "a"}),
			admin.txNonce(t, n+1, KindRegisterUnit, M{"parent": "1561301001.86", "name": "b"}),
		)
		for i, want := range []string{"1561301001.86.3", "1561301001.86.4"} {
			if got := outcomeJSON(t, rs[i]); !strings.Contains(got, `"id":"`+want+`"`) {
				t.Errorf("tx %d: %s, want %s", i, got, want)
			}
		}
	})
}

func TestRegisterAllocate(t *testing.T) {
	h, admin := newCity(t)
	h.mustApply(t, admin.tx(t, KindRegisterSector, M{"id": "1561301001.37"}))
	h.mustApply(t, admin.tx(t, KindRegisterUnit, M{"parent": "1561301001.37", "name": "Sewage plant 1"}))
	alloc := func(t testing.TB, node string) string {
		t.Helper()
		return h.mustApply(t, admin.tx(t, KindRegister, M{"id": node, "allocate": true,
			"values": []M{{"type": "TEXT", "data": "valve"}}})).ID
	}
	for _, step := range []struct{ node, want string }{
		{"1561301001.37.1", "1561301001.37.1/1"},
		{"1561301001.37.1", "1561301001.37.1/2"},
		{"1561301001.37", "1561301001.37/1"},
		{"1561301001", "1561301001/1"},
	} {
		if got := alloc(t, step.node); got != step.want {
			t.Errorf("allocate under %s: %s, want %s", step.node, got, step.want)
		}
	}
	t.Run("skips a local id registered by hand", func(t *testing.T) {
		h.mustApply(t, admin.tx(t, KindRegister, M{"id": "1561301001.37.1/3", "values": []M{}}))
		if got := alloc(t, "1561301001.37.1"); got != "1561301001.37.1/4" {
			t.Errorf("allocated %s, want 1561301001.37.1/4", got)
		}
	})
	t.Run("record of an allocated id", func(t *testing.T) {
		rec := h.record(t, "1561301001.37.1/1")
		if rec.Kind != "object" || rec.Version != 1 || len(rec.Values) != 1 || rec.Values[0] != (Value{Index: 1, Type: "TEXT", Data: "valve", TTL: DefaultTTL}) {
			t.Errorf("record %+v", rec)
		}
	})
}

func TestAllocationMovesPastHandNumbers(t *testing.T) {
	// Local ids taken by hand never stop allocation: a hand-registered
	// number that the counter would give next moves the counter past it
	// and past every taken number after it, so allocation takes the
	// counter's next number without probing.
	h, admin := newCity(t)
	node := "1561301001"
	var entries []M
	for i := 2; i <= 1500; i++ {
		entries = append(entries, M{"id": fmt.Sprintf("%s/%d", node, i), "values": []M{}})
	}
	h.mustApply(t, admin.tx(t, KindRegisterBatch, batchMsg(entries)))
	if got := stateGet(t, h, "seq/local/"+node); got != "" {
		t.Errorf("counter %q after numbers 2–1500: the counter moves only when its next number is taken", got)
	}
	h.mustApply(t, admin.tx(t, KindRegister, M{"id": node + "/1", "values": []M{}}))
	if got := stateGet(t, h, "seq/local/"+node); got != "1500" {
		t.Errorf("counter %q after 1 was taken by hand, want 1500", got)
	}
	if o := h.mustApply(t, admin.tx(t, KindRegister, M{"id": node, "allocate": true, "values": []M{}})); o.ID != node+"/1501" {
		t.Errorf("allocated %s, want %s/1501", o.ID, node)
	}
	// A number ahead of the counter is passed when the counter reaches it.
	h.mustApply(t, admin.tx(t, KindRegister, M{"id": node + "/1503", "values": []M{}}))
	h.mustApply(t, admin.tx(t, KindRegister, M{"id": node, "allocate": true, "values": []M{}}))
	if o := h.mustApply(t, admin.tx(t, KindRegister, M{"id": node, "allocate": true, "values": []M{}})); o.ID != node+"/1504" {
		t.Errorf("allocated %s, want %s/1504", o.ID, node)
	}
	// Forms that are not the counter's numbers do not move it.
	h.mustApply(t, admin.tx(t, KindRegister, M{"id": node + "/01505", "values": []M{}}))
	if o := h.mustApply(t, admin.tx(t, KindRegister, M{"id": node, "allocate": true, "values": []M{}})); o.ID != node+"/1505" {
		t.Errorf("allocated %s, want %s/1505", o.ID, node)
	}
}

func TestAdminOfAncestor(t *testing.T) {
	w := newWorld(t)
	t.Run("city admin registers under a unit whose admins are others", func(t *testing.T) {
		o := w.h.mustApply(t, w.cityAdmin.tx(t, KindRegister, M{"id": w.unit + "/school-0043", "values": []M{}}))
		if o.ID != w.unit+"/school-0043" {
			t.Errorf("registered %s", o.ID)
		}
		if rec := w.h.record(t, o.ID); len(rec.Admins) != 1 || rec.Admins[0] != w.cityAdmin.pub {
			t.Errorf("admins %v, want the signer", rec.Admins)
		}
	})
	t.Run("city admin updates an object of the unit's admin", func(t *testing.T) {
		w.h.mustApply(t, w.cityAdmin.tx(t, KindUpdate, M{"id": w.object, "version": 1, "values": []M{{"type": "TEXT", "data": "closed for summer"}}}))
	})
	t.Run("city admin deactivates the unit", func(t *testing.T) {
		w.h.mustApply(t, w.cityAdmin.tx(t, KindDeactivate, M{"id": w.unit}))
	})
	t.Run("unit admin registers a unit's object with other admins", func(t *testing.T) {
		w.h.mustApply(t, w.cityAdmin.tx(t, KindReactivate, M{"id": w.unit}))
		o := w.h.mustApply(t, w.unitAdmin.tx(t, KindRegister, M{"id": w.unit + "/bus-7", "values": []M{}, "admins": []string{w.stranger.pub}}))
		// The new admin manages the object, the unit's admin still does too.
		w.h.mustApply(t, w.stranger.tx(t, KindUpdate, M{"id": o.ID, "version": 1, "values": []M{}}))
		w.h.mustApply(t, w.unitAdmin.tx(t, KindUpdate, M{"id": o.ID, "version": 2, "values": []M{}}))
	})
}

func TestUpdate(t *testing.T) {
	w := newWorld(t)
	before := w.h.record(t, w.object)
	tx := w.unitAdmin.tx(t, KindUpdate, M{"id": w.object, "version": 1, "values": []M{
		{"type": "URL", "data": "https://school-0042.sjz.example/v2"},
		{"type": "EMAIL", "data": "office@school-0042.sjz.example", "ttl": 3600},
	}})
	blk := w.h.next()
	r := w.h.apply(t, tx)
	if got, want := outcomeJSON(t, r), `{"id":"1561301001.85.1/school-0042","version":2,"status":"active"}`; got != want {
		t.Errorf("outcome %s, want %s", got, want)
	}
	after := w.h.record(t, w.object)
	if after.Version != 2 {
		t.Errorf("version %d, want 2", after.Version)
	}
	if after.Created != before.Created {
		t.Errorf("created stamp changed from %+v to %+v", before.Created, after.Created)
	}
	if after.Updated.Height != blk.Height || !after.Updated.Time.Equal(blk.Time) || after.Updated.Tx != TxHash(tx) {
		t.Errorf("updated stamp %+v, want block %d at %v by %s", after.Updated, blk.Height, blk.Time, TxHash(tx))
	}
	want := []Value{
		{Index: 1, Type: "URL", Data: "https://school-0042.sjz.example/v2", TTL: DefaultTTL},
		{Index: 2, Type: "EMAIL", Data: "office@school-0042.sjz.example", TTL: 3600},
	}
	if len(after.Values) != 2 || after.Values[0] != want[0] || after.Values[1] != want[1] {
		t.Errorf("values %+v, want %+v", after.Values, want)
	}
	if strings.Join(after.Admins, ",") != strings.Join(before.Admins, ",") || after.Kind != before.Kind || after.Status != StatusActive {
		t.Errorf("update changed more than values and stamps: %+v", after)
	}
	t.Run("empty values clear the record", func(t *testing.T) {
		w.h.mustApply(t, w.unitAdmin.tx(t, KindUpdate, M{"id": w.object, "version": 2, "values": []M{}}))
		if rec := w.h.record(t, w.object); len(rec.Values) != 0 || rec.Version != 3 {
			t.Errorf("record %+v", rec)
		}
	})
	t.Run("identifier in other case and x check character", func(t *testing.T) {
		w.h.mustApply(t, w.unitAdmin.tx(t, KindUpdate, M{"id": "1561301001.85.1/SCHOOL-0042", "version": 3, "values": []M{}}))
		if rec := w.h.record(t, w.object); rec.Version != 4 {
			t.Errorf("version %d, want 4", rec.Version)
		}
	})
	t.Run("a city's admin updates the city record", func(t *testing.T) {
		w.h.mustApply(t, w.cityAdmin.tx(t, KindUpdate, M{"id": w.city, "version": 1, "values": []M{{"type": "URL", "data": "https://www.sjz.gov.example/"}}}))
		if rec := w.h.record(t, w.city); rec.Version != 2 || rec.City == nil || rec.City.Locode != "CNSJW" {
			t.Errorf("city record %+v", rec)
		}
	})
}

// TestCityEndpointAndContact: a city changes how to reach its registry
// office (contact) by an update of its own record; its endpoint, the node
// that keeps its datasets, only by the authority's set_city, M of N, as
// the application's was approved: a city naming another institute's node
// by itself would have that node keep its data. The old ones stay in the
// record's history; "" clears; absent keeps; only a city has them.
func TestCityEndpointAndContact(t *testing.T) {
	w := newWorld(t)
	h := w.h
	before := h.record(t, w.city)
	if before.City == nil || before.City.Endpoint != "https://node.sjz.example/" || before.City.Contact != "CityID office" {
		t.Fatalf("the world's city: %+v", before.City)
	}
	h.mustApply(t, w.cityAdmin.tx(t, KindUpdate, M{"id": w.city, "version": 1, "values": before.Values, "contact": "registry@sjz.example"}))
	if c := h.record(t, w.city).City; c.Contact != "registry@sjz.example" || c.Endpoint != before.City.Endpoint {
		t.Errorf("after the contact's update: %+v", c)
	}
	var old Record
	if ok, err := getJSON(h.kv, historyKey(w.city, 1), &old); err != nil || !ok || old.City.Contact != before.City.Contact {
		t.Errorf("version 1 in the history: %+v (%v, %v), want the old contact", old.City, ok, err)
	}
	// The endpoint is not a field of update: a city cannot move it alone.
	h.expectRejected(t, w.cityAdmin.tx(t, KindUpdate, M{"id": w.city, "version": 2, "values": before.Values, "endpoint": "https://victim.example/"}), CodeMalformed, "endpoint")
	h.expectRejected(t, w.stranger.tx(t, KindUpdate, M{"id": w.city, "version": 2, "values": before.Values, "contact": "x"}), CodeUnauthorized)
	h.expectRejected(t, w.unitAdmin.tx(t, KindUpdate, M{"id": w.object, "version": 1, "values": []M{}, "contact": "x"}), CodeInvalid, "not a city")

	moved := "https://cityid.sjz.example/"
	move := M{"city": w.city, "endpoint": moved, "reason": "the city moved its node"}
	h.expectRejected(t, w.cityAdmin.tx(t, KindSetCity, move), CodeUnauthorized)
	h.mustApply(t, h.members[0].tx(t, KindSetCity, move))
	if c := h.record(t, w.city).City; c.Endpoint != before.City.Endpoint {
		t.Errorf("one approval of two moved the endpoint: %+v", c)
	}
	h.mustApply(t, h.members[1].tx(t, KindSetCity, move))
	after := h.record(t, w.city)
	if after.Version != 3 || after.City.Endpoint != moved || after.City.Contact != "registry@sjz.example" || after.Status != StatusActive || after.City.Locode != before.City.Locode {
		t.Errorf("after the authority's move: version %d, status %s, city %+v", after.Version, after.Status, after.City)
	}
	h.expectRejected(t, h.members[0].tx(t, KindSetCity, M{"city": w.city, "endpoint": moved}), CodeInvalid, "already")
	h.expectRejected(t, h.members[0].tx(t, KindSetCity, M{"city": w.city, "endpoint": "ftp://x"}), CodeInvalid, "http or https")
	if rec := h.record(t, w.city); rec.Version != 3 {
		t.Errorf("the refusals changed the city: version %d", rec.Version)
	}
}

func TestDeactivateReactivate(t *testing.T) {
	w := newWorld(t)
	h := w.h
	r := h.apply(t, w.unitAdmin.tx(t, KindDeactivate, M{"id": w.object, "version": 1, "reason": "school closed"}))
	if got, want := outcomeJSON(t, r), `{"id":"1561301001.85.1/school-0042","version":2,"status":"deactivated"}`; got != want {
		t.Errorf("deactivate outcome %s, want %s", got, want)
	}
	rec := h.record(t, w.object)
	if rec.Status != StatusDeactivated || rec.Reason != "school closed" || rec.Version != 2 || len(rec.Values) != 1 {
		t.Errorf("deactivated record %+v: it must keep its values and say why", rec)
	}
	h.expectRejected(t, w.unitAdmin.tx(t, KindUpdate, M{"id": w.object, "version": 2, "values": []M{}}),
		CodeInactive, w.object+" is deactivated: reactivate it before updating")

	r = h.apply(t, w.unitAdmin.tx(t, KindReactivate, M{"id": w.object, "reason": "reopened"}))
	if got, want := outcomeJSON(t, r), `{"id":"1561301001.85.1/school-0042","version":3,"status":"active"}`; got != want {
		t.Errorf("reactivate outcome %s, want %s", got, want)
	}
	rec = h.record(t, w.object)
	if rec.Status != StatusActive || rec.Reason != "reopened" || rec.Version != 3 {
		t.Errorf("reactivated record %+v", rec)
	}
	h.mustApply(t, w.unitAdmin.tx(t, KindUpdate, M{"id": w.object, "version": 3, "values": []M{}}))

	t.Run("a deactivated node keeps its children but takes no new ones", func(t *testing.T) {
		h.mustApply(t, w.cityAdmin.tx(t, KindDeactivate, M{"id": w.unit, "reason": "reorganised"}))
		if rec := h.record(t, w.object); rec.Status != StatusActive {
			t.Errorf("child status %s after its parent's deactivation", rec.Status)
		}
		h.expectRejected(t, w.cityAdmin.tx(t, KindRegister, M{"id": w.unit + "/new", "values": []M{}}),
			CodeInactive, "parent "+w.unit+" is deactivated")
		h.mustApply(t, w.cityAdmin.tx(t, KindReactivate, M{"id": w.unit}))
		if rec := h.record(t, w.unit); rec.Reason != "" {
			t.Errorf("reactivation without a reason keeps the old reason %q", rec.Reason)
		}
		h.mustApply(t, w.cityAdmin.tx(t, KindRegister, M{"id": w.unit + "/new", "values": []M{}}))
	})
}

func TestIdentifierRejections(t *testing.T) {
	w := newWorld(t)
	h := w.h
	ca, ua, st := w.cityAdmin, w.unitAdmin, w.stranger
	// More state for the cases: a deactivated sector, unit and object, and
	// the world's object at version 2.
	h.mustApply(t, ca.tx(t, KindRegisterSector, M{"id": "1561301001.86"}))
	h.mustApply(t, ca.tx(t, KindDeactivate, M{"id": "1561301001.86"}))
	h.mustApply(t, ca.tx(t, KindRegisterUnit, M{"parent": w.sector, "name": "Old bureau"}))
	h.mustApply(t, ca.tx(t, KindDeactivate, M{"id": "1561301001.85.2", "reason": "merged"}))
	h.mustApply(t, ua.tx(t, KindRegister, M{"id": w.unit + "/closed", "values": []M{}}))
	h.mustApply(t, ua.tx(t, KindDeactivate, M{"id": w.unit + "/closed"}))
	h.mustApply(t, ua.tx(t, KindUpdate, M{"id": w.object, "version": 1, "values": []M{}}))
	obj := func(id string) M { return M{"id": id, "values": []M{}} }

	tests := []struct {
		name string
		tx   func(t testing.TB) []byte
		code string
		msg  []string
	}{
		// Who may write.
		{"stranger registers a sector", func(t testing.TB) []byte { return st.tx(t, KindRegisterSector, M{"id": "1561301001.36"}) },
			CodeUnauthorized, []string{"key " + st.pub + " is not an admin of 1561301001 or of any node above it"}},
		{"unit admin registers a sector of the city", func(t testing.TB) []byte { return ua.tx(t, KindRegisterSector, M{"id": "1561301001.36"}) },
			CodeUnauthorized, []string{ua.pub, "not an admin of 1561301001 "}},
		{"unit admin registers a unit in its sector", func(t testing.TB) []byte {
			return ua.tx(t, KindRegisterUnit, M{"parent": w.sector, "name": "Mine"})
		}, CodeUnauthorized, []string{"not an admin of 1561301001.85 "}},
		{"stranger registers an object under the unit", func(t testing.TB) []byte { return st.tx(t, KindRegister, obj(w.unit+"/x")) },
			CodeUnauthorized, []string{"not an admin of 1561301001.85.1 "}},
		{"stranger allocates under the unit", func(t testing.TB) []byte {
			return st.tx(t, KindRegister, M{"id": w.unit, "allocate": true, "values": []M{}})
		}, CodeUnauthorized, []string{"not an admin of 1561301001.85.1 "}},
		{"stranger updates an object", func(t testing.TB) []byte {
			return st.tx(t, KindUpdate, M{"id": w.object, "version": 2, "values": []M{}})
		}, CodeUnauthorized, []string{"not an admin of " + w.object}},
		{"stranger deactivates an object", func(t testing.TB) []byte { return st.tx(t, KindDeactivate, M{"id": w.object}) },
			CodeUnauthorized, []string{"not an admin of " + w.object}},
		{"unit admin updates the city above it", func(t testing.TB) []byte {
			return ua.tx(t, KindUpdate, M{"id": w.city, "version": 1, "values": []M{}})
		}, CodeUnauthorized, []string{"not an admin of 1561301001 "}},
		{"authority member registers a sector", func(t testing.TB) []byte {
			return h.members[0].tx(t, KindRegisterSector, M{"id": "1561301001.36"})
		}, CodeUnauthorized, []string{h.members[0].pub}},

		// What must exist.
		{"sector of an unknown city", func(t testing.TB) []byte { return ca.tx(t, KindRegisterSector, M{"id": "1563101003.85"}) },
			CodeNotFound, []string{"parent 1563101003 is not registered"}},
		{"unit of an unknown sector", func(t testing.TB) []byte {
			return ca.tx(t, KindRegisterUnit, M{"parent": "1561301001.36", "name": "Water works"})
		}, CodeNotFound, []string{"parent 1561301001.36 is not registered"}},
		{"object under an unknown unit", func(t testing.TB) []byte { return ca.tx(t, KindRegister, obj("1561301001.85.9/x")) },
			CodeNotFound, []string{"parent 1561301001.85.9 is not registered"}},
		{"object under an unknown city", func(t testing.TB) []byte { return ca.tx(t, KindRegister, obj("156110100X/x")) },
			CodeNotFound, []string{"parent 156110100X is not registered"}},
		{"allocate under an unknown unit", func(t testing.TB) []byte {
			return ca.tx(t, KindRegister, M{"id": "1561301001.85.9", "allocate": true, "values": []M{}})
		}, CodeNotFound, []string{"parent 1561301001.85.9 is not registered"}},
		{"update of an unknown identifier", func(t testing.TB) []byte {
			return ca.tx(t, KindUpdate, M{"id": w.unit + "/nothing", "version": 1, "values": []M{}})
		}, CodeNotFound, []string{w.unit + "/nothing is not registered"}},
		{"deactivate an unknown identifier", func(t testing.TB) []byte { return ca.tx(t, KindDeactivate, M{"id": w.unit + "/nothing"}) },
			CodeNotFound, []string{w.unit + "/nothing is not registered"}},

		// What must not exist.
		{"sector registered twice", func(t testing.TB) []byte { return ca.tx(t, KindRegisterSector, M{"id": w.sector}) },
			CodeExists, []string{"1561301001.85 is already registered"}},
		{"object registered twice", func(t testing.TB) []byte { return ua.tx(t, KindRegister, obj(w.object)) },
			CodeExists, []string{w.object + " is already registered"}},
		{"object registered twice in other case", func(t testing.TB) []byte { return ua.tx(t, KindRegister, obj("1561301001.85.1/School-0042")) },
			CodeExists, []string{w.object + " is already registered"}},

		// Versions and status.
		{"update at an old version", func(t testing.TB) []byte {
			return ua.tx(t, KindUpdate, M{"id": w.object, "version": 1, "values": []M{}})
		}, CodeVersionMismatch, []string{w.object + " is at version 2, not 1"}},
		{"update at a future version", func(t testing.TB) []byte {
			return ua.tx(t, KindUpdate, M{"id": w.object, "version": 3, "values": []M{}})
		}, CodeVersionMismatch, []string{"is at version 2, not 3"}},
		{"update without a version", func(t testing.TB) []byte {
			return ua.tx(t, KindUpdate, M{"id": w.object, "values": []M{}})
		}, CodeInvalid, []string{"version is required"}},
		{"deactivate at an old version", func(t testing.TB) []byte {
			return ua.tx(t, KindDeactivate, M{"id": w.object, "version": 1})
		}, CodeVersionMismatch, []string{"is at version 2, not 1"}},
		{"update of a deactivated object", func(t testing.TB) []byte {
			return ua.tx(t, KindUpdate, M{"id": w.unit + "/closed", "version": 2, "values": []M{}})
		}, CodeInactive, []string{w.unit + "/closed is deactivated"}},
		{"object under a deactivated unit", func(t testing.TB) []byte { return ca.tx(t, KindRegister, obj("1561301001.85.2/x")) },
			CodeInactive, []string{"parent 1561301001.85.2 is deactivated"}},
		{"allocate under a deactivated unit", func(t testing.TB) []byte {
			return ca.tx(t, KindRegister, M{"id": "1561301001.85.2", "allocate": true, "values": []M{}})
		}, CodeInactive, []string{"parent 1561301001.85.2 is deactivated"}},
		{"unit under a deactivated sector", func(t testing.TB) []byte {
			return ca.tx(t, KindRegisterUnit, M{"parent": "1561301001.86", "name": "Clinic"})
		}, CodeInactive, []string{"parent 1561301001.86 is deactivated"}},
		{"deactivate twice", func(t testing.TB) []byte { return ua.tx(t, KindDeactivate, M{"id": w.unit + "/closed"}) },
			CodeAlreadyInactive, []string{w.unit + "/closed is already deactivated"}},
		{"reactivate an active object", func(t testing.TB) []byte { return ua.tx(t, KindReactivate, M{"id": w.object}) },
			CodeAlreadyActive, []string{w.object + " is already active"}},
		{"deactivation reason with a control character", func(t testing.TB) []byte {
			return ua.tx(t, KindDeactivate, M{"id": w.object, "reason": "a\x00b"})
		}, CodeInvalid, []string{"reason", "control character"}},

		// Identifiers that do not parse.
		{"bad check character", func(t testing.TB) []byte { return ca.tx(t, KindRegisterSector, M{"id": "1561301002.85"}) },
			CodeInvalidID, []string{`id "1561301002.85": position 10: check character is 2, want 1 (bad_check_char)`}},
		{"sector that is not an ISIC division", func(t testing.TB) []byte { return ca.tx(t, KindRegisterSector, M{"id": "1561301001.04"}) },
			CodeInvalidID, []string{`id "1561301001.04": position 12: sector 04 is not an ISIC Rev.4 division (unknown_sector)`}},
		{"sector 00", func(t testing.TB) []byte {
			return ca.tx(t, KindRegisterUnit, M{"parent": "1561301001.00", "name": "x"})
		},
			CodeInvalidID, []string{`parent "1561301001.00"`, "position 12", "unknown_sector"}},
		{"unit with a leading zero", func(t testing.TB) []byte { return ca.tx(t, KindRegister, obj("1561301001.85.01/x")) },
			CodeInvalidID, []string{"position 15", "leading_zero"}},
		{"local id with a space", func(t testing.TB) []byte { return ca.tx(t, KindRegister, obj("1561301001.85.1/bad id")) },
			CodeInvalidID, []string{"position 20", "bad_char"}},
		{"local id of 65 characters", func(t testing.TB) []byte {
			return ca.tx(t, KindRegister, obj("1561301001.85.1/"+strings.Repeat("a", 65)))
		}, CodeInvalidID, []string{"too_long"}},
		{"empty identifier", func(t testing.TB) []byte { return ca.tx(t, KindRegister, obj("")) },
			CodeInvalidID, []string{"empty"}},
		{"URN form is not the identifier", func(t testing.TB) []byte {
			return ca.tx(t, KindUpdate, M{"id": "urn:cityid:" + w.object, "version": 1, "values": []M{}})
		}, CodeInvalidID, []string{"position 1"}},
		{"unknown country in an identifier", func(t testing.TB) []byte { return ca.tx(t, KindDeactivate, M{"id": "9991301001"}) },
			CodeInvalidID, []string{"unknown_country"}},

		// Identifiers of the wrong level.
		{"register_sector given a unit", func(t testing.TB) []byte { return ca.tx(t, KindRegisterSector, M{"id": w.unit}) },
			CodeInvalid, []string{`id "1561301001.85.1" is a unit, want a sector`}},
		{"register_sector given a city", func(t testing.TB) []byte { return ca.tx(t, KindRegisterSector, M{"id": w.city}) },
			CodeInvalid, []string{`id "1561301001" is a city, want a sector`}},
		{"register_sector given an object", func(t testing.TB) []byte { return ca.tx(t, KindRegisterSector, M{"id": w.sector + "/x"}) },
			CodeInvalid, []string{"is an object, want a sector"}},
		{"register_unit under a city", func(t testing.TB) []byte { return ca.tx(t, KindRegisterUnit, M{"parent": w.city, "name": "x"}) },
			CodeInvalid, []string{`parent "1561301001" is a city, want a sector`}},
		{"register_unit under a unit", func(t testing.TB) []byte { return ca.tx(t, KindRegisterUnit, M{"parent": w.unit, "name": "x"}) },
			CodeInvalid, []string{`parent "1561301001.85.1" is a unit, want a sector`}},
		{"register_unit without a name", func(t testing.TB) []byte { return ca.tx(t, KindRegisterUnit, M{"parent": w.sector}) },
			CodeInvalid, []string{"name is required"}},
		{"register a node code", func(t testing.TB) []byte { return ca.tx(t, KindRegister, obj("1561301001.85.7")) },
			CodeInvalid, []string{`id "1561301001.85.7" is a node code`}},
		{"register a city code", func(t testing.TB) []byte { return ca.tx(t, KindRegister, obj("1563101003")) },
			CodeInvalid, []string{"is a node code"}},
		{"allocate under an object", func(t testing.TB) []byte {
			return ca.tx(t, KindRegister, M{"id": w.object, "allocate": true, "values": []M{}})
		}, CodeInvalid, []string{"with allocate, give the node code"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h.expectRejected(t, tc.tx(t), tc.code, tc.msg...)
		})
	}
}

// TestNodeTextLen: the text of every node above an identifier is the
// identifier's text cut at nodeTextLen, as lineage reads it.
func TestNodeTextLen(t *testing.T) {
	for _, text := range []string{
		"1561301001.85.3/school-0042",
		"1561301001.85.123456/a",
		"1561301001.85/x",
		"1561301001/x_y-z9",
		"1561301001.85.3",
		"1561301001.85",
		"1561301001",
	} {
		id, err := code.Parse(text)
		if err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		if id.String() != text {
			t.Fatalf("%s reads back as %s", text, id)
		}
		levels := 0
		for cur, ok := id.Parent(); ok; cur, ok = cur.Parent() {
			levels++
			if got := text[:nodeTextLen(cur)]; got != cur.String() {
				t.Errorf("%s: the node above, %s, cut at nodeTextLen is %s", text, cur, got)
			}
		}
		if want := strings.Count(text, ".") + strings.Count(text, "/"); levels != want {
			t.Errorf("%s: %d nodes above, want %d", text, levels, want)
		}
	}
}
