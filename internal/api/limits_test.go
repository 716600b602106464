package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cityid/cityid/internal/api"
	"github.com/cityid/cityid/internal/apitest"
	"github.com/cityid/cityid/internal/metrics"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/wire"
)

// limited is a ledger with a city and an identifier of two versions,
// served with small limits: bursts of 2 writes and 3 costly reads, then
// one every 2 seconds (slow, so that a busy machine cannot refill a bucket
// while a test walks through its cases).
func limited(t *testing.T, trusted ...netip.Prefix) string {
	t.Helper()
	l := apitest.NewLedger(t)
	l.City()
	l.Send("alice", registry.KindRegister, registry.Register{ID: "1561301001.85.1/meter-1", Values: []registry.Value{{Type: "TEXT", Data: "one"}}})
	l.Send("alice", registry.KindUpdate, registry.Update{ID: "1561301001.85.1/meter-1", Version: 1, Values: []registry.Value{{Type: "TEXT", Data: "two"}}})
	m := metrics.New(func() float64 { return float64(l.Height()) }, func() float64 { return 0 })
	return l.Serve(api.Options{Metrics: m, Limits: &api.Limits{
		Writes:         api.Rate{PerSecond: 0.5, Burst: 2},
		CostlyReads:    api.Rate{PerSecond: 0.5, Burst: 3},
		TrustedProxies: trusted,
	}})
}

// clientFrom is an HTTP client whose connections come from the loopback
// address src (all of 127.0.0.0/8 reaches the server on Linux).
func clientFrom(src string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}

type answer struct {
	status     int
	retryAfter string
	problem    wire.Problem
	body       string
}

func do(t *testing.T, c *http.Client, method, url string, header ...string) answer {
	t.Helper()
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(`{"not":"an envelope"}`)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), body: string(b)}
	if resp.StatusCode == http.StatusTooManyRequests {
		if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
			t.Errorf("%s %s: 429 as %q, want application/problem+json", method, url, ct)
		}
		if err := json.Unmarshal(b, &a.problem); err != nil {
			t.Errorf("%s %s: 429 body %s: %v", method, url, b, err)
		}
	}
	return a
}

// exhaust sends requests until one is refused, and returns the refusal;
// it fails the test unless exactly burst of them passed.
func exhaust(t *testing.T, c *http.Client, method, url string, burst int) answer {
	t.Helper()
	for i := 0; ; i++ {
		a := do(t, c, method, url)
		if a.status != http.StatusTooManyRequests {
			if i == burst {
				t.Fatalf("%s %s: request %d answered %d, want 429 after a burst of %d", method, url, i+1, a.status, burst)
			}
			continue
		}
		if i != burst {
			t.Fatalf("%s %s: 429 at request %d, want it after a burst of %d", method, url, i+1, burst)
		}
		if a.problem.Code != wire.CodeRateLimited || a.problem.Status != 429 || a.retryAfter == "" {
			t.Fatalf("%s %s: refusal %+v Retry-After %q, want code rate_limited and a Retry-After", method, url, a.problem, a.retryAfter)
		}
		return a
	}
}

// waitRetryAfter sleeps as long as a refusal said.
func waitRetryAfter(t *testing.T, a answer) {
	t.Helper()
	secs, err := strconv.Atoi(a.retryAfter)
	if err != nil || secs < 1 || secs > 5 {
		t.Fatalf("Retry-After %q, want a few whole seconds", a.retryAfter)
	}
	time.Sleep(time.Duration(secs) * time.Second)
}

