package registry

import (
	"fmt"
	"strings"
	"testing"
)

func TestTransfer(t *testing.T) {
	w := newWorld(t)
	h := w.h
	owner, heir, heir2 := h.signer("pump-owner"), h.signer("pump-heir"), h.signer("pump-heir-2")
	pump := w.unit + "/pump-1"
	h.mustApply(t, w.unitAdmin.tx(t, KindRegister, M{"id": pump, "admins": []string{owner.pub},
		"values": []M{{"type": "URL", "data": "https://water.sjz.example/pumps/1"}}}))
	before := h.record(t, pump)
	beforeRaw := h.rawRecord(t, pump)

	t.Run("the admin gives the record new admins", func(t *testing.T) {
		tx := owner.tx(t, KindTransfer, M{"id": "1561301001.85.1/PUMP-1", "admins": []string{heir.pub, heir2.pub}, "version": 1})
		blk := h.next()
		r := h.apply(t, tx)
		if got, want := outcomeJSON(t, r), `{"id":"`+pump+`","version":2,"status":"active"}`; got != want {
			t.Errorf("outcome %s, want %s", got, want)
		}
		rec := h.record(t, pump)
		if strings.Join(rec.Admins, ",") != heir.pub+","+heir2.pub {
			t.Errorf("admins %v, want the new keys in the order given", rec.Admins)
		}
		if rec.Version != 2 || rec.Created != before.Created || rec.Updated != (Stamp{Height: blk.Height, Time: blk.Time, Tx: TxHash(tx)}) ||
			len(rec.Values) != 1 || rec.Values[0] != before.Values[0] || rec.Status != StatusActive {
			t.Errorf("record %+v: a transfer bumps the version and the updated stamp and changes only the admins", rec)
		}
		if keys, values := scan(t, h, HistoryPrefix(pump)); len(keys) != 1 || keys[0] != string(historyKey(pump, 1)) || string(values[0]) != string(beforeRaw) {
			t.Errorf("history %q: want version 1 as it was, under %s", keys, historyKey(pump, 1))
		}
	})
	t.Run("the new admins write, the old one does not", func(t *testing.T) {
		h.mustApply(t, heir.tx(t, KindUpdate, M{"id": pump, "version": 2, "values": []M{}}))
		h.expectRejected(t, owner.tx(t, KindUpdate, M{"id": pump, "version": 3, "values": []M{}}),
			CodeUnauthorized, "key "+owner.pub+" is not an admin of "+pump+" or of any node above it")
		h.expectRejected(t, owner.tx(t, KindTransfer, M{"id": pump, "admins": []string{owner.pub}}),
			CodeUnauthorized, owner.pub, pump)
		h.mustApply(t, heir2.tx(t, KindDeactivate, M{"id": pump, "reason": "pump replaced"}))
	})
	t.Run("an admin of a node above transfers, without a version", func(t *testing.T) {
		o := h.mustApply(t, w.cityAdmin.tx(t, KindTransfer, M{"id": pump, "admins": []string{owner.pub}}))
		if o.Version != 5 || o.Status != StatusDeactivated {
			t.Errorf("outcome %+v, want version 5, still deactivated", o)
		}
		// Its own admin cannot lift the deactivation; the unit's can.
		h.expectRejected(t, owner.tx(t, KindReactivate, M{"id": pump}), CodeUnauthorized, "lifted by an admin of the parent")
		h.mustApply(t, w.unitAdmin.tx(t, KindReactivate, M{"id": pump}))
		h.mustApply(t, w.unitAdmin.tx(t, KindTransfer, M{"id": pump, "admins": []string{heir.pub}, "version": 6}))
	})
	t.Run("a unit's new admin manages what is under it, the old one only what it holds itself", func(t *testing.T) {
		bureau := h.signer("new-bureau-admin")
		h.mustApply(t, w.cityAdmin.tx(t, KindTransfer, M{"id": w.unit, "admins": []string{bureau.pub}, "version": 1}))
		h.expectRejected(t, w.unitAdmin.tx(t, KindRegister, M{"id": w.unit + "/school-0043", "values": []M{}}),
			CodeUnauthorized, "not an admin of "+w.unit+" ")
		h.mustApply(t, bureau.tx(t, KindRegister, M{"id": w.unit + "/school-0043", "values": []M{}}))
		// The world's object lists the unit's old admin as its own admin.
		h.mustApply(t, w.unitAdmin.tx(t, KindUpdate, M{"id": w.object, "version": 1, "values": []M{}}))
		h.mustApply(t, bureau.tx(t, KindUpdate, M{"id": w.object, "version": 2, "values": []M{}}))
	})
	t.Run("in one block, a transfer holds for the transactions after it", func(t *testing.T) {
		keeper, other := h.signer("valve-keeper"), h.signer("valve-other")
		h.mustApply(t, w.cityAdmin.tx(t, KindRegisterUnit, M{"parent": w.sector, "name": "Valves", "admins": []string{keeper.pub}}))
		valves := "1561301001.85.2"
		n := keeper.nextNonce(t)
		rs := h.applyBlock(t,
			keeper.txNonce(t, n, KindRegister, M{"id": valves + "/v-1", "values": []M{}}),
			w.cityAdmin.tx(t, KindTransfer, M{"id": valves, "admins": []string{other.pub}}),
			keeper.txNonce(t, n+1, KindRegister, M{"id": valves + "/v-2", "values": []M{}}),
			other.tx(t, KindRegisterBatch, batchMsg([]M{{"id": valves + "/v-3", "values": []M{}}})),
		)
		for i, want := range []string{"", "", CodeUnauthorized, ""} {
			got := ""
			if rs[i].Err != nil {
				got = rs[i].Err.Code
			}
			if got != want {
				t.Errorf("tx %d: %q (%v), want %q", i, got, rs[i].Err, want)
			}
		}
	})
	t.Run("a city's admins hand the city over", func(t *testing.T) {
		successor := h.signer("city-admin-2")
		o := h.mustApply(t, w.cityAdmin.tx(t, KindTransfer, M{"id": w.city, "admins": []string{successor.pub}, "version": 1}))
		if o.ID != w.city || o.Version != 2 {
			t.Errorf("outcome %+v", o)
		}
		if rec := h.record(t, w.city); rec.City == nil || rec.City.Locode != "CNSJW" || rec.Name != "石家庄市" {
			t.Errorf("city record lost its city part: %+v", rec)
		}
		h.expectRejected(t, w.cityAdmin.tx(t, KindRegisterSector, M{"id": "1561301001.86"}), CodeUnauthorized, "not an admin of 1561301001 ")
		h.mustApply(t, successor.tx(t, KindRegisterSector, M{"id": "1561301001.86"}))
	})
}

