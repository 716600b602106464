package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/cityid/cityid/internal/api"
	"github.com/cityid/cityid/internal/apitest"
	"github.com/cityid/cityid/internal/registry"
)

// GET /v1/cities, /v1/applications and /v1/applications/{n}: the
// directory and the applications behind it, in pages.
func TestDirectory(t *testing.T) {
	s := serveStory(t, api.Options{})
	var cities CityList
	s.json("/v1/cities", http.StatusOK, &cities)
	if cities.Height != s.l.Height() || fmt.Sprint(cities.Cities) != "[{1561301001 石家庄市}]" || cities.Next != "" {
		t.Errorf("cities: %+v", cities)
	}
	// A page exactly as long as what is left has no next page.
	s.json("/v1/cities?limit=1", http.StatusOK, &cities)
	if fmt.Sprint(cities.Cities) != "[{1561301001 石家庄市}]" || cities.Next != "" {
		t.Errorf("the one city in a page of one: %+v, want no next", cities)
	}
	s.json("/v1/cities?after=1561301001", http.StatusOK, &cities)
	if len(cities.Cities) != 0 || cities.Next != "" {
		t.Errorf("after the only city: %+v", cities)
	}

	var apps ApplicationList
	s.json("/v1/applications", http.StatusOK, &apps)
	if len(apps.Applications) != 2 || apps.Applications[0].ID != 1 || apps.Applications[0].Status != registry.AppApproved ||
		apps.Applications[1].ID != 2 || apps.Applications[1].Status != registry.AppPending {
		t.Errorf("applications: %+v", apps)
	}
	s.json("/v1/applications?limit=1", http.StatusOK, &apps)
	if len(apps.Applications) != 1 || apps.Next != "1" {
		t.Errorf("a page of one: %+v", apps)
	}
	s.json("/v1/applications?status=pending", http.StatusOK, &apps)
	if len(apps.Applications) != 1 || apps.Applications[0].ID != 2 {
		t.Errorf("pending: %+v", apps)
	}
	var one ApplicationAnswer
	s.json("/v1/applications/1", http.StatusOK, &one)
	if one.Application.ID != 1 || one.Application.CityCode != "1561301001" || one.Application.Applicant != apitest.PubKey("alice") {
		t.Errorf("application 1: %+v", one)
	}
	s.problem("/v1/applications/3", http.StatusNotFound, CodeNotFound, "application 3 does not exist")
	s.problem("/v1/applications/0", http.StatusBadRequest, CodeBadRequest, "is not a positive number")
	s.problem("/v1/applications?status=lost", http.StatusBadRequest, CodeBadRequest, "lost")
}

// GET /v1/grants: a dataset's grants, or a grantee's, with the expiry the
// grant carries.
func TestGrants(t *testing.T) {
	s := serveStory(t, api.Options{})
	for _, q := range []string{"dataset=1561301001.85.1/exam-2026", "grantee=1561301001.85"} {
		var g GrantList
		s.json("/v1/grants?"+q, http.StatusOK, &g)
		if g.Height != s.l.Height() || len(g.Grants) != 1 || g.Grants[0].Dataset != "1561301001.85.1/exam-2026" ||
			g.Grants[0].Grantee != "1561301001.85" || !g.Grants[0].Expires.Equal(storyGrantExpires) {
			t.Errorf("%s: %+v", q, g)
		}
	}
	var g GrantList
	s.json("/v1/grants?grantee=1561301001.86", http.StatusOK, &g)
	if g.Grants == nil || len(g.Grants) != 0 {
		t.Errorf("a grantee with no grant: %+v, want an empty list", g)
	}
	s.problem("/v1/grants", http.StatusBadRequest, CodeBadRequest, "")
}

// A cursor past the last application number answers an empty page: it
// never wraps around to the first page.
func TestApplicationsCursorNeverWraps(t *testing.T) {
	s := serveStory(t, api.Options{})
	for _, c := range []struct {
		after string
		ids   string // the story has applications 1 and 2
	}{
		{"0", "[1 2]"},
		{"1", "[2]"},
		{"18446744073709551614", "[]"},
		{"18446744073709551615", "[]"}, // 2^64-1: n+1 would be 0
	} {
		var page ApplicationList
		s.json("/v1/applications?after="+c.after, http.StatusOK, &page)
		ids := []uint64{}
		for _, a := range page.Applications {
			ids = append(ids, a.ID)
		}
		if fmt.Sprint(ids) != c.ids || page.Next != "" {
			t.Errorf("after=%s: applications %v next %q, want %s and no next", c.after, ids, page.Next, c.ids)
		}
	}
	for _, after := range []string{"18446744073709551616", "-1"} { // not a uint64
		s.problem("/v1/applications?after="+after, http.StatusBadRequest, CodeBadRequest, "is not an application number")
	}
}

// Grants are listed by the canonical form of the identifier asked for: a
// case variant finds the same grants, and an identifier that does not
// parse is a 400 that says why.
func TestGrantsCanonicalised(t *testing.T) {
	s := serveStory(t, api.Options{})
	for _, q := range []string{"dataset=1561301001.85.1/exam-2026", "dataset=1561301001.85.1/EXAM-2026", "dataset=1561301001.85.1/Exam-2026", "grantee=1561301001.85"} {
		var page GrantList
		s.json("/v1/grants?"+q, http.StatusOK, &page)
		if len(page.Grants) != 1 || page.Grants[0].Dataset != "1561301001.85.1/exam-2026" || page.Grants[0].Grantee != "1561301001.85" {
			t.Errorf("%s: %+v, want the one grant of 1561301001.85.1/exam-2026 to 1561301001.85", q, page)
		}
	}
	// The cursor is canonicalised too: past the only grantee, nothing.
	if r := s.get("/v1/grants?dataset=1561301001.85.1/EXAM-2026&after=1561301001.85"); r.status != http.StatusOK || !strings.Contains(string(r.body), `"grants":[]`) {
		t.Errorf("after the last grantee: %d %s, want an empty page", r.status, r.body)
	}
	for _, c := range []struct{ q, code, detail string }{
		{"dataset=1561301001.85.1/exam!", "invalid_id", "bad_char"},
		{"dataset=1561301002.85.1/exam-2026", "invalid_id", "bad_check_char"},
		{"grantee=1561301002.85", "invalid_id", "bad_check_char"},
		{"grantee=1561301001.85.1/exam-2026", "invalid", "is an object"},
		{"dataset=1561301001.85.1/exam-2026&after=1561301001.00", "invalid_id", "1561301001.00"},
	} {
		s.problem("/v1/grants?"+c.q, http.StatusBadRequest, c.code, c.detail)
	}
}
