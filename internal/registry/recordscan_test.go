package registry

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// scanAgrees fails unless fields, scanned from b, hold what DecodeState
// reads from b into a Record.
func scanAgrees(t testing.TB, b []byte, fields *RecordFields) {
	t.Helper()
	var rec Record
	if err := DecodeState(b, &rec); err != nil {
		t.Fatalf("ScanRecord read what DecodeState refuses (%v):\n%s", err, b)
	}
	diff := func(what string, got []byte, want string) {
		t.Helper()
		if string(got) != want {
			t.Fatalf("%s: scanned %q, decoded %q, from\n%s", what, got, want, b)
		}
	}
	diff("id", fields.ID, rec.ID)
	diff("kind", fields.Kind, string(rec.Kind))
	diff("status", fields.Status, rec.Status)
	if fields.Version != rec.Version {
		t.Fatalf("version: scanned %d, decoded %d, from\n%s", fields.Version, rec.Version, b)
	}
	if len(fields.Values) != len(rec.Values) {
		t.Fatalf("scanned %d values, decoded %d, from\n%s", len(fields.Values), len(rec.Values), b)
	}
	for i, v := range rec.Values {
		f := fields.Values[i]
		if f.Index != v.Index || f.TTL != v.TTL {
			t.Fatalf("value %d: scanned index %d ttl %d, decoded %d %d, from\n%s", i, f.Index, f.TTL, v.Index, v.TTL, b)
		}
		diff("type", f.Type, v.Type)
		diff("data", f.Data, v.Data)
		if f.HasDataset != (v.Dataset != nil) {
			t.Fatalf("value %d: scanned dataset %v, decoded %v, from\n%s", i, f.HasDataset, v.Dataset, b)
		}
		if d := v.Dataset; d != nil {
			diff("uri", f.URI, d.URI)
			diff("sha256", f.SHA256, d.SHA256)
			diff("media_type", f.MediaType, d.MediaType)
			if f.Public != d.Public {
				t.Fatalf("value %d: scanned public %v, decoded %v, from\n%s", i, f.Public, d.Public, b)
			}
			if f.Size != d.Size {
				t.Fatalf("value %d: scanned size %d, decoded %d, from\n%s", i, f.Size, d.Size, b)
			}
		}
	}
}