// Costly reads past the burst are refused with 429 and a Retry-After that
// is honest; cheap reads go on; another client is not affected. It waits
// out a Retry-After, so it runs beside the other slow tests (each has its
// own server, so their buckets are apart).
func TestRateLimitCostlyReads(t *testing.T) {
	t.Parallel()
	base := limited(t)
	id := base + "/v1/ids/1561301001.85.1/meter-1"
	a, b := clientFrom("127.0.0.1"), clientFrom("127.0.0.2")

	refused := exhaust(t, a, "GET", id+"/history", 3)
	if !strings.Contains(refused.problem.Detail, "at most 0.5 a second, in bursts of 3; retry after 2 s") {
		t.Errorf("refusal detail %q does not say the limit", refused.problem.Detail)
	}
	// Every costly read draws from the same bucket; every other request
	// is not limited.
	for _, c := range []struct {
		path    string
		limited bool
	}{
		{"/v1/ids/1561301001.85.1/meter-1?proof=true", true},
		{"/v1/ids/1561301001.85.1/meter-1?proof=1", true},
		{"/v1/ids/1561301001.85.1/meter-1?height=7", true},
		{"/v1/ids/1561301001.85.1/meter-1/history?after=1", true},
		{"/v1/ids/1561301001.85/children", true},
		{"/v1/ids/1561301001.85.1/meter-1/qr.png?size=1024", true},
		{"/v1/ids/1561301001.85.1/meter-1/qr.svg?size=2048", true},
		{"/v1/blocks/2", true},
		{"/v1/applications?status=pending", true},
		{"/r/1561301001.85.1/meter-1?proof=true", true},
		{"/v1/anchors/1561301001.85.1/meter-1?proof=true", true},
		{"/v1/anchors/1561301001.85.1/meter-1?height=7", true},
		{"/ids/1561301001.85.1/meter-1", true},
		{"/dir", true},
		{"/dir/1561301001.85", true},
		{"/explorer", true},
		{"/blocks/2", true},
		{"/labels?under=1561301001.85.1", true},
		{"/trust", true},
		{"/v1/trust", true},
		{"/v1/trust/qr.svg", true},
		{"/", false},
		{"/keys", false},
		{"/desk", false},
		{"/static/portal.css", false},
		{"/v1/applications", false},
		{"/v1/ids/1561301001.85.1/meter-1", false},
		{"/v1/ids/1561301001.85.1/meter-1?proof=false", false},
		{"/v1/anchors/1561301001.85.1/meter-1", false},
		{"/v1/ids/1561301001.85.1/meter-1/qr.png", false},
		{"/v1/ids/1561301001.85.1/meter-1/qr.png?size=256", false},
		{"/api/handles/1561301001.85.1/meter-1", false},
		{"/v1/cities", false},
		{"/v1/status", false},
		{"/healthz", false},
	} {
		got := do(t, a, "GET", base+c.path)
		if (got.status == http.StatusTooManyRequests) != c.limited {
			t.Errorf("%s after the burst: %d, want limited %v", c.path, got.status, c.limited)
		}
	}
	// Another address has its own bucket.
	if got := do(t, b, "GET", id+"/history"); got.status != 200 {
		t.Errorf("another client's history: %d %s, want 200", got.status, got.body)
	}
	// X-Forwarded-For from an untrusted peer changes nothing.
	if got := do(t, a, "GET", id+"/history", "X-Forwarded-For", "203.0.113.9"); got.status != http.StatusTooManyRequests {
		t.Errorf("with a made-up X-Forwarded-For: %d, want 429 (no trusted proxy is configured)", got.status)
	}
	// After the wait it asks for, the client is served again.
	waitRetryAfter(t, refused)
	if got := do(t, a, "GET", id+"/history"); got.status != 200 {
		t.Errorf("after Retry-After: %d %s, want 200", got.status, got.body)
	}
	// Every refusal was counted.
	m := do(t, a, "GET", base+"/metrics")
	if !strings.Contains(m.body, `cityid_http_rate_limited_total{class="read"} `) || metricValue(m.body, `cityid_http_rate_limited_total{class="write"}`) != 0 {
		t.Errorf("metrics do not count the refused reads by class:\n%s", grep(m.body, "rate_limited"))
	}
	if n := metricValue(m.body, `cityid_http_rate_limited_total{class="read"}`); n < 10 {
		t.Errorf("refused reads counted %v, want at least 10", n)
	}
}

// Writes past the burst are refused before their body is read. It waits
// out a Retry-After, so it runs beside the other slow tests.
func TestRateLimitWrites(t *testing.T) {
	t.Parallel()
	base := limited(t)
	a, b := clientFrom("127.0.0.1"), clientFrom("127.0.0.3")
	refused := exhaust(t, a, "POST", base+"/v1/txs", 2)
	if !strings.Contains(refused.problem.Detail, "too many writes") {
		t.Errorf("refusal detail %q", refused.problem.Detail)
	}
	// Reads, even costly ones, are a bucket of their own.
	if got := do(t, a, "GET", base+"/v1/ids/1561301001.85.1/meter-1?proof=true"); got.status != 200 {
		t.Errorf("a proof after the writes: %d, want 200", got.status)
	}
	if got := do(t, b, "POST", base+"/v1/txs"); got.status != http.StatusBadRequest {
		t.Errorf("another client's write: %d %s, want the envelope's 400", got.status, got.body)
	}
	waitRetryAfter(t, refused)
	if got := do(t, a, "POST", base+"/v1/txs"); got.status != http.StatusBadRequest {
		t.Errorf("after Retry-After: %d %s, want the envelope's 400", got.status, got.body)
	}
	if n := metricValue(do(t, a, "GET", base+"/metrics").body, `cityid_http_rate_limited_total{class="write"}`); n != 1 {
		t.Errorf("refused writes counted %v, want 1", n)
	}
}

