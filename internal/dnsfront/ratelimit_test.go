package dnsfront

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// rrl5 is a rate limit of 5 answers a second, with BIND's other defaults.
func rrl5() RateLimit {
	r := DefaultRateLimit()
	r.ResponsesPerSecond = 5
	return r
}

// The accounts, step by step on an explicit clock: S an answer sent, T
// one truncated, D one dropped.
func TestRateLimitAccount(t *testing.T) {
	type step struct {
		at   time.Duration
		n    int
		want string
	}
	slip := func(n int) RateLimit { r := rrl5(); r.Slip = n; return r }
	flood := "SSSSS" + strings.Repeat("T", 995)
	for _, c := range []struct {
		name  string
		conf  RateLimit
		steps []step
	}{
		{"a burst gets 5, then every other one truncated (slip 2)", rrl5(), []step{{0, 12, "SSSSSTDTDTDT"}}},
		{"slip 1 truncates every answer beyond the limit", slip(1), []step{{0, 8, "SSSSSTTT"}}},
		{"slip 0 drops them all", slip(0), []step{{0, 8, "SSSSSDDD"}}},
		{"slip 3", slip(3), []step{{0, 12, "SSSSSTDDTDDT"}}},
		{"credit comes back at 5 a second", rrl5(), []step{{0, 5, "SSSSS"}, {time.Second, 6, "SSSSST"}, {1400 * time.Millisecond, 3, "STD"}}},
		{"and never more than 5, however long the quiet", rrl5(), []step{{0, 1, "S"}, {time.Hour, 7, "SSSSSTD"}}},
		{"a flood is remembered for the window", slip(1), []step{{0, 1000, flood}, {14800 * time.Millisecond, 1, "T"}}},
		{"and no longer: its debt stops at the window", slip(1), []step{{0, 1000, flood}, {15200 * time.Millisecond, 1, "S"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := newLimiter(c.conf, 16)
			k := l.key(netip.MustParseAddr("192.0.2.1"), reply("school-0042.1.85.1561301001.cityid.internal.", dns.TypeTXT, dns.RcodeSuccess, 1))
			for _, s := range c.steps {
				var got strings.Builder
				for range s.n {
					got.WriteByte("STD"[l.check(int64(s.at), k)])
				}
				if got.String() != s.want {
					t.Fatalf("%d answers at %s: %s, want %s", s.n, s.at, got.String(), s.want)
				}
			}
		})
	}
}

// reply is an answer to name and qtype with rcode and n records.
func reply(name string, qtype uint16, rcode, n int) *dns.Msg {
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	m := new(dns.Msg)
	m.SetRcode(q, rcode)
	for range n {
		m.Answer = append(m.Answer, txt(name, 60, "x"))
	}
	return m
}

// Which answers share an account: the client's network, and the name and
// type, or the rcode for NXDOMAIN and errors.
func TestRateLimitKey(t *testing.T) {
	l := newLimiter(rrl5(), 16)
	const school, city = "school-0042.1.85.1561301001.cityid.internal.", "1561301001.cityid.internal."
	ok := reply(school, dns.TypeTXT, dns.RcodeSuccess, 2)
	ip := netip.MustParseAddr
	for _, c := range []struct {
		name   string
		a, b   netip.Addr
		ma, mb *dns.Msg
		same   bool
	}{
		{"the same answer to the same address", ip("192.0.2.1"), ip("192.0.2.1"), ok, ok, true},
		{"another address in the /24", ip("192.0.2.1"), ip("192.0.2.200"), ok, ok, true},
		{"another /24", ip("192.0.2.1"), ip("192.0.3.1"), ok, ok, false},
		{"an IPv4-mapped IPv6 address is its IPv4 address", ip("192.0.2.1"), ip("::ffff:192.0.2.9"), ok, ok, true},
		{"another address in the /56", ip("2001:db8:0:1::1"), ip("2001:db8:0:ff::2"), ok, ok, true},
		{"another /56", ip("2001:db8:0:1::1"), ip("2001:db8:0:100::1"), ok, ok, false},
		{"the name in another case", ip("192.0.2.1"), ip("192.0.2.1"), ok, reply(strings.ToUpper(school), dns.TypeTXT, dns.RcodeSuccess, 1), true},
		{"another name", ip("192.0.2.1"), ip("192.0.2.1"), ok, reply(city, dns.TypeTXT, dns.RcodeSuccess, 2), false},
		{"another type", ip("192.0.2.1"), ip("192.0.2.1"), ok, reply(school, dns.TypeURI, dns.RcodeSuccess, 2), false},
		{"NXDOMAIN for any name in the zone", ip("192.0.2.1"), ip("192.0.2.1"),
			reply("a."+city, dns.TypeTXT, dns.RcodeNameError, 0), reply("b."+city, dns.TypeURI, dns.RcodeNameError, 0), true},
		{"NXDOMAIN is not an answer", ip("192.0.2.1"), ip("192.0.2.1"), ok, reply(school, dns.TypeTXT, dns.RcodeNameError, 0), false},
		{"errors of any rcode and name", ip("192.0.2.1"), ip("192.0.2.1"),
			reply("example.org.", dns.TypeTXT, dns.RcodeRefused, 0), reply(city, dns.TypeAXFR, dns.RcodeServerFailure, 0), true},
		{"errors are not NXDOMAIN", ip("192.0.2.1"), ip("192.0.2.1"),
			reply("example.org.", dns.TypeTXT, dns.RcodeRefused, 0), reply("a."+city, dns.TypeTXT, dns.RcodeNameError, 0), false},
		{"NODATA for a name, whatever the type", ip("192.0.2.1"), ip("192.0.2.1"),
			reply(city, dns.TypeA, dns.RcodeSuccess, 0), reply(city, dns.TypeMX, dns.RcodeSuccess, 0), true},
		{"NODATA is not NXDOMAIN", ip("192.0.2.1"), ip("192.0.2.1"),
			reply(city, dns.TypeA, dns.RcodeSuccess, 0), reply("a."+city, dns.TypeA, dns.RcodeNameError, 0), false},
	} {
		if got := l.key(c.a, c.ma) == l.key(c.b, c.mb); got != c.same {
			t.Errorf("%s: same account %v, want %v", c.name, got, c.same)
		}
	}
}

// The table of accounts keeps a fixed number, forgetting the one used
// longest ago, however many sources a flood spoofs.
func TestRateLimitTable(t *testing.T) {
	conf := rrl5()
	conf.ResponsesPerSecond, conf.Slip = 1, 0
	l := newLimiter(conf, 4)
	var keys []rateKey
	for i := range 200 {
		keys = append(keys, l.key(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 1}), reply("x.cityid.internal.", dns.TypeTXT, dns.RcodeSuccess, 1)))
	}
	check := func(i int, want verdict) {
		t.Helper()
		if got := l.check(0, keys[i]); got != want {
			t.Fatalf("network %d: verdict %d, want %d", i, got, want)
		}
		if len(l.index) > 4 || len(l.entries) > 4 {
			t.Fatalf("%d accounts in the index, %d entries; the table holds 4", len(l.index), len(l.entries))
		}
		n := 0
		for e := l.newest; e >= 0; e = l.entries[e].old {
			n++
		}
		if n != len(l.index) {
			t.Fatalf("%d accounts in the list, %d in the index", n, len(l.index))
		}
	}
	check(0, verdictSend)
	check(0, verdictDrop) // over the limit: network 0 owes
	check(1, verdictSend)
	check(2, verdictSend)
	check(3, verdictSend) // full
	check(0, verdictDrop) // still owes; now the newest
	check(4, verdictSend) // takes network 1's place, the oldest
	check(1, verdictSend) // forgotten: a fresh account, in network 2's place
	check(0, verdictDrop) // still remembered
	for i := 5; i < 200; i++ {
		check(i, verdictSend)
	}
	check(0, verdictSend) // pushed out by the flood of others, forgotten
}

