package api

import (
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/cityid/cityid/internal/qr"
	"github.com/cityid/cityid/internal/wire"
)

// Limits are the per-client token buckets of the API. Two classes of
// request cost a node far more than a resolve and are limited; everything
// else is not:
//   - writes: POST /v1/txs (a signature check and CheckTx each, up to a
//     2 MiB body, and a connection held until the commit);
//   - costly reads: an ICS23 proof (?proof=true on /v1/ids/{id} and /r/{id}),
//     a record at an old height (?height=H loads that version of the tree),
//     a history or children page (up to 1,000 records decoded), a block
//     (every transaction of up to 8 MB decoded), and a QR code larger than
//     the default size.
//
// A client is a remote IPv4 address, or an IPv6 /64 (one host's share of
// a network: an attacker with a /64 holds 2^64 addresses).
type Limits struct {
	Writes      Rate
	CostlyReads Rate
	// TrustedProxies are the addresses of reverse proxies in front of the
	// node. Only a request from one of them has its X-Forwarded-For read:
	// the client is then the last address in it that is not a trusted
	// proxy. Empty: X-Forwarded-For is ignored and the client is the
	// connection's remote address.
	TrustedProxies []netip.Prefix
}

// Rate is a token bucket: PerSecond tokens a second, up to Burst held.
// PerSecond 0 is no limit.
type Rate struct {
	PerSecond float64
	Burst     int
}

// The defaults of Limits, and the limiter's bounds, in one place (a node's
// config file shows the defaults). A client that waits for each commit
// sends a few writes a second, and a light client a proof or two per
// resolve: the defaults leave them, and a portal's page of history,
// children and QR codes, well alone, while one address can no longer keep
// a node's cores busy with proofs or fill its mempool.
const (
	DefaultWritesPerSecond = 10
	DefaultWriteBurst      = 50
	DefaultReadsPerSecond  = 20
	DefaultReadBurst       = 100

	// maxClients bounds the buckets kept per class: about 150 bytes each,
	// so at most ~10 MiB per class however many addresses an attacker
	// uses. While the table is full of clients that are not idle, new
	// clients share one bucket (overflow) rather than grow it.
	maxClients = 1 << 16
	// sweepEvery is how often buckets idle long enough to be full again
	// are forgotten (forgetting those changes nothing); a full table is
	// swept at most once a second, so many new addresses cannot make
	// every request walk it.
	sweepEvery     = time.Minute
	fullSweepEvery = time.Second
)

// DefaultLimits are the limits a node runs with unless configured.
func DefaultLimits() Limits {
	return Limits{
		Writes:      Rate{PerSecond: DefaultWritesPerSecond, Burst: DefaultWriteBurst},
		CostlyReads: Rate{PerSecond: DefaultReadsPerSecond, Burst: DefaultReadBurst},
	}
}

// The classes of request, as metrics label them.
const (
	classWrite = "write"
	classRead  = "read"
)

// limiter holds the buckets of both classes. It starts no goroutine: idle
// buckets are swept by the requests themselves, so there is nothing to
// stop.
type limiter struct {
	writes, reads *buckets // nil: that class is not limited
	trusted       []netip.Prefix
}

// newLimiter returns nil when neither class is limited.
func newLimiter(l Limits) *limiter {
	lim := &limiter{writes: newBuckets(classWrite, l.Writes), reads: newBuckets(classRead, l.CostlyReads), trusted: l.TrustedProxies}
	if lim.writes == nil && lim.reads == nil {
		return nil
	}
	return lim
}

// classOf returns the buckets a request draws from, nil for none.
func (l *limiter) classOf(r *http.Request) *buckets {
	p := r.URL.Path
	if r.Method == http.MethodPost {
		if p == "/v1/txs" {
			return l.writes
		}
		return nil
	}
	if r.Method == http.MethodPut && strings.HasPrefix(p, "/v1/data/") {
		// A dataset's upload: a chunk a request, written and fsynced.
		return l.writes
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return nil
	}
	switch {
	case strings.HasPrefix(p, "/v1/data/"), strings.HasPrefix(p, "/v1/access-log/"):
		// A dataset's bytes or log: a signature and grants checked, a log
		// entry written and fsynced, then a file read.
		return l.reads
	case strings.HasPrefix(p, "/v1/blocks/"):
		return l.reads
	case p == "/v1/applications" && r.URL.Query().Get("status") != "":
		// A status filter may read every application to fill a page.
		return l.reads
	case strings.HasPrefix(p, "/v1/ids/"):
		switch {
		case strings.HasSuffix(p, "/history"), strings.HasSuffix(p, "/children"):
			return l.reads
		case strings.HasSuffix(p, "/qr.png"), strings.HasSuffix(p, "/qr.svg"):
			if r.URL.RawQuery != "" {
				if n, err := strconv.Atoi(r.URL.Query().Get("size")); err == nil && n > qr.DefaultSize {
					return l.reads
				}
			}
			return nil
		}
		return l.recordRead(r)
	case strings.HasPrefix(p, "/r/"), strings.HasPrefix(p, "/v1/anchors/"):
		// An anchors page with a proof or at an old height costs what
		// a record's does.
		return l.recordRead(r)
	case strings.HasPrefix(p, "/ids/"), p == "/dir", strings.HasPrefix(p, "/dir/"):
		// The portal's record page reads the record's latest versions
		// and children, and the directory reads pages of cities or
		// children: costly reads, as their JSON answers are.
		return l.reads
	case p == "/explorer", strings.HasPrefix(p, "/blocks/"), p == "/labels", p == "/trust", p == "/v1/trust", strings.HasPrefix(p, "/v1/trust/"):
		// The explorer reads the latest blocks, a block's page a block,
		// a sheet of labels up to 120 records, and a trust root a block
		// (and draws its QR code).
		return l.reads
	}
	return nil
}