func TestScanRecord(t *testing.T) {
	var fields RecordFields
	for _, name := range []string{"record_object.json", "record_city.json"} {
		pretty, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		// Stored records are compact; one indented with newlines is left
		// to the decoder.
		if ScanRecord(pretty, &fields) {
			t.Fatalf("%s: indented with newlines, scanned", name)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, pretty); err != nil {
			t.Fatal(err)
		}
		b := compact.Bytes()
		if !ScanRecord(b, &fields) {
			t.Fatalf("%s: not scanned", name)
		}
		if name == "record_object.json" && len(fields.Values) == 0 {
			t.Fatalf("%s: no values scanned", name)
		}
		scanAgrees(t, b, &fields)
	}

	// What json.Marshal escapes, read back as the decoder reads it.
	rec := Record{ID: "1561301001.85.1/x", Kind: "object", Status: StatusActive, Version: 12,
		Values: []Value{
			{Index: 1, Type: TypeURL, Data: "https://example.org/?a=1&b=<2>", TTL: 60},
			{Index: 2, Type: "TEXT", Data: "line\nbreak \"quoted\" \\ \u2028 \U0001F600 \x01", TTL: 86400},
			{Index: 3, Type: "DATA", Dataset: &Dataset{URI: "https://example.org/d", SHA256: strings.Repeat("ab", 32), Size: 1 << 40, MediaType: "text/csv"}, TTL: 1},
			{Index: 4, Type: "DATA", Dataset: &Dataset{URI: "https://example.org/p", SHA256: strings.Repeat("cd", 32), Size: 7, MediaType: "text/csv", Public: true}, TTL: 1},
		}}
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`\u0026`)) || !bytes.Contains(b, []byte(`\u2028`)) {
		t.Fatalf("the encoder no longer escapes what this test is about:\n%s", b)
	}
	if !ScanRecord(b, &fields) {
		t.Fatalf("not scanned:\n%s", b)
	}
	scanAgrees(t, b, &fields)
	if got := string(fields.Values[0].Data); got != rec.Values[0].Data {
		t.Fatalf("URL read %q", got)
	}
	if fields.Values[2].Public || !fields.Values[3].Public {
		t.Fatalf("public read %v and %v, want false and true", fields.Values[2].Public, fields.Values[3].Public)
	}

	// What it leaves to the decoder.
	for _, bad := range []string{
		``, `{`, `[]`, `{"id":"a"}x`, `{"id":"a","id":"b"}`, `{"version":-1}`, `{"version":1.5}`,
		`{"version":01}`, `{"version":18446744073709551616}`, `{"values":[{"index":4294967296}]}`,
		`{"id":"\ud800"}`, `{"id":"\ud800\u0041"}`, `{"id":"a` + "\x01" + `"}`, `{"id":"\x"}`,
		"{\"id\":\"\xff\"}", `{"values":[{"dataset":{"size":-1}}]}`, `{"ID":"a"}`, `{"values":[{"TTL":1}]}`,
		`{"id":null}`, `{"x":[[[[[[[[[[1]]]]]]]]]]}`, `{"values":[{"dataset":{"public":1}}]}`,
		`{"values":[{"dataset":{"public":null}}]}`, `{"values":[{"dataset":{"Public":true}}]}`,
		`{"values":[{"dataset":{"public":true,"public":false}}]}`, `{"values":[{"dataset":{"public":truex}}]}`, `{"x":tru}`, `{"x":1.}`, `{"x":-}`, `{"x":1e}`,
	} {
		if ScanRecord([]byte(bad), &fields) {
			t.Errorf("%s: scanned, should be left to the decoder", bad)
		}
	}
	// And what it reads although it is no record the registry writes.
	for _, odd := range []string{`{}`, `{"values":[{"dataset":{"public":false}},{"dataset":{"public":true}}]}`, ` { "values" : null , "x" : [ 1 , -2.5e+3 , true , {"y":"\/"} ] } `} {
		if !ScanRecord([]byte(odd), &fields) {
			t.Errorf("%s: not scanned", odd)
		}
		scanAgrees(t, []byte(odd), &fields)
	}
}

// FuzzScanRecord: every record the registry can store is scanned, and to
// what DecodeState reads; any other bytes both read, they read alike.
// (Bytes the registry never writes, DecodeState may refuse for what the
// scanner does not read, such as a stamp's time: the scanner's caller
// reads only records the registry wrote.)
func FuzzScanRecord(f *testing.F) {
	for _, name := range []string{"record_object.json", "record_city.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"id":"1561301001.85.1/x","kind":"object","status":"active","version":3,"values":[{"index":1,"type":"TEXT","data":"\u003c\u0026\u2028\ud83d\ude00 \\ \"","ttl":1},{"index":2,"type":"DATA","dataset":{"uri":"u","sha256":"s","size":5,"media_type":"m"},"ttl":3},{"index":3,"type":"DATA","dataset":{"uri":"u","sha256":"s","size":5,"media_type":"m","public":true},"ttl":3}],"admins":[],"created":{"height":1,"time":"2026-01-02T03:04:05.000000006Z","tx":""},"updated":{"height":1,"time":"0001-01-01T00:00:00Z","tx":""}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var fields RecordFields
		if ScanRecord(b, &fields) {
			var rec Record
			if DecodeState(b, &rec) == nil {
				scanAgrees(t, b, &fields)
			}
		}
		var rec Record
		if json.Unmarshal(b, &rec) != nil {
			return
		}
		stored, err := json.Marshal(rec)
		if err != nil {
			return
		}
		if !ScanRecord(stored, &fields) {
			t.Fatalf("a record putJSON writes is not scanned:\n%s", stored)
		}
		scanAgrees(t, stored, &fields)
	})
}
