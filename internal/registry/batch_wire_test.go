package registry

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"
)

// TestBatchWireEncoding pins the wire form RegisterBatch writes: entries
// grouped by node, values
// as pairs where a pair means the same, admins shared by a whole group
// said once.
func TestBatchWireEncoding(t *testing.T) {
	const unit, sector = "1561301001.85.1", "1561301001.85"
	a, b := pubHex(testKey("a")), pubHex(testKey("b"))
	ds := &Dataset{URI: "https://d.example/x", SHA256: strings.Repeat("ab", 32), Size: 7, MediaType: "text/csv"}
	tests := []struct {
		name    string
		entries []BatchEntry
		want    string
	}{
		{"pairs under one node", []BatchEntry{
			{ID: unit + "/m-1", Values: []Value{{Type: "URL", Data: "https://x.example/<a>&b"}, {Type: "TEXT", Data: "多福巷"}}},
			{ID: unit + "/m-2", Values: []Value{}},
		}, `{"nodes":[{"node":"1561301001.85.1","entries":[["m-1",[["URL","https://x.example/<a>&b"],["TEXT","多福巷"]]],["m-2",[]]]}]}`},
		{"groups in the order of their first entry", []BatchEntry{
			{ID: unit + "/a", Values: nil},
			{ID: sector + "/b"},
			{ID: unit + "/C"},
		}, `{"nodes":[{"node":"1561301001.85.1","entries":[["a",[]],["C",[]]]},{"node":"1561301001.85","entries":[["b",[]]]}]}`},
		{"objects where a pair would mean something else", []BatchEntry{
			{ID: unit + "/a", Values: []Value{{Type: "TEXT", Data: "x", TTL: 60}, {Type: "DATA", Dataset: ds}, {Type: "TEXT", Data: "y", TTL: DefaultTTL}}},
			{ID: unit + "/b", Values: []Value{{Index: 2, Type: "TEXT", Data: "x"}, {Index: 1, Type: "TEXT", Data: "y"}}},
			{ID: unit + "/c", Values: []Value{{Index: 1, Type: "TEXT"}, {Type: "TEXT"}}},
		}, `{"nodes":[{"node":"1561301001.85.1","entries":[` +
			`["a",[{"index":1,"type":"TEXT","data":"x","ttl":60},{"index":2,"type":"DATA","dataset":{"uri":"https://d.example/x","sha256":"` + strings.Repeat("ab", 32) + `","size":7,"media_type":"text/csv"},"ttl":0},["TEXT","y"]]],` +
			`["b",[{"index":2,"type":"TEXT","data":"x","ttl":0},{"index":1,"type":"TEXT","data":"y","ttl":0}]],` +
			`["c",[["TEXT",""],{"index":0,"type":"TEXT","ttl":0}]]]}]}`},
		{"admins shared by a group said once", []BatchEntry{
			{ID: unit + "/a", Admins: []string{a, b}},
			{ID: unit + "/b", Admins: []string{a, b}},
			{ID: sector + "/c", Admins: []string{a}},
			{ID: sector + "/d"},
		}, `{"nodes":[{"node":"1561301001.85.1","admins":["` + a + `","` + b + `"],"entries":[["a",[]],["b",[]]]},` +
			`{"node":"1561301001.85","entries":[["c",[],["` + a + `"]],["d",[]]]}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := marshalCompact(RegisterBatch{Entries: tc.entries})
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("wire form\n got %s\nwant %s", got, tc.want)
			}
		})
	}
	t.Run("an identifier with no local id has no wire form", func(t *testing.T) {
		_, err := marshalCompact(RegisterBatch{Entries: []BatchEntry{{ID: unit + "/a"}, {ID: unit}}})
		if err == nil || !strings.Contains(err.Error(), "entry 2 ("+unit+"): a batch registers objects, <node>/<local-id>") {
			t.Fatalf("err %v", err)
		}
	})
}

// TestBatchWireKeepsMeaning: a batch built in Go, sent and validated,
// writes the records its entries meant one by one: the values and admins
// a register of each entry would store.
func TestBatchWireKeepsMeaning(t *testing.T) {
	const unit = "1561301001.85.1"
	signer := pubHex(testKey("signer"))
	a, b := pubHex(testKey("a")), pubHex(testKey("b"))
	ds := &Dataset{URI: "https://d.example/x", SHA256: strings.Repeat("ab", 32), Size: 7, MediaType: "text/csv"}
	entries := []BatchEntry{
		{ID: unit + "/a", Values: []Value{{Type: "URL", Data: "https://a.example/"}, {Type: "TEXT", Data: "x", TTL: 60}, {Type: "DATA", Dataset: ds}}},
		{ID: unit + "/b", Values: []Value{{Index: 9, Type: "TEXT", Data: "x"}, {Index: 1, Type: "GEO", Data: "38.04,114.51", TTL: DefaultTTL}}, Admins: []string{a, b}},
		{ID: "1561301001.85/c", Values: []Value{{Index: 1, Type: "TEXT", Data: "y"}}},
		{ID: unit + "/d", Values: []Value{}, Admins: []string{b}},
	}
	body, err := marshalCompact(RegisterBatch{Entries: entries})
	if err != nil {
		t.Fatal(err)
	}
	var got RegisterBatch
	if err := got.decode(body); err != nil {
		t.Fatal(err)
	}
	if err := got.validate(signer); err != nil {
		t.Fatalf("%s: %s", err.Code, err.Msg)
	}
	// As they travel: the unit's entries first, then the sector's.
	order := []int{0, 1, 3, 2}
	for i, j := range order {
		e := entries[j]
		values, verr := normalizeValues(e.Values)
		admins, aerr := normalizeAdmins(e.Admins, signer)
		if verr != nil || aerr != nil {
			t.Fatal(verr, aerr)
		}
		g := got.Entries[i]
		if g.ID != e.ID || !reflect.DeepEqual(g.Values, values) || !reflect.DeepEqual(g.Admins, admins) {
			t.Errorf("entry %d: got %+v, want %s with values %+v, admins %v", i+1, g, e.ID, values, admins)
		}
		if want := encodeHead(got.ids[i], got.ids[i].String(), "", admins, values); string(got.heads[i]) != string(want) {
			t.Errorf("entry %d: head %s, want %s", i+1, got.heads[i], want)
		}
	}
}

// batchWireSeeds are compact messages, good and bad, for the fuzz target.
var batchWireSeeds = []string{
	`{"nodes":[{"node":"1561301001.85.1","entries":[["m-1",[["URL","https://x.example/"],["TEXT","多福巷"]]],["m-2",[]]]}]}`,
	`{"nodes":[{"entries":[["a",[],["` + strings.Repeat("ab", 32) + `"]]],"admins":[],"node":"1561301001X.85"}]}`,
	`{"nodes":[{"node":"1561301001.85.1","entries":[["a",[{"index":7,"type":"GEO","data":"1,2","ttl":60,"dataset":null}]]]}]}`,
	`{"nodes":[{"node":"1561301001.85.1","entries":[["a",[["TEXT","x","y"]]]]}]}`,
	`{"nodes":[{"node":"1561301001.85.1","entries":[["a"]]},{"node":"1561301001.85.1","entries":[]}]}`,
	`{"nodes":[]}`,
	`{"nodes":null}`,
	`{}`,
	`{"nodes":[{"node":"1561301001.85.1","entries":[["a",[]]]}]} x`,
	`{"nodes":[{"node":"1561301001.85.1","entries":[["a",[],null]]}]}`,
	`{"nodes":[{"node":"1561301001.85.1","entries":[["a",[{"index":-1}]]]}]}`,
	`[1]`,
}

// FuzzDecodeRegisterBatch: the wire decoder never panics; both JSON
// engines read a batch as decodeBodyJSON does; and a batch that decodes
// and validates, written again by MarshalJSON, reads back to the same
// entries, identifiers and records.
func FuzzDecodeRegisterBatch(f *testing.F) {
	for _, s := range batchWireSeeds {
		f.Add([]byte(s))
	}
	signer := pubHex(testKey("signer"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var m RegisterBatch
		in := bytes.Clone(b)
		err := decodeBodyJSON(b, &m)
		if !bytes.Equal(in, b) {
			t.Fatalf("decoding %q changed it to %q", in, b)
		}
		if checkObjectKeys(b) == nil && checkBodyText(b) == nil {
			batchEnginesAgree(t, b, m, err)
		}
		if err != nil {
			return
		}
		if verr := m.validate(signer); verr != nil {
			return
		}
		again, merr := marshalCompact(m)
		if merr != nil {
			t.Fatalf("a valid batch from %q does not encode: %v", b, merr)
		}
		var m2 RegisterBatch
		if err := m2.decode(again); err != nil {
			t.Fatalf("%q, written as %q, does not decode: %v", b, again, err)
		}
		if verr := m2.validate(signer); verr != nil {
			t.Fatalf("%q, written as %q, is refused: %s", b, again, verr.Msg)
		}
		if !reflect.DeepEqual(m.Entries, m2.Entries) || !reflect.DeepEqual(m.ids, m2.ids) || !reflect.DeepEqual(m.heads, m2.heads) {
			t.Fatalf("%q reads %+v; written as %q it reads %+v", b, m.Entries, again, m2.Entries)
		}
	})
}

// batchEnginesAgree: encoding/json's two engines, which call
// RegisterBatch's UnmarshalJSON, give decodeBodyJSON's verdict and value.
// v1 is json.Unmarshal, not decodeKeysChecked: that one takes what
// bytes.TrimSpace trims (\v, \f, U+0085, U+00A0) after a value as no
// trailing data, which a msg, cut out of its body by the JSON grammar,
// never ends with.
func batchEnginesAgree(t *testing.T, b []byte, want RegisterBatch, wantErr error) {
	t.Helper()
	var v1, v2 RegisterBatch
	err1 := json.Unmarshal(b, &v1)
	err2 := jsonv2.Unmarshal(b, &v2, jsonv2.RejectUnknownMembers(true))
	if (err1 == nil) != (wantErr == nil) || (err2 == nil) != (wantErr == nil) {
		t.Fatalf("%q: decodeBodyJSON says %v, v1 %v, v2 %v", b, wantErr, err1, err2)
	}
	if wantErr == nil && (!reflect.DeepEqual(v1, want) || !reflect.DeepEqual(v2, want)) {
		j, _ := json.Marshal(want.Entries)
		j1, _ := json.Marshal(v1.Entries)
		j2, _ := json.Marshal(v2.Entries)
		t.Fatalf("%q: decodeBodyJSON reads %s, v1 %s, v2 %s", b, j, j1, j2)
	}
}

func TestDecodeRegisterBatchSeeds(t *testing.T) {
	for _, s := range batchWireSeeds {
		var m RegisterBatch
		err := decodeBodyJSON([]byte(s), &m)
		batchEnginesAgree(t, []byte(s), m, err)
	}
}
