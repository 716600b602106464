package dnsfront

import (
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// maxAmplification bounds the bytes of a UDP answer over those of its
// query, for every name of the zone and every size a client advertises.
// The largest answer sent is maxUDPSize; the shortest query for an
// identifier's TXT that advertises EDNS is about 60 bytes.
const maxAmplification = 20

// A query over UDP, whatever size it advertises, gets an answer at most
// maxAmplification times its size, and no more than the size allowed (512
// bytes without EDNS, the advertised size up to maxUDPSize with it). An
// answer that does not fit comes back with TC and no records: the size of
// the query. The audit saw 18 times the query for a record of many values,
// filled with records up to the advertised size.
func TestAmplification(t *testing.T) {
	udp, _ := serve(t)
	conn, err := net.Dial("udp", udp)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, c := range []struct {
		qname string
		fits  map[uint16]bool // by advertised size (0: no EDNS): whether the whole answer comes back
	}{
		{"school-0042.1.85.1561301001.cityid.internal.", map[uint16]bool{0: true, 512: true, 1232: true, 4096: true}},
		{"values-1.1.85.1561301001.cityid.internal.", map[uint16]bool{1232: true, 4096: true}},
		{"values-3.1.85.1561301001.cityid.internal.", nil},  // fits in 4096 but not in maxUDPSize
		{"values-32.1.85.1561301001.cityid.internal.", nil}, // the largest record the registry permits
	} {
		for _, advertised := range []uint16{0, 512, 1232, 4096} {
			q := new(dns.Msg)
			q.SetQuestion(c.qname, dns.TypeTXT)
			allowed := dns.MinMsgSize
			if advertised > 0 {
				q.SetEdns0(advertised, false)
				allowed = min(int(advertised), maxUDPSize)
			}
			qb, err := q.Pack()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := conn.Write(qb); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 1<<16)
			if err := conn.SetReadDeadline(time.Now().Add(3 * time.Second)); err != nil {
				t.Fatal(err)
			}
			n, err := conn.Read(buf)
			if err != nil {
				t.Fatalf("%s, EDNS %d: %v", c.qname, advertised, err)
			}
			r := new(dns.Msg)
			if err := r.Unpack(buf[:n]); err != nil {
				t.Fatalf("%s, EDNS %d: %v", c.qname, advertised, err)
			}
			ratio := float64(n) / float64(len(qb))
			t.Logf("%s EDNS %d: query %d bytes, answer %d bytes, %.2f×, TC %v", c.qname, advertised, len(qb), n, ratio, r.Truncated)
			if n > allowed {
				t.Errorf("%s, EDNS %d: answer of %d bytes, over the %d allowed", c.qname, advertised, n, allowed)
			}
			if ratio > maxAmplification {
				t.Errorf("%s, EDNS %d: answer %.1f times the query, over %d", c.qname, advertised, ratio, maxAmplification)
			}
			if c.fits[advertised] {
				if r.Truncated || r.Rcode != dns.RcodeSuccess || len(r.Answer) == 0 {
					t.Errorf("%s, EDNS %d: TC %v, %s, %d answers; want the whole answer", c.qname, advertised, r.Truncated, dns.RcodeToString[r.Rcode], len(r.Answer))
				}
				continue
			}
			if !r.Truncated || len(r.Answer)+len(r.Ns) != 0 || n > len(qb) {
				t.Errorf("%s, EDNS %d: TC %v, %d answers, %d authority, %d bytes for a query of %d; want TC, no records, no larger than the query",
					c.qname, advertised, r.Truncated, len(r.Answer), len(r.Ns), n, len(qb))
			}
			if (advertised > 0) != (r.IsEdns0() != nil) {
				t.Errorf("%s, EDNS %d: OPT in the answer %v", c.qname, advertised, r.IsEdns0() != nil)
			}
		}
	}
}
