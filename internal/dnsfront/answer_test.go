package dnsfront

import (
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/cityid/cityid/internal/registry"
)

// TestAnswer calls the question-to-answer function directly, one row per
// kind of question the zone answers (README.md's table), with no network:
// what each answer holds in each section, its rcode and its flags.
func TestAnswer(t *testing.T) {
	st := ledgerWith(t, func(apply func(string, any)) {
		apply(registry.KindRegister, registry.Register{ID: "1561301001.85.1/old-school", Values: []registry.Value{{Type: "URL", Data: "https://example.org/old"}}})
		apply(registry.KindDeactivate, registry.SetStatus{ID: "1561301001.85.1/old-school", Reason: "closed"})
		apply(registry.KindRegister, registry.Register{ID: "1561301001.85.1/school-42", Values: []registry.Value{
			{Type: registry.TypeAlias, Data: "1561301001.85.1/school-0042"},
		}})
		apply(registry.KindRegister, registry.Register{ID: "1561301001.85.1/census", Values: []registry.Value{
			{Type: registry.TypeData, Dataset: &registry.Dataset{URI: "https://example.org/census.csv", SHA256: strings.Repeat("ab", 32), Size: 1234, MediaType: "text/csv"}},
		}})
	})
	s, err := New(st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	view := st.Latest()
	const school = "school-0042.1.85.1561301001.cityid.internal."
	for _, c := range []struct {
		name    string
		qname   string
		qtype   uint16
		change  func(q *dns.Msg) // after SetQuestion
		nilView bool
		rcode   int
		aa      bool
		answer  []string // each answer record as dig prints it, but the owner's TTL and class columns kept
		ns      []string // the authority section, likewise
	}{
		{name: "TXT: what it is, then each value in index order with its TTL", qname: school, qtype: dns.TypeTXT, rcode: dns.RcodeSuccess, aa: true, answer: []string{
			school + "\t300\tIN\tTXT\t\"cityid=1561301001.85.1/school-0042; kind=object; version=1; status=active\"",
			school + "\t300\tIN\tTXT\t\"1:URL=https://example.org/school-0042\"",
			school + "\t86400\tIN\tTXT\t\"2:TEXT=No. 42 \\\"Primary\\\" School\"",
			school + "\t600\tIN\tTXT\t\"3:URL=https://example.org/map\"",
		}},
		{name: "URI: the URL values, priority the index, weight 1", qname: school, qtype: dns.TypeURI, rcode: dns.RcodeSuccess, aa: true, answer: []string{
			school + "\t300\tIN\tURI\t1 1 \"https://example.org/school-0042\"",
			school + "\t600\tIN\tURI\t3 1 \"https://example.org/map\"",
		}},
		{name: "URI of a record with no URL: NODATA", qname: "_85.1561301001.cityid.internal.", qtype: dns.TypeURI, rcode: dns.RcodeSuccess, aa: true, ns: []string{"SOA"}},
		{name: "the owner keeps the question's case", qname: "School-0042.1.85.1561301001.CITYID.internal.", qtype: dns.TypeURI, rcode: dns.RcodeSuccess, aa: true, answer: []string{
			"School-0042.1.85.1561301001.CITYID.internal.\t300\tIN\tURI\t1 1 \"https://example.org/school-0042\"",
			"School-0042.1.85.1561301001.CITYID.internal.\t600\tIN\tURI\t3 1 \"https://example.org/map\"",
		}},
		{name: "a city", qname: "1561301001.cityid.internal.", qtype: dns.TypeTXT, rcode: dns.RcodeSuccess, aa: true, answer: []string{
			"1561301001.cityid.internal.\t86400\tIN\tTXT\t\"cityid=1561301001; kind=city; version=1; status=active\"",
		}},
		{name: "a deactivated identifier still answers, and says so", qname: "old-school.1.85.1561301001.cityid.internal.", qtype: dns.TypeTXT, rcode: dns.RcodeSuccess, aa: true, answer: []string{
			"old-school.1.85.1561301001.cityid.internal.\t86400\tIN\tTXT\t\"cityid=1561301001.85.1/old-school; kind=object; version=2; status=deactivated\"",
			"old-school.1.85.1561301001.cityid.internal.\t86400\tIN\tTXT\t\"1:URL=https://example.org/old\"",
		}},
		{name: "ALIAS is a value like any other, not followed: no CNAME", qname: "school-42.1.85.1561301001.cityid.internal.", qtype: dns.TypeTXT, rcode: dns.RcodeSuccess, aa: true, answer: []string{
			"school-42.1.85.1561301001.cityid.internal.\t86400\tIN\tTXT\t\"cityid=1561301001.85.1/school-42; kind=object; version=1; status=active\"",
			"school-42.1.85.1561301001.cityid.internal.\t86400\tIN\tTXT\t\"1:ALIAS=1561301001.85.1/school-0042\"",
		}},
		{name: "DATA: the dataset's descriptor", qname: "census.1.85.1561301001.cityid.internal.", qtype: dns.TypeTXT, rcode: dns.RcodeSuccess, aa: true, answer: []string{
			"census.1.85.1561301001.cityid.internal.\t86400\tIN\tTXT\t\"cityid=1561301001.85.1/census; kind=object; version=1; status=active\"",
			"census.1.85.1561301001.cityid.internal.\t86400\tIN\tTXT\t\"1:DATA=uri=https://example.org/census.csv sha256=" + strings.Repeat("ab", 32) + " size=1234 media_type=text/csv\"",
		}},
		{name: "apex SOA: serial the height", qname: "cityid.internal.", qtype: dns.TypeSOA, rcode: dns.RcodeSuccess, aa: true, answer: []string{
			"cityid.internal.\t60\tIN\tSOA\tns1.cityid.internal. hostmaster.cityid.internal. 14 3600 600 604800 60",
		}},
		{name: "apex NS", qname: "cityid.internal.", qtype: dns.TypeNS, rcode: dns.RcodeSuccess, aa: true, answer: []string{"cityid.internal.\t86400\tIN\tNS\tns1.cityid.internal."}},
		{name: "apex, another type: NODATA", qname: "cityid.internal.", qtype: dns.TypeA, rcode: dns.RcodeSuccess, aa: true, ns: []string{"SOA"}},
		{name: "apex ANY: RFC 8482", qname: "cityid.internal.", qtype: dns.TypeANY, rcode: dns.RcodeSuccess, aa: true, answer: []string{"cityid.internal.\t8482\tIN\tHINFO\t\"RFC8482\" \"\""}},
		{name: "an identifier, ANY: RFC 8482, never the values", qname: "values-32.1.85.1561301001.cityid.internal.", qtype: dns.TypeANY, rcode: dns.RcodeSuccess, aa: true,
			answer: []string{"values-32.1.85.1561301001.cityid.internal.\t8482\tIN\tHINFO\t\"RFC8482\" \"\""}},
		{name: "an identifier, another type: NODATA", qname: "1561301001.cityid.internal.", qtype: dns.TypeAAAA, rcode: dns.RcodeSuccess, aa: true, ns: []string{"SOA"}},
		{name: "NS below the apex, existing: NODATA, no delegation", qname: "1561301001.cityid.internal.", qtype: dns.TypeNS, rcode: dns.RcodeSuccess, aa: true, ns: []string{"SOA"}},
		{name: "SOA below the apex, not existing: NXDOMAIN", qname: "nobody.1.85.1561301001.cityid.internal.", qtype: dns.TypeSOA, rcode: dns.RcodeNameError, aa: true, ns: []string{"SOA"}},
		{name: "not registered: NXDOMAIN with the SOA alone (no NSEC: no proof of absence)", qname: "nobody.1.85.1561301001.cityid.internal.", qtype: dns.TypeTXT, rcode: dns.RcodeNameError, aa: true,
			ns: []string{"cityid.internal.\t60\tIN\tSOA\tns1.cityid.internal. hostmaster.cityid.internal. 14 3600 600 604800 60"}},
		{name: "not registered, ANY: NXDOMAIN", qname: "nobody.1.85.1561301001.cityid.internal.", qtype: dns.TypeANY, rcode: dns.RcodeNameError, aa: true, ns: []string{"SOA"}},
		{name: "unknown city: NXDOMAIN", qname: "1561302004.cityid.internal.", qtype: dns.TypeTXT, rcode: dns.RcodeNameError, aa: true, ns: []string{"SOA"}},
		{name: "not an identifier: NXDOMAIN", qname: "www.cityid.internal.", qtype: dns.TypeTXT, rcode: dns.RcodeNameError, aa: true, ns: []string{"SOA"}},
		{name: "bad check character: NXDOMAIN", qname: "1561301002.cityid.internal.", qtype: dns.TypeTXT, rcode: dns.RcodeNameError, aa: true, ns: []string{"SOA"}},
		{name: "outside the zone: REFUSED, not authoritative", qname: "example.org.", qtype: dns.TypeTXT, rcode: dns.RcodeRefused},
		{name: "a zone that merely ends alike: REFUSED", qname: "1561301001.notcityid.internal.", qtype: dns.TypeTXT, rcode: dns.RcodeRefused},
		{name: "AXFR: REFUSED", qname: "cityid.internal.", qtype: dns.TypeAXFR, rcode: dns.RcodeRefused},
		{name: "IXFR: REFUSED", qname: "cityid.internal.", qtype: dns.TypeIXFR, rcode: dns.RcodeRefused},
		{name: "class CHAOS: REFUSED", qname: "1561301001.cityid.internal.", qtype: dns.TypeTXT, rcode: dns.RcodeRefused, aa: true,
			change: func(q *dns.Msg) { q.Question[0].Qclass = dns.ClassCHAOS }},
		{name: "class ANY: answered as IN", qname: "1561301001.cityid.internal.", qtype: dns.TypeTXT, rcode: dns.RcodeSuccess, aa: true,
			change: func(q *dns.Msg) { q.Question[0].Qclass = dns.ClassANY },
			answer: []string{"1561301001.cityid.internal.\t86400\tIN\tTXT\t\"cityid=1561301001; kind=city; version=1; status=active\""}},
		{name: "NOTIFY: NOTIMP", qname: "cityid.internal.", qtype: dns.TypeSOA, rcode: dns.RcodeNotImplemented, aa: true,
			change: func(q *dns.Msg) { q.Opcode = dns.OpcodeNotify }},
		{name: "two questions: FORMERR", qname: school, qtype: dns.TypeTXT, rcode: dns.RcodeFormatError, aa: true,
			change: func(q *dns.Msg) { q.Question = append(q.Question, q.Question[0]) }},
		{name: "no state yet: SERVFAIL", qname: school, qtype: dns.TypeTXT, nilView: true, rcode: dns.RcodeServerFailure, aa: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			q := new(dns.Msg)
			q.SetQuestion(c.qname, c.qtype)
			q.Id = 4242
			if c.change != nil {
				c.change(q)
			}
			v := view
			if c.nilView {
				v = nil
			}
			m, err := s.z.answer(v, q)
			if err != nil {
				t.Fatal(err)
			}
			if m.Id != q.Id || !m.Response || m.Rcode != c.rcode || m.Authoritative != c.aa || m.RecursionAvailable || m.Truncated {
				t.Fatalf("id %d response %v %s AA %v RA %v TC %v; want id %d, a response, %s, AA %v, no RA, no TC\n%v",
					m.Id, m.Response, dns.RcodeToString[m.Rcode], m.Authoritative, m.RecursionAvailable, m.Truncated, q.Id, dns.RcodeToString[c.rcode], c.aa, m)
			}
			if len(q.Question) == 1 && (len(m.Question) != 1 || m.Question[0] != q.Question[0]) {
				t.Errorf("question %v, want the query's %v", m.Question, q.Question)
			}
			section := func(what string, got []dns.RR, want []string) {
				if len(got) != len(want) {
					t.Fatalf("%s: %d records, want %d:\n%v", what, len(got), len(want), got)
				}
				for i, w := range want {
					g := got[i].String()
					if w == "SOA" { // the SOA, whatever its fields
						if got[i].Header().Rrtype != dns.TypeSOA || got[i].Header().Name != "cityid.internal." {
							t.Errorf("%s %d: %s, want the zone's SOA", what, i, g)
						}
						continue
					}
					if g != w {
						t.Errorf("%s %d:\n got %s\nwant %s", what, i, g, w)
					}
				}
			}
			section("answer", m.Answer, c.answer)
			section("authority", m.Ns, c.ns)
			if len(m.Extra) != 0 {
				t.Errorf("additional: %v, want none (EDNS is the serving path's)", m.Extra)
			}
		})
	}
}
