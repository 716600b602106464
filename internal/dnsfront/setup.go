package dnsfront

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"github.com/cityid/cityid/internal/store"
)

// Options configure the DNS front end.
type Options struct {
	// Zone is the zone served, e.g. "cityid.internal.".
	Zone string
	// NS names the zone's name servers in its NS records; default
	// "ns1.<zone>".
	NS []string
	// Glue is the addresses of the name servers whose names are inside
	// the zone: a parent that delegates the zone to ns1.<zone> needs them
	// (glue), and so does a resolver that follows the delegation, or it
	// is lame. The zone answers A and AAAA for those names and adds them
	// to its NS answers. Names outside the zone are not served.
	Glue map[string][]netip.Addr
	// Hostmaster is the SOA's responsible mailbox as a name; default
	// "hostmaster.<zone>".
	Hostmaster string
	// NegativeTTL is the SOA minimum: how long resolvers cache "no such
	// name". Default 60 s, so a new identifier is seen within a minute.
	NegativeTTL uint32
	Logger      *slog.Logger
	// Observe, when set, is told of every query: the rcode of its answer
	// and the time taken (for metrics), whether the rate limit sent the
	// answer, truncated it or dropped it.
	Observe func(rcode int, took time.Duration)
	// RateLimit limits the answers to each client network over UDP
	// (RRL). The zero value is off; a node uses DefaultRateLimit.
	RateLimit RateLimit
}

// Latest gives the state to answer from.
type Latest interface {
	Latest() *store.View
}

// Server answers DNS queries for one zone.
type Server struct {
	opts  Options
	z     zone
	state Latest
	log   *slog.Logger

	mu      sync.Mutex
	servers []*dns.Server  // miekg/dns's: TCP, and UDP on a wildcard address
	conns   []*net.UDPConn // the batch path's sockets, a loop each (udp.go)
	loops   sync.WaitGroup // the batch path's loops
	quit    chan struct{}  // closed by Shutdown to stop the workers; nil before they start
	cache   *answerCache   // packed answers of the latest view, for the batch path

	jobs  chan job  // to an idle worker; unbuffered, so a query never waits in a queue
	dones sync.Pool // of chan struct{}, one per query in a worker's hands

	limit *limiter     // nil when the rate limit is off
	clock func() int64 // ns of a monotonic clock, for the rate limit; a test sets it
}

// job is one query handed to a worker.
type job struct {
	w    dns.ResponseWriter
	req  *dns.Msg
	done chan struct{}
}

// DefaultZone is the zone a node serves when none is configured: .internal
// is reserved for private use (ICANN, 2024), so it never leaks into the
// public DNS.
const DefaultZone = "cityid.internal."

// DefaultNameServer is the name server of zone ("": DefaultZone) when
// none is configured, ns1.<zone>, in canonical form: the NS records name
// it, and a node's configuration gives it glue (node's DNSConfig).
func DefaultNameServer(zone string) string {
	if zone == "" {
		zone = DefaultZone
	}
	return "ns1." + dns.CanonicalName(zone)
}

