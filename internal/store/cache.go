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
// version of one state, (epoch, version). A reader of any other goes to
// the tree. A commit deletes the keys the new version wrote and then moves
// the version on, under the write lock; a fill happens under the read lock
// and only if the reader's (epoch, version) is still the cache's. So a
// value read from version V can only enter the cache while V is the
// cache's version, and leaves it when a later version writes its key. The
// epoch changes when the state is replaced wholesale (a snapshot restored,
// a reset, the store closed), where version numbers repeat.
type valueCache struct {
	mu      sync.RWMutex
	epoch   uint64
	version int64 // the committed version whose values c holds; 0: none, -1: closed
	c       *fastcache.Cache
}

func newValueCache(maxBytes int) *valueCache {
	return &valueCache{c: fastcache.New(maxBytes)}
}

// currentEpoch is the epoch a new view belongs to. Read it before the
// view's tree: a view whose tree is newer than its epoch only misses.
func (vc *valueCache) currentEpoch() uint64 {
	vc.mu.RLock()
	defer vc.mu.RUnlock()
	return vc.epoch
}

// get returns the value of key at version, if the cache holds it,
// appended to dst.
func (vc *valueCache) get(dst []byte, epoch uint64, version int64, key []byte) ([]byte, bool) {
	vc.mu.RLock()
	defer vc.mu.RUnlock()
	if epoch != vc.epoch || version != vc.version {
		return dst, false
	}
	return vc.c.HasGet(dst, key)
}

// fill remembers key's value read from version, and says whether version
// is still the cache's. Values too big for fastcache (64 KiB with the
// key) are not kept; they are read from the tree each time.
func (vc *valueCache) fill(epoch uint64, version int64, key, value []byte) bool {
	vc.mu.RLock()
	defer vc.mu.RUnlock()
	if epoch != vc.epoch || version != vc.version {
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

// reset empties the cache and makes it hold version's values (none yet)
// of a new epoch: after the state is replaced wholesale. Emptying also
// hands fastcache's chunks back for reuse: they live outside the Go heap,
// and a cache dropped without a reset would keep them.
func (vc *valueCache) reset(version int64) {
	vc.mu.Lock()
	defer vc.mu.Unlock()
	vc.c.Reset()
	vc.epoch++
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
// ordinary traffic. It reads in chunks between commits, so commits go on
// meanwhile, each waiting at most for one chunk.
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
	for loaded < room {
		if err := ctx.Err(); err != nil {
			return n, fmt.Errorf("preload %q: %w", prefix, err)
		}
		next, count, size, err := s.preloadChunk(prefix, start, preloadChunkSize, room-loaded)
		n, loaded = n+count, loaded+size
		if err != nil || next == nil {
			return n, err
		}
		start = next
	}
	return n, nil
}

// preloadChunkSize is how many values Preload reads between two commits.
const preloadChunkSize = 4096

// preloadChunk loads up to max values, or budget bytes, from start and
// returns the key to go on from (nil at the end). It holds commits off
// meanwhile: IAVL iterates the latest version through its fast index,
// which a commit under way has already moved to the next version while
// the committed view is still this one.
func (s *Store) preloadChunk(prefix, start []byte, max int, budget uint64) (next []byte, n int, loaded uint64, err error) {
	s.saving.RLock()
	defer s.saving.RUnlock()
	view := s.Latest()
	if view == nil {
		return nil, 0, 0, nil
	}
	version := view.Version()
	err = view.Iterate(prefix, start, func(key, value []byte) bool {
		if n == max || loaded >= budget {
			next = bytes.Clone(key)
			return false
		}
		// With every writer held off, the view is the cache's: a refusal
		// means the store was closed.
		if !s.cache.fill(view.epoch, version, key, value) {
			return false
		}
		n++
		loaded += uint64(4 + len(key) + len(value))
		return true
	})
	if err != nil {
		return nil, n, loaded, fmt.Errorf("preload %q at version %d: %w", prefix, version, err)
	}
	return next, n, loaded, nil
}