func TestTransferRejections(t *testing.T) {
	w := newWorld(t)
	h := w.h
	ua := w.unitAdmin
	h.mustApply(t, ua.tx(t, KindUpdate, M{"id": w.object, "version": 1, "values": []M{}}))
	k1, k2 := pubHex(testKey("transfer-1")), pubHex(testKey("transfer-2"))
	var many []string
	for i := 0; i <= MaxAdmins; i++ {
		many = append(many, pubHex(testKey(fmt.Sprint("transfer-many-", i))))
	}
	tr := func(m M) func(t testing.TB) []byte {
		return func(t testing.TB) []byte { return ua.tx(t, KindTransfer, m) }
	}

	tests := []struct {
		name string
		tx   func(t testing.TB) []byte
		code string
		msg  []string
	}{
		{"a stranger", func(t testing.TB) []byte {
			return w.stranger.tx(t, KindTransfer, M{"id": w.object, "admins": []string{w.stranger.pub}})
		}, CodeUnauthorized, []string{"key " + w.stranger.pub + " is not an admin of " + w.object + " or of any node above it"}},
		{"an authority member", func(t testing.TB) []byte {
			return h.members[0].tx(t, KindTransfer, M{"id": w.city, "admins": []string{h.members[0].pub}})
		}, CodeUnauthorized, []string{h.members[0].pub, "not an admin of 1561301001 "}},
		{"a unit's admin transfers the city", tr(M{"id": w.city, "admins": []string{ua.pub}}),
			CodeUnauthorized, []string{"not an admin of 1561301001 "}},
		{"an old version", tr(M{"id": w.object, "admins": []string{k1}, "version": 1}),
			CodeVersionMismatch, []string{w.object + " is at version 2, not 1"}},
		{"a future version", tr(M{"id": w.object, "admins": []string{k1}, "version": 3}),
			CodeVersionMismatch, []string{"is at version 2, not 3"}},
		{"admins empty", tr(M{"id": w.object, "admins": []string{}}),
			CodeInvalid, []string{"admins is empty: a transfer names the new admin keys"}},
		{"admins missing", tr(M{"id": w.object}),
			CodeInvalid, []string{"admins is empty"}},
		{"a key twice", tr(M{"id": w.object, "admins": []string{k1, k2, k1}}),
			CodeInvalid, []string{"admin 3: key " + k1 + " is listed twice"}},
		{"a key in uppercase", tr(M{"id": w.object, "admins": []string{k1, strings.ToUpper(k2)}}),
			CodeBadPubKey, []string{"admin 2:", "must be lowercase hex"}},
		{"a key too short", tr(M{"id": w.object, "admins": []string{k1[:60]}}),
			CodeBadPubKey, []string{"admin 1:", "is 60 characters"}},
		{"more than MaxAdmins", tr(M{"id": w.object, "admins": many}),
			CodeTooLarge, []string{"17 admins, more than the 16 allowed"}},
		{"an unknown identifier", tr(M{"id": w.unit + "/nothing", "admins": []string{k1}}),
			CodeNotFound, []string{w.unit + "/nothing is not registered"}},
		{"an identifier that does not parse", tr(M{"id": "1561301002.85", "admins": []string{k1}}),
			CodeInvalidID, []string{`id "1561301002.85"`, "bad_check_char"}},
		{"an unknown field", tr(M{"id": w.object, "admins": []string{k1}, "reason": "x"}),
			CodeMalformed, []string{"transfer msg:", `unknown field "reason"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h.expectRejected(t, tc.tx(t), tc.code, tc.msg...)
		})
	}
	if rec := h.record(t, w.object); rec.Version != 2 || len(rec.Admins) != 1 || rec.Admins[0] != ua.pub {
		t.Errorf("record after the refused transfers %+v", rec)
	}
}