// New returns a front end for state.
func New(state Latest, opts Options) (*Server, error) {
	if opts.Zone == "" {
		opts.Zone = DefaultZone
	}
	name := dns.CanonicalName(opts.Zone)
	if _, ok := dns.IsDomainName(name); !ok || name == "." {
		return nil, fmt.Errorf("dns zone %q is not a domain name", opts.Zone)
	}
	// A copy: the caller's slice stays as it gave it.
	opts.NS = append([]string(nil), opts.NS...)
	if len(opts.NS) == 0 {
		opts.NS = []string{DefaultNameServer(name)}
	}
	for i, ns := range opts.NS {
		opts.NS[i] = dns.CanonicalName(ns)
		if _, ok := dns.IsDomainName(opts.NS[i]); !ok {
			return nil, fmt.Errorf("dns name server %q is not a domain name", ns)
		}
	}
	glue := map[string][]netip.Addr{}
	for n, addrs := range opts.Glue {
		cn := dns.CanonicalName(n)
		if !dns.IsSubDomain(name, cn) || cn == name {
			return nil, fmt.Errorf("dns glue for %q: the name is not inside the zone %s (only an in-zone name server needs an address from it)", n, name)
		}
		if !slices.Contains(opts.NS, cn) {
			return nil, fmt.Errorf("dns glue for %q: not one of the zone's name servers %v", n, opts.NS)
		}
		for _, a := range addrs {
			if !a.IsValid() {
				return nil, fmt.Errorf("dns glue for %q: an invalid address", n)
			}
			glue[cn] = append(glue[cn], a.Unmap())
		}
	}
	if opts.Hostmaster == "" {
		opts.Hostmaster = "hostmaster." + name
	}
	opts.Hostmaster = dns.CanonicalName(opts.Hostmaster)
	if opts.NegativeTTL == 0 {
		opts.NegativeTTL = 60
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if err := opts.RateLimit.validate(); err != nil {
		return nil, err
	}
	started := time.Now()
	s := &Server{opts: opts, z: zone{name: name, ns: opts.NS, glue: glue, hostmaster: opts.Hostmaster, negativeTTL: opts.NegativeTTL}, state: state, log: opts.Logger, jobs: make(chan job), cache: newAnswerCache(),
		dones: sync.Pool{New: func() any { return make(chan struct{}, 1) }},
		clock: func() int64 { return int64(time.Since(started)) }}
	if opts.RateLimit.ResponsesPerSecond > 0 {
		s.limit = newLimiter(opts.RateLimit, rateTableSize)
	}
	return s, nil
}

// Zone is the zone served, canonical.
func (s *Server) Zone() string { return s.z.name }

// ListenAndServe serves addr over UDP and TCP until Shutdown. It returns
// once both are bound, with their addresses. On a single address (as a
// node's default, 127.0.0.1:8653) UDP is served by a socket per core read
// and written in batches (udp.go); on a wildcard address, and over TCP,
// by miekg/dns's server.
func (s *Server) ListenAndServe(addr string) (udp, tcp net.Addr, err error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("dns on %s: %w", addr, err)
	}
	ip, perr := netip.ParseAddr(host)
	batch := perr == nil && batchable(ip)
	pc, ln, err := listenBoth(addr, batch)
	if err != nil {
		return nil, nil, err
	}
	var conns []*net.UDPConn
	closeAll := func() {
		for _, c := range conns {
			c.Close()
		}
		pc.Close()
		ln.Close()
	}
	if batch {
		conns = append(conns, pc.(*net.UDPConn))
		lc := net.ListenConfig{Control: reusePort}
		for range runtime.GOMAXPROCS(0) - 1 {
			c, err := lc.ListenPacket(context.Background(), "udp", pc.LocalAddr().String())
			if err != nil {
				closeAll()
				return nil, nil, fmt.Errorf("dns on %s/udp, a socket per core: %w", pc.LocalAddr(), err)
			}
			conns = append(conns, c.(*net.UDPConn))
		}
	}
	// Return only once miekg/dns's servers serve: it refuses to shut down
	// a server that has not marked itself started, and would leave it
	// running.
	servers := []*dns.Server{{Listener: ln, Handler: s, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second}}
	if !batch {
		servers = append(servers, &dns.Server{PacketConn: pc, Handler: s, UDPSize: maxUDPSize})
	}
	started := make(chan error, 2*len(servers)) // a start and a failure from each
	for _, srv := range servers {
		srv.NotifyStartedFunc = func() { started <- nil }
	}
	s.mu.Lock()
	s.servers = append(s.servers, servers...)
	s.conns = append(s.conns, conns...)
	if s.quit == nil {
		s.quit = make(chan struct{})
		for range workers() {
			go s.work(s.quit)
		}
	}
	for _, c := range conns {
		var bc batchConn = ipv4.NewPacketConn(c)
		if !ip.Unmap().Is4() {
			bc = ipv6.NewPacketConn(c)
		}
		s.loops.Add(1)
		go func() {
			defer s.loops.Done()
			s.udpLoop(c, bc)
		}()
	}
	s.mu.Unlock()
	for _, srv := range servers {
		go func() {
			if err := srv.ActivateAndServe(); err != nil {
				s.log.Error("dns server stopped", "err", err)
				started <- err
			}
		}()
	}
	for range servers {
		if err = <-started; err != nil {
			_ = s.Shutdown(context.Background())
			closeAll()
			return nil, nil, fmt.Errorf("dns on %s: %w", pc.LocalAddr(), err)
		}
	}
	return pc.LocalAddr(), ln.Addr(), nil
}

// Shutdown stops the listeners, and returns once the UDP loops have
// stopped.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	servers, conns := s.servers, s.conns
	s.servers, s.conns = nil, nil
	if s.quit != nil {
		close(s.quit)
		s.quit = nil
	}
	s.mu.Unlock()
	var errs []error
	for _, c := range conns {
		if err := c.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	for _, srv := range servers {
		if err := srv.ShutdownContext(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	stopped := make(chan struct{})
	go func() {
		s.loops.Wait()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("dns udp loops: %w", ctx.Err()))
	}
	return errors.Join(errs...)
}

// listenBoth binds addr over UDP (with SO_REUSEPORT when reuse, so that
// more sockets can join it), then TCP on the port UDP got, so ":0" gives
// one port for both. A chosen port can be taken for TCP by another
// process already; with ":0" that is a race we lose now and then, so a
// few fresh ports are tried before giving up.
func listenBoth(addr string, reuse bool) (net.PacketConn, net.Listener, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("dns on %s: %w", addr, err)
	}
	tries := 1
	if port == "0" {
		tries = 8
	}
	var lc net.ListenConfig
	if reuse {
		lc.Control = reusePort
	}
	for i := 1; ; i++ {
		pc, err := lc.ListenPacket(context.Background(), "udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("dns on %s/udp: %w", addr, err)
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
		if i >= tries || !errors.Is(err, syscall.EADDRINUSE) {
			return nil, nil, fmt.Errorf("dns on %s/tcp: %w", pc.LocalAddr(), err)
		}
	}
}

// workers is how many goroutines answer queries: enough that one is
// nearly always idle when a query comes, on every core.
func workers() int { return 4 * runtime.GOMAXPROCS(0) }
