package store

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	"github.com/VictoriaMetrics/fastcache"
)

// valueCache keeps values of the latest committed version in memory, so a
// resolve of a record read before needs neither IAVL nor goleveldb.
//
// Why it exists: IAVL v1 keeps only its last 100,000 fast-index entries in
// memory, and serialises every read that misses them on one mutex around a
// goleveldb lookup. At a million identifiers nearly every resolve missed,
// and that lookup was a third of a serving node's CPU. The values live in
// fastcache's chunks, off the Go heap, so a million of them add nothing to
// garbage collection.
//
// Correctness rests on one rule: the cache holds values of exactly one
// version, c.version. A reader of another version goes to the tree. A
// commit deletes the keys the new version wrote and then moves c.version
// on, under the write lock; a fill happens under the read lock and only if
// the reader's version is still c.version. So a value read from version V
// can only enter the cache while V is the cache's version, and leaves it
// when a later version writes its key.
type valueCache struct {
	mu      sync.RWMutex
	version int64 // the committed version whose values c holds; 0: none
	c       *fastcache.Cache
}

func newValueCache(maxBytes int) *valueCache {
	return &valueCache{c: fastcache.New(maxBytes)}
}

// get returns the value of key at version, if the cache holds it.
func (vc *valueCache) get(version int64, key []byte) ([]byte, bool) {
	vc.mu.RLock()
	defer vc.mu.RUnlock()
	if version != vc.version {
		return nil, false
	}
	return vc.c.HasGet(nil, key)
}

// fill remembers key's value read from version, and says whether version
// is still the cache's. Values too big for fastcache (64 KiB with the
// key) are not kept; they are read from the tree each time.
func (vc *valueCache) fill(version int64, key, value []byte) bool {
	vc.mu.RLock()
	defer vc.mu.RUnlock()
	if version != vc.version {
		return false
	}
	vc.c.Set(key, value)
	return true
}

// advance makes the cache hold version's values: those of the version
// before, less the keys version wrote.
func (vc *valueCache) advance(version int64, written [][]byte) {
	vc.mu.Lock()
	defer vc.mu.Unlock()
	for _, k := range written {
		vc.c.Del(k)
	}
	vc.version = version
}

// reset empties the cache and makes it hold version's values (none yet):
// after the tree is replaced wholesale.
func (vc *valueCache) reset(version int64) {
	vc.mu.Lock()
	defer vc.mu.Unlock()
	vc.c.Reset()
	vc.version = version
}

// CacheStats are the value cache's counters since the store was opened.
type CacheStats struct {
	Gets, Misses uint64 // lookups of the latest version, and those not in memory
	Entries      uint64
	Bytes        uint64 // in use
	MaxBytes     uint64 // capacity
}

func (vc *valueCache) stats() CacheStats {
	var s fastcache.Stats
	vc.c.UpdateStats(&s)
	return CacheStats{Gets: s.GetCalls, Misses: s.Misses, Entries: s.EntriesCount, Bytes: s.BytesSize, MaxBytes: s.MaxBytesSize}
}

// Preload reads the latest version's values under prefix into the value
// cache, in key order, until the cache is nearly full, and returns how
// many it read. A node calls it at start, as a DNS server loads its zone:
// otherwise a node serving a million records uniformly would answer from
// the tree until each had been asked for once, and "once" takes hours of
// ordinary traffic. Commits go on meanwhile; when one lands, Preload goes
// on from where it was in the new version.
func (s *Store) Preload(ctx context.Context, prefix []byte) (int, error) {
	if s.cache == nil {
		return 0, nil
	}
	// fastcache stores an entry as 4 bytes of lengths, key and value.
	// Loading more than fits would evict what was loaded first.
	room := s.cache.stats().MaxBytes / 10 * 9
	var (
		n      int
		loaded uint64
		start  []byte
	)
	for {
		view := s.Latest()
		if view == nil {
			return n, nil
		}
		version, moved := view.Version(), false
		err := view.Iterate(prefix, start, func(key, value []byte) bool {
			if !s.cache.fill(version, key, value) {
				moved, start = true, bytes.Clone(key)
				return false
			}
			n++
			loaded += uint64(4 + len(key) + len(value))
			return loaded < room && (n%1024 != 0 || ctx.Err() == nil)
		})
		if err != nil {
			return n, fmt.Errorf("preload %q at version %d: %w", prefix, version, err)
		}
		if err := ctx.Err(); err != nil {
			return n, fmt.Errorf("preload %q: %w", prefix, err)
		}
		if !moved || loaded >= room {
			return n, nil
		}
	}
}
