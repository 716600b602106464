package dnsfront

import (
	"testing"

	"github.com/miekg/dns"
)

// ANY gets the minimal answer of RFC 8482 for a name that exists, over
// UDP and TCP: one HINFO, never the record's values, however many.
func TestAny(t *testing.T) {
	udp, tcp := serve(t)
	for _, c := range []struct {
		name  string
		rcode int
	}{
		{"cityid.internal.", dns.RcodeSuccess},
		{"1561301001.cityid.internal.", dns.RcodeSuccess},
		{"values-32.1.85.1561301001.cityid.internal.", dns.RcodeSuccess},
		{"nobody.1.85.1561301001.cityid.internal.", dns.RcodeNameError},
		{"example.org.", dns.RcodeRefused},
	} {
		for _, n := range []struct{ net, addr string }{{"udp", udp}, {"tcp", tcp}} {
			r := query(t, n.net, n.addr, c.name, dns.TypeANY, true)
			if r.Rcode != c.rcode {
				t.Errorf("ANY %s over %s: %s, want %s", c.name, n.net, dns.RcodeToString[r.Rcode], dns.RcodeToString[c.rcode])
				continue
			}
			if c.rcode != dns.RcodeSuccess {
				if len(r.Answer) != 0 {
					t.Errorf("ANY %s over %s: %d answers with %s", c.name, n.net, len(r.Answer), dns.RcodeToString[r.Rcode])
				}
				continue
			}
			if r.Truncated || len(r.Answer) != 1 {
				t.Fatalf("ANY %s over %s: TC %v, %d answers; want one HINFO", c.name, n.net, r.Truncated, len(r.Answer))
			}
			h, ok := r.Answer[0].(*dns.HINFO)
			if !ok || h.Cpu != "RFC8482" || h.Os != "" || h.Hdr.Name != c.name {
				t.Errorf("ANY %s over %s: %v; want HINFO \"RFC8482\" \"\"", c.name, n.net, r.Answer[0])
			}
		}
	}
}
