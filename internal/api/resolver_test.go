package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cityid/cityid/internal/api"
)

// GET /r/{id}, the URL in a QR code: a browser is sent to the record's
// first URL value, following ALIAS values a bounded number of hops, or to
// the record's page when there is no URL; a loop is reported; a program
// that asks for JSON gets the record.
func TestResolverURL(t *testing.T) {
	s := serveStory(t, api.Options{})
	for _, c := range []struct {
		id       string
		status   int
		location string
	}{
		{"1561301001.85.1/school-0042", http.StatusFound, "https://example.org/school-0042"},
		{"1561301001.85.1/SCHOOL-0042", http.StatusFound, "https://example.org/school-0042"},
		{"1561301001.85.1/old-plate", http.StatusFound, "https://example.org/school-0042"}, // one ALIAS hop
		{"1561301001.85.1/no-url", http.StatusSeeOther, "/ids/1561301001.85.1/no-url"},
		{"1561301001.85.1/dangling", http.StatusSeeOther, "/ids/1561301001.85.1/dangling"},
	} {
		r := s.get("/r/"+c.id, "Accept", "text/html")
		if r.status != c.status || r.header.Get("Location") != c.location {
			t.Errorf("%s: %d → %q, want %d → %q", c.id, r.status, r.header.Get("Location"), c.status, c.location)
		}
	}
	// A loop is a page for a browser, problem+json for anyone else; the
	// answer varies with Accept, and says so to caches.
	loop := "1561301001.85.1/loop-a → 1561301001.85.1/loop-b → 1561301001.85.1/loop-a"
	r := s.get("/r/1561301001.85.1/loop-a", "Accept", "text/html")
	if r.status != http.StatusLoopDetected || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") ||
		!strings.Contains(string(r.body), loop) || r.header.Get("Vary") != "Accept" {
		t.Errorf("a loop, for a browser: %d %v %s", r.status, r.header, r.body)
	}
	r = s.get("/r/1561301001.85.1/loop-a")
	if r.status != http.StatusLoopDetected || !strings.Contains(string(r.body), `"code":"alias_loop"`) ||
		!strings.Contains(string(r.body), loop) || r.header.Get("Vary") != "Accept" {
		t.Errorf("a loop, for a program: %d %s", r.status, r.body)
	}
	var a RecordAnswer
	r = s.get("/r/1561301001.85.1/school-0042", "Accept", "application/json")
	if r.status != http.StatusOK || !strings.Contains(string(r.body), `"id":"1561301001.85.1/school-0042"`) {
		t.Errorf("asking for JSON: %d %s", r.status, r.body)
	}
	s.json("/v1/ids/1561301001.85.1/school-0042", http.StatusOK, &a)
	if r2 := s.get("/v1/ids/1561301001.85.1/school-0042"); string(r.body) != string(r2.body) {
		t.Errorf("/r/ as JSON %s differs from /v1/ids/ %s", r.body, r2.body)
	}
	s.problem("/r/1561301001.85.1/nobody", http.StatusNotFound, CodeNotFound, "is not registered")
	s.problem("/r/1561301002.85.1/x", http.StatusBadRequest, "invalid_id", "bad_check_char")
}

// GET /ids/{id}: the record's page, for people, with its values and the
// identifier's other forms, under a policy that runs no inline script.
// (The portal's own tests, in internal/web, go through every page.)
func TestRecordPage(t *testing.T) {
	s := serveStory(t, api.Options{DNSZone: "cityid.example."})
	r := s.get("/ids/1561301001.85.1/no-url")
	page := string(r.body)
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") ||
		!strings.Contains(r.header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("page: %d %v", r.status, r.header)
	}
	for _, want := range []string{"still no URL", "urn:cityid:1561301001.85.1/no-url", "no-url.1.85.1561301001.cityid.example"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page does not show %q", want)
		}
	}
	// A node's page shows its OID, under the arc set at genesis.
	if r := s.get("/ids/1561301001.85.1"); r.status != http.StatusOK || !strings.Contains(string(r.body), "1.3.6.1.4.1.99999.156.130100.85.1") {
		t.Errorf("the unit's page: %d, without its OID", r.status)
	}
	// An identifier not registered is a page that says so, for anyone.
	r = s.get("/ids/1561301001.85.1/nobody")
	if r.status != http.StatusNotFound || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") ||
		!strings.Contains(string(r.body), "1561301001.85.1/nobody") {
		t.Errorf("an unknown identifier's page: %d %v", r.status, r.header)
	}
}
