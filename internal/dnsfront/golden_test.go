package dnsfront

import (
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

var update = flag.Bool("update", false, "rewrite testdata/answers.golden")

// goldenQuery is one query of the golden file: a name, a type, and the
// shape of the query that can change its answer's bytes.
type goldenQuery struct {
	name   string
	qtype  uint16
	edns   uint16 // advertised UDP size; 0: no EDNS
	rd, cd bool
	class  uint16 // 0: IN
}

// goldenQueries are one query of each kind the zone answers, in the
// shapes that change an answer's bytes: EDNS or not, the case of the
// name, the flags a reply copies, and sizes that truncate.
func goldenQueries() []goldenQuery {
	var out []goldenQuery
	names := []string{
		"cityid.internal.", "1561301001.cityid.internal.", "85.1561301001.cityid.internal.",
		"_85.1561301001.cityid.internal.", "school-0042.1.85.1561301001.cityid.internal.",
		"SCHOOL-0042.1.85.1561301001.CityID.Internal.", "big.1.85.1561301001.cityid.internal.",
		"values-1.1.85.1561301001.cityid.internal.", "values-32.1.85.1561301001.cityid.internal.",
		"nobody.1.85.1561301001.cityid.internal.", "1561302004.cityid.internal.", "www.cityid.internal.",
		"1561301002.cityid.internal.", "example.org.", "1561301001.notcityid.internal.",
	}
	types := []uint16{dns.TypeTXT, dns.TypeURI, dns.TypeANY, dns.TypeSOA, dns.TypeNS, dns.TypeA, dns.TypeAXFR}
	for i, name := range names {
		for j, qtype := range types {
			q := goldenQuery{name: name, qtype: qtype}
			switch (i + j) % 3 {
			case 1:
				q.edns = 4096
			case 2:
				q.edns = 1232
			}
			q.rd = (i+j)%2 == 0
			q.cd = (i+j)%5 == 0
			out = append(out, q)
		}
	}
	for _, size := range []uint16{0, 512, 1232, 4096} {
		for _, name := range []string{"school-0042.1.85.1561301001.cityid.internal.", "values-1.1.85.1561301001.cityid.internal."} {
			out = append(out, goldenQuery{name: name, qtype: dns.TypeTXT, edns: size})
		}
	}
	out = append(out,
		goldenQuery{name: "1561301001.cityid.internal.", qtype: dns.TypeTXT, class: dns.ClassANY},
		goldenQuery{name: "1561301001.cityid.internal.", qtype: dns.TypeTXT, class: dns.ClassCHAOS},
	)
	return out
}

func (g goldenQuery) msg(id uint16) *dns.Msg {
	q := new(dns.Msg)
	q.SetQuestion(g.name, g.qtype)
	q.Id = id
	q.RecursionDesired, q.CheckingDisabled = g.rd, g.cd
	if g.class != 0 {
		q.Question[0].Qclass = g.class
	}
	if g.edns > 0 {
		q.SetEdns0(g.edns, false)
	}
	return q
}

func (g goldenQuery) String() string {
	class := "IN"
	if g.class != 0 {
		class = dns.ClassToString[g.class]
	}
	return fmt.Sprintf("%s %s %s edns=%d rd=%v cd=%v", g.name, class, dns.TypeToString[g.qtype], g.edns, g.rd, g.cd)
}

// TestGoldenAnswers pins every answer's bytes, over UDP and TCP, as the
// front end sends them: a change to how answers are built or sent (a
// cache of packed answers, another UDP path) must leave them as they are.
// go test ./internal/dnsfront -run GoldenAnswers -update rewrites it.
func TestGoldenAnswers(t *testing.T) {
	s, err := New(ledger(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i, g := range goldenQueries() {
		for _, tcp := range []bool{false, true} {
			w := &recorder{tcp: tcp}
			s.serve(w, g.msg(uint16(1000+i)))
			net := "udp"
			if tcp {
				net = "tcp"
			}
			if len(w.writes) != 1 {
				t.Fatalf("%s over %s: %d replies", g, net, len(w.writes))
			}
			fmt.Fprintf(&b, "%s %s\n%s\n", net, g, hex.EncodeToString(w.writes[0]))
		}
	}
	path := filepath.Join("testdata", "answers.golden")
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	got := strings.Split(b.String(), "\n")
	lines := strings.Split(string(want), "\n")
	if len(got) != len(lines) {
		t.Fatalf("%d lines, golden file has %d", len(got), len(lines))
	}
	for i := range got {
		if got[i] != lines[i] {
			t.Fatalf("line %d (%s):\n got %s\nwant %s", i+1, got[i-i%2], got[i], lines[i])
		}
	}
}
