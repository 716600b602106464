package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cityid/cityid/internal/api"
	"github.com/cityid/cityid/internal/buildinfo"
	"github.com/cityid/cityid/internal/metrics"
)

// /metrics counts each answer under the interface its path belongs to
// (HTTP/JSON, Handle REST, the resolver, the rest of the API) and its
// status, and reports the state's height.
func TestRequestMetrics(t *testing.T) {
	var s *served
	m := metrics.New(func() float64 { return float64(s.l.Height()) }, func() float64 { return 0 })
	s = serveStory(t, api.Options{Metrics: m})
	for _, path := range []string{
		"/api/handles/1561301001.85.1/nobody", "/api/handles/1561301001.85.1/nobody", "/api/handles/1561301001.85.1/school-0042",
		"/v1/ids/1561301001.85.1/school-0042", "/v1/ids/1561301001.85.1/x!", "/r/1561301001.85.1/no-url", "/v1/cities",
	} {
		s.get(path, "Accept", "text/html")
	}
	body := string(s.get("/metrics").body)
	for _, want := range []string{
		`cityid_requests_total{interface="handle",status="404"} 2`,
		`cityid_requests_total{interface="handle",status="200"} 1`,
		`cityid_requests_total{interface="http",status="200"} 1`,
		`cityid_requests_total{interface="http",status="400"} 1`,
		`cityid_requests_total{interface="resolver",status="303"} 1`,
		`cityid_requests_total{interface="api",status="200"} 1`,
		`cityid_height ` + itoa64(s.l.Height()),
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("/metrics has no line %q", want)
		}
	}
	if r := s.get("/metrics"); r.status != http.StatusOK {
		t.Errorf("/metrics: %d", r.status)
	}
	// The binary says what it is, in the metrics as in /v1/status.
	b := buildinfo.Get()
	info := `cityid_build_info{cometbft="` + b.CometBFT + `",commit="` + b.Commit + `",go="` + b.Go + `",iavl="` + b.IAVL + `",protocol="` + b.Protocol + `",version="` + b.Version + `"} 1`
	if !strings.Contains(body, info+"\n") {
		t.Errorf("/metrics has no line %q", info)
	}
	var st StatusAnswer
	s.json("/v1/status", http.StatusOK, &st)
	if st.Build != b || st.Build.Version == "" {
		t.Errorf("/v1/status build %+v, want %+v", st.Build, b)
	}
}
