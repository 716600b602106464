package dnsfront

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/store"
)

// zone is what the zone's answers are made of besides the ledger: its
// name and the apex's records. New fixes it; it never changes.
type zone struct {
	name string   // canonical, lowercase, with the trailing dot
	ns   []string // canonical names of the name servers, at least one
	// glue is the addresses of the name servers named inside the zone.
	glue        map[string][]netip.Addr
	hostmaster  string // canonical
	negativeTTL uint32 // the SOA minimum
}

// answer is the zone's answer to req from the committed state view: the
// question-to-answer function, pure (no I/O, no clock, no logging), so
// that it is tested by calling it (answer_test.go) and an answer it
// built can be kept and sent again for as long as view is the latest
// (cache.go). Sizes are not its business: truncation to what a client may
// receive over UDP is the serving path's. A view that fails to read gives
// SERVFAIL and the error, for the caller to log.
func (z *zone) answer(view *store.View, req *dns.Msg) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	m.RecursionAvailable = false
	m.Compress = true
	if req.Opcode != dns.OpcodeQuery {
		m.SetRcode(req, dns.RcodeNotImplemented)
		return m, nil
	}
	if len(req.Question) != 1 {
		m.SetRcode(req, dns.RcodeFormatError)
		return m, nil
	}
	q := req.Question[0]
	if q.Qtype == dns.TypeAXFR || q.Qtype == dns.TypeIXFR {
		// No zone transfers, to anyone: the zone is the ledger, and a node
		// gets a copy of it from the chain (block or state sync), not from
		// DNS. A transfer of a million records would be the largest
		// answer a query could ask for, and a scrape of the registry.
		m.Authoritative = false
		m.SetRcode(req, dns.RcodeRefused)
		return m, nil
	}
	name := dns.CanonicalName(q.Name)
	if !dns.IsSubDomain(z.name, name) {
		// Not ours, and we do not recurse.
		m.Authoritative = false
		m.SetRcode(req, dns.RcodeRefused)
		return m, nil
	}
	if q.Qclass != dns.ClassINET && q.Qclass != dns.ClassANY {
		m.SetRcode(req, dns.RcodeRefused)
		return m, nil
	}
	if view == nil {
		m.SetRcode(req, dns.RcodeServerFailure)
		return m, nil
	}
	if name == z.name {
		switch q.Qtype {
		case dns.TypeSOA:
			m.Answer = append(m.Answer, z.soa(view))
		case dns.TypeNS:
			m.Answer = append(m.Answer, z.nsRecords()...)
			m.Extra = append(m.Extra, z.glueRecords()...)
		case dns.TypeANY:
			m.Answer = append(m.Answer, anyAnswer(q.Name))
		default:
			m.Ns = append(m.Ns, z.soa(view)) // NODATA
		}
		return m, nil
	}
	if addrs, ok := z.glue[name]; ok {
		// A name server of the zone, inside it: its addresses.
		for _, a := range addrs {
			if rr := addressRecord(q.Name, a, q.Qtype); rr != nil {
				m.Answer = append(m.Answer, rr)
			}
		}
		if len(m.Answer) == 0 {
			m.Ns = append(m.Ns, z.soa(view)) // NODATA
		}
		return m, nil
	}
	if q.Qtype == dns.TypeNS || q.Qtype == dns.TypeSOA {
		// No delegations below the apex.
		id, err := code.ParseDNSName(z.name, name)
		if err != nil || !exists(view, id) {
			m.SetRcode(req, dns.RcodeNameError)
		}
		m.Ns = append(m.Ns, z.soa(view))
		return m, nil
	}
	id, err := code.ParseDNSName(z.name, name)
	if err != nil {
		// Not the DNS form of any identifier: no such name.
		m.SetRcode(req, dns.RcodeNameError)
		m.Ns = append(m.Ns, z.soa(view))
		return m, nil
	}
	rec, found, err := registry.GetRecord(view, id.String())
	if err != nil {
		m.SetRcode(req, dns.RcodeServerFailure)
		return m, fmt.Errorf("dns lookup of %s at height %d: %w", id, view.Version(), err)
	}
	if !found {
		m.SetRcode(req, dns.RcodeNameError)
		m.Ns = append(m.Ns, z.soa(view))
		return m, nil
	}
	switch q.Qtype {
	case dns.TypeTXT:
		m.Answer = append(m.Answer, txtRecords(q.Name, rec)...)
	case dns.TypeANY:
		m.Answer = append(m.Answer, anyAnswer(q.Name))
	case dns.TypeURI:
		m.Answer = append(m.Answer, uriRecords(q.Name, rec)...)
	}
	if len(m.Answer) == 0 {
		m.Ns = append(m.Ns, z.soa(view)) // NODATA: the name exists, not this type
	}
	return m, nil
}

// anyAnswer answers an ANY query for a name that exists, over UDP and
// TCP alike: one synthesized HINFO whose CPU is "RFC8482" and whose OS is
// empty (RFC 8482 section 4.2), as CoreDNS's any plugin answers. ANY was
// the amplifier's favourite query, and its honest answer here is the
// whole TXT RRset, the largest we have; nobody needs it, since a client
// that wants the values asks for TXT. REFUSED or NOTIMP would read as a
// broken server to the resolvers that still send ANY (RFC 8482 section
// 4), while this answer is small and cacheable. A name that does not
// exist is still NXDOMAIN. The TTL is CoreDNS's.
func anyAnswer(owner string) dns.RR {
	return &dns.HINFO{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeHINFO, Class: dns.ClassINET, Ttl: 8482}, Cpu: "RFC8482"}
}