// Behind a trusted proxy the client is the address the proxy names, and
// an IPv6 client is its /64.
func TestRateLimitTrustedProxy(t *testing.T) {
	base := limited(t, netip.MustParsePrefix("127.0.0.1/32"))
	proxy, other := clientFrom("127.0.0.1"), clientFrom("127.0.0.4")
	url := base + "/v1/ids/1561301001.85/children"
	for i := range 3 {
		if got := do(t, proxy, "GET", url, "X-Forwarded-For", "198.51.100.7, 127.0.0.1"); got.status != 200 {
			t.Fatalf("request %d for 198.51.100.7: %d", i+1, got.status)
		}
	}
	for _, c := range []struct {
		c    *http.Client
		xff  string
		want int
	}{
		{proxy, "198.51.100.7", 429},                  // the same client
		{proxy, "203.0.113.1, 198.51.100.7", 429},     // the last untrusted hop is the client
		{proxy, "198.51.100.8", 200},                  // another client behind the proxy
		{other, "198.51.100.8, 198.51.100.7", 200},    // not from the proxy: its own address counts
		{proxy, "2001:db8:1:2::1", 200},               // IPv6: a new /64
		{proxy, "2001:db8:1:2::2", 200},               // the same /64
		{proxy, "2001:db8:1:2:ffff::3", 200},          // the same /64: its third
		{proxy, "2001:db8:1:2:8000::4", 429},          // the same /64: past the burst
		{proxy, "2001:db8:1:3::1", 200},               // the next /64
		{proxy, "::ffff:198.51.100.7", 429},           // IPv4 written as IPv6 is the same client
		{proxy, "not an address, 198.51.100.9", 200},  // the last hop is read first
		{proxy, "198.51.100.10, not an address", 200}, // unreadable: counted against the proxy itself
	} {
		if got := do(t, c.c, "GET", url, "X-Forwarded-For", c.xff); got.status != c.want {
			t.Errorf("X-Forwarded-For %q: %d, want %d", c.xff, got.status, c.want)
		}
	}
}

func grep(body, word string) string {
	var out []string
	for _, line := range strings.Split(body, "\n") {
		if strings.Contains(line, word) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

func metricValue(body, name string) float64 {
	for _, line := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			v, _ := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return v
		}
	}
	return 0
}

// The OpenAPI document says which operations may answer 429, with its
// Retry-After header, and no other does.
func TestRateLimitDocumented(t *testing.T) {
	base := limited(t)
	var doc struct {
		Paths map[string]map[string]struct {
			Responses map[string]struct {
				Headers map[string]any `json:"headers"`
			} `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal([]byte(do(t, http.DefaultClient, "GET", base+"/v1/openapi.json").body), &doc); err != nil {
		t.Fatal(err)
	}
	limited := map[string]bool{
		"post /v1/txs": true, "get /v1/ids/{id}": true, "get /v1/ids/{id}/history": true, "get /v1/ids/{id}/children": true,
		"get /v1/ids/{id}/qr.png": true, "get /v1/ids/{id}/qr.svg": true, "get /v1/blocks/{h}": true, "get /r/{id}": true,
		"get /v1/applications": true, "get /ids/{id}": true, "get /dir": true, "get /dir/{path}": true,
		"get /v1/anchors/{id}": true, "get /explorer": true, "get /blocks/{h}": true, "get /labels": true, "get /trust": true, "get /v1/trust": true, "get /v1/trust/{format}": true,
		"get /v1/data/{id}": true, "put /v1/data/{id}": true, "get /v1/access-log/{id}": true,
	}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			r, has := op.Responses["429"]
			if has != limited[method+" "+path] {
				t.Errorf("%s %s documents 429: %v, want %v", method, path, has, limited[method+" "+path])
			}
			if has && r.Headers["Retry-After"] == nil {
				t.Errorf("%s %s: 429 without its Retry-After header", method, path)
			}
			delete(limited, method+" "+path)
		}
	}
	if len(limited) != 0 {
		t.Errorf("operations not in the document: %v", limited)
	}
}
