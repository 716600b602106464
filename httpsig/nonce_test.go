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
	// n0..n15 were forgotten; the newest forgotten was created at t0+15s.
	for i := 0; i < 20; i++ {
		if !c.Seen("k", fmt.Sprint("n", i), t0.Add(time.Duration(i)*time.Second), horizon) {
			t.Fatalf("replay of nonce %d accepted", i)
		}
	}
	if !c.Seen("k", "fresh", t0.Add(15*time.Second), horizon) {
		t.Fatal("a nonce created when a forgotten one was is accepted: it could be that one")
	}
	if c.Seen("k", "fresh", t0.Add(16*time.Second), horizon) {
		t.Fatal("a new nonce created after every forgotten one is refused")
	}
	if c.Len() != max {
		t.Fatalf("Len %d, want %d", c.Len(), max)
	}
}

// Nonces older than the window are forgotten, and the window never moves
// back, even when the clock does.
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
