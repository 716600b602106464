package dnsfront

import (
	"fmt"
	"hash/maphash"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// RateLimit configures response rate limiting (RRL) over UDP, as BIND and
// Knot do it. A DNS answer over UDP goes to whatever source address the
// query carried, which anyone can forge: without a limit, a flood of
// spoofed queries turns the server into a cannon aimed at the owner of
// that address. So the answers to one client network (its address cut to
// a prefix) of one kind (the same name and type, or for NXDOMAIN and
// errors the same rcode in the zone, whatever the name) are limited to
// ResponsesPerSecond; beyond it every Slip-th answer goes out truncated
// (TC, no records) and the others are dropped. A real client that lost an
// answer retries, and one that got TC asks again over TCP, which a spoofer
// cannot do; TCP is never limited.
//
// The zero RateLimit is off; DefaultRateLimit is what a node uses.
type RateLimit struct {
	// ResponsesPerSecond is how many answers of one kind a client network
	// gets a second, and how many it may get at once after a quiet spell.
	// 0 turns rate limiting off.
	ResponsesPerSecond int
	// Slip says which answers beyond the limit are sent truncated rather
	// than dropped: the first, then every Slip-th. 0 drops them all, 1
	// truncates them all.
	Slip int
	// Window is how long a flood is remembered: answers beyond the limit
	// keep counting until the account owes Window's worth, so a network
	// that floods is limited for up to Window after it stops.
	Window time.Duration
	// IPv4Prefix and IPv6Prefix are the leading bits of a client's
	// address that make its network.
	IPv4Prefix, IPv6Prefix int
}

// DefaultRateLimit is the rate limit a node applies unless configured
// otherwise (see limits.go for the reasons).
func DefaultRateLimit() RateLimit {
	return RateLimit{
		ResponsesPerSecond: DefaultResponsesPerSecond,
		Slip:               DefaultSlip,
		Window:             DefaultWindow,
		IPv4Prefix:         DefaultIPv4Prefix,
		IPv6Prefix:         DefaultIPv6Prefix,
	}
}

func (r RateLimit) validate() error {
	if r.ResponsesPerSecond == 0 {
		return nil
	}
	switch {
	case r.ResponsesPerSecond < 0 || r.ResponsesPerSecond > MaxResponsesPerSecond:
		return fmt.Errorf("dns rate limit: %d responses per second is not 0 (off) or between 1 and %d", r.ResponsesPerSecond, MaxResponsesPerSecond)
	case r.Slip < 0 || r.Slip > MaxSlip:
		return fmt.Errorf("dns rate limit: slip %d is not between 0 and %d", r.Slip, MaxSlip)
	case r.Window < time.Second || r.Window > MaxWindow:
		return fmt.Errorf("dns rate limit: window %s is not between 1s and %s", r.Window, MaxWindow)
	case r.IPv4Prefix < 1 || r.IPv4Prefix > 32:
		return fmt.Errorf("dns rate limit: IPv4 prefix /%d is not between /1 and /32", r.IPv4Prefix)
	case r.IPv6Prefix < 1 || r.IPv6Prefix > 128:
		return fmt.Errorf("dns rate limit: IPv6 prefix /%d is not between /1 and /128", r.IPv6Prefix)
	}
	return nil
}

// verdict is what the rate limit says of one answer.
type verdict uint8

const (
	verdictSend verdict = iota // within the limit: send it whole
	verdictSlip                // beyond it, a slip: send it with TC and no records
	verdictDrop                // beyond it: send nothing
)

// answerKind sorts answers into the kinds that are counted apart.
type answerKind uint8

const (
	kindAnswer   answerKind = iota + 1 // records of the name and type asked
	kindNoData                         // the name exists, not the type: keyed by the name alone
	kindNXDomain                       // no such name: one account for the zone, as BIND does
	kindError                          // REFUSED, SERVFAIL, FORMERR, NOTIMP: one account for all
)

// rateKey names one account: a client network and a kind of answer.
type rateKey struct {
	network netip.Addr // the client's address cut to its prefix
	name    uint64     // hash of the lowercase name, for kindAnswer and kindNoData
	qtype   uint16     // for kindAnswer
	kind    answerKind
}

// rateEntry is one account, a cell of the limiter's table and of its list
// from the newest used to the oldest.
type rateEntry struct {
	key rateKey
	// due is when the account is even (GCRA's theoretical arrival time,
	// in ns of the limiter's clock): each answer moves it one interval
	// later, and an answer is sent while due is not after now. The
	// account's balance is (now-due)/interval answers, at most
	// ResponsesPerSecond and at least -Window's worth.
	due        int64
	slips      int // answers beyond the limit since the last slip, mod Slip
	newer, old int32
}

// limiter keeps the accounts of RRL in a table of bounded size: when it is
// full, a new account takes the place of the one used longest ago, so a
// flood from spoofed sources costs a fixed amount of memory (rateTableSize
// entries of about 100 bytes) and forgets the quiet networks first. One
// mutex guards it: an answer holds it for a map lookup and a few
// additions, a small part of the answer's own cost.
type limiter struct {
	conf     RateLimit
	interval int64 // ns of credit one answer costs
	credit   int64 // ns: the most credit an account holds, ResponsesPerSecond answers
	debt     int64 // ns: the most debt, Window
	seed     maphash.Seed

	mu             sync.Mutex
	index          map[rateKey]int32
	entries        []rateEntry // grows up to size, then its cells are reused
	size           int
	newest, oldest int32 // -1 while empty
}

func newLimiter(conf RateLimit, size int) *limiter {
	interval := int64(time.Second) / int64(conf.ResponsesPerSecond)
	return &limiter{
		conf: conf, interval: interval, credit: interval * int64(conf.ResponsesPerSecond), debt: int64(conf.Window),
		seed: maphash.MakeSeed(), index: make(map[rateKey]int32), size: size, newest: -1, oldest: -1,
	}
}

// key is the account of answer m to client.
func (l *limiter) key(client netip.Addr, m *dns.Msg) rateKey {
	k := l.kindKey(m)
	k.network = l.network(client)
	return k
}

// network is client's address cut to its prefix.
func (l *limiter) network(client netip.Addr) netip.Addr {
	client = client.Unmap()
	bits := l.conf.IPv6Prefix
	if client.Is4() {
		bits = l.conf.IPv4Prefix
	}
	// Prefix fails only for a bit count out of range, which validate
	// rules out, or an invalid address: those share one network.
	network, _ := client.Prefix(bits)
	return network.Addr()
}

// kindKey is the account of answer m but for the client's network: what
// a packed answer keeps beside it (cache.go), since it depends on the
// answer alone.
func (l *limiter) kindKey(m *dns.Msg) rateKey {
	var k rateKey
	switch {
	case len(m.Question) == 0 || (m.Rcode != dns.RcodeSuccess && m.Rcode != dns.RcodeNameError):
		k.kind = kindError
	case m.Rcode == dns.RcodeNameError:
		k.kind = kindNXDomain
	case len(m.Answer) == 0:
		k.kind = kindNoData
		k.name = l.hashName(m.Question[0].Name)
	default:
		k.kind = kindAnswer
		k.name = l.hashName(m.Question[0].Name)
		k.qtype = m.Question[0].Qtype
	}
	return k
}

// hashName hashes name in lowercase, without allocating for the usual
// name: resolvers mix the case of the names they ask (DNS 0x20), and a
// name is one account whatever its case. The seed is the limiter's own,
// so a spoofer cannot aim names at one account.
func (l *limiter) hashName(name string) uint64 {
	var buf [256]byte // a name in presentation form rarely needs more
	if len(name) > len(buf) {
		return maphash.String(l.seed, strings.ToLower(name))
	}
	b := buf[:len(name)]
	for i := range len(name) {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	return maphash.Bytes(l.seed, b)
}

// check counts one answer on account k at time now (ns of a monotonic
// clock) and says what to do with it.
func (l *limiter) check(now int64, k rateKey) verdict {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.account(now, k)
	e.due = min(max(e.due, now-l.credit)+l.interval, now+l.debt)
	if e.due <= now {
		e.slips = 0
		return verdictSend
	}
	if l.conf.Slip == 0 {
		return verdictDrop
	}
	slip := e.slips == 0
	e.slips = (e.slips + 1) % l.conf.Slip
	if slip {
		return verdictSlip
	}
	return verdictDrop
}

// account finds k's entry, or makes one with full credit, and makes it
// the newest.
func (l *limiter) account(now int64, k rateKey) *rateEntry {
	i, ok := l.index[k]
	switch {
	case ok:
		l.unlink(i)
	case len(l.entries) < l.size:
		i = int32(len(l.entries))
		l.entries = append(l.entries, rateEntry{})
	default:
		i = l.oldest
		l.unlink(i)
		delete(l.index, l.entries[i].key)
	}
	if !ok {
		l.entries[i] = rateEntry{key: k, due: now - l.credit}
		l.index[k] = i
	}
	e := &l.entries[i]
	e.newer, e.old = -1, l.newest
	if l.newest >= 0 {
		l.entries[l.newest].newer = i
	}
	l.newest = i
	if l.oldest < 0 {
		l.oldest = i
	}
	return e
}

// unlink takes entry i out of the list.
func (l *limiter) unlink(i int32) {
	e := &l.entries[i]
	if e.newer >= 0 {
		l.entries[e.newer].old = e.old
	} else {
		l.newest = e.old
	}
	if e.old >= 0 {
		l.entries[e.old].newer = e.newer
	} else {
		l.oldest = e.newer
	}
	e.newer, e.old = -1, -1
}

// clientAddr is the address a query came from.
func clientAddr(a net.Addr) netip.Addr {
	switch a := a.(type) {
	case *net.UDPAddr:
		return a.AddrPort().Addr()
	case *net.TCPAddr:
		return a.AddrPort().Addr()
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr()
}