func TestRateLimitOptions(t *testing.T) {
	with := func(f func(*RateLimit)) RateLimit { r := DefaultRateLimit(); f(&r); return r }
	for _, c := range []struct {
		conf RateLimit
		want string // "" for valid
	}{
		{RateLimit{}, ""},
		{DefaultRateLimit(), ""},
		{with(func(r *RateLimit) { r.Slip = 0 }), ""},
		{with(func(r *RateLimit) { r.ResponsesPerSecond = -1 }), "-1 responses per second"},
		{with(func(r *RateLimit) { r.ResponsesPerSecond = 1001 }), "1001 responses per second"},
		{with(func(r *RateLimit) { r.Slip = 11 }), "slip 11"},
		{with(func(r *RateLimit) { r.Window = 0 }), "window 0s"},
		{with(func(r *RateLimit) { r.Window = 2 * time.Hour }), "window 2h0m0s"},
		{with(func(r *RateLimit) { r.IPv4Prefix = 0 }), "IPv4 prefix /0"},
		{with(func(r *RateLimit) { r.IPv6Prefix = 129 }), "IPv6 prefix /129"},
	} {
		_, err := New(ledger(t), Options{RateLimit: c.conf})
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%+v: %v, want %q", c.conf, err, c.want)
		}
	}
}

