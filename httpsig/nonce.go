package httpsig

import (
	"container/heap"
	"strconv"
	"sync"
	"time"
)

// NonceCache remembers the nonces of verified signatures, per key, so that a
// signature is accepted once. Replay protection is kept per key, as a
// server that knows its clients keeps it per client: what one key signs
// never makes the cache forget another key's nonces.
//
// Its memory is bounded by NonceLimits:
//   - a key holds at most PerKey nonces; past that it forgets its own
//     oldest;
//   - every key held may keep Floor nonces whatever other keys do; beyond
//     its floor a key draws on one shared room (Total minus Keys × Floor),
//     and when that is full it forgets its own oldest instead;
//   - at most Keys keys are held: a nonce of a new key when all are taken
//     is refused (ErrBusy) until the window frees one, rather than
//     pushing a held key out;
//   - a nonce created before the verifier's window is forgotten, since
//     Verify refuses those as stale anyway;
//   - a key that holds a quarter of the most it held gives the room back
//     (shrink), so the room kept is at most about 4 × Total + 64 × Keys
//     nonces' whatever the keys did before.
//
// Forgetting must never reopen a replay, so each key fails closed on its
// own: once it has forgotten one of its nonces for room, it reports as seen
// every nonce of that key created no later than the one forgotten (a key
// that signs more than its room in one window can thus have its own
// oldest requests refused; it cannot let a replay through, and cannot
// touch another key). It is safe for concurrent use.
type NonceCache struct {
	mu     sync.Mutex
	lim    NonceLimits
	keys   map[string]*keyNonces
	byDue  keyHeap // keys by when the window lets go of their oldest nonce
	held   int     // nonces held, all keys
	shared int     // nonces held beyond their key's floor
	// horizon, unix seconds: the latest window start seen; never goes
	// back.
	horizon int64
}

// NonceLimits bound a NonceCache. NewNonceCacheWith explains each.
type NonceLimits struct {
	// Total bounds the nonces held, all keys together.
	Total int
	// Keys bounds the keys held at once; Keys × Floor is at most Total.
	Keys int
	// PerKey bounds the nonces of one key.
	PerKey int
	// Floor is how many of its latest nonces a key keeps whatever other
	// keys sign.
	Floor int
}

// NewNonceCache returns a cache of at most n nonces (at least 1) in which
// each key keeps a floor of n/64 nonces (from 1 to 16: enough for a
// client's burst of parallel requests signed in one second), half the
// room is kept for the floors of n / (2 × floor) keys, and one key may
// use the other half. Size it above
// the signed requests a server serves in Verifier.MaxAge;
// NewNonceCacheWith sets each bound.
func NewNonceCache(n int) *NonceCache {
	n = max(n, 1)
	floor := min(max(n/64, 1), 16)
	return NewNonceCacheWith(NonceLimits{Total: n, Keys: max(1, n/(2*floor)), PerKey: n, Floor: floor})
}

// NewNonceCacheWith returns a cache with these limits, each raised to
// what the others need: Floor at least 1, PerKey at least Floor and 2,
// Keys at least 1, Total at least Keys × Floor.
func NewNonceCacheWith(lim NonceLimits) *NonceCache {
	lim.Floor = max(lim.Floor, 1)
	lim.PerKey = max(lim.PerKey, lim.Floor, 2)
	lim.Keys = max(lim.Keys, 1)
	lim.Total = max(lim.Total, lim.Keys*lim.Floor)
	return &NonceCache{lim: lim, keys: make(map[string]*keyNonces)}
}

// Limits returns the cache's limits, as raised by NewNonceCacheWith.
func (c *NonceCache) Limits() NonceLimits { return c.lim }

// Seen records the nonce of keyID for a signature created at created, and
// reports whether it was seen before, may have been, or cannot be
// remembered now: it is Use(...) != nil.
func (c *NonceCache) Seen(keyID, nonce string, created, horizon time.Time) bool {
	return c.Use(keyID, nonce, created, horizon) != nil
}

