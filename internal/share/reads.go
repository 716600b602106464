package share

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/store"
)

// reads are the ledger reads of the decisions made at one committed
// height, each decoded once. A decision reads the dataset's record and
// every record above it, the dataset's grants, and for the signer's grant
// its grantee's record and both lineages: a dozen JSON records or more,
// which cost a grantee's request more than its signature did (80 µs
// beside Ed25519's 50 with one grant, 180 with 16: BenchmarkDecide). A
// committed height never changes, so what was read at it holds for every
// request decided at it; a new height starts from nothing, so a
// revocation, an expiry in block time or a deactivation is seen with its
// block, as when every request read the ledger itself.
//
// The first request at a new height still reads the ledger, but what it
// decodes is kept by its bytes (memo): a record or grant whose bytes did
// not change decodes the same, and a grant's liveness is the same when
// the grant and every record its check read have the same bytes and the
// block time is on the same side of its expiry. So that request reads
// and compares bytes instead of decoding them.
//
// What it hands out is shared between requests: read only.
type reads struct {
	height int64
	memo   *memo
	scan   int // grants of one dataset grantsOf reads at most

	mu      sync.Mutex
	held    int // bytes of ledger values behind the maps below, bounded by maxReadBytes
	records map[string]recordRead
	grants  map[string][]grantRead // by dataset, in key order, at most the service's GrantScan
	live    map[string]liveRead    // by grant key
	signers map[string][]grantRead // by dataset and key: the grants to nodes the key administers
}

type grantRead struct {
	g   registry.Grant
	raw []byte // its bytes in state
}

// memo is what was decoded from ledger bytes, by key, with the bytes,
// kept across heights. It holds at most maxMemoBytes of ledger values,
// and is emptied when it would hold more.
type memo struct {
	mu      sync.Mutex
	size    int                          // bytes of ledger values held
	records map[string]memoRecord        // by identifier
	grants  map[string]memoGrant         // by grant key
	live    map[string]memoLive          // by grant key
	keys    map[string]ed25519.PublicKey // signers' keys, by keyid (Service.keyOf)
}

type memoRecord struct {
	raw []byte
	rec registry.Record
}

type memoGrant struct {
	raw []byte
	g   registry.Grant
}

// memoLive is a liveness check: its grant's bytes, whether the block
// time was past the grant's expiry, and every read the check made.
type memoLive struct {
	grant   []byte
	expired bool
	reads   []keyValue
	live    bool
	why     string
}

type keyValue struct {
	key   string
	value []byte
}

func newMemo() *memo {
	return &memo{records: map[string]memoRecord{}, grants: map[string]memoGrant{}, live: map[string]memoLive{}, keys: map[string]ed25519.PublicKey{}}
}

// room makes room for n more bytes, emptying the memo when it would
// hold more than maxMemoBytes; the caller holds mu.
func (m *memo) room(n int) {
	if m.size+n > maxMemoBytes {
		clear(m.records)
		clear(m.grants)
		clear(m.live)
		clear(m.keys)
		m.size = 0
	}
	m.size += n
}

// recorder is a registry.Reader that keeps what was read.
type recorder struct {
	view  *store.View
	reads []keyValue
}

func (r *recorder) Get(key []byte) ([]byte, error) {
	v, err := r.view.Get(key)
	if err == nil {
		r.reads = append(r.reads, keyValue{string(key), bytes.Clone(v)})
	}
	return v, err
}

// Bounds of what is kept, in bytes of ledger values (their decoded forms
// take a few times as much): any identifier may be asked for, so what a
// height's reads and the memo hold must not grow with the ledger. Past
// maxReadBytes a height's reads go to the ledger each time, as before;
// past maxMemoBytes the memo starts again. entryBytes is what an entry
// costs beyond its bytes.
const (
	maxReadBytes = 8 << 20
	maxMemoBytes = 8 << 20
	entryBytes   = 64
)

type recordRead struct {
	rec registry.Record
	ok  bool
}

type liveRead struct {
	live bool
	why  string
}

