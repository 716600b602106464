package dnsfront

import (
	"net"
	"testing"

	"github.com/miekg/dns"
)

// recorder is a ResponseWriter over UDP or TCP that keeps what it is sent.
type recorder struct {
	tcp    bool
	writes [][]byte
}

func (r *recorder) LocalAddr() net.Addr {
	if r.tcp {
		return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53}
	}
	return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53}
}

func (r *recorder) RemoteAddr() net.Addr {
	if r.tcp {
		return &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 5353}
	}
	return &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 5353}
}

func (r *recorder) WriteMsg(m *dns.Msg) error {
	b, err := m.Pack()
	if err != nil {
		return err
	}
	_, err = r.Write(b)
	return err
}

func (r *recorder) Write(b []byte) (int, error) {
	r.writes = append(r.writes, append([]byte(nil), b...))
	return len(b), nil
}

func (r *recorder) Close() error        { return nil }
func (r *recorder) TsigStatus() error   { return nil }
func (r *recorder) TsigTimersOnly(bool) {}
func (r *recorder) Hijack()             {}

// FuzzAnswer sends the front end any query a client can pack (name, type,
// class, header flags, EDNS) over UDP or TCP, and checks what comes back:
// no panic, one reply to the query (its ID, its question), an answer that
// packs (a SERVFAIL in its place is a defect), no larger over UDP than the
// client may receive (512 bytes without EDNS, its advertised size up to
// maxUDPSize with it), records only when not truncated, and EDNS in the
// reply exactly when the query had it.
func FuzzAnswer(f *testing.F) {
	s, err := New(ledger(f), Options{})
	if err != nil {
		f.Fatal(err)
	}
	names := []string{
		"school-0042.1.85.1561301001.cityid.internal.", "SCHOOL-0042.1.85.1561301001.CityID.Internal.",
		"values-32.1.85.1561301001.cityid.internal.", "big.1.85.1561301001.cityid.internal.",
		"1561301001.cityid.internal.", "85.1561301001.cityid.internal.", "cityid.internal.",
		"nobody.1.85.1561301001.cityid.internal.", "x.1561301002.cityid.internal.", "example.org.", ".",
		`a\.b\000.1561301001.cityid.internal.`,
	}
	types := []uint16{dns.TypeTXT, dns.TypeURI, dns.TypeANY, dns.TypeSOA, dns.TypeNS, dns.TypeA, dns.TypeAXFR, dns.TypeIXFR}
	for i, name := range names {
		for j, qtype := range types {
			q := new(dns.Msg)
			q.SetQuestion(name, qtype)
			q.Id = uint16(i<<8 | j)
			switch (i + j) % 4 {
			case 1:
				q.SetEdns0(4096, true)
			case 2:
				q.SetEdns0(1232, false)
			case 3:
				q.SetEdns0(100, false)
			}
			b, err := q.Pack()
			if err != nil {
				f.Fatal(err)
			}
			f.Add((i+j)%3 == 0, b)
		}
	}
	odd := []func(q *dns.Msg){
		func(q *dns.Msg) { q.Opcode = dns.OpcodeNotify },
		func(q *dns.Msg) { q.Question[0].Qclass = dns.ClassCHAOS },
		func(q *dns.Msg) { q.Question[0].Qclass = dns.ClassANY },
		func(q *dns.Msg) { q.Question = append(q.Question, q.Question[0]) },
		func(q *dns.Msg) { q.Question = nil },
		func(q *dns.Msg) { q.Response, q.Truncated, q.CheckingDisabled = true, true, true },
		func(q *dns.Msg) { q.Answer = []dns.RR{anyAnswer(q.Question[0].Name)} },
	}
	for _, change := range odd {
		q := new(dns.Msg)
		q.SetQuestion(names[0], dns.TypeTXT)
		change(q)
		b, err := q.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(false, b)
	}
	f.Fuzz(func(t *testing.T, tcp bool, packed []byte) {
		req := new(dns.Msg)
		if req.Unpack(packed) != nil {
			return // miekg/dns answers what does not unpack before any handler
		}
		m, err := s.z.answer(s.state.Latest(), req)
		if err != nil {
			t.Fatalf("the answer failed: %v", err)
		}
		if _, err := m.Pack(); err != nil {
			t.Fatalf("the answer does not pack: %v", err)
		}
		w := &recorder{tcp: tcp}
		s.serve(w, req)
		if len(w.writes) != 1 {
			t.Fatalf("%d replies to one query", len(w.writes))
		}
		b := w.writes[0]
		r := new(dns.Msg)
		if err := r.Unpack(b); err != nil {
			t.Fatalf("the reply does not unpack: %v", err)
		}
		if r.Id != req.Id || !r.Response || r.Opcode != req.Opcode {
			t.Fatalf("reply id %d response %v opcode %d to query id %d opcode %d", r.Id, r.Response, r.Opcode, req.Id, req.Opcode)
		}
		if len(req.Question) > 0 && (len(r.Question) != 1 || r.Question[0] != req.Question[0]) {
			t.Fatalf("reply's question %v, query's %v", r.Question, req.Question)
		}
		if r.Rcode == dns.RcodeServerFailure {
			t.Fatalf("SERVFAIL for %v", req.Question)
		}
		allowed := dns.MinMsgSize
		if opt := req.IsEdns0(); opt != nil {
			allowed = min(max(int(opt.UDPSize()), dns.MinMsgSize), maxUDPSize)
		}
		if !tcp && len(b) > allowed {
			t.Fatalf("a UDP reply of %d bytes, over the %d the client may receive", len(b), allowed)
		}
		if tcp && r.Truncated {
			t.Fatal("truncated over TCP")
		}
		if r.Truncated && len(r.Answer)+len(r.Ns) != 0 {
			t.Fatalf("truncated, yet %d answers and %d authority records", len(r.Answer), len(r.Ns))
		}
		if (req.IsEdns0() != nil) != (r.IsEdns0() != nil) {
			t.Fatalf("EDNS in the query %v, in the reply %v", req.IsEdns0() != nil, r.IsEdns0() != nil)
		}
	})
}
