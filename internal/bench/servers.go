package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/miekg/dns"

	"github.com/cityid/cityid/internal/api"
	"github.com/cityid/cityid/internal/apitest"
	"github.com/cityid/cityid/internal/dnsfront"
	"github.com/cityid/cityid/internal/metrics"
	"github.com/cityid/cityid/internal/node"
	"github.com/cityid/cityid/internal/store"
)

// The serving path of the resolve and serve benchmarks is the node's own:
// node.ServeFrontEnds, which node.Start calls (api.New behind a net/http
// server with the node's bounds, dnsfront.New on UDP, the metrics hooks),
// on loopback, with a node's options but for the DNS rate limit, which is off:
// the load comes from one address, which a node would rightly limit, and
// the limit's own cost is BenchmarkRateLimit's (internal/dnsfront), about
// 0.1 µs an answer. Only the backend differs: instead of a
// chain.Node it is apitest.Backend, which reads committed state from the
// same store type (store.Store, IAVL on goleveldb) the node reads, and
// refuses writes. No CometBFT runs: reads never touch it.

// benchZone is the zone the served states answer for: a node's default.
const benchZone = dnsfront.DefaultZone

// frontEnds are a node's HTTP API (with the Handle REST front end) and DNS
// front end, serving a store on loopback.
type frontEnds struct {
	HTTPAddr string
	DNSAddr  string
	f        *node.FrontEnds
}

// startFrontEnds serves st through the node's HTTP API and DNS front end
// on free loopback ports, assembled by node.ServeFrontEnds as node.Start
// assembles them.
func startFrontEnds(st *store.Store, chainID string) (*frontEnds, error) {
	m := metrics.New(func() float64 { return float64(st.Version()) }, func() float64 { return 0 })
	m.WatchValueCache(func() metrics.CacheStats { return metrics.CacheStats(st.CacheStats()) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	// A node's default limits, except on costly reads: the load generator
	// is one client on loopback asking for thousands of proofs a second,
	// which a node rightly refuses to one address. Plain resolves, which
	// the figures are about, go through the limiter's check as on a node.
	limits := api.DefaultLimits()
	limits.CostlyReads = api.Rate{}
	var f *node.FrontEnds
	labelled("front-end", func() {
		f, err = node.ServeFrontEnds(ln, apitest.Backend{Store: st, ChainID: chainID, Moniker: "bench"}, node.FrontEndOptions{
			PublicURL: "http://" + ln.Addr().String(), Zone: benchZone, DNSListen: "127.0.0.1:0",
			DNSRateLimit: dnsfront.RateLimit{}, // off: the load comes from one address
			Limits:       limits, Metrics: m, Log: slog.New(slog.DiscardHandler),
		})
	})
	if err != nil {
		ln.Close()
		return nil, err
	}
	return &frontEnds{HTTPAddr: f.HTTPAddr, DNSAddr: f.DNSAddr, f: f}, nil
}

func (f *frontEnds) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return f.f.Shutdown(ctx)
}

// bareHTTP is the ceiling of HTTP on this machine: a net/http server with
// the node's bounds that answers every request with one fixed body, with
// the headers the API sets on a JSON answer.
type bareHTTP struct {
	Addr string
	srv  *http.Server
}

func startBareHTTP(body []byte) (*bareHTTP, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := node.HTTPServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Content-Type", "application/json")
		h.Set("X-Content-Type-Options", "nosniff")
		w.Write(body)
	}), slog.New(slog.DiscardHandler))
	labelled("bare", func() { go srv.Serve(ln) })
	return &bareHTTP{Addr: ln.Addr().String(), srv: srv}, nil
}

func (b *bareHTTP) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return b.srv.Shutdown(ctx)
}

// bareDNS is the ceiling of DNS on this machine: a miekg/dns server on
// UDP, with the front end's UDP size, that answers every TXT question with
// the same TXT records (owner: the question's name), so that each answer
// has the size of a real one for the same question.
type bareDNS struct {
	Addr string
	srv  *dns.Server
}

// startBareDNS answers with the TXT records of answer (a real answer),
// renamed to each question's name.
func startBareDNS(answer []dns.RR) (*bareDNS, error) {
	var fixed []dns.TXT
	for _, rr := range answer {
		if t, ok := rr.(*dns.TXT); ok {
			fixed = append(fixed, *t)
		}
	}
	if len(fixed) == 0 {
		return nil, fmt.Errorf("bare dns server: the sample answer has no TXT record")
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		m.Authoritative = true
		m.Compress = true
		if len(req.Question) == 1 {
			m.Answer = make([]dns.RR, len(fixed))
			for i := range fixed {
				t := fixed[i]
				t.Hdr.Name = req.Question[0].Name
				m.Answer[i] = &t
			}
		}
		if req.IsEdns0() != nil {
			m.SetEdns0(bareDNSUDPSize, false)
		}
		w.WriteMsg(m)
	})
	srv := &dns.Server{PacketConn: pc, Handler: handler, UDPSize: bareDNSUDPSize}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	labelled("bare", func() { go srv.ActivateAndServe() })
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		srv.Shutdown()
		return nil, fmt.Errorf("bare dns server did not start")
	}
	return &bareDNS{Addr: pc.LocalAddr().String(), srv: srv}, nil
}

// bareDNSUDPSize is the DNS front end's largest UDP answer.
const bareDNSUDPSize = 1232

func (b *bareDNS) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return b.srv.ShutdownContext(ctx)
}

// fetch GETs url once and returns the body, which must come with status
// want.
func fetch(url string, want int) ([]byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != want {
		return nil, fmt.Errorf("GET %s: status %d, want %d: %s", url, resp.StatusCode, want, clip(string(b), 300))
	}
	return b, nil
}

// askTXT asks addr once for name's TXT records.
func askTXT(addr, name string) (*dns.Msg, error) {
	c := &dns.Client{Net: "udp", Timeout: 5 * time.Second, UDPSize: dnsQueryUDPSize}
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeTXT)
	m.SetEdns0(dnsQueryUDPSize, false)
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		return nil, err
	}
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) == 0 {
		return nil, fmt.Errorf("TXT %s: %s with %d answers", name, dns.RcodeToString[r.Rcode], len(r.Answer))
	}
	return r, nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
