package registry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cityid/cityid/code"
)

// meters returns n batch entries under node: <node>/meter-<from+i>, each
// with one TEXT value.
func meters(node string, from, n int) []M {
	out := make([]M, n)
	for i := range out {
		out[i] = M{"id": fmt.Sprintf("%s/meter-%05d", node, from+i), "values": []M{{"type": "TEXT", "data": "water meter"}}}
	}
	return out
}

func TestRegisterBatch(t *testing.T) {
	w := newWorld(t)
	h := w.h
	t.Run("one entry", func(t *testing.T) {
		tx := w.unitAdmin.tx(t, KindRegisterBatch, batchMsg([]M{
			{"id": "1561301001.85.1/Meter-A", "values": []M{{"type": "URL", "data": "https://meters.sjz.example/a"}}},
		}))
		blk := h.next()
		r := h.apply(t, tx)
		if got, want := outcomeJSON(t, r), `{"id":"1561301001.85.1/meter-a","version":1,"status":"active","count":1}`; got != want {
			t.Errorf("outcome %s, want %s", got, want)
		}
		rec := h.record(t, w.unit+"/meter-a")
		st := Stamp{Height: blk.Height, Time: blk.Time, Tx: TxHash(tx)}
		if rec.Kind != "object" || rec.Version != 1 || rec.Status != StatusActive || rec.Created != st || rec.Updated != st ||
			len(rec.Admins) != 1 || rec.Admins[0] != w.unitAdmin.pub ||
			len(rec.Values) != 1 || rec.Values[0] != (Value{Index: 1, Type: "URL", Data: "https://meters.sjz.example/a", TTL: DefaultTTL}) {
			t.Errorf("record %+v: want version 1, the signer as admin, canonical values, stamped by the batch", rec)
		}
	})
	t.Run("MaxBatch entries in one transaction", func(t *testing.T) {
		nonce := h.nonce(t, w.unitAdmin.pub)
		tx := w.unitAdmin.tx(t, KindRegisterBatch, batchMsg(meters(w.unit, 0, MaxBatch)))
		if n := len(decodeTx(t, tx).Body); n <= MaxBodyBytes || n > MaxBatchBodyBytes {
			t.Fatalf("body of %d entries is %d bytes: want over MaxBodyBytes (%d), within MaxBatchBodyBytes (%d)", MaxBatch, n, MaxBodyBytes, MaxBatchBodyBytes)
		}
		// How fast is the benchmarks' to say (BenchmarkApplyBlockRegisterBatch,
		// cityid bench --only batch), against a baseline of the same run.
		o := h.mustApply(t, tx)
		if o.Count != MaxBatch || o.ID != w.unit+"/meter-00000" || o.Version != 1 {
			t.Errorf("outcome %+v", o)
		}
		for _, i := range []int{0, 1, MaxBatch / 2, MaxBatch - 1} {
			if rec := h.record(t, fmt.Sprintf("%s/meter-%05d", w.unit, i)); rec.Version != 1 || rec.Values[0].Data != "water meter" {
				t.Errorf("entry %d: %+v", i+1, rec)
			}
		}
		if got := h.nonce(t, w.unitAdmin.pub); got != nonce+1 {
			t.Errorf("nonce %d after one batch, want %d: a batch is one transaction", got, nonce+1)
		}
	})
	t.Run("entries with their own admins, and admins by default", func(t *testing.T) {
		o := h.mustApply(t, w.unitAdmin.tx(t, KindRegisterBatch, batchMsg([]M{
			{"id": w.unit + "/pipe-1", "values": []M{}, "admins": []string{w.stranger.pub}},
			{"id": w.unit + "/pipe-2", "values": []M{}},
		})))
		if o.Count != 2 {
			t.Errorf("count %d", o.Count)
		}
		if a := h.record(t, w.unit+"/pipe-1").Admins; len(a) != 1 || a[0] != w.stranger.pub {
			t.Errorf("pipe-1 admins %v, want the given key", a)
		}
		if a := h.record(t, w.unit+"/pipe-2").Admins; len(a) != 1 || a[0] != w.unitAdmin.pub {
			t.Errorf("pipe-2 admins %v, want the signer", a)
		}
	})
	t.Run("entries under several units, authorized per parent", func(t *testing.T) {
		// Unit 2 has its own admin; the city's admin is an admin of both
		// units (by the city), the first unit's admin of the first only.
		other := h.signer("unit-2-admin")
		h.mustApply(t, w.cityAdmin.tx(t, KindRegisterUnit, M{"parent": w.sector, "name": "Second bureau", "admins": []string{other.pub}}))
		unit2 := "1561301001.85.2"
		o := h.mustApply(t, w.cityAdmin.tx(t, KindRegisterBatch, batchMsg([]M{
			{"id": w.unit + "/valve-1", "values": []M{}},
			{"id": unit2 + "/valve-1", "values": []M{}},
			{"id": w.sector + "/valve-1", "values": []M{}},
			{"id": w.city + "/valve-1", "values": []M{}},
			{"id": unit2 + "/valve-2", "values": []M{}},
		})))
		if o.Count != 5 {
			t.Errorf("count %d, want 5", o.Count)
		}
		h.mustApply(t, other.tx(t, KindRegisterBatch, batchMsg([]M{{"id": unit2 + "/valve-3", "values": []M{}}})))
		h.expectRejected(t, w.unitAdmin.tx(t, KindRegisterBatch, batchMsg([]M{
			{"id": w.unit + "/valve-4", "values": []M{}},
			{"id": w.unit + "/valve-5", "values": []M{}},
			{"id": unit2 + "/valve-4", "values": []M{}},
		})), CodeUnauthorized, "entry 3 ("+unit2+"/valve-4): key "+w.unitAdmin.pub+" is not an admin of "+unit2+" ")
		h.expectRejected(t, other.tx(t, KindRegisterBatch, batchMsg([]M{
			{"id": unit2 + "/valve-4", "values": []M{}},
			{"id": w.unit + "/valve-4", "values": []M{}},
		})), CodeUnauthorized, "entry 2 ("+w.unit+"/valve-4)", "not an admin of "+w.unit+" ")
	})
	t.Run("a batch writes no child index and no history", func(t *testing.T) {
		if keys, _ := scan(t, h, ChildPrefix(w.unit)); len(keys) != 0 {
			t.Errorf("child index under the unit %q: objects are not indexed", keys)
		}
		if keys, _ := scan(t, h, HistoryPrefix(w.unit+"/meter-00000")); len(keys) != 0 {
			t.Errorf("history of a new entry %q", keys)
		}
	})
}

