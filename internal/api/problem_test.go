package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cityid/cityid/internal/api"
	"github.com/cityid/cityid/internal/apitest"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/wire"
)

// TestProblemCarriesParseReason: an identifier that does not parse is
// answered 400 invalid_id with the grammar's reason and position as
// fields, on every route that takes one, so a program need not read them
// out of the prose.
func TestProblemCarriesParseReason(t *testing.T) {
	srv := httptest.NewServer(apitest.Validated(t, api.New(apitest.NewEmptyBackend(t), api.Options{Limits: &api.Limits{}})))
	defer srv.Close()
	for _, tc := range []struct {
		path, reason string
		position     int
	}{
		{"/v1/ids/1561301002", "bad_check_char", 10},
		{"/v1/ids/1561301001.85.03/history", "leading_zero", 15},
		{"/v1/ids/1561301001.85/a%20b", "bad_char", 16},
		{"/r/1561301001.85.3x", "bad_char", 16},
		{"/v1/grants?dataset=9991301001", "unknown_country", 1},
		{"/v1/ids/1561301001.00", "unknown_sector", 12},
	} {
		resp, err := http.Get(srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		var p wire.Problem
		err = json.NewDecoder(resp.Body).Decode(&p)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		if resp.StatusCode != http.StatusBadRequest || p.Code != registry.CodeInvalidID || p.Reason != tc.reason || p.Position != tc.position {
			t.Errorf("%s: %d %+v, want 400 invalid_id reason %s position %d", tc.path, resp.StatusCode, p, tc.reason, tc.position)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
			t.Errorf("%s: Content-Type %q", tc.path, ct)
		}
	}
}

// TestProblemWithoutParseReason: a problem no parse error caused carries
// neither field.
func TestProblemWithoutParseReason(t *testing.T) {
	srv := httptest.NewServer(apitest.Validated(t, api.New(apitest.NewEmptyBackend(t), api.Options{Limits: &api.Limits{}})))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/v1/ids/1561301001.85.3")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || raw["code"] != wire.CodeUnavailable {
		t.Fatalf("%d %v, want 503 unavailable", resp.StatusCode, raw)
	}
	for _, f := range []string{"reason", "position"} {
		if _, ok := raw[f]; ok {
			t.Errorf("%q in %v", f, raw)
		}
	}
}
