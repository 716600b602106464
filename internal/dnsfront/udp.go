package dnsfront

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
)

// The UDP path of a front end bound to one address: a socket per core
// (SO_REUSEPORT, so the kernel spreads the clients over them), each read
// and written by one loop in batches (recvmmsg, sendmmsg), and a query
// whose answer is in the cache answered by copying it. miekg/dns's
// server, by contrast, makes a system call and a goroutine per query and
// unpacks and packs each one; the node reached 0.28-0.35 of Knot and NSD
// with it (issue 10). Anything the fast path does not know for certain to
// be a plain query (parseQuery) is answered as miekg/dns's server answers
// it (answerSlow): the golden file and TestUDPPathsAgree pin that both
// paths send the same bytes.

// batchConn is the batch I/O of golang.org/x/net's ipv4 and ipv6
// PacketConn: their Message is one type.
type batchConn interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

// udpLoop answers the datagrams of one socket until it is closed.
func (s *Server) udpLoop(pc *net.UDPConn, bc batchConn) {
	in := make([]ipv4.Message, udpBatch)
	for i := range in {
		in[i].Buffers = [][]byte{make([]byte, maxUDPSize)}
	}
	out := make([]ipv4.Message, udpBatch)
	bufs := make([][]byte, udpBatch)
	for i := range bufs {
		bufs[i] = make([]byte, 0, maxUDPSize)
	}
	sc := &wireScratch{key: make([]byte, 0, 256+5)}
	local := pc.LocalAddr()
	for {
		n, err := bc.ReadBatch(in, 0)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			s.log.Error("dns udp read", "addr", local, "err", err)
			return
		}
		k := 0
		for i := range n {
			m := &in[i]
			remote, _ := m.Addr.(*net.UDPAddr)
			if remote == nil {
				continue
			}
			var reply []byte
			reply = s.answerUDP(m.Buffers[0][:m.N], local, remote, bufs[k][:0], sc)
			if reply == nil {
				continue
			}
			out[k].Buffers = [][]byte{reply}
			out[k].Addr = remote
			k++
		}
		for sent := 0; sent < k; {
			w, err := bc.WriteBatch(out[sent:k], 0)
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				// One client's address failed (unreachable, say): skip it,
				// send the others.
				if sent+w < k {
					s.log.Debug("dns udp write", "to", out[sent+w].Addr, "err", err)
				}
				w++
			}
			sent += w
		}
	}
}

// plainQuery is what the fast path reads of a plain query.
type plainQuery struct {
	question []byte // the question's bytes: name as sent, type, class
	edns     bool
	size     int // the largest answer the client allows over UDP
}

// parseQuery reads pkt as a plain query: QR clear, opcode QUERY, one
// question whose name has no compression pointer, no answer or authority
// records, and either nothing more or one OPT record with no option but
// cookies and padding, ending the datagram. miekg/dns unpacks every such
// query without error and to the same message; anything else goes to the
// slow path, which answers it as miekg/dns's server does.
func parseQuery(pkt []byte) (q plainQuery, ok bool) {
	if len(pkt) < 12+1+4 || pkt[2]&0xF8 != 0 { // QR and opcode
		return q, false
	}
	qd, an, ns, ar := binary.BigEndian.Uint16(pkt[4:]), binary.BigEndian.Uint16(pkt[6:]), binary.BigEndian.Uint16(pkt[8:]), binary.BigEndian.Uint16(pkt[10:])
	if qd != 1 || an != 0 || ns != 0 || ar > 1 {
		return q, false
	}
	off := 12
	for {
		if off >= len(pkt) {
			return q, false
		}
		l := int(pkt[off])
		if l == 0 {
			off++
			break
		}
		if l > 63 { // a pointer or an extended label type
			return q, false
		}
		off += 1 + l
		if off-12 >= 255 { // the root's byte must fit too
			return q, false
		}
	}
	end := off + 4
	if end > len(pkt) {
		return q, false
	}
	q.question, q.size = pkt[12:end], dns.MinMsgSize
	if ar == 0 {
		return q, end == len(pkt)
	}
	// OPT: root owner, type 41, class the UDP size, TTL, rdata.
	if end+11 > len(pkt) || pkt[end] != 0 || binary.BigEndian.Uint16(pkt[end+1:]) != dns.TypeOPT {
		return q, false
	}
	// An EDNS version other than 0 (BADVERS) or the DO bit (echoed) is
	// the slow path's: the cached answers carry neither.
	if pkt[end+6] != 0 || pkt[end+7]&0x80 != 0 {
		return q, false
	}
	rdlen := int(binary.BigEndian.Uint16(pkt[end+9:]))
	if end+11+rdlen != len(pkt) {
		return q, false
	}
	for opt := pkt[end+11:]; len(opt) > 0; {
		if len(opt) < 4 {
			return q, false
		}
		code, l := binary.BigEndian.Uint16(opt), int(binary.BigEndian.Uint16(opt[2:]))
		if (code != dns.EDNS0COOKIE && code != dns.EDNS0PADDING) || 4+l > len(opt) {
			return q, false
		}
		opt = opt[4+l:]
	}
	q.edns = true
	q.size = min(max(int(binary.BigEndian.Uint16(pkt[end+3:])), dns.MinMsgSize), maxUDPSize)
	return q, true
}