// recordRead classes a record's read: costly with a proof or at an old
// height (the parameters getRecord reads).
func (l *limiter) recordRead(r *http.Request) *buckets {
	if r.URL.RawQuery == "" {
		return nil
	}
	q := r.URL.Query()
	if p := q.Get("proof"); p == "true" || p == "1" || q.Get("height") != "" {
		return l.reads
	}
	return nil
}

// allow takes a token for r, or answers 429 and reports false.
func (s *Server) allow(w http.ResponseWriter, r *http.Request) bool {
	b := s.limits.classOf(r)
	if b == nil {
		return true
	}
	wait, ok := b.take(clientOf(r, s.limits.trusted), time.Now())
	if ok {
		return true
	}
	s.opts.Metrics.RateLimited(b.class)
	secs := max(1, int64(math.Ceil(wait.Seconds())))
	w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	w.Header().Set("Access-Control-Expose-Headers", "Retry-After") // a page of another origin may read it
	what := "writes"
	if b.class == classRead {
		what = "costly reads (proofs, old heights, history, children, blocks, large QR codes, trust roots, record, directory, explorer and label pages)"
	}
	p := wire.Problem{Code: wire.CodeRateLimited,
		Detail: "too many " + what + " from this client: at most " + strconv.FormatFloat(float64(b.rate), 'f', -1, 64) +
			" a second, in bursts of " + strconv.Itoa(b.burst) + "; retry after " + strconv.FormatInt(secs, 10) + " s"}
	if acceptsHTML(r) && !strings.HasPrefix(r.URL.Path, "/v1/") {
		s.portal.Problem(w, r, p, "") // a person at a page
		return false
	}
	writeProblem(w, p)
	return false
}

// buckets are the token buckets of one class, one per client.
type buckets struct {
	class string
	rate  rate.Limit
	burst int
	// idle is how long an emptied bucket takes to fill up: a client
	// unseen for that long is as good as new and can be forgotten.
	idle time.Duration

	mu       sync.Mutex
	clients  map[netip.Prefix]*bucket
	overflow *rate.Limiter // shared by new clients while clients is full
	swept    time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newBuckets(class string, r Rate) *buckets {
	if r.PerSecond <= 0 {
		return nil
	}
	burst := max(r.Burst, 1)
	return &buckets{
		class: class, rate: rate.Limit(r.PerSecond), burst: burst,
		idle:     time.Duration(float64(burst) / r.PerSecond * float64(time.Second)),
		clients:  map[netip.Prefix]*bucket{},
		overflow: rate.NewLimiter(rate.Limit(r.PerSecond), burst),
	}
}

// take takes a token of client's bucket at now, or reports how long until
// one is there.
func (b *buckets) take(client netip.Prefix, now time.Time) (time.Duration, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	full := len(b.clients) >= maxClients
	if since := now.Sub(b.swept); since >= sweepEvery || full && since >= fullSweepEvery {
		b.sweep(now)
	}
	var lim *rate.Limiter
	switch c := b.clients[client]; {
	case c != nil:
		c.seen, lim = now, c.lim
	case len(b.clients) < maxClients:
		lim = rate.NewLimiter(b.rate, b.burst)
		b.clients[client] = &bucket{lim: lim, seen: now}
	default:
		lim = b.overflow
	}
	if lim.AllowN(now, 1) {
		return 0, true
	}
	missing := 1 - lim.TokensAt(now)
	return time.Duration(missing / float64(b.rate) * float64(time.Second)), false
}

// sweep forgets the clients idle long enough for their buckets to be full.
func (b *buckets) sweep(now time.Time) {
	for c, bk := range b.clients {
		if now.Sub(bk.seen) >= b.idle {
			delete(b.clients, c)
		}
	}
	b.swept = now
}

// clientOf is the client a request counts against: its remote address,
// or, from a trusted proxy, the last address of X-Forwarded-For that is
// not a trusted proxy; an IPv4 address whole, an IPv6 address by its /64.
func clientOf(r *http.Request, trusted []netip.Prefix) netip.Prefix {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		// net/http always sets ip:port; anything else shares one bucket.
		return netip.Prefix{}
	}
	addr := ap.Addr().Unmap().WithZone("")
	if len(trusted) > 0 && contains(trusted, addr) {
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break // a hop that is no address: count against the last known one
			}
			addr = a.Unmap().WithZone("")
			if !contains(trusted, addr) {
				break
			}
		}
	}
	bits := 64
	if addr.Is4() {
		bits = 32
	}
	p, _ := addr.Prefix(bits)
	return p
}

func contains(prefixes []netip.Prefix, a netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
