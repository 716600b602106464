package httpsig

import (
	"container/heap"
	"sync"
	"time"
)

// NonceCache remembers the nonces of verified signatures, per key, so that a
// signature is accepted once. Its memory is bounded: it holds at most max
// nonces, forgets the oldest (by created) first, and forgets every nonce
// created before the verifier's window, since Verify refuses those as stale
// anyway. Forgetting must never reopen a replay, so the cache fails closed:
// once it has forgotten a nonce for room, it reports as seen every nonce
// created no later than the one forgotten (a flood of signed requests beyond
// max in one window can thus refuse the oldest honest ones; it cannot let a
// replay through). It is safe for concurrent use.
type NonceCache struct {
	mu      sync.Mutex
	max     int
	seen    map[string]struct{}
	byAge   nonceHeap
	floor   int64 // unix seconds: created at or before it may be a forgotten nonce
	hasFlr  bool
	horizon int64 // unix seconds: the latest window start seen; never goes back
}

// NewNonceCache returns a cache of at most max nonces (at least 1). Size it
// above the signed requests a node serves in Verifier.MaxAge.
func NewNonceCache(max int) *NonceCache {
	if max < 1 {
		max = 1
	}
	return &NonceCache{max: max, seen: make(map[string]struct{})}
}

// Seen records the nonce of keyID for a signature created at created, and
// reports whether it was seen before, or may have been: true also when
// created is before horizon (the start of the verifier's window, now minus
// its MaxAge) or at or before the newest nonce forgotten for room.
func (c *NonceCache) Seen(keyID, nonce string, created, horizon time.Time) bool {
	at := created.Unix()
	c.mu.Lock()
	defer c.mu.Unlock()
	// A clock set back must not bring forgotten nonces back into the
	// window: the horizon only moves forward.
	if h := horizon.Unix(); h > c.horizon {
		c.horizon = h
	}
	for len(c.byAge) > 0 && c.byAge[0].created < c.horizon {
		old := heap.Pop(&c.byAge).(nonceEntry)
		delete(c.seen, old.key)
	}
	if at < c.horizon || (c.hasFlr && at <= c.floor) {
		return true
	}
	k := keyID + "\x00" + nonce
	if _, ok := c.seen[k]; ok {
		return true
	}
	if len(c.byAge) >= c.max {
		old := heap.Pop(&c.byAge).(nonceEntry)
		delete(c.seen, old.key)
		if !c.hasFlr || old.created > c.floor {
			c.floor, c.hasFlr = old.created, true
		}
	}
	heap.Push(&c.byAge, nonceEntry{created: at, key: k})
	c.seen[k] = struct{}{}
	return false
}

// Len returns how many nonces the cache holds.
func (c *NonceCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.byAge)
}

type nonceEntry struct {
	created int64
	key     string
}

// nonceHeap is a min-heap by created: the oldest nonce is forgotten first.
type nonceHeap []nonceEntry

func (h nonceHeap) Len() int           { return len(h) }
func (h nonceHeap) Less(i, j int) bool { return h[i].created < h[j].created }
func (h nonceHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *nonceHeap) Push(x any)        { *h = append(*h, x.(nonceEntry)) }
func (h *nonceHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
