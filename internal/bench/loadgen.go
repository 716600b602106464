package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// LoadOptions bound one load-generator run. Zero fields take the defaults.
type LoadOptions struct {
	// Clients is how many goroutines send requests, each waiting for its
	// answer before sending the next (a closed loop); default 8.
	Clients int
	// Requests bounds the measured requests; default 1,000,000.
	Requests int
	// Duration bounds the measured time; default 3 s. The run ends at
	// whichever bound comes first.
	Duration time.Duration
	// Warmup is run before the measurement and not counted: connections
	// are made and caches warmed; default 500 ms.
	Warmup time.Duration
	// Seed seeds the identifiers each client picks: client c draws from a
	// PCG seeded with (Seed, c), so every run asks the same questions in
	// the same order.
	Seed uint64
}

func (o *LoadOptions) defaults() {
	if o.Clients <= 0 {
		o.Clients = 8
	}
	if o.Requests <= 0 {
		o.Requests = 1_000_000
	}
	if o.Duration <= 0 {
		o.Duration = 3 * time.Second
	}
	if o.Warmup < 0 {
		o.Warmup = 0
	} else if o.Warmup == 0 {
		o.Warmup = 500 * time.Millisecond
	}
	if o.Seed == 0 {
		o.Seed = 2026
	}
}

// LoadResult is what one run measured.
type LoadResult struct {
	Target   string        `json:"target"`
	Clients  int           `json:"clients"`
	Requests int           `json:"requests"` // answered and checked, in the measured window
	Errors   int           `json:"errors"`   // failed or wrong answers; not in Requests
	FirstErr string        `json:"first_error,omitempty"`
	Elapsed  time.Duration `json:"elapsed"`
	PerSec   float64       `json:"per_sec"`
	P50      time.Duration `json:"p50"`
	P99      time.Duration `json:"p99"`
	Mean     time.Duration `json:"mean"`
	Max      time.Duration `json:"max"`
	// CPUPerReq is this process's CPU time per answered request: the load
	// generator's, and the server's too when it runs in this process.
	CPUPerReq time.Duration `json:"cpu_per_req"`
	// ServerCPUPerReq is the serving process's CPU time per answered
	// request, when it runs in a process of its own; else 0.
	ServerCPUPerReq time.Duration `json:"server_cpu_per_req,omitempty"`
	// AnswerBytes is the mean size of the answers: the HTTP body, or the
	// DNS message on the wire.
	AnswerBytes int `json:"answer_bytes"`
}

// requester sends one request for the key it draws from rng and checks
// the answer; it returns the answer's size.
type requester interface {
	do(rng *rand.Rand) (int, error)
	close()
}

// runLoad runs opts.Clients requesters from newReq in a closed loop: a
// warm-up, then the measured window, bounded by opts.Requests and
// opts.Duration. serverCPU, when not nil, reads the serving process's CPU
// time.
func runLoad(ctx context.Context, target string, opts LoadOptions, serverCPU func() (time.Duration, error), newReq func() (requester, error)) (LoadResult, error) {
	opts.defaults()
	res := LoadResult{Target: target, Clients: opts.Clients}
	runtime.GC() // the previous run's garbage is not this run's cost
	reqs := make([]requester, opts.Clients)
	defer func() {
		for _, r := range reqs {
			if r != nil {
				r.close()
			}
		}
	}()
	for i := range reqs {
		r, err := newReq()
		if err != nil {
			return res, err
		}
		reqs[i] = r
	}
	phase := func(d time.Duration, limit int, measure bool) ([]histogram, []int, []int, int, string, time.Duration) {
		var issued atomic.Int64
		var wg sync.WaitGroup
		hists := make([]histogram, len(reqs))
		errs := make([]int, len(reqs))
		sizes := make([]int, len(reqs))
		var firstErr atomic.Value
		deadline := time.Now().Add(d)
		start := time.Now()
		for c, r := range reqs {
			wg.Add(1)
			go pprof.Do(ctx, pprof.Labels("bench", "load-generator"), func(context.Context) {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(opts.Seed, uint64(c)+boolBit(measure)<<32))
				for ctx.Err() == nil && time.Now().Before(deadline) && issued.Add(1) <= int64(limit) {
					t0 := time.Now()
					n, err := r.do(rng)
					took := time.Since(t0)
					if err != nil {
						errs[c]++
						firstErr.CompareAndSwap(nil, err.Error())
						continue
					}
					if measure {
						hists[c].record(took)
						sizes[c] += n
					}
				}
			})
		}
		wg.Wait()
		elapsed := time.Since(start)
		total := 0
		for _, e := range errs {
			total += e
		}
		fe, _ := firstErr.Load().(string)
		return hists, errs, sizes, total, fe, elapsed
	}
	if opts.Warmup > 0 {
		phase(opts.Warmup, opts.Requests, false)
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	var srv0 time.Duration
	if serverCPU != nil {
		var err error
		if srv0, err = serverCPU(); err != nil {
			return res, err
		}
	}
	cpu0 := processCPU()
	hists, _, sizes, errs, firstErr, elapsed := phase(opts.Duration, opts.Requests, true)
	cpu := processCPU() - cpu0
	if serverCPU != nil && all0(hists) > 0 {
		srv1, err := serverCPU()
		if err != nil {
			return res, err
		}
		res.ServerCPUPerReq = (srv1 - srv0) / time.Duration(all0(hists))
	}
	var all histogram
	bytes := 0
	for i := range hists {
		all.merge(&hists[i])
		bytes += sizes[i]
	}
	if all.n > 0 {
		res.AnswerBytes = bytes / int(all.n)
	}
	res.Requests, res.Errors, res.FirstErr, res.Elapsed = int(all.n), errs, firstErr, elapsed
	res.PerSec = float64(all.n) / elapsed.Seconds()
	res.P50, res.P99, res.Mean, res.Max = all.quantile(0.50), all.quantile(0.99), all.mean(), all.max
	if all.n > 0 && cpu > 0 {
		res.CPUPerReq = cpu / time.Duration(all.n)
	}
	return res, ctx.Err()
}

