package httpsig

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

var t0 = time.Unix(1764909000, 0)

func TestNonceCacheSeen(t *testing.T) {
	c := NewNonceCache(10)
	horizon := t0.Add(-DefaultMaxAge)
	steps := []struct {
		key, nonce string
		created    time.Time
		want       bool
	}{
		{"a", "n1", t0, false},
		{"a", "n1", t0, true},                        // replay
		{"a", "n1", t0.Add(time.Second), true},       // same nonce, other created: still a replay
		{"b", "n1", t0, false},                       // same nonce, another key
		{"a", "n2", t0, false},                       // another nonce
		{"a", "n3", horizon.Add(-time.Second), true}, // before the window: never new
	}
	for i, s := range steps {
		if got := c.Seen(s.key, s.nonce, s.created, horizon); got != s.want {
			t.Fatalf("step %d: Seen(%s, %s) = %v, want %v", i, s.key, s.nonce, got, s.want)
		}
	}
	if c.Len() != 3 {
		t.Fatalf("Len %d, want 3", c.Len())
	}
}

// The cache never holds more than max nonces, and forgetting one for room
// never lets it be replayed: nonces created at or before the forgotten one
// are reported seen.
func TestNonceCacheBound(t *testing.T) {
	const max = 4
	c := NewNonceCache(max)
	horizon := t0.Add(-time.Hour)
	for i := 0; i < 20; i++ {
		if c.Seen("k", fmt.Sprint("n", i), t0.Add(time.Duration(i)*time.Second), horizon) {
			t.Fatalf("nonce %d reported seen", i)
		}
		if c.Len() > max {
			t.Fatalf("after %d nonces the cache holds %d, bound %d", i+1, c.Len(), max)
		}
	}
	// The oldest were forgotten; the newest forgotten was created just
	// before the oldest held.
	for i := 0; i < 20; i++ {
		if !c.Seen("k", fmt.Sprint("n", i), t0.Add(time.Duration(i)*time.Second), horizon) {
			t.Fatalf("replay of nonce %d accepted", i)
		}
	}
	held := c.Len()
	if !c.Seen("k", "fresh", t0.Add(time.Duration(19-held)*time.Second), horizon) {
		t.Fatal("a nonce created when a forgotten one was is accepted: it could be that one")
	}
	if c.Seen("k", "fresh", t0.Add(20*time.Second), horizon) {
		t.Fatal("a new nonce created after every forgotten one is refused")
	}
	if c.Len() != held || held > max {
		t.Fatalf("Len %d, want %d, at most %d", c.Len(), held, max)
	}
}

// Nonces older than the window are forgotten, and the window does not move
// back when the clock does, not for a window (on the monotonic clock:
// TestNonceHorizonComesBackAfterAWindow).
func TestNonceCacheWindow(t *testing.T) {
	c := NewNonceCache(100)
	for i := 0; i < 10; i++ {
		c.Seen("k", fmt.Sprint("n", i), t0.Add(time.Duration(i)*time.Minute), t0.Add(-time.Hour))
	}
	if c.Len() != 10 {
		t.Fatalf("Len %d, want 10", c.Len())
	}
	// The window now starts at t0+5m: n0..n4 are forgotten.
	c.Seen("k", "late", t0.Add(10*time.Minute), t0.Add(5*time.Minute))
	if c.Len() != 6 {
		t.Fatalf("Len %d after the window moved, want 6", c.Len())
	}
	// A clock set back an hour: n0 is still refused.
	if !c.Seen("k", "n0", t0, t0.Add(-time.Hour)) {
		t.Fatal("a nonce from before the window is accepted after the clock went back")
	}
}

