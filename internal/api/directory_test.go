package api_test

import (
	"fmt"
	"net/http"
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
