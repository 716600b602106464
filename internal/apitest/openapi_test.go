package apitest

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cityid/cityid/internal/api"
)

// TestDocumentChecksAnswers: the checker finds the operation of a path
// whose identifier holds a '/', takes an answer the document describes and
// refuses one it does not (a body of the wrong shape, a status it does not
// list).
func TestDocumentChecksAnswers(t *testing.T) {
	d, err := LoadDocument(api.New(nil, api.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/v1/ids/1561301001.85.1/school-0042":         "/v1/ids/{id}",
		"/v1/ids/1561301001.85.1/school-0042/history": "/v1/ids/{id}/history",
		"/v1/data/1561301001.85.1/flow":               "/v1/data/{id}",
		"/api/handles/1561301001.85.1/school-0042":    "/api/handles/{prefix}/{suffix}",
		"/v1/blocks/12": "/v1/blocks/{h}",
	} {
		route, _ := d.Route(httptest.NewRequest(http.MethodGet, path, nil))
		if route == nil || route.Path != want {
			t.Errorf("%s: route %v, want %s", path, route, want)
		}
	}
	json := http.Header{"Content-Type": {"application/json"}}
	problem := http.Header{"Content-Type": {"application/problem+json"}}
	r := httptest.NewRequest(http.MethodGet, "/v1/accounts/"+PubKey("alice"), nil)
	good := []byte(`{"height":3,"key":"` + PubKey("alice") + `","nonce":1,"next_nonce":2,"pending":0}`)
	if ok, err := d.CheckResponse(r, http.StatusOK, json, good); !ok || err != nil {
		t.Errorf("a documented account answer: %v %v", ok, err)
	}
	for name, c := range map[string]struct {
		status int
		header http.Header
		body   string
	}{
		"a field of the wrong type": {200, json, `{"height":"three","key":"x","nonce":1,"next_nonce":2}`},
		"an unknown field":          {200, json, `{"height":3,"key":"x","nonce":1,"next_nonce":2,"pending":0,"secret":1}`},
		"a status not listed":       {418, problem, `{"type":"about:blank","title":"x","status":418,"detail":"x","code":"x"}`},
	} {
		if _, err := d.CheckResponse(r, c.status, c.header, []byte(c.body)); err == nil {
			t.Errorf("%s: taken", name)
		}
	}
	if ok, _ := d.CheckResponse(httptest.NewRequest(http.MethodGet, "/no/such/route", nil), 404, problem, nil); ok {
		t.Error("a path that is no route was checked against an operation")
	}
}