func TestNonceCacheConcurrent(t *testing.T) {
	c := NewNonceCache(1000)
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted := 0
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				if !c.Seen("k", fmt.Sprint(i), t0, t0.Add(-time.Minute)) {
					mu.Lock()
					accepted++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if accepted != 500 {
		t.Fatalf("%d of 500 distinct nonces accepted by 4 goroutines each, want each once", accepted)
	}
}

// A flood of requests signed by many other keys (on a public dataset any
// key is let in) never pushes out an honest key's recent nonces: its
// replay is still caught by the nonce itself, its next requests are still
// taken, and the cache's memory stays within its limits. A key new during
// the flood is refused as busy (fail closed), never taken by forgetting
// another's nonces.
func TestNonceCacheFloodOfKeys(t *testing.T) {
	lim := NonceLimits{Total: 256, Keys: 32, PerKey: 64, Floor: 4}
	c := NewNonceCacheWith(lim)
	horizon := t0.Add(-time.Minute)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	for i := range 3 {
		if err := c.Use("honest", fmt.Sprint("h", i), at(0), horizon); err != nil {
			t.Fatalf("honest nonce %d: %v", i, err)
		}
	}
	// 10,000 other keys, each signing a burst, created around the honest
	// ones (older, the same second, newer).
	busy := 0
	for k := range 10000 {
		for i := range 1 + k%70 {
			err := c.Use(fmt.Sprint("flood", k), fmt.Sprint("n", i), at(k%3-1), horizon)
			switch ErrorCode(err) {
			case "":
			case ErrBusy:
				busy++
			case ErrReplayed:
				// Its own floor: a key past its room in one second
				// refuses its own nonces of that second.
				if i < lim.Floor {
					t.Fatalf("flood key %d nonce %d, within its floor: %v", k, i, err)
				}
			default:
				t.Fatalf("flood key %d nonce %d: %v", k, i, err)
			}
			if c.Len() > lim.Total || c.Keys() > lim.Keys {
				t.Fatalf("after flood key %d: %d nonces of %d keys, limits %d and %d", k, c.Len(), c.Keys(), lim.Total, lim.Keys)
			}
		}
	}
	if busy == 0 {
		t.Fatal("10,000 keys in one window and none refused as busy: the key bound is not held")
	}
	for i := range 3 {
		if err := c.Use("honest", fmt.Sprint("h", i), at(0), horizon); ErrorCode(err) != ErrReplayed {
			t.Fatalf("replay of honest nonce %d after the flood: %v, want %s", i, err, ErrReplayed)
		}
	}
	// Its next requests are taken: the one signed in the same second as
	// the first ones, within its floor (the flood raised no floor of the
	// honest key's), and one a second after, rotating its own nonces.
	for i := 3; i < 10; i++ {
		if err := c.Use("honest", fmt.Sprint("h", i), at(i-3), horizon); err != nil {
			t.Fatalf("honest nonce %d after the flood: %v", i, err)
		}
	}
	if err := c.Use("newcomer", "x", at(0), horizon); ErrorCode(err) != ErrBusy {
		t.Fatalf("a new key while %d are held: %v, want %s", c.Keys(), err, ErrBusy)
	}
	// The window moves on: every flood nonce is forgotten, and so are
	// the keys.
	if err := c.Use("newcomer", "x", at(200), at(100)); err != nil {
		t.Fatalf("a new key once the window passed: %v", err)
	}
	if c.Len() != 1 || c.Keys() != 1 {
		t.Fatalf("after the window: %d nonces of %d keys, want 1 of 1", c.Len(), c.Keys())
	}
}

// One key signing more than its room forgets only its own oldest, and
// then refuses its own nonces no newer than the one forgotten; other keys
// keep theirs and can still sign.
func TestNonceCachePerKeyCap(t *testing.T) {
	c := NewNonceCacheWith(NonceLimits{Total: 100, Keys: 10, PerKey: 8, Floor: 2})
	horizon := t0.Add(-time.Minute)
	if err := c.Use("other", "o", t0, horizon); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if err := c.Use("heavy", fmt.Sprint(i), t0.Add(time.Duration(i)*time.Second), horizon); err != nil {
			t.Fatalf("heavy nonce %d: %v", i, err)
		}
	}
	if c.Len() != 9 {
		t.Fatalf("Len %d, want the heavy key's 8 and the other's 1", c.Len())
	}
	if err := c.Use("heavy", "0", t0, horizon); ErrorCode(err) != ErrReplayed {
		t.Fatalf("replay of the heavy key's forgotten nonce: %v", err)
	}
	if err := c.Use("other", "o", t0, horizon); ErrorCode(err) != ErrReplayed {
		t.Fatalf("replay of the other key's nonce: %v", err)
	}
	if err := c.Use("other", "o2", t0, horizon); err != nil {
		t.Fatalf("the other key signing in the heavy key's forgotten second: %v", err)
	}
}