// answerUDP answers one datagram into buf, or returns nil to send nothing.
// sc is the loop's scratch space (nil: some of its own).
func (s *Server) answerUDP(pkt []byte, local net.Addr, remote *net.UDPAddr, buf []byte, sc *wireScratch) []byte {
	start := time.Now()
	q, ok := parseQuery(pkt)
	if !ok {
		return s.answerSlow(pkt, local, remote)
	}
	view := s.state.Latest()
	if view == nil {
		return s.answerSlow(pkt, local, remote)
	}
	if sc == nil {
		sc = new(wireScratch)
	}
	version, root := view.Version(), view.Hash()
	key := append(append(sc.key[:0], q.question...), 0)
	sc.key = key
	if q.edns {
		key[len(key)-1] = 1
	}
	e := s.cache.get(key, version, root)
	if e == nil {
		// Written from the record when it can be (answer_wire.go), in
		// sc's buffers; else built by the zone's answer function.
		var mine bool
		if e, mine = s.wireAnswer(view, q, pkt, sc); !mine {
			req := new(dns.Msg)
			if req.Unpack(pkt) != nil {
				return s.answerSlow(pkt, local, remote)
			}
			m, err := s.z.answer(view, req)
			if err != nil || m.Rcode == dns.RcodeServerFailure {
				// Not kept: a failure to read may pass. The slow path logs it.
				return s.answerSlow(pkt, local, remote)
			}
			if e, err = s.pack(m, q.edns); err != nil {
				return s.answerSlow(pkt, local, remote)
			}
		}
		if mine {
			// Cut from the whole answer, which the answer function's
			// packing always allows (TestTruncatedOf).
			if sc.trunc = truncatedOf(sc.trunc[:0], e.full, q.edns); sc.trunc == nil {
				return s.answerSlow(pkt, local, remote)
			}
			e.trunc = sc.trunc
		}
		if s.cache.admit(key) {
			if mine {
				c := *e
				c.full = append([]byte(nil), e.full...)
				c.trunc = append([]byte(nil), e.trunc...)
				e = &c
			}
			s.cache.put(key, version, root, e)
		}
	}
	reply := e.full
	if reply == nil || len(reply) > q.size {
		reply = e.trunc
	}
	send := true
	if s.limit != nil {
		k := e.rate
		k.network = s.limit.network(remote.AddrPort().Addr())
		switch s.limit.check(s.clock(), k) {
		case verdictSlip:
			reply = e.trunc
		case verdictDrop:
			send = false
		}
	}
	var out []byte
	if send {
		out = append(buf, reply...)
		copy(out, pkt[:2])                  // the ID
		out[2] = out[2]&^0x01 | pkt[2]&0x01 // RD
		out[3] = out[3]&^0x10 | pkt[3]&0x10 // CD
	}
	if s.opts.Observe != nil {
		s.opts.Observe(e.rcode, time.Since(start))
	}
	return out
}

// answerSlow answers pkt as miekg/dns's server and serve do together:
// nothing to a datagram shorter than a header or to a response; FORMERR
// (NOTIMP for an opcode other than QUERY and NOTIFY) with the header alone
// to what its accept function rejects, and FORMERR to what does not
// unpack; the rest through serve, as over TCP.
func (s *Server) answerSlow(pkt []byte, local net.Addr, remote *net.UDPAddr) []byte {
	if len(pkt) < 12 {
		return nil
	}
	h := dns.Header{Id: binary.BigEndian.Uint16(pkt), Bits: binary.BigEndian.Uint16(pkt[2:]),
		Qdcount: binary.BigEndian.Uint16(pkt[4:]), Ancount: binary.BigEndian.Uint16(pkt[6:]),
		Nscount: binary.BigEndian.Uint16(pkt[8:]), Arcount: binary.BigEndian.Uint16(pkt[10:])}
	w := &packetWriter{local: local, remote: remote}
	req := new(dns.Msg)
	action := dns.DefaultMsgAcceptFunc(h)
	switch action {
	case dns.MsgIgnore:
		return nil
	case dns.MsgAccept:
		if req.Unpack(pkt) == nil {
			s.serve(w, req)
			return w.out
		}
	default:
		// The header alone, as miekg/dns keeps it for a rejected query.
		var hdr [12]byte
		copy(hdr[:4], pkt)
		if req.Unpack(hdr[:]) != nil {
			return nil
		}
	}
	opcode := req.Opcode
	req.SetRcodeFormatError(req)
	req.Zero = false
	if action == dns.MsgRejectNotImplemented {
		req.Opcode = opcode
		req.Rcode = dns.RcodeNotImplemented
	}
	req.Ns, req.Answer, req.Extra = nil, nil, nil
	b, err := req.Pack()
	if err != nil {
		return nil
	}
	return b
}

// packetWriter is the dns.ResponseWriter of one datagram of a UDP loop:
// it keeps what serve writes, for the loop to send in its batch.
type packetWriter struct {
	local  net.Addr
	remote *net.UDPAddr
	out    []byte
}

func (w *packetWriter) LocalAddr() net.Addr  { return w.local }
func (w *packetWriter) RemoteAddr() net.Addr { return w.remote }
func (w *packetWriter) WriteMsg(m *dns.Msg) error {
	b, err := m.Pack()
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}
func (w *packetWriter) Write(b []byte) (int, error) {
	w.out = append(w.out[:0], b...)
	return len(b), nil
}
func (w *packetWriter) Close() error        { return nil }
func (w *packetWriter) TsigStatus() error   { return nil }
func (w *packetWriter) TsigTimersOnly(bool) {}
func (w *packetWriter) Hijack()             {}

// batchable says whether addr is one the batch path serves: a single
// address. A socket bound to every address (0.0.0.0, ::) must answer
// from the address each query came to, which miekg/dns's server does with
// per-packet control messages; it keeps that case.
func batchable(addr netip.Addr) bool {
	return reusePortSupported && addr.IsValid() && !addr.IsUnspecified()
}
