package httpsig

import (
	"container/heap"
	"strconv"
	"sync"
	"time"
)

// NonceCache remembers the nonces of verified signatures, per key, so that a
// signature is accepted once. Replay protection is kept per key, as a
// server that knows its clients keeps it per client: a key's own recent
// nonces outlive what other keys sign.
//
// Its memory is bounded by NonceLimits:
//   - a key holds at most PerKey nonces; past that it forgets its own
//     oldest;
//   - every key held may keep Floor nonces whatever other keys do; beyond
//     its floor a key draws on one shared room (Total minus Keys × Floor).
//     When that is full, the key that holds the most nonces forgets its
//     oldest to make room: keys that sign the most (a flood) give way
//     first, and their oldest nonce is minutes old, so they lose nothing
//     they still sign for, while a key signing a burst in one second keeps
//     every nonce of it;
//   - at most Keys keys are held: a nonce of a new key when all are taken
//     is refused (ErrBusy) until the window frees one, rather than
//     pushing a held key out;
//   - a nonce created before the verifier's window is forgotten, since
//     Verify refuses those as stale anyway;
//   - a key that holds a quarter of the most it held gives the room back
//     (shrink), so the room kept is at most about 4 × Total + 64 × Keys
//     nonces' whatever the keys did before.
//
// Forgetting must never reopen a replay, so a key fails closed on its
// own: once it has forgotten one of its nonces for room, it reports as
// seen every nonce of that key created no later than the one forgotten,
// for a window (a key that signs more than its room in one window can
// thus have its own oldest requests refused; it cannot let a replay
// through).
//
// The window's start (the horizon) follows the verifier's clock forward
// at once, and back only a window after it last moved forward, measured
// on the monotonic clock: every nonce forgotten because the clock ran
// ahead was seen before then, so none seen within the window comes back,
// and a clock stepped back (after running ahead) locks honest signers out
// for at most one window, not until real time catches up. Floors raised
// for room lapse the same way. A nonce seen more than a window ago is
// guarded by the clock alone, as in any replay cache bounded by time. It
// is safe for concurrent use.
type NonceCache struct {
	mu     sync.Mutex
	lim    NonceLimits
	keys   map[string]*keyNonces
	byDue  keyHeap  // keys by when the window lets go of their oldest nonce
	bySize sizeHeap // keys by nonces held, most first: who gives room first
	held   int      // nonces held, all keys
	shared int      // nonces held beyond their key's floor
	// horizon, unix seconds: the window's start; it moves back only a
	// window after it last moved forward (raised, on mono).
	horizon int64
	raised  time.Duration
	// mono is the monotonic clock (time since the cache was made), which
	// a step of the wall clock does not move; tests set it.
	mono func() time.Duration
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
	start := time.Now()
	return &NonceCache{lim: lim, keys: make(map[string]*keyNonces), mono: func() time.Duration { return time.Since(start) }}
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
// the cache holds Keys other keys and so cannot remember this one. The
// window is taken to be DefaultMaxAge + DefaultMaxSkew long; a Verifier
// passes its own.
func (c *NonceCache) Use(keyID, nonce string, created, horizon time.Time) error {
	return c.use(keyID, nonce, created, horizon, DefaultMaxAge+DefaultMaxSkew)
}

// use is Use with the window's length: how long, on the monotonic clock, a
// nonce may be accepted after it was seen (the verifier's MaxAge and
// MaxSkew).
func (c *NonceCache) use(keyID, nonce string, created, horizon time.Time, window time.Duration) error {
	at := created.Unix()
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.mono()
	// Forward at once; back only a window after the last move forward,
	// so that no nonce forgotten by age came from within the window.
	if h := horizon.Unix(); h > c.horizon || (h < c.horizon && now-c.raised >= window) {
		c.horizon, c.raised = h, now
	}
	c.expire(now, window)
	if at < c.horizon {
		return refuse(ErrReplayed, "nonce "+strconv.Quote(nonce)+" was created before the window this server remembers nonces for")
	}
	k := c.keys[keyID]
	if k != nil && k.hasFloor && now-k.floorAt >= window {
		// Every nonce the floor stood for was seen a window ago.
		k.hasFloor = false
	}
	switch {
	case k == nil && len(c.keys) >= c.lim.Keys:
		return refuse(ErrBusy, "this server remembers the nonces of "+strconv.Itoa(c.lim.Keys)+" keys already; try again when the window frees one")
	case k == nil:
		k = &keyNonces{id: keyID, seen: make(map[string]struct{})}
		c.keys[keyID] = k
		heap.Push(&c.byDue, k)
		heap.Push(&c.bySize, k)
	case k.hasFloor && at <= k.floor:
		return refuse(ErrReplayed, "nonce "+strconv.Quote(nonce)+" is no newer than one this key's nonces forgot for room, so it may be that one")
	default:
		if _, ok := k.seen[nonce]; ok {
			return refuse(ErrReplayed, "nonce "+strconv.Quote(nonce)+" was already used by this key")
		}
	}
	n := len(k.byAge)
	switch {
	case n >= c.lim.PerKey:
		// No room but the key's own: it forgets its oldest.
		c.forgetOldest(k, now)
	case n >= c.lim.Floor && c.shared >= c.lim.Total-c.lim.Keys*c.lim.Floor:
		// The shared room is full: the key holding the most gives its
		// oldest (beyond its floor, as it holds more than this one).
		// Held and shared do not move.
		if top := c.bySize[0]; len(top.byAge) > n {
			c.forgetOldest(top, now)
		} else {
			c.forgetOldest(k, now)
		}
	case n >= c.lim.Floor:
		c.shared++
	}
	heap.Push(&k.byAge, nonceEntry{created: at, nonce: nonce})
	k.seen[nonce] = struct{}{}
	k.peak = max(k.peak, len(k.byAge))
	c.held++
	heap.Fix(&c.byDue, k.pos)
	heap.Fix(&c.bySize, k.sizePos)
	return nil
}

// forgetOldest drops k's oldest nonce for room and raises k's floor to it,
// so that it is still refused for a window from now. The caller adds one
// back: held and shared do not move.
func (c *NonceCache) forgetOldest(k *keyNonces, now time.Duration) {
	old := heap.Pop(&k.byAge).(nonceEntry)
	delete(k.seen, old.nonce)
	c.held--
	if !k.hasFloor || old.created > k.floor {
		k.floor, k.hasFloor = old.created, true
	}
	k.floorAt = now
	heap.Fix(&c.byDue, k.pos)
	heap.Fix(&c.bySize, k.sizePos)
}

// expire drops the nonces created before the horizon, and the keys left
// with none and with no floor that still stands.
func (c *NonceCache) expire(now, window time.Duration) {
	for len(c.byDue) > 0 {
		k := c.byDue[0]
		if len(k.byAge) == 0 {
			// Only its floor keeps it; once the window has passed
			// that, Use refuses what the floor did by age.
			if k.hasFloor && k.floor >= c.horizon && now-k.floorAt < window {
				return
			}
			heap.Pop(&c.byDue)
			heap.Remove(&c.bySize, k.sizePos)
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
		heap.Fix(&c.bySize, k.sizePos)
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
	floorAt  time.Duration // when the floor was last raised, on the cache's monotonic clock
	pos      int           // index in NonceCache.byDue
	sizePos  int           // index in NonceCache.bySize
	peak     int           // the most nonces held since the room was last given back (shrink)
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

// sizeHeap is a max-heap of keys by nonces held: when the shared room is
// full, its top gives room first.
type sizeHeap []*keyNonces

func (h sizeHeap) Len() int           { return len(h) }
func (h sizeHeap) Less(i, j int) bool { return len(h[i].byAge) > len(h[j].byAge) }
func (h sizeHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].sizePos, h[j].sizePos = i, j
}
func (h *sizeHeap) Push(x any) {
	k := x.(*keyNonces)
	k.sizePos = len(*h)
	*h = append(*h, k)
}
func (h *sizeHeap) Pop() any {
	old := *h
	k := old[len(old)-1]
	*h = old[:len(old)-1]
	k.sizePos = -1
	return k
}
