package api_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/cityid/cityid/internal/api"
	"github.com/cityid/cityid/internal/apitest"
	"github.com/cityid/cityid/internal/registry"
)

// A history page after version N starts reading at version N+1: with the
// entries of versions 1–4 spoiled in the store, every page after 4 is
// answered, and any page that starts at or before 4 fails on the spoiled
// bytes (which shows that the spoiling bites, and where the seek lands).
func TestHistorySeeks(t *testing.T) {
	l := apitest.NewLedger(t)
	l.City()
	const id = "1561301001.85.1/meter-7"
	l.Send("alice", registry.KindRegister, registry.Register{ID: id, Values: []registry.Value{{Type: "TEXT", Data: "version 1"}}})
	for v := uint64(1); v < 7; v++ {
		l.Send("alice", registry.KindUpdate, registry.Update{ID: id, Version: v, Values: []registry.Value{{Type: "TEXT", Data: fmt.Sprintf("version %d", v+1)}}})
	}
	// The store keeps versions 1–6 as history entries, the current (7) as
	// the record. Spoil the first four entries.
	var keys [][]byte
	if err := l.Store().Latest().Iterate(registry.HistoryPrefix(id), nil, func(k, _ []byte) bool {
		keys = append(keys, append([]byte(nil), k...))
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 6 {
		t.Fatalf("%d history entries, want 6", len(keys))
	}
	for _, k := range keys[:4] {
		if err := l.Store().Set(k, []byte("spoiled: not a record")); err != nil {
			t.Fatal(err)
		}
	}
	l.Commit()
	s := serveLedger(t, l, api.Options{})

	page := func(query string) (int, History) {
		t.Helper()
		r := s.get("/v1/ids/" + id + "/history" + query)
		var h History
		if r.status == 200 {
			if err := json.Unmarshal(r.body, &h); err != nil {
				t.Fatalf("%s: %v", query, err)
			}
		}
		return r.status, h
	}
	versions := func(h History) []uint64 {
		var vs []uint64
		for _, e := range h.Versions {
			vs = append(vs, e.Version)
			if want := fmt.Sprintf("version %d", e.Version); len(e.Record.Values) != 1 || e.Record.Values[0].Data != want {
				t.Errorf("version %d holds %+v, want %q", e.Version, e.Record.Values, want)
			}
		}
		return vs
	}
	for _, c := range []struct {
		query string
		want  []uint64
		next  string
	}{
		{"?after=4", []uint64{5, 6, 7}, ""},
		{"?after=4&limit=1", []uint64{5}, "5"},
		{"?after=5&limit=1", []uint64{6}, "6"},
		{"?after=6&limit=1", []uint64{7}, ""},
		{"?after=6", []uint64{7}, ""},
		{"?after=7", nil, ""},
		{"?after=18446744073709551615", nil, ""}, // after+1 must not wrap to version 1
	} {
		status, h := page(c.query)
		if got := versions(h); status != 200 || fmt.Sprint(got) != fmt.Sprint(c.want) || h.Next != c.next {
			t.Errorf("%s: %d, versions %v next %q; want 200, %v next %q", c.query, status, got, h.Next, c.want, c.next)
		}
	}
	for _, q := range []string{"", "?after=0", "?after=3"} {
		if status, _ := page(q); status != 500 {
			t.Errorf("%q: %d, want 500 from reading a spoiled entry", q, status)
		}
	}
}