// The shared room beyond the floors is bounded: once it is full, a key
// past its floor rotates its own nonces and the total holds.
func TestNonceCacheSharedRoom(t *testing.T) {
	lim := NonceLimits{Total: 20, Keys: 4, PerKey: 20, Floor: 2}
	c := NewNonceCacheWith(lim)
	horizon := t0.Add(-time.Minute)
	for k := range 4 {
		for i := range 20 {
			if err := c.Use(fmt.Sprint("k", k), fmt.Sprint(i), t0.Add(time.Duration(i)*time.Second), horizon); err != nil {
				t.Fatalf("key %d nonce %d: %v", k, i, err)
			}
			if c.Len() > lim.Total {
				t.Fatalf("Len %d past the total %d", c.Len(), lim.Total)
			}
		}
	}
	if c.Len() != lim.Total {
		t.Fatalf("Len %d, want the total %d in use", c.Len(), lim.Total)
	}
	// Every key kept at least its floor, its latest nonces.
	for k := range 4 {
		if err := c.Use(fmt.Sprint("k", k), "19", t0.Add(19*time.Second), horizon); ErrorCode(err) != ErrReplayed {
			t.Fatalf("key %d's latest nonce replayed: %v", k, err)
		}
	}
}

// Keys with a right can fill the shared room: the node's own limits
// (share: 2^20 nonces, 32,768 keys, a floor of 16, 16,384 a key) are
// filled by 33 keys signing 16,384 requests each in the window, about
// 1,800 a second; and the same shape scaled down (the shared room is 43
// keys' PerKey beyond their floor). An honest key that then signs a burst in one second,
// past its floor, keeps every nonce of it: the flooders give room first.
// Its burst's replays are refused, its next requests taken, and the
// memory stays within its limits.
func TestNonceCacheFloodOfKeysWithARight(t *testing.T) {
	for _, lim := range []NonceLimits{
		{Total: 4096, Keys: 128, PerKey: 64, Floor: 16},
		{Total: 1 << 20, Keys: 32768, PerKey: 1 << 14, Floor: 16}, // the node's
	} {
		t.Run(fmt.Sprint(lim.Total), func(t *testing.T) { floodOfKeysWithARight(t, lim) })
	}
}

func floodOfKeysWithARight(t *testing.T, lim NonceLimits) {
	c := NewNonceCacheWith(lim)
	horizon := t0.Add(-time.Minute)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	flooders := (lim.Total-lim.Keys*lim.Floor)/(lim.PerKey-lim.Floor) + 1
	flood := func(round int) {
		t.Helper()
		for k := range flooders {
			for i := range lim.PerKey {
				if err := c.Use(fmt.Sprint("flood", k), fmt.Sprintf("n%d-%d", round, i), at(round), horizon); err != nil && ErrorCode(err) != ErrReplayed {
					t.Fatalf("flood key %d nonce %d: %v", k, i, err)
				}
				if c.Len() > lim.Total || c.Keys() > lim.Keys {
					t.Fatalf("%d nonces of %d keys, limits %d and %d", c.Len(), c.Keys(), lim.Total, lim.Keys)
				}
			}
		}
	}
	flood(0)
	const burst = 24 // past the floor, in one second; twice that is within PerKey
	for i := range burst {
		if err := c.Use("honest", fmt.Sprint("h", i), at(1), horizon); err != nil {
			t.Fatalf("honest nonce %d of a burst after the flood: %v", i, err)
		}
	}
	flood(2)
	for i := range burst {
		if err := c.Use("honest", fmt.Sprint("h", i), at(1), horizon); ErrorCode(err) != ErrReplayed {
			t.Fatalf("replay of honest nonce %d: %v, want %s", i, err, ErrReplayed)
		}
		if err := c.Use("honest", fmt.Sprint("again", i), at(1), horizon); err != nil {
			t.Fatalf("honest nonce %d signed in the burst's second, after more flood: %v", i, err)
		}
	}
	if c.Len() > lim.Total {
		t.Fatalf("%d nonces held, limit %d", c.Len(), lim.Total)
	}
}
