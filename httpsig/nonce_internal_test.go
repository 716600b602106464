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