func exists(view *store.View, id code.ID) bool {
	b, err := view.Get(registry.RecordKey(id.String()))
	return err == nil && b != nil
}

// soa is the zone's SOA. Its serial is the block height (mod 2^32): it goes
// up with every change of the ledger, as a serial should.
func (z *zone) soa(view *store.View) *dns.SOA {
	return &dns.SOA{
		Hdr:     dns.RR_Header{Name: z.name, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: z.negativeTTL},
		Ns:      z.ns[0],
		Mbox:    z.hostmaster,
		Serial:  uint32(view.Version()),
		Refresh: 3600,
		Retry:   600,
		Expire:  604800,
		Minttl:  z.negativeTTL,
	}
}

func (z *zone) nsRecords() []dns.RR {
	var out []dns.RR
	for _, ns := range z.ns {
		out = append(out, &dns.NS{Hdr: dns.RR_Header{Name: z.name, Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: 86400}, Ns: ns})
	}
	return out
}

// glueTTL is the TTL of the name servers' addresses, as their NS
// records'.
const glueTTL = 86400

// glueRecords are the addresses of the in-zone name servers, in the order
// of the NS records, for the additional section of an NS answer.
func (z *zone) glueRecords() []dns.RR {
	var out []dns.RR
	for _, ns := range z.ns {
		for _, a := range z.glue[ns] {
			out = append(out, addressRecord(ns, a, dns.TypeANY))
		}
	}
	return out
}

// addressRecord is a's A or AAAA record for owner when qtype asks for
// its family (ANY: either); nil otherwise.
func addressRecord(owner string, a netip.Addr, qtype uint16) dns.RR {
	switch {
	case a.Is4() && (qtype == dns.TypeA || qtype == dns.TypeANY):
		return &dns.A{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: glueTTL}, A: a.AsSlice()}
	case a.Is6() && (qtype == dns.TypeAAAA || qtype == dns.TypeANY):
		return &dns.AAAA{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeAAAA, Class: dns.ClassINET, Ttl: glueTTL}, AAAA: a.AsSlice()}
	}
	return nil
}

// txtRecords are the record's values as TXT: one RR per value, "TYPE=data",
// in index order, after one that says what the name is. A value longer than
// 255 bytes is cut into several character-strings of one RR (RFC 7208
// section 3.3 does the same), which a reader joins.
func txtRecords(owner string, rec registry.Record) []dns.RR {
	minTTL := uint32(registry.DefaultTTL)
	for _, v := range rec.Values {
		minTTL = min(minTTL, v.TTL)
	}
	// Concatenation, not fmt: this runs on every query.
	head := "cityid=" + rec.ID + "; kind=" + string(rec.Kind) + "; version=" + strconv.FormatUint(rec.Version, 10) + "; status=" + rec.Status
	out := make([]dns.RR, 0, 1+len(rec.Values))
	out = append(out, txt(owner, minTTL, head))
	for _, v := range rec.Values {
		data := v.Data
		if d := v.Dataset; d != nil {
			data = "uri=" + d.URI + " sha256=" + d.SHA256 + " size=" + strconv.FormatInt(d.Size, 10) + " media_type=" + d.MediaType
			if d.Public {
				// Only when set: a dataset that is not public answers
				// as every dataset did before the flag.
				data += " public=1"
			}
		}
		out = append(out, txt(owner, v.TTL, strconv.FormatUint(uint64(v.Index), 10)+":"+v.Type+"="+data))
	}
	return out
}

func txt(owner string, ttl uint32, s string) *dns.TXT {
	parts := make([]string, 0, 1+len(s)/255)
	for len(s) > 255 {
		cut := 255
		// Cut on a UTF-8 boundary so every string is text.
		for cut > 0 && s[cut]&0xC0 == 0x80 {
			cut--
		}
		if cut == 0 {
			cut = 255 // not UTF-8 (the registry accepts only UTF-8): cut anyway, never loop
		}
		parts = append(parts, s[:cut])
		s = s[cut:]
	}
	parts = append(parts, s)
	return &dns.TXT{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: ttl}, Txt: escapeTXT(parts)}
}

// escapeTXT escapes, in place, what miekg/dns would otherwise read as
// presentation syntax (backslash and quote) so the wire carries the text
// as it is.
func escapeTXT(parts []string) []string {
	for i, p := range parts {
		if strings.ContainsAny(p, `\"`) {
			parts[i] = txtEscaper.Replace(p)
		}
	}
	return parts
}

// txtEscaper is safe for concurrent use and costly to build: one for all.
var txtEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// uriRecords are the record's URL values as URI records (RFC 7553),
// priority by index, weight 1.
func uriRecords(owner string, rec registry.Record) []dns.RR {
	var out []dns.RR
	for _, v := range rec.Values {
		if v.Type != registry.TypeURL {
			continue
		}
		out = append(out, &dns.URI{
			Hdr:      dns.RR_Header{Name: owner, Rrtype: dns.TypeURI, Class: dns.ClassINET, Ttl: v.TTL},
			Priority: uint16(min(v.Index, 65535)), Weight: 1, Target: v.Data,
		})
	}
	return out
}
