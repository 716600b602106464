package api

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// The table of clients stays bounded under many addresses: once full, new
// clients share one overflow bucket, and clients idle long enough for
// their buckets to fill again are forgotten, which frees room.
func TestBucketsBounded(t *testing.T) {
	b := newBuckets(classRead, Rate{PerSecond: 1, Burst: 2}) // idle after 2 s
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b.swept = now
	client := func(i int) netip.Prefix {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		return netip.PrefixFrom(a, 32)
	}
	for i := range maxClients {
		if _, ok := b.take(client(i), now); !ok {
			t.Fatalf("client %d refused its first request", i)
		}
	}
	if len(b.clients) != maxClients {
		t.Fatalf("%d clients kept, want %d", len(b.clients), maxClients)
	}
	// Full: newcomers share the overflow bucket (burst 2), and the table
	// does not grow.
	for i := range 2 {
		if _, ok := b.take(client(maxClients+i), now); !ok {
			t.Fatalf("newcomer %d refused within the overflow bucket's burst", i)
		}
	}
	wait, ok := b.take(client(maxClients+2), now)
	if ok || wait <= 0 || wait > time.Second {
		t.Fatalf("third newcomer: ok %v wait %v, want refused for at most a second", ok, wait)
	}
	if len(b.clients) != maxClients {
		t.Fatalf("%d clients kept after newcomers, want %d", len(b.clients), maxClients)
	}
	// A known client keeps its own bucket meanwhile.
	if _, ok := b.take(client(7), now); !ok {
		t.Fatal("a known client was refused its second request (burst 2)")
	}
	// Once the others have been idle long enough, a newcomer sweeps them.
	later := now.Add(2 * time.Second)
	if _, ok := b.take(client(maxClients+3), later); !ok {
		t.Fatal("a newcomer after the idle time was refused")
	}
	if len(b.clients) != 1 {
		t.Fatalf("%d clients kept after the sweep, want 1 (the newcomer; client 7 was seen at the same time as the others)", len(b.clients))
	}
	if fmt.Sprint(b.swept) != fmt.Sprint(later) {
		t.Fatalf("swept at %v, want %v", b.swept, later)
	}
}