// exchangeAll sends qs over UDP from a socket bound to the address from,
// and returns the answers that come back: want of them within a few
// seconds, and no more.
func exchangeAll(t *testing.T, from, to string, qs []*dns.Msg, want int) []*dns.Msg {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(from)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	dst, err := net.ResolveUDPAddr("udp", to)
	if err != nil {
		t.Fatal(err)
	}
	for i, q := range qs {
		q.Id = uint16(i + 1)
		b, err := q.Pack()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.WriteToUDP(b, dst); err != nil {
			t.Fatal(err)
		}
	}
	var got []*dns.Msg
	buf := make([]byte, 1<<16)
	read := func(wait time.Duration) error {
		if err := conn.SetReadDeadline(time.Now().Add(wait)); err != nil {
			t.Fatal(err)
		}
		n, _, err := conn.ReadFromUDP(buf)
		if err != nil {
			return err
		}
		r := new(dns.Msg)
		if err := r.Unpack(buf[:n]); err != nil {
			t.Fatalf("answer from %s: %v", to, err)
		}
		got = append(got, r)
		return nil
	}
	for len(got) < want {
		if err := read(5 * time.Second); err != nil {
			t.Fatalf("%d of %d queries from %s answered, want %d: %v", len(got), len(qs), from, want, err)
		}
	}
	// Any further answer comes as fast as those did: a short wait shows
	// there is none.
	if err := read(300 * time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("%d of %d queries from %s answered, want %d (%v)", len(got), len(qs), from, want, err)
	}
	return got
}

// count sorts answers into whole ones and slips (TC, no records, the
// rcode of the answer they stand for).
func count(t *testing.T, rs []*dns.Msg, rcode int) (whole, slips int) {
	t.Helper()
	for _, r := range rs {
		if r.Rcode != rcode {
			t.Errorf("answer %d: %s, want %s", r.Id, dns.RcodeToString[r.Rcode], dns.RcodeToString[rcode])
		}
		if !r.Truncated {
			whole++
			continue
		}
		if len(r.Answer)+len(r.Ns)+len(r.Extra) != 0 {
			t.Errorf("answer %d: truncated with %d records; a slip carries none", r.Id, len(r.Answer)+len(r.Ns)+len(r.Extra))
		}
		slips++
	}
	return whole, slips
}

// questions are queries for each of names and types, reps times.
func questions(reps int, qtype uint16, names ...string) []*dns.Msg {
	var qs []*dns.Msg
	for range reps {
		for _, n := range names {
			q := new(dns.Msg)
			q.SetQuestion(n, qtype)
			qs = append(qs, q)
		}
	}
	return qs
}