// Use records the nonce of keyID for a signature created at created, where
// horizon is the start of the verifier's window (now minus its MaxAge). It
// returns nil for a nonce it had not seen, an *Error with ErrReplayed when
// the key used it before, or may have (created before horizon, or no later
// than a nonce the key forgot for room), and an *Error with ErrBusy when
// the cache holds Keys other keys and so cannot remember this one.
func (c *NonceCache) Use(keyID, nonce string, created, horizon time.Time) error {
	at := created.Unix()
	c.mu.Lock()
	defer c.mu.Unlock()
	// A clock set back must not bring forgotten nonces back into the
	// window: the horizon only moves forward.
	if h := horizon.Unix(); h > c.horizon {
		c.horizon = h
	}
	c.expire()
	if at < c.horizon {
		return refuse(ErrReplayed, "nonce "+strconv.Quote(nonce)+" was created before the window this server remembers nonces for")
	}
	k := c.keys[keyID]
	switch {
	case k == nil && len(c.keys) >= c.lim.Keys:
		return refuse(ErrBusy, "this server remembers the nonces of "+strconv.Itoa(c.lim.Keys)+" keys already; try again when the window frees one")
	case k == nil:
		k = &keyNonces{id: keyID, seen: make(map[string]struct{})}
		c.keys[keyID] = k
		heap.Push(&c.byDue, k)
	case k.hasFloor && at <= k.floor:
		return refuse(ErrReplayed, "nonce "+strconv.Quote(nonce)+" is no newer than one this key's nonces forgot for room, so it may be that one")
	default:
		if _, ok := k.seen[nonce]; ok {
			return refuse(ErrReplayed, "nonce "+strconv.Quote(nonce)+" was already used by this key")
		}
	}
	n := len(k.byAge)
	switch {
	case n >= c.lim.PerKey, n >= c.lim.Floor && c.shared >= c.lim.Total-c.lim.Keys*c.lim.Floor:
		// No room but the key's own: it forgets its oldest.
		c.forgetOldest(k)
	case n >= c.lim.Floor:
		c.shared++
	}
	heap.Push(&k.byAge, nonceEntry{created: at, nonce: nonce})
	k.seen[nonce] = struct{}{}
	k.peak = max(k.peak, len(k.byAge))
	c.held++
	heap.Fix(&c.byDue, k.pos)
	return nil
}

// forgetOldest drops k's oldest nonce for room and raises k's floor to it,
// so that it is still refused. The caller adds one back: held and shared
// do not move.
func (c *NonceCache) forgetOldest(k *keyNonces) {
	old := heap.Pop(&k.byAge).(nonceEntry)
	delete(k.seen, old.nonce)
	c.held--
	if !k.hasFloor || old.created > k.floor {
		k.floor, k.hasFloor = old.created, true
	}
}

// expire drops the nonces created before the horizon, and the keys left
// with none and with no floor inside the window.
func (c *NonceCache) expire() {
	for len(c.byDue) > 0 {
		k := c.byDue[0]
		if len(k.byAge) == 0 {
			// Only its floor keeps it; once the window has passed
			// that, Use refuses what the floor did by age.
			if k.floor >= c.horizon {
				return
			}
			heap.Pop(&c.byDue)
			delete(c.keys, k.id)
			continue
		}
		if k.byAge[0].created >= c.horizon {
			return
		}
		if len(k.byAge) > c.lim.Floor {
			c.shared--
		}
		old := heap.Pop(&k.byAge).(nonceEntry)
		delete(k.seen, old.nonce)
		c.held--
		k.shrink()
		heap.Fix(&c.byDue, 0)
	}
}

// Len returns how many nonces the cache holds.
func (c *NonceCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.held
}

// Keys returns how many keys the cache holds nonces (or a floor) for.
func (c *NonceCache) Keys() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.keys)
}

// keyNonces are one key's nonces within the window.
type keyNonces struct {
	id       string
	seen     map[string]struct{}
	byAge    nonceHeap
	floor    int64 // unix seconds: created at or before it may be a forgotten nonce
	hasFloor bool
	pos      int // index in NonceCache.byDue
	peak     int // the most nonces held since the room was last given back (shrink)
}

// shrinkFrom is the most nonces a key may have held and keep the room of
// while it holds few: below it, the room is small anyway.
const shrinkFrom = 64

// shrink gives back the room of a key that holds a quarter or less of the
// most it held: Go's maps and slices never shrink, so without it a key
// that once held PerKey nonces would keep their room while it signs one
// request a minute, and many such keys could hold far more memory than
// the cache's limits say. Rebuilding costs what the nonces forgotten
// since did, once.
func (k *keyNonces) shrink() {
	if k.peak <= shrinkFrom || len(k.byAge)*4 > k.peak {
		return
	}
	k.byAge = append(make(nonceHeap, 0, len(k.byAge)), k.byAge...)
	k.seen = make(map[string]struct{}, len(k.byAge))
	for _, e := range k.byAge {
		k.seen[e.nonce] = struct{}{}
	}
	k.peak = len(k.byAge)
}

// due is when the window lets go of the key's oldest nonce, or, with none,
// of its floor.
func (k *keyNonces) due() int64 {
	if len(k.byAge) > 0 {
		return k.byAge[0].created
	}
	return k.floor
}

type nonceEntry struct {
	created int64
	nonce   string
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

// keyHeap is a min-heap of keys by due: the window drops from its top.
type keyHeap []*keyNonces

func (h keyHeap) Len() int           { return len(h) }
func (h keyHeap) Less(i, j int) bool { return h[i].due() < h[j].due() }
func (h keyHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].pos, h[j].pos = i, j
}
func (h *keyHeap) Push(x any) {
	k := x.(*keyNonces)
	k.pos = len(*h)
	*h = append(*h, k)
}
func (h *keyHeap) Pop() any {
	old := *h
	k := old[len(old)-1]
	*h = old[:len(old)-1]
	k.pos = -1
	return k
}
