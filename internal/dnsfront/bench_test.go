package dnsfront

import (
	"net"
	"net/netip"
	"testing"

	"github.com/miekg/dns"
)

// discard is a ResponseWriter that drops what it is given, as a UDP one.
type discard struct{ n int }

func (d *discard) LocalAddr() net.Addr         { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53} }
func (d *discard) RemoteAddr() net.Addr        { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5353} }
func (d *discard) WriteMsg(m *dns.Msg) error   { return nil }
func (d *discard) Write(b []byte) (int, error) { d.n += len(b); return len(b), nil }
func (d *discard) Close() error                { return nil }
func (d *discard) TsigStatus() error           { return nil }
func (d *discard) TsigTimersOnly(bool)         {}
func (d *discard) Hijack()                     {}

// BenchmarkServeDNS answers a TXT query for a school the way miekg/dns
// calls the handler over UDP: on a fresh goroutine per query, whose stack
// starts small. "same goroutine" is the answer's own cost, with no hand-off
// to a worker; "no work" is what a fresh goroutine costs.
func BenchmarkServeDNS(b *testing.B) {
	s, err := New(ledger(b), Options{})
	if err != nil {
		b.Fatal(err)
	}
	req := new(dns.Msg)
	req.SetQuestion("school-0042.1.85.1561301001.cityid.internal.", dns.TypeTXT)
	w := &discard{}
	// The workers, without listening: as ListenAndServe starts them.
	s.quit = make(chan struct{})
	defer close(s.quit)
	for range workers() {
		go s.work(s.quit)
	}
	b.Run("fresh goroutine", func(b *testing.B) {
		b.ReportAllocs()
		done := make(chan struct{})
		for b.Loop() {
			go func() {
				s.ServeDNS(w, req)
				done <- struct{}{}
			}()
			<-done
		}
	})
	b.Run("fresh goroutine, no work", func(b *testing.B) {
		done := make(chan struct{})
		for b.Loop() {
			go func() { done <- struct{}{} }()
			<-done
		}
	})
	b.Run("same goroutine", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.serve(w, req)
		}
	})
	if w.n == 0 {
		b.Fatal("nothing answered")
	}
}

// BenchmarkRateLimit is the rate limit's cost per answer over UDP: its
// account's key (the client's network, a hash of the name) and the
// account itself, for one client and for a flood from spoofed sources
// that keeps the table full and churning.
func BenchmarkRateLimit(b *testing.B) {
	m := reply("school-0042.1.85.1561301001.cityid.internal.", dns.TypeTXT, dns.RcodeSuccess, 4)
	b.Run("one client", func(b *testing.B) {
		l := newLimiter(DefaultRateLimit(), rateTableSize)
		client := netip.MustParseAddr("192.0.2.1")
		for b.Loop() {
			l.check(0, l.key(client, m))
		}
	})
	b.Run("spoofed sources", func(b *testing.B) {
		l := newLimiter(DefaultRateLimit(), rateTableSize)
		i := uint32(0)
		for b.Loop() {
			i++
			client := netip.AddrFrom4([4]byte{byte(i >> 16), byte(i >> 8), byte(i), 1})
			l.check(0, l.key(client, m))
		}
	})
}

// BenchmarkAnswerUDP is the batch UDP path's work for one datagram, a TXT
// query for a school with EDNS, with no system call: "kept" answers from
// the cache (every query after the first until the next block), "built"
// is the slow path every query took before the cache (unpack, answer,
// pack).
func BenchmarkAnswerUDP(b *testing.B) {
	s, pkt := benchServer(b)
	buf := make([]byte, 0, maxUDPSize)
	sc := new(wireScratch)
	b.Run("kept", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var out []byte
			out = s.answerUDP(pkt, udpLocal, udpRemote, buf[:0], sc)
			if len(out) == 0 {
				b.Fatal("no answer")
			}
		}
	})
	// "missed" is a query whose answer is not kept, as nearly every one
	// at 1,000,000 identifiers asked at random: built, packed and kept,
	// the cache full and turning over. Each query spells the name in
	// another case (0x20), which is another key.
	b.Run("missed", func(b *testing.B) {
		b.ReportAllocs()
		q := append([]byte(nil), pkt...)
		i := uint64(0)
		for b.Loop() {
			i++
			for j, bit := 0, 0; j < 40 && 13+j < len(q); j++ {
				if c := q[13+j] | 0x20; c >= 'a' && c <= 'z' {
					q[13+j] = c &^ byte(i>>bit&1<<5)
					bit++
				}
			}
			var out []byte
			out = s.answerUDP(q, udpLocal, udpRemote, buf[:0], sc)
			if len(out) == 0 {
				b.Fatal("no answer")
			}
		}
	})
	b.Run("built", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if len(s.answerSlow(pkt, udpLocal, udpRemote)) == 0 {
				b.Fatal("no answer")
			}
		}
	})
}

// BenchmarkWireAnswer is an answer written from the record
// (answer_wire.go) alone, for a name asked in lowercase, as most
// resolvers ask: what a query costs that the cache does not hold.
func BenchmarkWireAnswer(b *testing.B) {
	s, pkt := benchServer(b)
	pq, ok := parseQuery(pkt)
	if !ok {
		b.Fatal("not a plain query")
	}
	view := s.state.Latest()
	sc := new(wireScratch)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := s.wireAnswer(view, pq, pkt, sc); !ok {
			b.Fatal("not written")
		}
	}
}

// benchServer is a server over the test ledger and a plain EDNS query
// for school-0042's TXT records, packed.
func benchServer(b *testing.B) (*Server, []byte) {
	b.Helper()
	s, err := New(ledger(b), Options{})
	if err != nil {
		b.Fatal(err)
	}
	q := new(dns.Msg)
	q.SetQuestion("school-0042.1.85.1561301001.cityid.internal.", dns.TypeTXT)
	q.SetEdns0(1232, false)
	pkt, err := q.Pack()
	if err != nil {
		b.Fatal(err)
	}
	return s, pkt
}
