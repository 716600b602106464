package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cityid/cityid/internal/api"
	"github.com/cityid/cityid/internal/apitest"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/wire"
)

// The API's answer types and codes these tests read (package wire), named
// once here so the feature tests read as the API's own words.
type (
	Account           = wire.Account
	ApplicationAnswer = wire.ApplicationAnswer
	ApplicationList   = wire.ApplicationList
	Children          = wire.Children
	CityList          = wire.CityList
	GrantList         = wire.GrantList
	Health            = wire.Health
	History           = wire.History
	Problem           = wire.Problem
	RecordAnswer      = wire.RecordAnswer
	StatusAnswer      = wire.StatusAnswer
)

const (
	CodeBadRequest  = wire.CodeBadRequest
	CodeNotFound    = wire.CodeNotFound
	CodeUnavailable = wire.CodeUnavailable
)

// served is the API over a store-backed backend (apitest), with no node:
// the state is built by the state machine with fixed keys and block times,
// so answers are the same on every run, and each feature's test file
// drives the real handler through httptest. The one end-to-end test
// through a real node is endtoend_test.go's.
type served struct {
	t   *testing.T
	l   *apitest.Ledger
	url string
	// Heights at which the story's steps were committed.
	noURLv1, noURLv2 int64
}

// Grant expiry in the story: after every block of it.
var storyGrantExpires = apitest.GenesisTime.Add(30 * 24 * time.Hour)

// serveStory commits the story and serves it with opts: Shijiazhuang
// (alice) with sectors 85 and 86 and unit 1561301001.85.1; under the unit
// school-0042 (URL, EMAIL, TEXT, ALIAS), no-url (TEXT, updated once),
// exam-2026 (DATA, granted to 1561301001.85), old-plate (ALIAS to
// school-0042), loop-a and loop-b (ALIASes to each other), dangling (ALIAS
// to nothing); and bob's application for Tangshan, pending.
func serveStory(t *testing.T, opts api.Options) *served {
	t.Helper()
	l := apitest.NewLedger(t)
	s := &served{t: t, l: l}
	l.City()
	l.Send("alice", registry.KindRegisterSector, registry.RegisterSector{ID: "1561301001.86"})
	reg := func(id string, values ...registry.Value) {
		t.Helper()
		l.Send("alice", registry.KindRegister, registry.Register{ID: id, Values: values})
	}
	reg("1561301001.85.1/school-0042",
		registry.Value{Type: "URL", Data: "https://example.org/school-0042"}, registry.Value{Type: "EMAIL", Data: "office@school42.example.org"},
		registry.Value{Type: "TEXT", Data: "No. 42 Primary School"}, registry.Value{Type: "ALIAS", Data: "1561301001.85.1/NO42"})
	reg("1561301001.85.1/no-url", registry.Value{Type: "TEXT", Data: "no URL here"})
	s.noURLv1 = l.Height()
	l.Send("alice", registry.KindUpdate, registry.Update{ID: "1561301001.85.1/no-url", Version: 1, Values: []registry.Value{{Type: "TEXT", Data: "still no URL"}}})
	s.noURLv2 = l.Height()
	reg("1561301001.85.1/exam-2026", registry.Value{Type: "DATA", Dataset: &registry.Dataset{
		URI: "https://data.example.org/exam-2026.csv", SHA256: strings.Repeat("ab", 32), Size: 4096, MediaType: "text/csv"}})
	l.Send("alice", registry.KindGrantAccess, registry.GrantAccess{Dataset: "1561301001.85.1/exam-2026", Grantee: "1561301001.85", Expires: storyGrantExpires})
	reg("1561301001.85.1/old-plate", registry.Value{Type: "ALIAS", Data: "1561301001.85.1/school-0042"})
	reg("1561301001.85.1/loop-a", registry.Value{Type: "ALIAS", Data: "1561301001.85.1/loop-b"})
	reg("1561301001.85.1/loop-b", registry.Value{Type: "ALIAS", Data: "1561301001.85.1/loop-a"})
	reg("1561301001.85.1/dangling", registry.Value{Type: "ALIAS", Data: "1561301001.85.1/gone"})
	l.Send("bob", registry.KindApplyCity, registry.ApplyCity{Country: "156", CityNumber: "130200", Name: "唐山市"})
	s.url = l.Serve(opts)
	return s
}

// serveLedger serves a ledger a test built itself (state the story does
// not hold, or that it spoils) with opts.
func serveLedger(t *testing.T, l *apitest.Ledger, opts api.Options) *served {
	t.Helper()
	return &served{t: t, l: l, url: l.Serve(opts)}
}

// reply is one answer: status, headers and body.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// get sends GET path (with header name, value pairs) and does not follow
// redirects.
func (s *served) get(path string, header ...string) reply {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.url+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// json gets path, which must answer want with JSON, into v, which it
// zeroes first: a member the answer omits is not left from a former one.
func (s *served) json(path string, want int, v any) {
	s.t.Helper()
	reflect.ValueOf(v).Elem().SetZero()
	r := s.get(path)
	if r.status != want {
		s.t.Fatalf("%s: %d %s, want %d", path, r.status, r.body, want)
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		s.t.Fatalf("%s: %v: %s", path, err, r.body)
	}
}

// problem gets path, which must answer a problem+json of status and code
// whose detail holds detail.
func (s *served) problem(path string, status int, code, detail string) Problem {
	s.t.Helper()
	r := s.get(path)
	var p Problem
	if r.status != status || r.header.Get("Content-Type") != "application/problem+json" || json.Unmarshal(r.body, &p) != nil ||
		p.Status != status || p.Code != code || !strings.Contains(p.Detail, detail) {
		s.t.Errorf("%s: %d %s %s, want a %d problem %s saying %q", path, r.status, r.header.Get("Content-Type"), r.body, status, code, detail)
	}
	return p
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
