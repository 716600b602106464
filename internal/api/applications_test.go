package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/cityid/cityid/internal/api"
	"github.com/cityid/cityid/internal/registry"
)

// A pending application past its last height is shown expired, in the
// list, its filter and its own page; state still says pending.
func TestApplicationShownExpired(t *testing.T) {
	l := newLedger(t)
	o := l.send("bob", registry.KindApplyCity, registry.ApplyCity{Country: "156", CityNumber: "130200", Name: "唐山市"})
	url := l.serve(api.Options{})
	get := func(path string) (int, map[string]any) {
		t.Helper()
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %s", path, b)
		}
		return resp.StatusCode, m
	}
	status := func() string {
		_, m := get("/v1/applications/1")
		return m["application"].(map[string]any)["status"].(string)
	}
	count := func(filter string) int {
		code, m := get("/v1/applications?status=" + filter)
		if code != http.StatusOK {
			t.Fatalf("?status=%s: %d %v", filter, code, m)
		}
		return len(m["applications"].([]any))
	}
	app, _, _ := registry.GetApplication(l.st.Latest(), o.Application)
	for l.height+1 <= app.Expires {
		if got := status(); got != registry.AppPending {
			t.Fatalf("at height %d (last height %d): %s", l.height, app.Expires, got)
		}
		l.commit() // an empty block
	}
	if got := status(); got != registry.AppExpired {
		t.Errorf("after its last height: %s, want expired", got)
	}
	if count("pending") != 0 || count("expired") != 1 {
		t.Errorf("filters: pending %d, expired %d", count("pending"), count("expired"))
	}
	// Its counts are of the votes that would count in the next block.
	if _, m := get("/v1/applications/1"); m["application"].(map[string]any)["count"].(map[string]any)["threshold"] != 1.0 {
		t.Errorf("count %v", m["application"].(map[string]any)["count"])
	}
	if code, _ := get("/v1/applications?status=open"); code != http.StatusBadRequest {
		t.Errorf("?status=open: %d, want 400", code)
	}
}
