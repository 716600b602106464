package dnsfront

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

var (
	udpLocal  = &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53}
	udpRemote = &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 5353}
)

// udpQueries are the golden queries packed, then the same with other IDs
// and flags, and queries the fast path must leave to the slow one.
func udpQueries(t testing.TB) [][]byte {
	var out [][]byte
	add := func(q *dns.Msg) {
		b, err := q.Pack()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	for i, g := range goldenQueries() {
		add(g.msg(uint16(1000 + i)))
		g.rd, g.cd = !g.rd, !g.cd
		add(g.msg(uint16(30000 + i)))
	}
	school := "school-0042.1.85.1561301001.cityid.internal."
	for _, change := range []func(q *dns.Msg){
		func(q *dns.Msg) { q.Opcode = dns.OpcodeNotify },
		func(q *dns.Msg) { q.Question = append(q.Question, q.Question[0]) },
		func(q *dns.Msg) { q.Question = nil },
		func(q *dns.Msg) { q.Response = true },
		func(q *dns.Msg) { q.Opcode = dns.OpcodeUpdate },
		func(q *dns.Msg) { q.Answer = []dns.RR{anyAnswer(school)} },
		func(q *dns.Msg) { q.SetEdns0(1232, true) },
		func(q *dns.Msg) {
			q.SetEdns0(4096, false)
			q.IsEdns0().Option = append(q.IsEdns0().Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"})
		},
		func(q *dns.Msg) {
			q.SetEdns0(4096, false)
			q.IsEdns0().Option = append(q.IsEdns0().Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})
		},
		func(q *dns.Msg) { q.SetEdns0(100, false) },
		func(q *dns.Msg) { q.Extra = append(q.Extra, anyAnswer(school)) },
	} {
		q := new(dns.Msg)
		q.SetQuestion(school, dns.TypeTXT)
		q.Id = 77
		change(q)
		add(q)
	}
	// Bytes no packer makes: short, trailing junk, a pointer in the name,
	// a bad OPT.
	b := out[0]
	out = append(out, b[:11], b[:len(b)-1], append(append([]byte(nil), b...), 0, 0))
	ptr := append([]byte(nil), b[:12]...)
	out = append(out, append(ptr, 0xC0, 12, 0, 16, 0, 1))
	return out
}

// TestUDPPathsAgree: the batch path answers every query with the bytes the
// slow path (miekg/dns's server and serve) sends, whether the answer is
// built (the first two times: an answer is kept once asked again) or
// copied from the cache (every time after), and
// with the rate limit on, sends, truncates and drops the same answers: a
// server for each path, their limits' clocks stopped, asked the same
// queries in the same order.
func TestUDPPathsAgree(t *testing.T) {
	st := ledger(t)
	unanswered := -1 // without the limit: responses and short datagrams
	for _, rl := range []RateLimit{{}, {ResponsesPerSecond: 2, Slip: 2, Window: time.Second, IPv4Prefix: 24, IPv6Prefix: 56}} {
		slow, err := New(st, Options{RateLimit: rl})
		if err != nil {
			t.Fatal(err)
		}
		fast, err := New(st, Options{RateLimit: rl})
		if err != nil {
			t.Fatal(err)
		}
		slow.clock = func() int64 { return 0 }
		fast.clock = slow.clock
		sent, dropped := 0, 0
		for round := range 3 {
			for i, pkt := range udpQueries(t) {
				want := slow.answerSlow(pkt, udpLocal, udpRemote)
				got := fast.answerUDP(pkt, udpLocal, udpRemote, nil, nil)
				if !bytes.Equal(got, want) {
					t.Fatalf("rate limit %+v, round %d, query %d %x:\n got %x\nwant %x", rl, round, i, pkt, got, want)
				}
				if got == nil {
					dropped++
				} else {
					sent++
				}
			}
		}
		kept := 0
		for i := range fast.cache.shards {
			kept += len(fast.cache.shards[i].entries)
		}
		if kept == 0 {
			t.Fatal("no answer was kept: the fast path was not taken")
		}
		if unanswered < 0 {
			unanswered = dropped
		} else if dropped <= unanswered {
			t.Fatalf("rate limit %+v: %d answers sent, %d not, as many as without it", rl, sent, dropped)
		}
	}
}

// FuzzUDPPaths sends any datagram to both UDP paths: the batch path must
// answer exactly as the slow path, three times (built twice, then from
// the cache).
func FuzzUDPPaths(f *testing.F) {
	s, err := New(ledger(f), Options{})
	if err != nil {
		f.Fatal(err)
	}
	for _, q := range udpQueries(f) {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, pkt []byte) {
		if len(pkt) > maxUDPSize {
			pkt = pkt[:maxUDPSize] // what a read of maxUDPSize bytes keeps
		}
		want := s.answerSlow(pkt, udpLocal, udpRemote)
		for range 3 {
			got := s.answerUDP(pkt, udpLocal, udpRemote, nil, nil)
			if !bytes.Equal(got, want) {
				t.Fatalf("query %x:\n got %x\nwant %x", pkt, got, want)
			}
		}
	})
}

// On a wildcard address UDP is miekg/dns's server's, which answers from
// the address each query came to; its answers are the batch path's.
func TestWildcardAddress(t *testing.T) {
	s, err := New(ledger(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	udp, _, err := s.ListenAndServe("0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	s.mu.Lock()
	conns, servers := len(s.conns), len(s.servers)
	s.mu.Unlock()
	if conns != 0 || servers != 2 {
		t.Fatalf("on a wildcard address: %d batch sockets, %d miekg/dns servers; want 0 and 2 (UDP and TCP)", conns, servers)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(udp.(*net.UDPAddr).Port))
	for i, pkt := range udpQueries(t)[:40] {
		c, err := net.Dial("udp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write(pkt); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 2048)
		_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
		n, err := c.Read(buf)
		c.Close()
		if err != nil {
			t.Fatalf("query %d: %v", i, err)
		}
		got := s.answerUDP(pkt, udpLocal, udpRemote, nil, nil)
		if !bytes.Equal(buf[:n], got) {
			t.Fatalf("query %d %x:\nmiekg/dns's server %x\nthe batch path     %x", i, pkt, buf[:n], got)
		}
	}
}

// On IPv6 loopback the batch path serves too (through x/net's ipv6
// PacketConn); a machine without IPv6 refuses the address with an error
// that names it.
func TestIPv6Loopback(t *testing.T) {
	s, err := New(ledger(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	probe, perr := net.ListenPacket("udp6", "[::1]:0")
	if perr == nil {
		probe.Close()
	}
	udp, _, err := s.ListenAndServe("[::1]:0")
	if perr != nil {
		if err == nil || !strings.Contains(err.Error(), "[::1]:0") {
			t.Fatalf("no IPv6 here (%v), yet ListenAndServe on [::1]:0 says %v", perr, err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	s.mu.Lock()
	conns := len(s.conns)
	s.mu.Unlock()
	if reusePortSupported && conns == 0 {
		t.Fatal("IPv6 loopback is served by miekg/dns's server, not the batch path")
	}
	for range 3 { // built twice, then kept
		r := query(t, "udp", udp.String(), "school-0042.1.85.1561301001.cityid.internal.", dns.TypeTXT, true)
		if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 4 {
			t.Fatalf("over IPv6: %s, %d answers", dns.RcodeToString[r.Rcode], len(r.Answer))
		}
	}
}
