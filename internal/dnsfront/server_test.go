package dnsfront

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/store"
)

const chainID = "dns-test"

// ledger builds real ledger state through the state machine: Shijiazhuang,
// its education sector and unit 1, a school with two URLs and a text, an
// object "85" directly under the city, one with six 1,000-byte texts, and
// three whose values are as large as the registry permits.
func ledger(t testing.TB) *store.Store {
	t.Helper()
	return ledgerWith(t, nil)
}

// ledgerWith is ledger, then the transactions more applies, a block each.
func ledgerWith(t testing.TB, more func(apply func(kind string, msg any))) *store.Store {
	t.Helper()
	st, apply := newLedger(t)
	if more != nil {
		more(apply)
	}
	return st
}

// newLedger is ledger and a function that applies one more transaction
// in a block of its own and commits it.
func newLedger(t testing.TB) (*store.Store, func(kind string, msg any)) {
	t.Helper()
	st, err := store.OpenMemory(store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := registry.New(chainID)
	op := ed25519.NewKeyFromSeed(make([]byte, 32))
	opPub := registry.KeyText(op.Public().(ed25519.PublicKey))
	gen, _ := json.Marshal(registry.Genesis{Authority: registry.Authority{Members: []string{opPub}, Threshold: 1}, Params: registry.Params{OIDArc: "2.25.1", IAC: "MA"}})
	if err := m.InitGenesis(st, gen, nil); err != nil {
		t.Fatal(err)
	}
	nonce := uint64(0)
	height := int64(0)
	apply := func(kind string, msg any) {
		t.Helper()
		nonce++
		body, _ := registry.NewBody(kind, nonce, msg)
		tx, _ := registry.Sign(chainID, body, op).Encode()
		height++
		res, err := m.ApplyBlock(st, registry.Block{Height: height, Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, [][]byte{tx}, nil)
		if err != nil || res[0].Err != nil {
			t.Fatalf("%s: %v %v", kind, err, res[0].Err)
		}
		if _, _, err := st.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	city := registry.ApplyCity{Country: "156", CityNumber: "130100", Name: "石家庄市"}
	apply(registry.KindApplyCity, city)
	hash, herr := registry.ApplicationHash(opPub, city)
	if herr != nil {
		t.Fatal(herr)
	}
	apply(registry.KindApproveApplication, registry.Decision{Application: 1, Hash: hash})
	apply(registry.KindRegisterSector, registry.RegisterSector{ID: "1561301001.85"})
	apply(registry.KindRegisterUnit, registry.RegisterUnit{Parent: "1561301001.85", Name: "Education Bureau"})
	apply(registry.KindRegister, registry.Register{ID: "1561301001.85.1/school-0042", Values: []registry.Value{
		{Type: "URL", Data: "https://example.org/school-0042", TTL: 300},
		{Type: "TEXT", Data: `No. 42 "Primary" School`},
		{Type: "URL", Data: "https://example.org/map", TTL: 600},
	}})
	apply(registry.KindRegister, registry.Register{ID: "1561301001/85", Values: []registry.Value{{Type: "TEXT", Data: "object 85"}}})
	var big []registry.Value
	for i := 0; i < 6; i++ {
		big = append(big, registry.Value{Type: "TEXT", Data: strings.Repeat(fmt.Sprint(i), 1000)})
	}
	apply(registry.KindRegister, registry.Register{ID: "1561301001.85.1/big", Values: big})
	// Records of 1, 3 and 32 values of the most bytes a value may hold
	// (registry.MaxValues, registry.MaxValueBytes): the last is the
	// largest record the registry permits.
	for _, n := range []int{1, 3, registry.MaxValues} {
		var vs []registry.Value
		for i := range n {
			vs = append(vs, registry.Value{Type: "TEXT", Data: strings.Repeat(string(rune('a'+i%26)), registry.MaxValueBytes)})
		}
		apply(registry.KindRegister, registry.Register{ID: fmt.Sprintf("1561301001.85.1/values-%d", n), Values: vs})
	}
	return st, apply
}

// serve starts the front end on free loopback ports, UDP and TCP.
func serve(t *testing.T) (udp, tcp string) {
	t.Helper()
	return serveWith(t, Options{}, nil)
}

// serveWith starts the front end with opts; clock, when set, replaces the
// rate limit's clock.
func serveWith(t *testing.T, opts Options, clock func() int64) (udp, tcp string) {
	t.Helper()
	s, err := New(ledger(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	if clock != nil {
		s.clock = clock
	}
	u, tc, err := s.ListenAndServe("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	return u.String(), tc.String()
}

func query(t *testing.T, network, addr, name string, qtype uint16, edns bool) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: network, Timeout: 3 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	if edns {
		m.SetEdns0(4096, false)
	}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s %s %s: %v", network, name, dns.TypeToString[qtype], err)
	}
	return r
}

func TestAnswers(t *testing.T) {
	udp, tcp := serve(t)
	for _, c := range []struct {
		name   string
		qname  string
		qtype  uint16
		rcode  int
		answer []string // substrings the answer section must hold, in order
		soa    bool     // the SOA in the authority section
	}{
		{"city TXT", "1561301001.cityid.internal.", dns.TypeTXT, dns.RcodeSuccess, []string{"cityid=1561301001; kind=city; version=1; status=active"}, false},
		{"object TXT, values in index order, TTLs from the values", "school-0042.1.85.1561301001.cityid.internal.", dns.TypeTXT, dns.RcodeSuccess,
			[]string{"300\tIN\tTXT\t\"cityid=1561301001.85.1/school-0042", "300\tIN\tTXT\t\"1:URL=https://example.org/school-0042\"", `86400	IN	TXT	"2:TEXT=No. 42 \"Primary\" School"`, "600\tIN\tTXT\t\"3:URL=https://example.org/map\""}, false},
		{"case does not matter", "SCHOOL-0042.1.85.1561301001.CityID.Internal.", dns.TypeTXT, dns.RcodeSuccess, []string{"cityid=1561301001.85.1/school-0042", "1:URL=https://example.org/school-0042", "2:TEXT=", "3:URL="}, false},
		{"URI for URL values", "school-0042.1.85.1561301001.cityid.internal.", dns.TypeURI, dns.RcodeSuccess, []string{"URI\t1 1 \"https://example.org/school-0042\"", "URI\t3 1 \"https://example.org/map\""}, false},
		{"object 85 under the city is not sector 85", "_85.1561301001.cityid.internal.", dns.TypeTXT, dns.RcodeSuccess, []string{"cityid=1561301001/85;", "1:TEXT=object 85"}, false},
		{"sector 85", "85.1561301001.cityid.internal.", dns.TypeTXT, dns.RcodeSuccess, []string{"cityid=1561301001.85; kind=sector"}, false},
		{"apex SOA", "cityid.internal.", dns.TypeSOA, dns.RcodeSuccess, []string{"SOA\tns1.cityid.internal. hostmaster.cityid.internal. 10 "}, false},
		{"apex NS", "cityid.internal.", dns.TypeNS, dns.RcodeSuccess, []string{"NS\tns1.cityid.internal."}, false},
		{"apex other type: NODATA", "cityid.internal.", dns.TypeA, dns.RcodeSuccess, nil, true},
		{"existing name, other type: NODATA", "1561301001.cityid.internal.", dns.TypeA, dns.RcodeSuccess, nil, true},
		{"unknown identifier: NXDOMAIN", "nobody.1.85.1561301001.cityid.internal.", dns.TypeTXT, dns.RcodeNameError, nil, true},
		{"unknown city: NXDOMAIN", "1561302004.cityid.internal.", dns.TypeTXT, dns.RcodeNameError, nil, true},
		{"not an identifier: NXDOMAIN", "www.cityid.internal.", dns.TypeTXT, dns.RcodeNameError, nil, true},
		{"bad check character: NXDOMAIN", "1561301002.cityid.internal.", dns.TypeTXT, dns.RcodeNameError, nil, true},
		{"outside the zone: REFUSED", "example.org.", dns.TypeTXT, dns.RcodeRefused, nil, false},
		{"a zone that merely ends alike: REFUSED", "1561301001.notcityid.internal.", dns.TypeTXT, dns.RcodeRefused, nil, false},
	} {
		for _, net := range []struct{ name, addr string }{{"udp", udp}, {"tcp", tcp}} {
			t.Run(c.name+"/"+net.name, func(t *testing.T) {
				r := query(t, net.name, net.addr, c.qname, c.qtype, false)
				if r.Rcode != c.rcode {
					t.Fatalf("rcode %s, want %s\n%v", dns.RcodeToString[r.Rcode], dns.RcodeToString[c.rcode], r)
				}
				if r.RecursionAvailable {
					t.Error("RA set: this server never recurses")
				}
				if c.rcode != dns.RcodeRefused && !r.Authoritative {
					t.Error("AA not set on an answer for our zone")
				}
				if len(r.Answer) != len(c.answer) {
					t.Fatalf("%d answers, want %d:\n%v", len(r.Answer), len(c.answer), r.Answer)
				}
				for i, want := range c.answer {
					if got := r.Answer[i].String(); !strings.Contains(got, want) {
						t.Errorf("answer %d is %q, want it to contain %q", i, got, want)
					}
				}
				if c.soa != (len(r.Ns) == 1 && r.Ns[0].Header().Rrtype == dns.TypeSOA) {
					t.Errorf("authority section %v; want the SOA: %v", r.Ns, c.soa)
				}
			})
		}
	}
}

// A large answer is truncated over UDP and whole over TCP.
func TestTruncation(t *testing.T) {
	udp, tcp := serve(t)
	name := "big.1.85.1561301001.cityid.internal."
	r := query(t, "udp", udp, name, dns.TypeTXT, false)
	if !r.Truncated {
		t.Fatalf("6 KB over UDP without EDNS: not truncated (%d answers)", len(r.Answer))
	}
	r = query(t, "udp", udp, name, dns.TypeTXT, true)
	if !r.Truncated {
		t.Fatalf("6 KB over UDP with EDNS 4096 (capped at 1232): not truncated")
	}
	r = query(t, "tcp", tcp, name, dns.TypeTXT, false)
	if r.Truncated || len(r.Answer) != 7 {
		t.Fatalf("over TCP: truncated %v, %d answers; want whole, 7", r.Truncated, len(r.Answer))
	}
	// A 1,000-byte value is one RR of several character-strings.
	txt := r.Answer[1].(*dns.TXT)
	if len(txt.Txt) != 4 || strings.Join(txt.Txt, "") != "1:TEXT="+strings.Repeat("0", 1000) {
		t.Fatalf("long value: %d strings, joined %d bytes", len(txt.Txt), len(strings.Join(txt.Txt, "")))
	}
}

func TestNotAQuery(t *testing.T) {
	udp, _ := serve(t)
	c := &dns.Client{Net: "udp", Timeout: 3 * time.Second}
	m := new(dns.Msg)
	m.SetNotify("cityid.internal.")
	r, _, err := c.Exchange(m, udp)
	if err != nil {
		t.Fatal(err)
	}
	if r.Rcode != dns.RcodeNotImplemented {
		t.Fatalf("NOTIFY: %s, want NOTIMP", dns.RcodeToString[r.Rcode])
	}
}

// A port whose TCP side is taken is refused with the address and the
// protocol, and the UDP side it bound is let go again.
func TestPortTakenForTCP(t *testing.T) {
	s, err := New(ledger(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Another process may hold the UDP side of a port this test picks:
	// then it picks another.
	for range 8 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		_, _, err = s.ListenAndServe(addr)
		ln.Close()
		if err != nil && strings.Contains(err.Error(), addr+"/udp") {
			continue
		}
		if err == nil || !strings.Contains(err.Error(), addr+"/tcp") || !errors.Is(err, syscall.EADDRINUSE) {
			t.Fatalf("ListenAndServe on a taken TCP port: %v; want address in use on %s/tcp", err, addr)
		}
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			t.Fatalf("UDP side not released after the refusal: %v", err)
		}
		pc.Close()
		return
	}
	t.Fatal("no port with a free UDP side in 8 tries")
}

// A server shut down right after it starts stops answering: miekg/dns
// refuses to shut down a server that has not marked itself started, and
// would leave it serving.
func TestShutdownRightAfterStart(t *testing.T) {
	for range 20 {
		s, err := New(ledger(t), Options{})
		if err != nil {
			t.Fatal(err)
		}
		udp, tcp, err := s.ListenAndServe("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Shutdown(context.Background()); err != nil {
			t.Fatalf("shutdown right after start: %v", err)
		}
		for _, a := range []net.Addr{udp, tcp} {
			c := &dns.Client{Net: a.Network(), Timeout: 200 * time.Millisecond}
			m := new(dns.Msg)
			m.SetQuestion("cityid.internal.", dns.TypeSOA)
			if r, _, err := c.Exchange(m, a.String()); err == nil {
				t.Fatalf("%s %s answered after shutdown: %v", a.Network(), a, r)
			}
		}
	}
}
