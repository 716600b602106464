package dnsfront

import (
	"fmt"
	"time"

	"github.com/miekg/dns"
)

// ServeDNS answers one query. miekg/dns calls it on a new goroutine for
// each UDP query, whose stack starts at a few KiB; the answer's path
// (parsing the name, decoding the record, packing) needs more, and
// growing the stack cost about 6 µs a query, as much as the answer
// itself (BenchmarkServeDNS). So a query goes to a worker whose stack
// has grown already, or is answered here when every worker is busy.
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	done := s.dones.Get().(chan struct{})
	select {
	case s.jobs <- job{w: w, req: req, done: done}:
		<-done
	default:
		s.serve(w, req)
	}
	s.dones.Put(done)
}

// work answers the queries handed to it until quit is closed.
func (s *Server) work(quit <-chan struct{}) {
	for {
		select {
		case j := <-s.jobs:
			s.serve(j.w, j.req)
			j.done <- struct{}{}
		case <-quit:
			return
		}
	}
}

// serve answers one query.
func (s *Server) serve(w dns.ResponseWriter, req *dns.Msg) {
	start := time.Now()
	m, size := s.answerEDNS(req)
	send := true
	if s.limit != nil && w.LocalAddr().Network() == "udp" {
		// After the answer, since its kind decides its account; TCP is
		// never limited, as its source cannot be spoofed.
		switch s.limit.check(s.clock(), s.limit.key(clientAddr(w.RemoteAddr()), m)) {
		case verdictSlip:
			truncate(m)
		case verdictDrop:
			send = false
		}
	}
	if send {
		if err := writeMsg(w, m, size); err != nil {
			s.log.Debug("dns write", "err", err)
		}
	}
	if s.opts.Observe != nil {
		s.opts.Observe(m.Rcode, time.Since(start))
	}
}

// answerEDNS is the zone's answer to req with EDNS as RFC 6891 and 3225
// ask, and the largest answer the client takes over UDP: a query with
// more than one OPT record is a FORMERR; one of an EDNS version other
// than 0 gets BADVERS and no answer, with our OPT saying version 0; the
// DO bit is echoed (the zone is not signed, so no DNSSEC records follow).
func (s *Server) answerEDNS(req *dns.Msg) (*dns.Msg, int) {
	opts := 0
	for _, rr := range req.Extra {
		if rr.Header().Rrtype == dns.TypeOPT {
			opts++
		}
	}
	opt := req.IsEdns0()
	switch {
	case opts > 1:
		m := new(dns.Msg)
		m.SetRcode(req, dns.RcodeFormatError)
		return m, dns.MinMsgSize
	case opt != nil && opt.Version() != 0:
		m := new(dns.Msg)
		m.SetRcode(req, dns.RcodeBadVers)
		m.Authoritative = true
		m.SetEdns0(maxUDPSize, opt.Do())
		return m, int(min(max(opt.UDPSize(), dns.MinMsgSize), maxUDPSize))
	}
	m, err := s.z.answer(s.state.Latest(), req)
	if err != nil {
		s.log.Error("dns answer", "err", err)
	}
	if opt == nil {
		return m, dns.MinMsgSize
	}
	m.SetEdns0(maxUDPSize, opt.Do())
	return m, int(min(max(opt.UDPSize(), dns.MinMsgSize), maxUDPSize))
}

// writeMsg sends m, truncated to size over UDP. It packs the answer once
// and truncates only when it does not fit: measuring the compressed length
// first costs about as much as packing.
func writeMsg(w dns.ResponseWriter, m *dns.Msg, size int) error {
	b, err := m.Pack()
	if err != nil {
		// An answer that cannot be packed still gets a reply: SERVFAIL,
		// so the resolver does not wait for a timeout.
		fail := new(dns.Msg)
		fail.SetRcode(m, dns.RcodeServerFailure)
		if b2, err2 := fail.Pack(); err2 == nil {
			_, _ = w.Write(b2)
		}
		return fmt.Errorf("pack answer: %w", err)
	}
	if len(b) > size && w.LocalAddr().Network() == "udp" {
		truncate(m)
		if b, err = m.Pack(); err != nil {
			return fmt.Errorf("pack truncated answer: %w", err)
		}
	}
	_, err = w.Write(b)
	return err
}

// truncate empties m of records but its OPT and sets TC, so the client
// asks again over TCP. It sends no part of the answer, as BIND and Knot
// do: the values of a name are one TXT RRset, which is never split (RFC
// 2181 section 9), and a part filled up to the client's size is what made
// a query for a record of many values come back 18 times its size, the
// lever of a reflection attack. An empty truncated answer is the size of
// the query (TestAmplification).
func truncate(m *dns.Msg) {
	opt := m.IsEdns0()
	m.Truncated = true
	m.Answer, m.Ns, m.Extra = nil, nil, nil
	if opt != nil {
		m.Extra = []dns.RR{opt}
	}
}