// TestRegisterBatchBodyBounds: register_batch alone may have a body over
// MaxBodyBytes, up to MaxBatchBodyBytes.
func TestRegisterBatchBodyBounds(t *testing.T) {
	w := newWorld(t)
	h := w.h
	a := w.unitAdmin
	// batchBody is a one-entry batch (<unit>/meter-<entry>) padded to n bytes.
	batchBody := func(t testing.TB, entry, n int) []byte {
		body, err := NewBody(KindRegisterBatch, a.nextNonce(t), batchMsg(meters(w.unit, entry, 1)))
		if err != nil {
			t.Fatal(err)
		}
		return padJSON(t, body, n)
	}
	t.Run("a batch body over MaxBodyBytes is accepted", func(t *testing.T) {
		h.mustApply(t, signBody(t, testChainID, batchBody(t, 1, MaxBodyBytes+1), a.key))
	})
	t.Run("a batch body of exactly MaxBatchBodyBytes fits a transaction and is accepted", func(t *testing.T) {
		tx := signBody(t, testChainID, batchBody(t, 2, MaxBatchBodyBytes), a.key)
		if len(tx) > MaxTxBytes {
			t.Fatalf("transaction of a MaxBatchBodyBytes body is %d bytes, more than MaxTxBytes %d", len(tx), MaxTxBytes)
		}
		h.mustApply(t, tx)
	})
	t.Run("a batch body over MaxBatchBodyBytes is too large", func(t *testing.T) {
		h.expectRejected(t, signBody(t, testChainID, batchBody(t, 3, MaxBatchBodyBytes+1), a.key), CodeTooLarge,
			fmt.Sprintf("body is %d bytes, more than the %d allowed", MaxBatchBodyBytes+1, MaxBatchBodyBytes))
	})
	for _, kind := range []string{KindRegister, KindUpdate, KindTransfer, KindGrantAccess, KindSetValidator} {
		t.Run(kind+" body over MaxBodyBytes is too large, naming the kind", func(t *testing.T) {
			body, err := NewBody(kind, a.nextNonce(t), M{"id": w.object})
			if err != nil {
				t.Fatal(err)
			}
			h.expectRejected(t, signBody(t, testChainID, padJSON(t, body, MaxBodyBytes+1), a.key), CodeTooLarge,
				fmt.Sprintf("body is %d bytes, more than the %d allowed for %s (only register_batch may be up to %d)", MaxBodyBytes+1, MaxBodyBytes, kind, MaxBatchBodyBytes))
		})
	}
}