// all0 counts what histograms recorded.
func all0(hs []histogram) uint64 {
	n := uint64(0)
	for i := range hs {
		n += hs[i].n
	}
	return n
}

func boolBit(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// httpRequester GETs the path its function draws, over a keep-alive
// connection of a transport shared by all clients, and reads the whole
// body; an answer is right when it has the wanted status.
type httpRequester struct {
	client *http.Client
	base   string
	path   func(rng *rand.Rand) string
	want   int
}

func (h *httpRequester) do(rng *rand.Rand) (int, error) {
	resp, err := h.client.Get(h.base + h.path(rng))
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != h.want {
		return 0, fmt.Errorf("GET %s: status %d, want %d", resp.Request.URL.Path, resp.StatusCode, h.want)
	}
	return int(n), nil
}

func (h *httpRequester) close() {}

// newHTTPClient is the load generator's HTTP client: keep-alive, one
// connection per client goroutine, no compression (the answers are small
// and the server does not compress).
func newHTTPClient(clients int) (*http.Client, func()) {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        clients,
		MaxIdleConnsPerHost: clients,
		MaxConnsPerHost:     clients,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}, tr.CloseIdleConnections
}

// dnsRequester asks for TXT records of the name its function draws, over
// a UDP socket of its own (as a resolver keeps one), with EDNS0 as dig
// sends it; an answer is right when it is NOERROR with records.
type dnsRequester struct {
	client *dns.Client
	conn   *dns.Conn
	name   func(rng *rand.Rand) string
	msg    dns.Msg
	size   int // of the first answer: packing every answer again only to count it would load the client
}

func newDNSRequester(addr string, name func(rng *rand.Rand) string) (*dnsRequester, error) {
	c := &dns.Client{Net: "udp", Timeout: 5 * time.Second, UDPSize: dnsQueryUDPSize}
	conn, err := c.Dial(addr)
	if err != nil {
		return nil, fmt.Errorf("dns client: %w", err)
	}
	return &dnsRequester{client: c, conn: conn, name: name}, nil
}

// dnsQueryUDPSize is the buffer size the load generator advertises, as
// dig does.
const dnsQueryUDPSize = 1232

func (d *dnsRequester) do(rng *rand.Rand) (int, error) {
	m := &d.msg
	*m = dns.Msg{}
	m.SetQuestion(d.name(rng), dns.TypeTXT)
	m.SetEdns0(dnsQueryUDPSize, false)
	r, _, err := d.client.ExchangeWithConn(m, d.conn)
	if err != nil {
		return 0, err
	}
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) == 0 {
		return 0, fmt.Errorf("TXT %s: %s with %d answers", m.Question[0].Name, dns.RcodeToString[r.Rcode], len(r.Answer))
	}
	if d.size == 0 {
		d.size = r.Len()
	}
	return d.size, nil
}

func (d *dnsRequester) close() { d.conn.Close() }