func newReads(height int64, m *memo, scan int) *reads {
	return &reads{height: height, memo: m, scan: scan, records: map[string]recordRead{}, grants: map[string][]grantRead{}, live: map[string]liveRead{},
		signers: map[string][]grantRead{}}
}

// readsAt is the reads of view's height: the service's current ones when
// view is at their height, new ones (kept for the requests that follow)
// when view is newer, and throwaway ones for an older view, so that a
// request still holding the last height cannot send the cache back.
func (s *Service) readsAt(view *store.View) *reads {
	h := view.Version()
	cur := s.reads.Load()
	if cur != nil && cur.height == h {
		return cur
	}
	r := newReads(h, s.memo, s.opts.GrantScan)
	if cur == nil || cur.height < h {
		s.reads.CompareAndSwap(cur, r)
	}
	return r
}

// keep says whether an entry of n bytes may be stored, and counts it;
// the caller holds mu.
func (c *reads) keep(n int) bool {
	n += entryBytes
	if c.held+n > maxReadBytes {
		return false
	}
	c.held += n
	return true
}

// record is registry.GetRecord at the reads' height.
func (c *reads) record(view *store.View, id string) (registry.Record, bool, error) {
	c.mu.Lock()
	r, hit := c.records[id]
	c.mu.Unlock()
	if hit {
		return r.rec, r.ok, nil
	}
	rec, ok, size, err := c.decodeRecord(view, id)
	if err != nil {
		return rec, ok, err
	}
	c.mu.Lock()
	if _, dup := c.records[id]; !dup && c.keep(size) {
		c.records[id] = recordRead{rec, ok}
	}
	c.mu.Unlock()
	return rec, ok, nil
}

// decodeRecord is registry.GetRecord, decoding only bytes the memo
// does not hold; size is the record's in bytes.
func (c *reads) decodeRecord(view *store.View, id string) (rec registry.Record, ok bool, size int, err error) {
	key := registry.RecordKey(id)
	raw, err := view.Get(key)
	if err != nil {
		return rec, false, 0, fmt.Errorf("get %q: %w", key, err)
	}
	if raw == nil {
		return rec, false, 0, nil
	}
	c.memo.mu.Lock()
	m, hit := c.memo.records[id]
	c.memo.mu.Unlock()
	if hit && bytes.Equal(m.raw, raw) {
		return m.rec, true, len(raw), nil
	}
	if err := registry.DecodeState(raw, &rec); err != nil {
		return rec, false, 0, fmt.Errorf("decode %q: %w", key, err)
	}
	c.memo.mu.Lock()
	c.memo.room(len(raw) + entryBytes)
	c.memo.records[id] = memoRecord{bytes.Clone(raw), rec}
	c.memo.mu.Unlock()
	return rec, true, len(raw), nil
}

// grantsOf is the dataset's first c.scan grants, in key order.
func (c *reads) grantsOf(view *store.View, dataset string) ([]grantRead, error) {
	c.mu.Lock()
	gs, hit := c.grants[dataset]
	c.mu.Unlock()
	if hit {
		return gs, nil
	}
	var scanErr error
	size := 0
	err := view.Iterate(registry.GrantPrefix(dataset), nil, func(k, v []byte) bool {
		if len(gs) == c.scan {
			return false
		}
		size += len(v) + entryBytes
		c.memo.mu.Lock()
		m, hit := c.memo.grants[string(k)]
		c.memo.mu.Unlock()
		if hit && bytes.Equal(m.raw, v) {
			gs = append(gs, grantRead{m.g, m.raw})
			return true
		}
		var g registry.Grant
		if scanErr = json.Unmarshal(v, &g); scanErr != nil {
			return false
		}
		raw := bytes.Clone(v)
		c.memo.mu.Lock()
		c.memo.room(len(raw) + entryBytes)
		c.memo.grants[string(k)] = memoGrant{raw, g}
		c.memo.mu.Unlock()
		gs = append(gs, grantRead{g, raw})
		return true
	})
	if err == nil {
		err = scanErr
	}
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if _, dup := c.grants[dataset]; !dup && c.keep(size) {
		c.grants[dataset] = gs
	}
	c.mu.Unlock()
	return gs, nil
}

