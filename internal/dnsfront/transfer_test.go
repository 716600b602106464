package dnsfront

import (
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Zone transfers are refused, over TCP and UDP, for the apex and for any
// name in the zone or outside it, with no records.
func TestTransferRefused(t *testing.T) {
	udp, tcp := serve(t)
	for _, name := range []string{"cityid.internal.", "school-0042.1.85.1561301001.cityid.internal.", "example.org."} {
		axfr := new(dns.Msg)
		axfr.SetAxfr(name)
		ixfr := new(dns.Msg)
		ixfr.SetIxfr(name, 1, "ns1."+name, "hostmaster."+name)
		for _, q := range []*dns.Msg{axfr, ixfr} {
			for _, n := range []struct{ net, addr string }{{"tcp", tcp}, {"udp", udp}} {
				c := &dns.Client{Net: n.net, Timeout: 3 * time.Second}
				r, _, err := c.Exchange(q, n.addr)
				qt := dns.TypeToString[q.Question[0].Qtype]
				if err != nil {
					t.Fatalf("%s %s over %s: %v", qt, name, n.net, err)
				}
				if r.Rcode != dns.RcodeRefused || len(r.Answer)+len(r.Ns) != 0 {
					t.Errorf("%s %s over %s: %s with %d answers, %d authority; want REFUSED and no records",
						qt, name, n.net, dns.RcodeToString[r.Rcode], len(r.Answer), len(r.Ns))
				}
			}
		}
	}
}
