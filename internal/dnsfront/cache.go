package dnsfront

import (
	"encoding/binary"
	"hash/maphash"
	"sync"

	"github.com/miekg/dns"
)

// The answers of the zone change only when a block is committed, and a
// node answers from its last committed view: so an answer, once packed,
// is the answer to every query with the same question bytes (name in the
// case it was asked, type, class) and EDNS shape, until the next block.
// The UDP path keeps packed answers here and sends a copy with the
// query's ID and the two flags a reply copies (RD, CD) patched in: no
// unpacking, no lookup, no packing. The case of the name is part of the
// key rather than patched, since miekg/dns compresses names by their
// exact spelling, so an answer to another spelling can differ in more
// than its letters (the golden file pins every byte).

// cachedAnswer is one packed answer and what the UDP path needs to send
// it without unpacking it.
type cachedAnswer struct {
	// full is the whole answer, with OPT when the query had EDNS; nil
	// when it is larger than maxUDPSize, so never sent whole over UDP.
	full []byte
	// trunc is the answer truncated (truncate): sent when full does not
	// fit what the client allows, or when the rate limit slips it.
	trunc []byte
	rcode int
	// rate is the answer's rate-limit account but for the client's
	// network (limiter.kindKey); zero when the limit is off.
	rate rateKey
}

func (e *cachedAnswer) size() int { return len(e.full) + len(e.trunc) + cacheEntryOverhead }

// answerCache holds packed answers of one committed view. It is split
// into shards, each with its own lock, so that the UDP loops, one per
// core, rarely wait for one another; each shard is bounded in bytes and
// emptied when a newer view is seen.
type answerCache struct {
	seed   maphash.Seed
	shards [cacheShards]cacheShard
}

type cacheShard struct {
	mu      sync.RWMutex
	version int64  // of the view whose answers the shard holds
	root    string // that view's root hash: a version replayed differently is another view
	entries map[string]*cachedAnswer
	bytes   int
	// seen marks the keys asked once whose answers were not kept (admit),
	// by a bit their hash picks; marks counts the bits set, and at
	// admitMarks they are all cleared.
	seen  [admitBits / 64]uint64
	marks int
}

func newAnswerCache() *answerCache {
	c := &answerCache{seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].entries = make(map[string]*cachedAnswer)
	}
	return c
}

func (c *answerCache) shard(key []byte) *cacheShard {
	return &c.shards[maphash.Bytes(c.seed, key)%cacheShards]
}

// admit says whether the answer to key, just built, is worth keeping: only
// when key was asked since its shard's marks were last cleared, as a
// doorkeeper admits to a TinyLFU cache. A name asked once is the usual
// question at 1,000,000 identifiers asked at random (the cache holds about
// 5% of them): keeping each answer cost its packing, its place in the map
// and an older answer thrown out, about 1.5 µs of a 12 µs miss, for
// almost no hits. A name asked twice within about admitMarks*cacheShards
// other names is kept from its second question on. A false mark (two keys
// on one bit) only keeps an answer early.
func (c *answerCache) admit(key []byte) bool {
	h := maphash.Bytes(c.seed, key)
	sh := &c.shards[h%cacheShards]
	bit := h / cacheShards % admitBits
	sh.mu.Lock()
	defer sh.mu.Unlock()
	w, m := &sh.seen[bit/64], uint64(1)<<(bit%64)
	if *w&m != 0 {
		return true
	}
	if sh.marks++; sh.marks > admitMarks {
		clear(sh.seen[:])
		sh.marks = 1
	}
	*w |= m
	return false
}

// get is the answer kept for key at view (version, root), or nil.
func (c *answerCache) get(key []byte, version int64, root []byte) *cachedAnswer {
	sh := c.shard(key)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if sh.version != version || sh.root != string(root) {
		return nil
	}
	return sh.entries[string(key)]
}

// put keeps e for key at view (version, root). A shard that holds another
// view's answers is emptied first, unless that view is newer: a loop that
// answered from a view just replaced must not throw away the new one's.
// When the shard is full, entries it picks (Go's map order) make room.
func (c *answerCache) put(key []byte, version int64, root []byte, e *cachedAnswer) {
	size := e.size() + len(key)
	if size > cacheBytes/cacheShards {
		return
	}
	sh := c.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.version != version || sh.root != string(root) {
		if version < sh.version {
			return
		}
		clear(sh.entries)
		sh.version, sh.root, sh.bytes = version, string(root), 0
	}
	if old, ok := sh.entries[string(key)]; ok {
		sh.bytes -= old.size() + len(key)
	}
	for k, old := range sh.entries {
		if sh.bytes+size <= cacheBytes/cacheShards {
			break
		}
		sh.bytes -= old.size() + len(k)
		delete(sh.entries, k)
	}
	sh.entries[string(key)] = e
	sh.bytes += size
}

// pack makes the cached form of answer m to a query with or without EDNS.
// m is truncated on the way. The truncated answer is cut from the whole
// one when it can be (truncatedOf), which halves the packing of an answer
// built for a query whose answer is not kept: at 1,000,000 identifiers
// asked at random that is nearly every query.
func (s *Server) pack(m *dns.Msg, edns bool) (*cachedAnswer, error) {
	e := &cachedAnswer{rcode: m.Rcode}
	if s.limit != nil {
		e.rate = s.limit.kindKey(m)
	}
	if edns {
		m.SetEdns0(maxUDPSize, false)
	}
	full, err := m.Pack()
	if err != nil {
		return nil, err
	}
	if len(full) <= maxUDPSize {
		e.full = full
		if e.trunc = truncatedOf(nil, full, edns); e.trunc != nil {
			return e, nil
		}
	}
	truncate(m)
	if e.trunc, err = m.Pack(); err != nil {
		return nil, err
	}
	return e, nil
}

// truncatedOf appends to dst what packing an answer truncated (truncate)
// gives, cut from the packed whole answer full: its header with TC set and no
// records counted but the OPT, its question, and its OPT when edns, which
// the zone's answers carry last and alone in the additional section. It
// is nil when full is not shaped so (one question, and with edns an OPT
// with no options at its end); the caller packs then. TestTruncatedOf
// pins that it gives the packer's bytes.
func truncatedOf(dst, full []byte, edns bool) []byte {
	if len(full) < 12 || binary.BigEndian.Uint16(full[4:]) != 1 {
		return nil
	}
	off := 12
	for off < len(full) && full[off] != 0 {
		if full[off] > 63 { // the first name is never compressed; be sure
			return nil
		}
		off += 1 + int(full[off])
	}
	end := off + 1 + 4
	if end > len(full) {
		return nil
	}
	var opt []byte
	if edns {
		opt = full[len(full)-optLen:]
		if len(full)-optLen < end || opt[0] != 0 || binary.BigEndian.Uint16(opt[1:]) != dns.TypeOPT || binary.BigEndian.Uint16(opt[9:]) != 0 {
			return nil
		}
	}
	start := len(dst)
	t := append(append(dst, full[:end]...), opt...)
	h := t[start:]
	h[2] |= 0x02 // TC
	binary.BigEndian.PutUint16(h[6:], 0)
	binary.BigEndian.PutUint16(h[8:], 0)
	binary.BigEndian.PutUint16(h[10:], uint16(len(opt)/optLen))
	return t
}

// optLen is the size of an OPT record with no options: the root's name,
// type, class (the UDP size), TTL (extended RCODE, version, flags) and an
// empty RDATA's length.
const optLen = 1 + 2 + 2 + 4 + 2