func TestRegisterBatchRejections(t *testing.T) {
	w := newWorld(t)
	h := w.h
	ua := w.unitAdmin
	// A deactivated unit, and a deactivated sector with an active unit.
	h.mustApply(t, w.cityAdmin.tx(t, KindRegisterUnit, M{"parent": w.sector, "name": "Closed bureau"}))
	h.mustApply(t, w.cityAdmin.tx(t, KindDeactivate, M{"id": "1561301001.85.2"}))
	h.mustApply(t, w.cityAdmin.tx(t, KindRegisterSector, M{"id": "1561301001.86"}))
	h.mustApply(t, w.cityAdmin.tx(t, KindRegisterUnit, M{"parent": "1561301001.86", "name": "Hospital"}))
	h.mustApply(t, w.cityAdmin.tx(t, KindDeactivate, M{"id": "1561301001.86"}))
	e := func(id string) M { return M{"id": id, "values": []M{}} }
	batch := func(entries ...M) RegisterBatch { return batchMsg(entries) }
	raw := func(msg string) json.RawMessage { return json.RawMessage(msg) }
	var keys []string
	for i := 0; i <= MaxAdmins; i++ {
		keys = append(keys, pubHex(testKey(fmt.Sprint("batch-admin-", i))))
	}

	tests := []struct {
		name string
		tx   func(t testing.TB) []byte
		code string
		msg  []string
	}{
		{"MaxBatch+1 entries", func(t testing.TB) []byte {
			return ua.tx(t, KindRegisterBatch, batch(meters(w.unit, 0, MaxBatch+1)...))
		}, CodeTooLarge, []string{fmt.Sprintf("%d entries, more than the %d allowed", MaxBatch+1, MaxBatch)}},
		{"no entries", func(t testing.TB) []byte { return ua.tx(t, KindRegisterBatch, batchMsg([]M{})) },
			CodeInvalid, []string{"nodes is empty"}},
		{"nodes missing", func(t testing.TB) []byte { return ua.tx(t, KindRegisterBatch, M{}) },
			CodeInvalid, []string{"nodes is empty"}},
		{"an id repeated", func(t testing.TB) []byte {
			return ua.tx(t, KindRegisterBatch, batch(e(w.unit+"/a"), e(w.unit+"/b"), e(w.unit+"/a")))
		}, CodeInvalid, []string{"entry 3 (" + w.unit + "/a): " + w.unit + "/a repeats entry 1"}},
		{"an id repeated in another case", func(t testing.TB) []byte {
			return ua.tx(t, KindRegisterBatch, batch(e(w.unit+"/Pump"), e(w.unit+"/pump")))
		}, CodeInvalid, []string{"entry 2 (" + w.unit + "/pump): " + w.unit + "/pump repeats entry 1"}},
		{"an object as a group's node", func(t testing.TB) []byte {
			return ua.tx(t, KindRegisterBatch, raw(`{"nodes":[{"node":"`+w.unit+`","entries":[["a",[]]]},{"node":"`+w.unit+`/b","entries":[["c",[]]]}]}`))
		}, CodeInvalid, []string{"entry 2 (" + w.unit + "/b/c): node " + w.unit + "/b is an object"}},
		{"a node that does not parse", func(t testing.TB) []byte {
			return ua.tx(t, KindRegisterBatch, raw(`{"nodes":[{"node":"1561301002.85.1","entries":[["a",[]]]}]}`))
		}, CodeInvalidID, []string{`entry 1 (1561301002.85.1/a): node "1561301002.85.1"`, "bad_check_char"}},
		{"a node in two groups, in another case", func(t testing.TB) []byte {
			return ua.tx(t, KindRegisterBatch, raw(`{"nodes":[{"node":"1561301001.85.1","entries":[["a",[]]]},{"node":"1561301001.85","entries":[["b",[]]]},{"node":"1561301001.85.1","entries":[["c",[]]]}]}`))
		}, CodeInvalid, []string{"entry 3 (1561301001.85.1/c): node 1561301001.85.1 is also the node of group 1"}},
		{"an empty group", func(t testing.TB) []byte {
			return ua.tx(t, KindRegisterBatch, raw(`{"nodes":[{"node":"`+w.unit+`","entries":[["a",[]]]},{"node":"1561301001.85","entries":[]}]}`))
		}, CodeInvalid, []string{"group 2 (1561301001.85) has no entries"}},
		{"a group without entries", func(t testing.TB) []byte {
			return ua.tx(t, KindRegisterBatch, raw(`{"nodes":[{"node":"`+w.unit+`"}]}`))
		}, CodeInvalid, []string{"group 1 (" + w.unit + ") has no entries"}},
		{"an empty local id", func(t testing.TB) []byte {
			return ua.tx(t, KindRegisterBatch, raw(`{"nodes":[{"node":"`+w.unit+`","entries":[["a",[]],["",[]]]}]}`))
		}, CodeInvalidID, []string{"entry 2 (" + w.unit + "/): id", "empty"}},
		{"a bad admin of a group", func(t testing.TB) []byte {
			return ua.tx(t, KindRegisterBatch, raw(`{"nodes":[{"node":"`+w.unit+`","admins":["ab"],"entries":[["a",[]]]}]}`))
		}, CodeBadPubKey, []string{"entry 1 (" + w.unit + "/a): admin 1: "}},
		{"an id that does not parse", func(t testing.TB) []byte {
			return ua.tx(t, KindRegisterBatch, batch(e(w.unit+"/a"), e(w.unit+"/bad id")))
		}, CodeInvalidID, []string{"entry 2 (" + w.unit + "/bad id): id", "bad_char"}},
		{"a bad value in entry 3", func(t testing.TB) []byte {
			return ua.tx(t, KindRegisterBatch, batch(e(w.unit+"/a"), e(w.unit+"/b"),
				M{"id": w.unit + "/c", "values": []M{{"type": "TEXT", "data": "ok"}, {"type": "GEO", "data": "90.5,0"}}}))
		}, CodeBadValue, []string{"entry 3 (" + w.unit + "/c): value 2 (GEO): latitude"}},
		{"a value over MaxValueBytes in an entry", func(t testing.TB) []byte {
			return ua.tx(t, KindRegisterBatch, batch(M{"id": w.unit + "/a", "values": []M{{"type": "TEXT", "data": strings.Repeat("a", MaxValueBytes+1)}}}))
		}, CodeTooLarge, []string{"entry 1 (" + w.unit + "/a): value 1 (TEXT): data is"}},
		{"too many admins in an entry", func(t testing.TB) []byte {
			return ua.tx(t, KindRegisterBatch, batch(e(w.unit+"/a"), M{"id": w.unit + "/b", "values": []M{}, "admins": keys}))
		}, CodeTooLarge, []string{"entry 2 (" + w.unit + "/b): 17 admins, more than the 16 allowed"}},
		{"an admin listed twice in an entry", func(t testing.TB) []byte {
			return ua.tx(t, KindRegisterBatch, batch(M{"id": w.unit + "/a", "values": []M{}, "admins": []string{keys[0], keys[0]}}))
		}, CodeInvalid, []string{"entry 1 (" + w.unit + "/a): admin 2: key " + keys[0] + " is listed twice"}},
		{"an unknown parent in entry 3, entries grouped by node", func(t testing.TB) []byte {
			return ua.tx(t, KindRegisterBatch, batch(e(w.unit+"/a"), e("1561301001.85.9/a"), e(w.unit+"/b")))
		}, CodeNotFound, []string{"entry 3 (1561301001.85.9/a): parent 1561301001.85.9 is not registered"}},
		{"a deactivated parent", func(t testing.TB) []byte {
			return w.cityAdmin.tx(t, KindRegisterBatch, batch(e(w.unit+"/a"), e("1561301001.85.2/a")))
		}, CodeInactive, []string{"entry 2 (1561301001.85.2/a): parent 1561301001.85.2 is deactivated"}},
		{"a unit under a deactivated sector", func(t testing.TB) []byte {
			return w.cityAdmin.tx(t, KindRegisterBatch, batch(e("1561301001.86.1/a")))
		}, CodeInactive, []string{"entry 1 (1561301001.86.1/a): 1561301001.86 is deactivated"}},
		{"a stranger", func(t testing.TB) []byte {
			return w.stranger.tx(t, KindRegisterBatch, batch(e(w.unit+"/a")))
		}, CodeUnauthorized, []string{"entry 1 (" + w.unit + "/a): key " + w.stranger.pub + " is not an admin of " + w.unit}},
		{"an unknown member in a group", func(t testing.TB) []byte {
			return ua.tx(t, KindRegisterBatch, raw(`{"nodes":[{"node":"`+w.unit+`","name":"x","entries":[["a",[]]]}]}`))
		}, CodeMalformed, []string{"register_batch msg: group 1: unknown member \"name\""}},
		{"an unknown member in a value object", func(t testing.TB) []byte {
			return ua.tx(t, KindRegisterBatch, raw(`{"nodes":[{"node":"`+w.unit+`","entries":[["a",[{"type":"TEXT","data":"x","name":"y"}]]]}]}`))
		}, CodeMalformed, []string{"register_batch msg: entry 1 (" + w.unit + "/a): value 1:", "name"}},
		{"a value pair of three", func(t testing.TB) []byte {
			return ua.tx(t, KindRegisterBatch, raw(`{"nodes":[{"node":"`+w.unit+`","entries":[["a",[["TEXT","x","y"]]]]}]}`))
		}, CodeMalformed, []string{"entry 1 (" + w.unit + `/a): value 1: a pair is ["TYPE","data"]`}},
		{"a value pair of one", func(t testing.TB) []byte {
			return ua.tx(t, KindRegisterBatch, raw(`{"nodes":[{"node":"`+w.unit+`","entries":[["a",[["TEXT"]]]]}]}`))
		}, CodeMalformed, []string{"entry 1 (" + w.unit + "/a): value 1: data: want a string"}},
		{"a value pair with a number", func(t testing.TB) []byte {
			return ua.tx(t, KindRegisterBatch, raw(`{"nodes":[{"node":"`+w.unit+`","entries":[["a",[["TEXT",7]]]]}]}`))
		}, CodeMalformed, []string{"entry 1 (" + w.unit + "/a): value 1: data: want a string, not a number"}},
		{"a value that is a string", func(t testing.TB) []byte {
			return ua.tx(t, KindRegisterBatch, raw(`{"nodes":[{"node":"`+w.unit+`","entries":[["a",["TEXT"]]]}]}`))
		}, CodeMalformed, []string{"entry 1 (" + w.unit + `/a): value 1: want ["TYPE","data"] or an object, not a string`}},
		{"an entry of one element", func(t testing.TB) []byte {
			return ua.tx(t, KindRegisterBatch, raw(`{"nodes":[{"node":"`+w.unit+`","entries":[["a"]]}]}`))
		}, CodeMalformed, []string{"entry 1 (" + w.unit + "/a): want its values"}},
		{"an entry of four elements", func(t testing.TB) []byte {
			return ua.tx(t, KindRegisterBatch, raw(`{"nodes":[{"node":"`+w.unit+`","entries":[["a",[],[],[]]]}]}`))
		}, CodeMalformed, []string{"entry 1 (" + w.unit + "/a): an entry is [local-id, values] or [local-id, values, admins]"}},
		{"an entry as an object", func(t testing.TB) []byte {
			return ua.tx(t, KindRegisterBatch, raw(`{"nodes":[{"node":"`+w.unit+`","entries":[{"id":"a","values":[]}]}]}`))
		}, CodeMalformed, []string{"entry 1: want [local-id, values] or [local-id, values, admins], not an object"}},
		{"null values", func(t testing.TB) []byte {
			return ua.tx(t, KindRegisterBatch, raw(`{"nodes":[{"node":"`+w.unit+`","entries":[["a",null]]}]}`))
		}, CodeMalformed, []string{"entry 1 (" + w.unit + "/a): want its values, an array, after the local id, not null"}},
		{"null nodes", func(t testing.TB) []byte {
			return ua.tx(t, KindRegisterBatch, raw(`{"nodes":null}`))
		}, CodeMalformed, []string{"nodes: want an array, not null"}},
		{"a null node", func(t testing.TB) []byte {
			return ua.tx(t, KindRegisterBatch, raw(`{"nodes":[{"node":null,"entries":[["a",[]]]}]}`))
		}, CodeMalformed, []string{"group 1: node: null is not allowed here"}},
		{"the old form", func(t testing.TB) []byte {
			return ua.tx(t, KindRegisterBatch, raw(`{"entries":[{"id":"`+w.unit+`/a","values":[]}]}`))
		}, CodeMalformed, []string{`msg: unknown member "entries"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h.expectRejected(t, tc.tx(t), tc.code, tc.msg...)
		})
	}

	t.Run("an existing id in the middle writes nothing of the batch", func(t *testing.T) {
		first, last := w.unit+"/new-1", w.unit+"/new-3"
		h.expectRejected(t, ua.tx(t, KindRegisterBatch, batch(e(first), e("1561301001.85.1/School-0042"), e(last))),
			CodeExists, "entry 2 ("+w.object+"): "+w.object+" is already registered")
		for _, id := range []string{first, last} {
			if _, ok, err := GetRecord(h.kv, id); ok || err != nil {
				t.Errorf("%s exists after its batch was refused (err %v): a batch is all or nothing", id, err)
			}
		}
		// The same batch without the existing id goes through.
		if o := h.mustApply(t, ua.tx(t, KindRegisterBatch, batch(e(first), e(last)))); o.Count != 2 {
			t.Errorf("count %d", o.Count)
		}
	})
	t.Run("an id registered by an earlier transaction of the same block", func(t *testing.T) {
		n := ua.nextNonce(t)
		rs := h.applyBlock(t,
			ua.txNonce(t, n, KindRegister, e(w.unit+"/race")),
			ua.txNonce(t, n+1, KindRegisterBatch, batch(e(w.unit+"/race-2"), e(w.unit+"/race"))),
		)
		if rs[0].Err != nil || rs[1].Err == nil || rs[1].Err.Code != CodeExists || !strings.Contains(rs[1].Err.Msg, "entry 2") {
			t.Errorf("results %v, %v: want the register applied and the batch refused on entry 2", rs[0].Err, rs[1].Err)
		}
		if _, ok, _ := GetRecord(h.kv, w.unit+"/race-2"); ok {
			t.Error("entry 1 of the refused batch was written")
		}
	})
}

// TestRecordHeadMatchesRecord keeps recordHead a Record without its
// stamps, field for field, and a batch's records, encoded ahead as heads,
// byte for byte what encoding the whole record writes: the app hash
// depends on every byte.
func TestRecordHeadMatchesRecord(t *testing.T) {
	rt, ht := reflect.TypeOf(Record{}), reflect.TypeOf(recordHead{})
	var want []string
	for i := range rt.NumField() {
		f := rt.Field(i)
		if f.Name == "Created" || f.Name == "Updated" {
			if i < rt.NumField()-2 {
				t.Fatalf("Record.%s is not among the last two fields: withStamps appends the stamps last", f.Name)
			}
			continue
		}
		want = append(want, fmt.Sprintf("%s %s %s", f.Name, f.Type, f.Tag))
	}
	var got []string
	for i := range ht.NumField() {
		f := ht.Field(i)
		got = append(got, fmt.Sprintf("%s %s %s", f.Name, f.Type, f.Tag))
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("recordHead fields\n%v\nwant Record's without the stamps\n%v", got, want)
	}
	id, err := code.Parse("1561301001.85.1/school-0042")
	if err != nil {
		t.Fatal(err)
	}
	stamps := []Stamp{
		{Height: 1, Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Tx: strings.Repeat("AB", 32)},
		{Height: 1 << 40, Time: time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC), Tx: ""},
	}
	valueSets := [][]Value{
		nil,
		{},
		{{Index: 1, Type: "URL", Data: "https://example.org/a?b=<c>&d", TTL: 86400}},
		{{Index: 1, Type: "TEXT", Data: "石家庄市 \"quoted\" \\ \u2028", TTL: 1}, {Index: 2, Type: "DATA", Dataset: &Dataset{URI: "https://x", SHA256: strings.Repeat("a", 64), Size: 7, MediaType: "text/csv"}}},
	}
	for _, st := range stamps {
		for _, values := range valueSets {
			for _, admins := range [][]string{nil, {strings.Repeat("b", 64)}, {strings.Repeat("c", 64), strings.Repeat("d", 64)}} {
				rec := Record{ID: id.String(), Kind: id.Kind(), Status: StatusActive, Version: 1, Values: values, Admins: admins, Created: st, Updated: st}
				whole, err := json.Marshal(rec)
				if err != nil {
					t.Fatal(err)
				}
				stamp, err := json.Marshal(st)
				if err != nil {
					t.Fatal(err)
				}
				if got := withStamps(encodeHead(id, id.String(), "", admins, values), stamp); !bytes.Equal(got, whole) {
					t.Errorf("head and stamps\n%s\nwant\n%s", got, whole)
				}
			}
		}
	}
}
