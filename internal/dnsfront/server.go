package dnsfront

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"

	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/store"
)

// Options configure the DNS front end.
type Options struct {
	// Zone is the zone served, e.g. "cityid.internal.".
	Zone string
	// NS names the zone's name servers in its NS records; default
	// "ns1.<zone>".
	NS []string
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
	zone  string // canonical, lowercase, with the trailing dot
	state Latest
	log   *slog.Logger

	mu      sync.Mutex
	servers []*dns.Server
	quit    chan struct{} // closed by Shutdown to stop the workers; nil before they start

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

// New returns a front end for state.
func New(state Latest, opts Options) (*Server, error) {
	if opts.Zone == "" {
		opts.Zone = DefaultZone
	}
	zone := dns.CanonicalName(opts.Zone)
	if _, ok := dns.IsDomainName(zone); !ok || zone == "." {
		return nil, fmt.Errorf("dns zone %q is not a domain name", opts.Zone)
	}
	if len(opts.NS) == 0 {
		opts.NS = []string{"ns1." + zone}
	}
	for i, ns := range opts.NS {
		opts.NS[i] = dns.CanonicalName(ns)
		if _, ok := dns.IsDomainName(opts.NS[i]); !ok {
			return nil, fmt.Errorf("dns name server %q is not a domain name", ns)
		}
	}
	if opts.Hostmaster == "" {
		opts.Hostmaster = "hostmaster." + zone
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
	s := &Server{opts: opts, zone: zone, state: state, log: opts.Logger, jobs: make(chan job),
		dones: sync.Pool{New: func() any { return make(chan struct{}, 1) }},
		clock: func() int64 { return int64(time.Since(started)) }}
	if opts.RateLimit.ResponsesPerSecond > 0 {
		s.limit = newLimiter(opts.RateLimit, rateTableSize)
	}
	return s, nil
}

// Zone is the zone served, canonical.
func (s *Server) Zone() string { return s.zone }

// ListenAndServe serves addr over UDP and TCP until Shutdown. It returns
// once both listeners are bound, with their addresses.
func (s *Server) ListenAndServe(addr string) (udp, tcp net.Addr, err error) {
	pc, ln, err := listenBoth(addr)
	if err != nil {
		return nil, nil, err
	}
	// Return only once both serve: miekg/dns refuses to shut down a server
	// that has not marked itself started, and would leave it running.
	started := make(chan error, 4) // a start and a failure from each
	notify := func() { started <- nil }
	u := &dns.Server{PacketConn: pc, Handler: s, UDPSize: maxUDPSize, NotifyStartedFunc: notify}
	t := &dns.Server{Listener: ln, Handler: s, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second, NotifyStartedFunc: notify}
	s.mu.Lock()
	s.servers = append(s.servers, u, t)
	if s.quit == nil {
		s.quit = make(chan struct{})
		for range workers() {
			go s.work(s.quit)
		}
	}
	s.mu.Unlock()
	for _, srv := range []*dns.Server{u, t} {
		go func() {
			if err := srv.ActivateAndServe(); err != nil {
				s.log.Error("dns server stopped", "err", err)
				started <- err
			}
		}()
	}
	for range 2 {
		if err = <-started; err != nil {
			_ = s.Shutdown(context.Background())
			pc.Close()
			ln.Close()
			return nil, nil, fmt.Errorf("dns on %s: %w", pc.LocalAddr(), err)
		}
	}
	return pc.LocalAddr(), ln.Addr(), nil
}

// Shutdown stops the listeners.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	servers := s.servers
	s.servers = nil
	if s.quit != nil {
		close(s.quit)
		s.quit = nil
	}
	s.mu.Unlock()
	var errs []error
	for _, srv := range servers {
		if err := srv.ShutdownContext(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// listenBoth binds addr over UDP, then TCP on the port UDP got, so ":0"
// gives one port for both. A chosen port can be taken for TCP by another
// process already; with ":0" that is a race we lose now and then, so a
// few fresh ports are tried before giving up.
func listenBoth(addr string) (net.PacketConn, net.Listener, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("dns on %s: %w", addr, err)
	}
	tries := 1
	if port == "0" {
		tries = 8
	}
	for i := 1; ; i++ {
		pc, err := net.ListenPacket("udp", addr)
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

// ServeDNS answers one query. miekg/dns calls it on a new goroutine for
// each UDP query, whose stack starts at a few KiB; the answer's path
// (parsing the name, decoding the record, packing) needs more, and
// growing the stack cost about 6 µs a query, as much as the answer
// itself (BenchmarkServeDNS). So a query goes to a worker whose stack
// has grown already, or is answered here when every worker is busy.
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	done := s.dones.Get().(chan struct{})
	select {
	case s.jobs <- job{w: w, req: req, done: done}:
		<-done
	default:
		s.serve(w, req)
	}
	s.dones.Put(done)
}

// work answers the queries handed to it until quit is closed.
func (s *Server) work(quit <-chan struct{}) {
	for {
		select {
		case j := <-s.jobs:
			s.serve(j.w, j.req)
			j.done <- struct{}{}
		case <-quit:
			return
		}
	}
}

// serve answers one query.
func (s *Server) serve(w dns.ResponseWriter, req *dns.Msg) {
	start := time.Now()
	m := s.answer(req)
	size := dns.MinMsgSize
	if opt := req.IsEdns0(); opt != nil {
		size = int(min(max(opt.UDPSize(), dns.MinMsgSize), maxUDPSize))
		m.SetEdns0(maxUDPSize, false)
	}
	send := true
	if s.limit != nil && w.LocalAddr().Network() == "udp" {
		// After the answer, since its kind decides its account; TCP is
		// never limited, as its source cannot be spoofed.
		switch s.limit.check(s.clock(), s.limit.key(clientAddr(w.RemoteAddr()), m)) {
		case verdictSlip:
			truncate(m)
		case verdictDrop:
			send = false
		}
	}
	if send {
		if err := writeMsg(w, m, size); err != nil {
			s.log.Debug("dns write", "err", err)
		}
	}
	if s.opts.Observe != nil {
		s.opts.Observe(m.Rcode, time.Since(start))
	}
}

// writeMsg sends m, truncated to size over UDP. It packs the answer once
// and truncates only when it does not fit: measuring the compressed length
// first costs about as much as packing.
func writeMsg(w dns.ResponseWriter, m *dns.Msg, size int) error {
	b, err := m.Pack()
	if err != nil {
		// An answer that cannot be packed still gets a reply: SERVFAIL,
		// so the resolver does not wait for a timeout.
		fail := new(dns.Msg)
		fail.SetRcode(m, dns.RcodeServerFailure)
		if b2, err2 := fail.Pack(); err2 == nil {
			_, _ = w.Write(b2)
		}
		return fmt.Errorf("pack answer: %w", err)
	}
	if len(b) > size && w.LocalAddr().Network() == "udp" {
		truncate(m)
		if b, err = m.Pack(); err != nil {
			return fmt.Errorf("pack truncated answer: %w", err)
		}
	}
	_, err = w.Write(b)
	return err
}

// truncate empties m of records but its OPT and sets TC, so the client
// asks again over TCP. It sends no part of the answer, as BIND and Knot
// do: the values of a name are one TXT RRset, which is never split (RFC
// 2181 section 9), and a part filled up to the client's size is what made
// a query for a record of many values come back 18 times its size, the
// lever of a reflection attack. An empty truncated answer is the size of
// the query (TestAmplification).
func truncate(m *dns.Msg) {
	opt := m.IsEdns0()
	m.Truncated = true
	m.Answer, m.Ns, m.Extra = nil, nil, nil
	if opt != nil {
		m.Extra = []dns.RR{opt}
	}
}

func (s *Server) answer(req *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	m.RecursionAvailable = false
	m.Compress = true
	if req.Opcode != dns.OpcodeQuery {
		m.SetRcode(req, dns.RcodeNotImplemented)
		return m
	}
	if len(req.Question) != 1 {
		m.SetRcode(req, dns.RcodeFormatError)
		return m
	}
	q := req.Question[0]
	if q.Qtype == dns.TypeAXFR || q.Qtype == dns.TypeIXFR {
		// No zone transfers, to anyone: the zone is the ledger, and a node
		// gets a copy of it from the chain (block or state sync), not from
		// DNS. A transfer of a million records would be the largest
		// answer a query could ask for, and a scrape of the registry.
		m.Authoritative = false
		m.SetRcode(req, dns.RcodeRefused)
		return m
	}
	name := dns.CanonicalName(q.Name)
	if !dns.IsSubDomain(s.zone, name) {
		// Not ours, and we do not recurse.
		m.Authoritative = false
		m.SetRcode(req, dns.RcodeRefused)
		return m
	}
	if q.Qclass != dns.ClassINET && q.Qclass != dns.ClassANY {
		m.SetRcode(req, dns.RcodeRefused)
		return m
	}
	view := s.state.Latest()
	if view == nil {
		m.SetRcode(req, dns.RcodeServerFailure)
		return m
	}
	if name == s.zone {
		switch q.Qtype {
		case dns.TypeSOA:
			m.Answer = append(m.Answer, s.soa(view))
		case dns.TypeNS:
			m.Answer = append(m.Answer, s.nsRecords()...)
		case dns.TypeANY:
			m.Answer = append(m.Answer, anyAnswer(q.Name))
		default:
			m.Ns = append(m.Ns, s.soa(view)) // NODATA
		}
		return m
	}
	if q.Qtype == dns.TypeNS || q.Qtype == dns.TypeSOA {
		// No delegations below the apex.
		id, err := code.ParseDNSName(s.zone, name)
		if err != nil || !s.exists(view, id) {
			m.SetRcode(req, dns.RcodeNameError)
		}
		m.Ns = append(m.Ns, s.soa(view))
		return m
	}
	id, err := code.ParseDNSName(s.zone, name)
	if err != nil {
		// Not the DNS form of any identifier: no such name.
		m.SetRcode(req, dns.RcodeNameError)
		m.Ns = append(m.Ns, s.soa(view))
		return m
	}
	rec, found, err := registry.GetRecord(view, id.String())
	if err != nil {
		s.log.Error("dns lookup", "id", id.String(), "err", err)
		m.SetRcode(req, dns.RcodeServerFailure)
		return m
	}
	if !found {
		m.SetRcode(req, dns.RcodeNameError)
		m.Ns = append(m.Ns, s.soa(view))
		return m
	}
	switch q.Qtype {
	case dns.TypeTXT:
		m.Answer = append(m.Answer, txtRecords(q.Name, rec)...)
	case dns.TypeANY:
		m.Answer = append(m.Answer, anyAnswer(q.Name))
	case dns.TypeURI:
		m.Answer = append(m.Answer, uriRecords(q.Name, rec)...)
	}
	if len(m.Answer) == 0 {
		m.Ns = append(m.Ns, s.soa(view)) // NODATA: the name exists, not this type
	}
	return m
}

// anyAnswer answers an ANY query for a name that exists, over UDP and
// TCP alike: one synthesized HINFO whose CPU is "RFC8482" and whose OS is
// empty (RFC 8482 section 4.2), as CoreDNS's any plugin answers. ANY was
// the amplifier's favourite query, and its honest answer here is the
// whole TXT RRset, the largest we have; nobody needs it, since a client
// that wants the values asks for TXT. REFUSED or NOTIMP would read as a
// broken server to the resolvers that still send ANY (RFC 8482 section
// 4), while this answer is small and cacheable. A name that does not
// exist is still NXDOMAIN. The TTL is CoreDNS's.
func anyAnswer(owner string) dns.RR {
	return &dns.HINFO{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeHINFO, Class: dns.ClassINET, Ttl: 8482}, Cpu: "RFC8482"}
}

func (s *Server) exists(view *store.View, id code.ID) bool {
	b, err := view.Get(registry.RecordKey(id.String()))
	return err == nil && b != nil
}

// soa is the zone's SOA. Its serial is the block height (mod 2^32): it goes
// up with every change of the ledger, as a serial should.
func (s *Server) soa(view *store.View) *dns.SOA {
	return &dns.SOA{
		Hdr:     dns.RR_Header{Name: s.zone, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: s.opts.NegativeTTL},
		Ns:      s.opts.NS[0],
		Mbox:    s.opts.Hostmaster,
		Serial:  uint32(view.Version()),
		Refresh: 3600,
		Retry:   600,
		Expire:  604800,
		Minttl:  s.opts.NegativeTTL,
	}
}

func (s *Server) nsRecords() []dns.RR {
	var out []dns.RR
	for _, ns := range s.opts.NS {
		out = append(out, &dns.NS{Hdr: dns.RR_Header{Name: s.zone, Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: 86400}, Ns: ns})
	}
	return out
}

// txtRecords are the record's values as TXT: one RR per value, "TYPE=data",
// in index order, after one that says what the name is. A value longer than
// 255 bytes is cut into several character-strings of one RR (RFC 7208
// section 3.3 does the same), which a reader joins.
func txtRecords(owner string, rec registry.Record) []dns.RR {
	minTTL := uint32(registry.DefaultTTL)
	for _, v := range rec.Values {
		minTTL = min(minTTL, v.TTL)
	}
	// Concatenation, not fmt: this runs on every query.
	head := "cityid=" + rec.ID + "; kind=" + string(rec.Kind) + "; version=" + strconv.FormatUint(rec.Version, 10) + "; status=" + rec.Status
	out := make([]dns.RR, 0, 1+len(rec.Values))
	out = append(out, txt(owner, minTTL, head))
	for _, v := range rec.Values {
		data := v.Data
		if d := v.Dataset; d != nil {
			data = "uri=" + d.URI + " sha256=" + d.SHA256 + " size=" + strconv.FormatInt(d.Size, 10) + " media_type=" + d.MediaType
		}
		out = append(out, txt(owner, v.TTL, strconv.FormatUint(uint64(v.Index), 10)+":"+v.Type+"="+data))
	}
	return out
}

func txt(owner string, ttl uint32, s string) *dns.TXT {
	parts := make([]string, 0, 1+len(s)/255)
	for len(s) > 255 {
		cut := 255
		// Cut on a UTF-8 boundary so every string is text.
		for cut > 0 && s[cut]&0xC0 == 0x80 {
			cut--
		}
		parts = append(parts, s[:cut])
		s = s[cut:]
	}
	parts = append(parts, s)
	return &dns.TXT{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: ttl}, Txt: escapeTXT(parts)}
}

// escapeTXT escapes, in place, what miekg/dns would otherwise read as
// presentation syntax (backslash and quote) so the wire carries the text
// as it is.
func escapeTXT(parts []string) []string {
	for i, p := range parts {
		if strings.ContainsAny(p, `\"`) {
			parts[i] = txtEscaper.Replace(p)
		}
	}
	return parts
}

// txtEscaper is safe for concurrent use and costly to build: one for all.
var txtEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// uriRecords are the record's URL values as URI records (RFC 7553),
// priority by index, weight 1.
func uriRecords(owner string, rec registry.Record) []dns.RR {
	var out []dns.RR
	for _, v := range rec.Values {
		if v.Type != registry.TypeURL {
			continue
		}
		out = append(out, &dns.URI{
			Hdr:      dns.RR_Header{Name: owner, Rrtype: dns.TypeURI, Class: dns.ClassINET, Ttl: v.TTL},
			Priority: uint16(min(v.Index, 65535)), Weight: 1, Target: v.Data,
		})
	}
	return out
}
