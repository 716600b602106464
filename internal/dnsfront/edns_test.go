package dnsfront

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// exchange sends m and returns the reply.
func exchange(t *testing.T, network, addr string, m *dns.Msg) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: network, Timeout: 3 * time.Second}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s %v: %v", network, m.Question, err)
	}
	return r
}

// TestGlue: the zone's name server inside it has an address, given with
// the NS records and answered for A and AAAA, so a delegation to it is
// not lame; a name server outside the zone, or not among the NS names,
// cannot be given one.
func TestGlue(t *testing.T) {
	v4, v6 := netip.MustParseAddr("192.0.2.53"), netip.MustParseAddr("2001:db8::53")
	udp, tcp := serveWith(t, Options{NS: []string{"ns1.cityid.internal", "ns.example.org"},
		Glue: map[string][]netip.Addr{"NS1.cityid.internal": {v4, v6}}}, nil)
	for _, net := range []struct{ name, addr string }{{"udp", udp}, {"tcp", tcp}} {
		r := query(t, net.name, net.addr, "cityid.internal.", dns.TypeNS, true)
		var glue []string
		for _, rr := range r.Extra {
			if rr.Header().Rrtype != dns.TypeOPT {
				glue = append(glue, rr.String())
			}
		}
		if len(r.Answer) != 2 || len(glue) != 2 || !strings.Contains(glue[0], "ns1.cityid.internal.\t86400\tIN\tA\t192.0.2.53") ||
			!strings.Contains(glue[1], "AAAA\t2001:db8::53") {
			t.Errorf("%s: NS answer %v with glue %v, want two NS and ns1's A and AAAA", net.name, r.Answer, glue)
		}
		for qtype, want := range map[uint16]string{dns.TypeA: "192.0.2.53", dns.TypeAAAA: "2001:db8::53"} {
			r := query(t, net.name, net.addr, "ns1.cityid.internal.", qtype, false)
			if r.Rcode != dns.RcodeSuccess || !r.Authoritative || len(r.Answer) != 1 || !strings.Contains(r.Answer[0].String(), want) {
				t.Errorf("%s: ns1 %s: %v", net.name, dns.TypeToString[qtype], r)
			}
		}
		if r := query(t, net.name, net.addr, "ns1.cityid.internal.", dns.TypeTXT, false); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 || len(r.Ns) != 1 {
			t.Errorf("%s: ns1 TXT: %v, want NODATA", net.name, r)
		}
	}
	for _, bad := range []map[string][]netip.Addr{
		{"ns.example.org": {v4}},      // outside the zone
		{"ns2.cityid.internal": {v4}}, // not a name server of the zone
		{"cityid.internal": {v4}},     // the apex
		{"ns1.cityid.internal": {{}}}, // no address
	} {
		if _, err := New(ledger(t), Options{NS: []string{"ns1.cityid.internal", "ns.example.org"}, Glue: bad}); err == nil {
			t.Errorf("glue %v accepted", bad)
		}
	}
}

// TestEDNS: RFC 6891 and 3225 as a resolver expects them: the DO bit
// echoed, an EDNS version other than 0 answered BADVERS with our version,
// two OPT records a FORMERR; over UDP (both paths) and TCP.
func TestEDNS(t *testing.T) {
	udp, tcp := serve(t)
	const name = "1561301001.cityid.internal."
	for _, net := range []struct{ name, addr string }{{"udp", udp}, {"tcp", tcp}} {
		for _, do := range []bool{false, true} {
			m := new(dns.Msg)
			m.SetQuestion(name, dns.TypeTXT)
			m.SetEdns0(1232, do)
			r := exchange(t, net.name, net.addr, m)
			opt := r.IsEdns0()
			if r.Rcode != dns.RcodeSuccess || len(r.Answer) == 0 || opt == nil || opt.Do() != do || opt.Version() != 0 {
				t.Errorf("%s DO=%v: %v", net.name, do, r)
			}
		}
		m := new(dns.Msg)
		m.SetQuestion(name, dns.TypeTXT)
		m.SetEdns0(1232, false)
		m.IsEdns0().SetVersion(1)
		r := exchange(t, net.name, net.addr, m)
		if opt := r.IsEdns0(); r.Rcode != dns.RcodeBadVers || len(r.Answer) != 0 || opt == nil || opt.Version() != 0 {
			t.Errorf("%s EDNS version 1: rcode %s, %v; want BADVERS with an OPT of version 0", net.name, dns.RcodeToString[r.Rcode], r)
		}
		m = new(dns.Msg)
		m.SetQuestion(name, dns.TypeTXT)
		m.SetEdns0(1232, false)
		m.Extra = append(m.Extra, m.Extra[0])
		r = exchange(t, net.name, net.addr, m)
		if r.Rcode != dns.RcodeFormatError || len(r.Answer) != 0 {
			t.Errorf("%s two OPT records: rcode %s, want FORMERR", net.name, dns.RcodeToString[r.Rcode])
		}
	}
}
