package httpsig

import (
	"fmt"
	"testing"
	"time"
)

// A key that held many nonces and now holds few gives their room back:
// otherwise keys that each fill their room once and then sign one request
// a minute would keep PerKey nonces' worth of memory each, far beyond
// the cache's Total.
func TestNonceCacheGivesRoomBack(t *testing.T) {
	c := NewNonceCacheWith(NonceLimits{Total: 4096, Keys: 4, PerKey: 2048, Floor: 4})
	t0 := time.Unix(1764909000, 0)
	for i := range 2000 {
		if err := c.Use("k", fmt.Sprint(i), t0, t0.Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Use("k", "late", t0.Add(10*time.Minute), t0.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	// The window moves past the 2000: one nonce is left.
	if err := c.Use("k", "later", t0.Add(10*time.Minute), t0.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	k := c.keys["k"]
	if len(k.byAge) != 2 || cap(k.byAge) > 64 || k.peak > 64 {
		t.Fatalf("after the window: %d nonces in a heap of capacity %d, peak %d: the room of 2000 is kept", len(k.byAge), cap(k.byAge), k.peak)
	}
}

// A clock that ran ahead and was stepped back (an NTP correction) locks
// honest signers out for at most one window (MaxAge + MaxSkew, on the
// monotonic clock, which the step does not move), not until real time
// catches up with the clock's error; and no nonce seen within the window
// is taken twice meanwhile, though the window forgot it when the clock
// ran ahead.
func TestNonceHorizonComesBackAfterAWindow(t *testing.T) {
	var mono time.Duration
	var wall time.Time
	c := NewNonceCache(1000)
	c.mono = func() time.Duration { return mono }
	window := DefaultMaxAge + DefaultMaxSkew
	use := func(key, nonce string, created time.Time) error {
		return c.use(key, nonce, created, wall.Add(-DefaultMaxAge), window)
	}
	t0 := time.Unix(1764909000, 0)
	wall = t0
	if err := use("honest", "a", t0); err != nil {
		t.Fatal(err)
	}
	// Ten seconds later the clock is an hour ahead, and a request signed
	// by its time is let in: the window moves an hour on, forgetting a.
	mono, wall = 10*time.Second, t0.Add(time.Hour+10*time.Second)
	if err := use("ahead", "b", wall); err != nil {
		t.Fatal(err)
	}
	// The clock is stepped back to the right time.
	mono, wall = 11*time.Second, t0.Add(11*time.Second)
	if err := use("honest", "a", t0); ErrorCode(err) != ErrReplayed {
		t.Fatalf("a, seen 11 s ago, replayed after the step back: %v, want %s", err, ErrReplayed)
	}
	// Within the window since the clock ran ahead, the cache cannot
	// tell a from a new nonce of that time: it fails closed.
	mono, wall = 10*time.Second+window-time.Second, t0.Add(10*time.Second+window-time.Second)
	if err := use("honest", "c", wall); ErrorCode(err) != ErrReplayed {
		t.Fatalf("a new nonce a second short of a window after the clock ran ahead: %v, want %s", err, ErrReplayed)
	}
	// A window after the last request let in while the clock was ahead,
	// honest signers are let in again (without the fix: only when the
	// clock reaches an hour on), and what they sign is remembered.
	mono, wall = 10*time.Second+window, t0.Add(10*time.Second+window)
	if err := use("honest", "d", wall); err != nil {
		t.Fatalf("a new nonce a window after the clock ran ahead: %v", err)
	}
	mono, wall = mono+time.Minute, wall.Add(time.Minute)
	if err := use("honest", "d", wall.Add(-time.Minute)); ErrorCode(err) != ErrReplayed {
		t.Fatalf("d replayed a minute later: %v, want %s", err, ErrReplayed)
	}
	// The same through a Verifier whose clock steps back: the window it
	// passes is its MaxAge + MaxSkew.
	v := &Verifier{Nonces: NewNonceCache(1000), MaxAge: time.Minute, MaxSkew: time.Second, Now: func() time.Time { return wall }}
	v.Nonces.mono = func() time.Duration { return mono }
	mono, wall = 0, t0.Add(time.Hour)
	if err := v.UseNonce(Params{KeyID: "k", Nonce: "ahead", Created: wall}); err != nil {
		t.Fatal(err)
	}
	mono, wall = time.Minute, t0.Add(time.Minute)
	if err := v.UseNonce(Params{KeyID: "k", Nonce: "early", Created: wall}); ErrorCode(err) != ErrReplayed {
		t.Fatalf("a minute after the step back, within the verifier's window of 61 s: %v, want %s", err, ErrReplayed)
	}
	mono, wall = time.Minute+time.Second, t0.Add(time.Minute+time.Second)
	if err := v.UseNonce(Params{KeyID: "k", Nonce: "on-time", Created: wall}); err != nil {
		t.Fatalf("61 s after the clock ran ahead, the verifier's window: %v", err)
	}
}

// A floor a key raised for room while the clock ran ahead lapses a
// window after it was raised, whatever the clock says then: the key's
// requests signed by the right time are let in again.
func TestNonceFloorLapsesAfterAWindow(t *testing.T) {
	var mono time.Duration
	c := NewNonceCacheWith(NonceLimits{Total: 8, Keys: 2, PerKey: 2, Floor: 1})
	c.mono = func() time.Duration { return mono }
	window := DefaultMaxAge + DefaultMaxSkew
	t0 := time.Unix(1764909000, 0)
	ahead := t0.Add(time.Hour)
	for i := range 3 {
		// The third forgets the first: a floor at the clock's (wrong) hour.
		if err := c.use("k", fmt.Sprint("n", i), ahead, t0.Add(-time.Minute), window); err != nil {
			t.Fatal(err)
		}
	}
	mono = window - time.Second
	if err := c.use("k", "early", ahead, t0.Add(-time.Minute), window); ErrorCode(err) != ErrReplayed {
		t.Fatalf("a nonce of the forgotten one's second, within the window: %v, want %s", err, ErrReplayed)
	}
	mono = window
	if err := c.use("k", "late", ahead, t0.Add(-time.Minute), window); err != nil {
		t.Fatalf("a window after the floor was raised: %v", err)
	}
}