// signersGrants are the dataset's grants (grantsOf) to nodes whose
// admins include key, in key order: a request goes through a dataset's
// grants once a height per signer, however many it has.
func (c *reads) signersGrants(view *store.View, dataset, key string) ([]grantRead, error) {
	k := dataset + "#" + key
	c.mu.Lock()
	gs, hit := c.signers[k]
	c.mu.Unlock()
	if hit {
		return gs, nil
	}
	all, err := c.grantsOf(view, dataset)
	if err != nil {
		return nil, err
	}
	for _, gr := range all {
		rec, ok, err := c.record(view, gr.g.Grantee)
		if err != nil {
			return nil, err
		}
		if ok && slices.Contains(rec.Admins, key) {
			gs = append(gs, gr)
		}
	}
	c.mu.Lock()
	if _, dup := c.signers[k]; !dup && c.keep(entryBytes*len(gs)) {
		c.signers[k] = gs
	}
	c.mu.Unlock()
	return gs, nil
}

// namedGrant is the dataset's grant to grantee, when there is one and
// key is among grantee's admins: a request that names its grantee
// (GranteeHeader) reads that one grant, however many the dataset has.
func (c *reads) namedGrant(view *store.View, dataset, grantee, key string) ([]grantRead, error) {
	raw, err := view.Get(registry.GrantKey(dataset, grantee))
	if err != nil {
		return nil, fmt.Errorf("read the grant of %s to %s: %w", dataset, grantee, err)
	}
	if raw == nil {
		return nil, nil
	}
	var g registry.Grant
	if err := json.Unmarshal(raw, &g); err != nil {
		return nil, fmt.Errorf("decode the grant of %s to %s: %w", dataset, grantee, err)
	}
	rec, ok, err := c.record(view, g.Grantee)
	if err != nil {
		return nil, err
	}
	if !ok || !slices.Contains(rec.Admins, key) {
		return nil, nil
	}
	return []grantRead{{g, bytes.Clone(raw)}}, nil
}

// liveAt is g.LiveAt(view, blockTime), blockTime being the time of the
// reads' height: the same for every request at it. LiveAt's answer
// follows from the grant, whether blockTime is past its expiry, and the
// records it reads, so a check whose inputs all have the same bytes as a
// kept one's has its answer.
func (c *reads) liveAt(view *store.View, gr grantRead, blockTime time.Time) (bool, string, error) {
	g := gr.g
	key := string(registry.GrantKey(g.Dataset, g.Grantee))
	c.mu.Lock()
	l, hit := c.live[key]
	c.mu.Unlock()
	if hit {
		return l.live, l.why, nil
	}
	expired := !blockTime.Before(g.Expires)
	c.memo.mu.Lock()
	m, memoHit := c.memo.live[key]
	c.memo.mu.Unlock()
	if memoHit && m.expired == expired && bytes.Equal(m.grant, gr.raw) {
		same := true
		for _, kv := range m.reads {
			v, err := view.Get([]byte(kv.key))
			if err != nil {
				return false, "", fmt.Errorf("get %q: %w", kv.key, err)
			}
			if !bytes.Equal(v, kv.value) {
				same = false
				break
			}
		}
		if same {
			c.keepLive(key, m.live, m.why)
			return m.live, m.why, nil
		}
	}
	rec := &recorder{view: view}
	live, why, err := g.LiveAt(rec, blockTime)
	if err != nil {
		return live, why, err
	}
	size := len(why) + entryBytes
	for _, kv := range rec.reads {
		size += len(kv.key) + len(kv.value) + entryBytes
	}
	c.memo.mu.Lock()
	c.memo.room(size)
	c.memo.live[key] = memoLive{grant: gr.raw, expired: expired, reads: rec.reads, live: live, why: why}
	c.memo.mu.Unlock()
	c.keepLive(key, live, why)
	return live, why, nil
}

func (c *reads) keepLive(key string, live bool, why string) {
	c.mu.Lock()
	if _, dup := c.live[key]; !dup && c.keep(len(why)) {
		c.live[key] = liveRead{live, why}
	}
	c.mu.Unlock()
}