// The rate limit over the wire, on a clock that stands still: a burst
// from one client beyond the limit gets slips and drops, the rest of its
// network shares its account, TCP still answers, and another network is
// unaffected. (Loopback is all of 127/8, so each /24 in it is a client
// network of its own.)
func TestRateLimitOverUDP(t *testing.T) {
	udp, tcp := serveWith(t, Options{RateLimit: rrl5()}, func() int64 { return 0 })
	const school = "school-0042.1.85.1561301001.cityid.internal."

	// 20 queries: 5 answered, then of the 15 beyond the limit every other
	// one truncated, starting with the first: 8 slips, 7 dropped.
	whole, slips := count(t, exchangeAll(t, "127.0.0.1", udp, questions(20, dns.TypeTXT, school), 13), dns.RcodeSuccess)
	if whole != 5 || slips != 8 {
		t.Errorf("a burst of 20: %d whole, %d truncated; want 5 and 8 (and 7 dropped)", whole, slips)
	}
	// Another host in 127.0.0.0/24 shares the account: one slip, one drop.
	whole, slips = count(t, exchangeAll(t, "127.0.0.2", udp, questions(2, dns.TypeTXT, school), 1), dns.RcodeSuccess)
	if whole != 0 || slips != 1 {
		t.Errorf("2 more from the same /24: %d whole, %d truncated; want 0 and 1 (and 1 dropped)", whole, slips)
	}
	// TCP is never limited.
	if r := query(t, "tcp", tcp, school, dns.TypeTXT, false); r.Truncated || len(r.Answer) != 4 {
		t.Errorf("over TCP after the burst: TC %v, %d answers; want the whole answer, 4", r.Truncated, len(r.Answer))
	}
	// Another /24 has an account of its own.
	whole, _ = count(t, exchangeAll(t, "127.0.1.1", udp, questions(5, dns.TypeTXT, school), 5), dns.RcodeSuccess)
	if whole != 5 {
		t.Errorf("another network: %d of 5 whole", whole)
	}
	// Answers for other names or types are counted apart: 6 kinds, once each.
	qs := questions(1, dns.TypeTXT, school, "1561301001.cityid.internal.", "85.1561301001.cityid.internal.",
		"1.85.1561301001.cityid.internal.", "_85.1561301001.cityid.internal.")
	qs = append(qs, questions(1, dns.TypeURI, school)...)
	whole, _ = count(t, exchangeAll(t, "127.0.2.1", udp, qs, 6), dns.RcodeSuccess)
	if whole != 6 {
		t.Errorf("6 names and types, once each: %d whole", whole)
	}
	// NXDOMAIN is counted for the zone, whatever the name: 6 names, 5
	// answered, the sixth truncated.
	whole, slips = count(t, exchangeAll(t, "127.0.3.1", udp, questions(1, dns.TypeTXT,
		"a.cityid.internal.", "b.cityid.internal.", "c.cityid.internal.", "d.cityid.internal.", "e.cityid.internal.", "f.cityid.internal."), 6), dns.RcodeNameError)
	if whole != 5 || slips != 1 {
		t.Errorf("NXDOMAIN for 6 names: %d whole, %d truncated; want 5 and 1", whole, slips)
	}
	// So are errors.
	whole, slips = count(t, exchangeAll(t, "127.0.4.1", udp, questions(1, dns.TypeTXT,
		"a.example.", "b.example.", "c.example.", "d.example.", "e.example.", "f.example."), 6), dns.RcodeRefused)
	if whole != 5 || slips != 1 {
		t.Errorf("REFUSED for 6 names: %d whole, %d truncated; want 5 and 1", whole, slips)
	}
}

// Without a rate limit (the zero Options), a burst is answered whole.
func TestRateLimitOff(t *testing.T) {
	udp, _ := serveWith(t, Options{}, func() int64 { return 0 })
	whole, _ := count(t, exchangeAll(t, "127.0.0.1", udp, questions(50, dns.TypeTXT, "1561301001.cityid.internal."), 50), dns.RcodeSuccess)
	if whole != 50 {
		t.Errorf("50 queries without a limit: %d whole", whole)
	}
}
