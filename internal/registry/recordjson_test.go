package registry

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/cityid/cityid/code"
)

// headByJSON is what encodeHead wrote before appendRecordHead: the
// reference its bytes must equal.
func headByJSON(t testing.TB, id string, kind code.Kind, name string, admins []string, values []Value) []byte {
	t.Helper()
	b, err := json.Marshal(recordHead{ID: id, Kind: kind, Status: StatusActive, Version: 1, Name: name, Values: values, Admins: admins})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkHead compares appendRecordHead with encoding/json: equal bytes
// when it writes, and a refusal only for content it does not handle.
func checkHead(t testing.TB, id string, kind code.Kind, name string, admins []string, values []Value) (written bool) {
	t.Helper()
	want := headByJSON(t, id, kind, name, admins, values)
	got, ok := appendRecordHead([]byte("prefix"), id, kind, name, admins, values)
	if !ok {
		return false
	}
	if !bytes.Equal(got, append([]byte("prefix"), want...)) {
		t.Fatalf("appendRecordHead wrote\n%s\nencoding/json\n%s", got[len("prefix"):], want)
	}
	return true
}

func TestAppendRecordHead(t *testing.T) {
	admin := "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
	for _, c := range []struct {
		name    string
		id      string
		kind    code.Kind
		rname   string
		admins  []string
		values  []Value
		written bool
	}{
		{"register", "1561301001.85.1/obj-00000001", code.KindObject, "", []string{admin},
			[]Value{{Index: 1, Type: TypeURL, Data: "https://sjz.example.org/s/1", TTL: DefaultTTL}, {Index: 2, Type: TypeText, Data: "School 1", TTL: 60}}, true},
		{"no values, nil", "1561301001.85", code.KindSector, "Education", []string{admin, admin}, nil, true},
		{"no values, empty", "1561301001.85", code.KindSector, "", nil, []Value{}, true},
		{"no admins, empty", "1561301001.85.1", code.KindUnit, "Bureau", []string{}, []Value{{Index: 7, Type: "EMAIL"}}, true},
		{"data empty", "x", code.KindObject, "", nil, []Value{{Type: TypeText}}, true},
		{"html", "x", code.KindObject, "a<b", nil, nil, true},
		{"ampersand", "x", code.KindObject, "", nil, []Value{{Type: TypeURL, Data: "https://e.org/?a=1&b=2"}}, true},
		{"quote", "x", code.KindObject, "say \"hi\"", nil, nil, true},
		{"backslash", "x", code.KindObject, "", []string{`a\b`}, nil, true},
		{"control", "x", code.KindObject, "a\tb", nil, nil, false},
		{"del", "x", code.KindObject, "a\x7fb", nil, nil, false},
		{"unicode", "x", code.KindObject, "多福巷社区居委会", nil, nil, true},
		{"mixed", "1561101001.84.1/c110101001001", code.KindObject, "a\"<多>&\\b", []string{"é"},
			[]Value{{Index: 1, Type: TypeURL, Data: "https://e.org/?q=多&r=<1>", TTL: DefaultTTL}, {Index: 2, Type: TypeText, Data: "𝄞 \"q\""}}, true},
		{"unicode then control", "x", code.KindObject, "多\nb", nil, nil, false},
		{"truncated utf-8", "x", code.KindObject, "多"[:2], nil, nil, false},
		{"line separator", "x", code.KindObject, "a\u2028b", nil, nil, false},
		{"bad utf-8", "x", code.KindObject, "a\xffb", nil, nil, false},
		{"dataset", "x", code.KindObject, "", nil, []Value{{Type: "DATASET", Dataset: &Dataset{URI: "https://e.org/d", SHA256: "00"}}}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := checkHead(t, c.id, c.kind, c.rname, c.admins, c.values); got != c.written {
				t.Errorf("written %v, want %v", got, c.written)
			}
		})
	}
}

// FuzzAppendRecordHead holds appendRecordHead to encoding/json's bytes
// for any strings and numbers.
func FuzzAppendRecordHead(f *testing.F) {
	f.Add("1561301001.85.1/obj-1", "", "d75a98", "URL", "https://e.org/<x>", uint32(1), uint32(86400), false)
	f.Add("1561301001.85.1/a&b", "名字", "", "TEXT", "", uint32(0), uint32(0), true)
	f.Fuzz(func(t *testing.T, id, name, admin, typ, data string, index, ttl uint32, nilLists bool) {
		admins, values := []string{admin, admin + "2"}, []Value{{Index: index, Type: typ, Data: data, TTL: ttl}, {Type: data, Data: typ}}
		if nilLists {
			admins, values = nil, nil
		}
		checkHead(t, id, code.KindObject, name, admins, values)
		checkHead(t, id, code.Kind(name), id, []string{}, []Value{})
	})
}

func TestEncodeStamp(t *testing.T) {
	hash := TxHash([]byte("tx"))
	for _, st := range []Stamp{
		{Height: 1, Time: time.Date(2026, 12, 5, 0, 20, 0, 0, time.UTC), Tx: hash},
		{Height: 1 << 62, Time: time.Date(2026, 12, 5, 0, 20, 0, 123456789, time.UTC), Tx: hash},
		{Height: -3, Time: time.Date(1, 1, 1, 0, 0, 0, 1000, time.UTC), Tx: ""},
		{Height: 7, Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("CST", 8*3600)), Tx: hash},
		{Height: 7, Time: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), Tx: "a<b"},
		{Height: 7, Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Tx: "引号\""},
	} {
		want, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		if got := encodeStamp(st); !bytes.Equal(got, want) {
			t.Errorf("encodeStamp(%+v) = %s, encoding/json %s", st, got, want)
		}
	}
	for _, year := range []int{-1, 10000} {
		st := Stamp{Height: 1, Time: time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC), Tx: hash}
		if _, err := json.Marshal(st); err == nil {
			t.Fatalf("encoding/json encodes year %d", year)
		}
		if got := encodeStamp(st); got != nil {
			t.Errorf("year %d: encodeStamp = %s, want nil as encoding/json fails", year, got)
		}
	}
}
