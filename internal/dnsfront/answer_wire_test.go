package dnsfront

import (
	"bytes"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/cityid/cityid/internal/registry"
)

// TestWireAnswersAgree: answers written from the record's bytes
// (wireAnswer) are the zone's answers packed, byte for byte, for records
// whose values make the writing hard (escapes in the stored JSON, a
// value cut into several strings with a character across the cut, a
// dataset, no values, a deactivated record, URL values), asked in any
// case, with and without EDNS; and they are taken where the test says.
func TestWireAnswersAgree(t *testing.T) {
	long := strings.Repeat("水", 84) + "ab" // 254 bytes, then a character across the cut
	st := ledgerWith(t, func(apply func(string, any)) {
		apply(registry.KindRegister, registry.Register{ID: "1561301001.85.1/escapes", Values: []registry.Value{
			{Type: "URL", Data: "https://example.org/?a=1&b=%3C2%3E", TTL: 60},
			{Type: "TEXT", Data: `<b>"quoted" \ back</b> & é ` + "\u2028 \U0001F600"},
			{Type: "TEXT", Data: long + long},
			{Type: "DATA", Dataset: &registry.Dataset{URI: "https://node.sjz.example/d.csv", SHA256: strings.Repeat("0f", 32), Size: 48213, MediaType: "text/csv"}, TTL: 120},
			{Type: "DATA", Dataset: &registry.Dataset{URI: "https://node.sjz.example/open.csv", SHA256: strings.Repeat("1e", 32), Size: 7, MediaType: "text/csv", Public: true}, TTL: 120},
			{Type: "URL", Data: "https://example.org/second", TTL: 30},
		}})
		apply(registry.KindRegister, registry.Register{ID: "1561301001.85.1/bare"})
		apply(registry.KindRegister, registry.Register{ID: "1561301001.85.1/gone", Values: []registry.Value{{Type: "URL", Data: "https://example.org/gone"}}})
		apply(registry.KindDeactivate, registry.SetStatus{ID: "1561301001.85.1/gone", Reason: "removed <now>"})
	})
	s, err := New(st, Options{RateLimit: DefaultRateLimit()})
	if err != nil {
		t.Fatal(err)
	}
	s.clock = func() int64 { return 0 }
	cases := []struct {
		name  string
		qtype uint16
		wire  bool // answered by wireAnswer
	}{
		{"escapes.1.85.1561301001.cityid.internal.", dns.TypeTXT, true},
		{"ESCAPES.1.85.1561301001.CityID.Internal.", dns.TypeTXT, true},
		{"escapes.1.85.1561301001.cityid.internal.", dns.TypeURI, true},
		{"school-0042.1.85.1561301001.cityid.internal.", dns.TypeTXT, true},
		{"school-0042.1.85.1561301001.cityid.internal.", dns.TypeURI, true},
		{"bare.1.85.1561301001.cityid.internal.", dns.TypeTXT, true},
		{"gone.1.85.1561301001.cityid.internal.", dns.TypeTXT, true},
		{"gone.1.85.1561301001.cityid.internal.", dns.TypeURI, true},
		{"1561301001.cityid.internal.", dns.TypeTXT, true},
		{"values-3.1.85.1561301001.cityid.internal.", dns.TypeTXT, false},  // larger than a datagram
		{"bare.1.85.1561301001.cityid.internal.", dns.TypeURI, false},      // NODATA
		{"absent.1.85.1561301001.cityid.internal.", dns.TypeTXT, false},    // NXDOMAIN
		{"cityid.internal.", dns.TypeTXT, false},                           // the apex
		{"school-0042.1.85.1561301001.cityid.internal.", dns.TypeA, false}, // another type
		{"school-0042.1.85.1561301001.example.", dns.TypeTXT, false},       // outside the zone
	}
	taken := 0
	for _, c := range cases {
		for _, edns := range []bool{false, true} {
			q := new(dns.Msg)
			q.SetQuestion(c.name, c.qtype)
			q.Id = 4242
			q.CheckingDisabled = edns
			if edns {
				q.SetEdns0(1232, false)
			}
			pkt, err := q.Pack()
			if err != nil {
				t.Fatal(err)
			}
			pq, ok := parseQuery(pkt)
			if !ok {
				t.Fatalf("%s: not a plain query", c.name)
			}
			sc := new(wireScratch)
			e, mine := s.wireAnswer(s.state.Latest(), pq, pkt, sc)
			if mine != c.wire {
				t.Errorf("%s %s edns %v: written from the record %v, want %v", c.name, dns.TypeToString[c.qtype], edns, mine, c.wire)
				continue
			}
			if mine {
				taken++
				// The zone's answer, whole and truncated, as the cache keeps it.
				m, err := s.z.answer(s.state.Latest(), q)
				if err != nil {
					t.Fatal(err)
				}
				ref, err := s.pack(m, edns)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(e.full, ref.full) || !bytes.Equal(truncatedOf(nil, e.full, edns), ref.trunc) || e.rate != ref.rate || e.rcode != ref.rcode {
					t.Errorf("%s %s edns %v:\n got %x\n     %x %+v\nwant %x\n     %x %+v", c.name, dns.TypeToString[c.qtype], edns, e.full, e.trunc, e.rate, ref.full, ref.trunc, ref.rate)
				}
				var back dns.Msg
				if err := back.Unpack(e.full); err != nil || len(back.Answer) == 0 {
					t.Errorf("%s: the answer written does not unpack to records: %v", c.name, err)
				}
			}
			// The whole UDP path, first asked (built) and again (kept).
			want := s.answerSlow(pkt, udpLocal, udpRemote)
			for range 2 {
				if got := s.answerUDP(pkt, udpLocal, udpRemote, nil, nil); !bytes.Equal(got, want) {
					t.Errorf("%s %s edns %v: the UDP path\n got %x\nwant %x", c.name, dns.TypeToString[c.qtype], edns, got, want)
				}
			}
		}
	}
	if taken == 0 {
		t.Fatal("no answer was written from a record")
	}
	// The public dataset says so; the other one's text is as it always was.
	q := new(dns.Msg)
	q.SetQuestion("escapes.1.85.1561301001.cityid.internal.", dns.TypeTXT)
	m, err := s.z.answer(s.state.Latest(), q)
	if err != nil {
		t.Fatal(err)
	}
	var datas []string
	for _, rr := range m.Answer {
		if txt := strings.Join(rr.(*dns.TXT).Txt, ""); strings.Contains(txt, ":DATA=") {
			datas = append(datas, txt)
		}
	}
	if want := []string{
		"4:DATA=uri=https://node.sjz.example/d.csv sha256=" + strings.Repeat("0f", 32) + " size=48213 media_type=text/csv",
		"5:DATA=uri=https://node.sjz.example/open.csv sha256=" + strings.Repeat("1e", 32) + " size=7 media_type=text/csv public=1",
	}; strings.Join(datas, "\n") != strings.Join(want, "\n") {
		t.Errorf("DATA answers\n%s\nwant\n%s", strings.Join(datas, "\n"), strings.Join(want, "\n"))
	}
}
