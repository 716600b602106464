package handle_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cityid/cityid/internal/api"
	"github.com/cityid/cityid/internal/api/handle"
	"github.com/cityid/cityid/internal/apitest"
	"github.com/cityid/cityid/internal/store"
	"github.com/cityid/cityid/internal/wire"
)

// get sends one GET and returns the status, content type and body.
func get(t *testing.T, url string) (int, string, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

// The front end alone, mounted at its Pattern on a plain ServeMux, answers
// every golden request exactly as the HTTP API that mounts it does: the
// API adds nothing to a Handle answer but what it adds to every route.
func TestAloneAnswersAsMounted(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle(handle.Pattern, handle.New(story(t).Backend(), handle.Options{}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	for _, g := range readGoldens(t) {
		status, ct, body := get(t, srv.URL+g.target)
		if status != g.status || ct != "application/json" || !bytes.Equal(body, g.body) {
			t.Errorf("%s: alone %d %s %s; mounted (golden %s) %d %s", g.target, status, ct, body, g.name, g.status, g.body)
		}
	}
}

// Before the first block there is no state to answer from: alone, the
// front end says so in a Handle answer (503, responseCode 2); mounted in
// the API, as the API's 503 problem, as every route that reads state
// does. A handle that does not parse is refused before any read, in both.
func TestNoStateYet(t *testing.T) {
	st, err := store.OpenMemory(store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	b := apitest.Backend{Store: st, ChainID: apitest.ChainID}
	mux := http.NewServeMux()
	mux.Handle(handle.Pattern, handle.New(b, handle.Options{}))
	alone := httptest.NewServer(mux)
	t.Cleanup(alone.Close)
	mounted := httptest.NewServer(apitest.Validated(t, api.New(b, api.Options{})))
	t.Cleanup(mounted.Close)

	status, ct, body := get(t, alone.URL+"/api/handles/1561301001.85.1/school-0042")
	var a handle.HandleAnswer
	if err := json.Unmarshal(body, &a); err != nil || status != http.StatusServiceUnavailable || ct != "application/json" ||
		a.ResponseCode != handle.CodeError || a.Message != "no block committed yet" {
		t.Errorf("alone: %d %s %s, want 503 with responseCode 2", status, ct, body)
	}
	status, ct, body = get(t, mounted.URL+"/api/handles/1561301001.85.1/school-0042")
	var p wire.Problem
	if err := json.Unmarshal(body, &p); err != nil || status != http.StatusServiceUnavailable || ct != "application/problem+json" || p.Code != wire.CodeUnavailable {
		t.Errorf("mounted: %d %s %s, want the API's 503 problem", status, ct, body)
	}
	for _, base := range []string{alone.URL, mounted.URL} {
		status, _, body := get(t, base+"/api/handles/1561301002.85.1/x")
		if err := json.Unmarshal(body, &a); err != nil || status != http.StatusBadRequest || a.ResponseCode != handle.CodeNotResponsible {
			t.Errorf("%s: bad check character before the first block: %d %s, want 400 with responseCode 301 (no node code of ours)", base, status, body)
		}
	}
}

// TestWritesRefused: a Handle client's PUT, DELETE or POST hears, in the
// Handle answer's shape, that handles are not written here, and nothing
// changes.
func TestWritesRefused(t *testing.T) {
	l := story(t)
	srv := httptest.NewServer(apitest.Validated(t, api.New(l.Backend(), api.Options{})))
	t.Cleanup(srv.Close)
	before := l.Store().Latest().Hash()
	for _, method := range []string{http.MethodPut, http.MethodDelete, http.MethodPost} {
		req, err := http.NewRequest(method, srv.URL+"/api/handles/1561301001.85.1/school-0042",
			bytes.NewReader([]byte(`{"values":[{"index":1,"type":"URL","data":{"format":"string","value":"https://evil.example"}}]}`)))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var a handle.HandleAnswer
		err = json.NewDecoder(resp.Body).Decode(&a)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusForbidden || a.ResponseCode != handle.CodeInsufficientPermissions ||
			a.Handle != "1561301001.85.1/school-0042" || a.Message == "" {
			t.Errorf("%s: %d %+v (%v), want 403 with responseCode 401 and why", method, resp.StatusCode, a, err)
		}
	}
	if !bytes.Equal(before, l.Store().Latest().Hash()) {
		t.Error("a refused write changed the state")
	}
}
