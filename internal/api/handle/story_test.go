package handle_test

import (
	"strings"
	"testing"

	"github.com/cityid/cityid/internal/api"
	"github.com/cityid/cityid/internal/apitest"
	"github.com/cityid/cityid/internal/registry"
)

// story is the state the tests of this package read, built by the state
// machine with fixed keys and block times, so every answer is the same on
// every run: Shijiazhuang (administered by alice) with its education
// sector and bureau, the bureau given a URL; a school with a value of
// every type and two admins (alice and bob); an identifier that moved
// (an ALIAS to the school); and one that was deactivated.
func story(t testing.TB) *apitest.Ledger {
	t.Helper()
	l := apitest.NewLedger(t)
	l.City()
	l.Send("alice", registry.KindUpdate, registry.Update{ID: "1561301001.85.1", Version: 1, Values: []registry.Value{
		{Index: 1, Type: "URL", Data: "https://edu.sjz.example/"},
	}})
	l.Send("alice", registry.KindRegister, registry.Register{ID: "1561301001.85.1/school-0042",
		Admins: []string{apitest.PubKey("alice"), apitest.PubKey("bob")}, Values: []registry.Value{
			{Index: 1, Type: "URL", Data: "https://example.org/school-0042", TTL: 300},
			{Index: 2, Type: "TEXT", Data: `No. 42 "Primary" School <&>`},
			{Index: 3, Type: "EMAIL", Data: "office@school-0042.example"},
			{Index: 4, Type: "GEO", Data: "38.04,114.51"},
			{Index: 5, Type: "ALIAS", Data: "1561301001.85.1"},
			{Index: 6, Type: "DATA", Dataset: &registry.Dataset{URI: "https://d.example/a.csv", SHA256: strings.Repeat("ab", 32), Size: 10, MediaType: "text/csv"}},
			{Index: 7, Type: "ns:tag", Data: "x"},
			{Index: 10320, Type: "hdl:10320.loc", Data: "<locations/>"},
		}})
	l.Send("alice", registry.KindRegister, registry.Register{ID: "1561301001.85.1/old-plate", Values: []registry.Value{
		{Type: "ALIAS", Data: "1561301001.85.1/SCHOOL-0042"},
	}})
	l.Send("alice", registry.KindRegister, registry.Register{ID: "1561301001.85.1/closed", Values: []registry.Value{
		{Type: "TEXT", Data: "a school that closed"},
	}})
	l.Send("alice", registry.KindDeactivate, registry.SetStatus{ID: "1561301001.85.1/closed", Reason: "merged into school-0042"})
	return l
}

// serve is the story served by the HTTP API, which mounts the front end
// as a node does, on a loopback port.
func serve(t testing.TB) string {
	t.Helper()
	return story(t).Serve(api.Options{})
}
