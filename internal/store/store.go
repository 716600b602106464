package store

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	dbm "github.com/cosmos/cosmos-db"
	"github.com/cosmos/iavl"
	idb "github.com/cosmos/iavl/db"
	"github.com/syndtr/goleveldb/leveldb/filter"
	"github.com/syndtr/goleveldb/leveldb/opt"
)

// Options tune the store. The zero value is usable.
type Options struct {
	// CacheNodes is how many tree nodes IAVL keeps in memory. Default
	// 200,000 (a few tens of MB): enough to keep the upper levels of a
	// tree of millions of identifiers hot.
	CacheNodes int
	// BlockCacheBytes is goleveldb's cache of uncompressed table blocks.
	// Below IAVL's node cache every read of the tree and its fast index is
	// a table lookup; goleveldb's default of 8 MiB holds a sliver of a
	// state of a million identifiers, and each miss decompresses index and
	// data blocks again. Default 256 MiB, filled only as reads need it.
	BlockCacheBytes int
	// WriteBufferBytes is goleveldb's memtable. A register_batch block
	// writes tens of MB of tree nodes; with goleveldb's default of 4 MiB
	// compaction throttles the commit. Default 64 MiB.
	WriteBufferBytes int
	// ValueCacheBytes is the memory for values of the latest version
	// (see valueCache), filled by Preload and as reads need it. Default
	// 1 GiB: every record of a million and a half identifiers. Negative
	// turns the cache off.
	ValueCacheBytes int
	// Logger receives IAVL's messages. Default: discard.
	Logger *slog.Logger
}

// The defaults of Options, in one place: a node's config file shows them.
const (
	DefaultCacheNodes       = 200_000
	DefaultBlockCacheBytes  = 256 << 20
	DefaultWriteBufferBytes = 64 << 20
	DefaultValueCacheBytes  = 1 << 30
	// Larger tables than goleveldb's 2 MiB mean fewer files and fewer
	// compactions for the same writes.
	compactionTableBytes = 8 << 20
)

// levelDBOptions are the goleveldb options of a store on disk.
func levelDBOptions(o Options) *opt.Options {
	if o.BlockCacheBytes <= 0 {
		o.BlockCacheBytes = DefaultBlockCacheBytes
	}
	if o.WriteBufferBytes <= 0 {
		o.WriteBufferBytes = DefaultWriteBufferBytes
	}
	return &opt.Options{
		// cosmos-db's default: goleveldb has no bloom filter otherwise,
		// and every miss would read a table per level.
		Filter:              filter.NewBloomFilter(10),
		BlockCacheCapacity:  o.BlockCacheBytes,
		WriteBuffer:         o.WriteBufferBytes,
		CompactionTableSize: compactionTableBytes,
		// Level sizes stay goleveldb's (10 MiB for level 1, ×10 below).
		// Four memtables for level 1, as RocksDB advises, was measured
		// and dropped: a state that grew under it leaves level 1 over
		// size, and the compaction a freshly opened store then runs made
		// resolves with proof 20–40% slower at a million identifiers.
	}
}

// Store is the ledger state of one node.
type Store struct {
	db         dbm.DB
	tree       *iavl.MutableTree
	cacheNodes int
	logger     iavl.Logger

	cache   *valueCache // nil when turned off
	written [][]byte    // keys the working version set or deleted
	// dirty is whether the working version has been written since the
	// last commit (or rollback): only a clean one is the committed
	// version, which Base hands out.
	dirty bool

	// saving is held by whatever replaces the committed version (Commit,
	// Import, Reset) and, for reading, by Preload between two of them.
	saving sync.RWMutex

	mu        sync.RWMutex
	committed *iavl.ImmutableTree // the last committed version; nil before the first commit
	// settled is the first version whose root hash is the committed
	// version's: a block that changes nothing (CometBFT's proof block
	// after a write) leaves it where it was. The header of block
	// settled+1 carries that hash, so a proof read at settled can be
	// checked as soon as that header exists, where one read at the latest
	// version of an idle chain would wait for a block that never comes.
	settled int64
	// latest is the last view Latest made, given again while the
	// committed version, its settled version and the cache's epoch are
	// the same: a view is immutable, and a front end that asks for one
	// per query (DNS) would otherwise allocate one per query.
	latest atomic.Pointer[View]
	// oldest is the first version still stored: Prune raises it.
	oldest int64
}

// Open opens (or creates) the store in dir.
func Open(dir string, opts Options) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	db, err := dbm.NewGoLevelDBWithOpts("state", dir, levelDBOptions(opts))
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", filepath.Join(dir, "state.db"), err)
	}
	s, err := open(db, opts)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", filepath.Join(dir, "state.db"), err)
	}
	return s, nil
}

// OpenMemory returns a store that lives in memory only, for tests and
// benchmarks of the layers above.
func OpenMemory(opts Options) (*Store, error) {
	return open(dbm.NewMemDB(), opts)
}

func open(db dbm.DB, opts Options) (*Store, error) {
	if opts.CacheNodes == 0 {
		opts.CacheNodes = DefaultCacheNodes
	}
	var lg iavl.Logger = iavl.NewNopLogger()
	if opts.Logger != nil {
		lg = opts.Logger
	}
	tree := iavl.NewMutableTree(idbWrap(db), opts.CacheNodes, false, lg)
	if _, err := tree.Load(); err != nil {
		return nil, fmt.Errorf("load tree: %w", err)
	}
	s := &Store{db: db, tree: tree, cacheNodes: opts.CacheNodes, logger: lg}
	switch {
	case opts.ValueCacheBytes == 0:
		s.cache = newValueCache(DefaultValueCacheBytes)
	case opts.ValueCacheBytes > 0:
		s.cache = newValueCache(opts.ValueCacheBytes)
	}
	if v := tree.Version(); v > 0 {
		imm, err := tree.GetImmutable(v)
		if err != nil {
			return nil, fmt.Errorf("load version %d: %w", v, err)
		}
		s.committed = imm
		s.oldest = firstVersion(tree, v)
		s.settled = settledSince(tree, imm, s.oldest)
	}
	s.resetCache(tree.Version())
	return s, nil
}

// firstVersion finds the oldest version stored: versions are kept from
// the first one not pruned to the latest, with no gap, so a binary search
// over VersionExists finds it.
func firstVersion(tree *iavl.MutableTree, latest int64) int64 {
	lo, hi := int64(1), latest
	for lo < hi {
		mid := lo + (hi-lo)/2
		if tree.VersionExists(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// maxSettledWalk bounds how far back Open looks for the first version
// with the latest root hash: a chain that makes no empty blocks has at
// most one such version behind the latest, and one that does makes the
// next header within a second anyway.
const maxSettledWalk = 64

// settledSince is the first version, back to oldest, whose root hash is
// latest's.
func settledSince(tree *iavl.MutableTree, latest *iavl.ImmutableTree, oldest int64) int64 {
	v := latest.Version()
	for steps := 0; steps < maxSettledWalk && v > oldest; steps++ {
		prev, err := tree.GetImmutable(v - 1)
		if err != nil || !bytes.Equal(prev.Hash(), latest.Hash()) {
			break
		}
		v--
	}
	return v
}

func idbWrap(db dbm.DB) *idb.Wrapper { return idb.NewWrapper(db) }

// Close closes the database. The store must not be used afterwards.
func (s *Store) Close() error {
	if s.cache != nil {
		s.cache.reset(-1)
	}
	return s.db.Close()
}

// Get reads key from the working version (the block being applied).
func (s *Store) Get(key []byte) ([]byte, error) {
	return s.tree.Get(key)
}

// Set writes key in the working version.
func (s *Store) Set(key, value []byte) error {
	if len(value) == 0 {
		// IAVL refuses nil values; the registry never writes empty ones,
		// but a clear error beats IAVL's.
		return fmt.Errorf("set %q: empty value", key)
	}
	_, err := s.tree.Set(key, value)
	s.wrote(key)
	return err
}

// Delete removes key from the working version.
func (s *Store) Delete(key []byte) error {
	_, _, err := s.tree.Remove(key)
	s.wrote(key)
	return err
}

// wrote notes a key the working version changed, for the value cache. A
// key noted but left unchanged (an error, a rollback) only costs a miss.
func (s *Store) wrote(key []byte) {
	s.dirty = true
	if s.cache != nil {
		s.written = append(s.written, bytes.Clone(key))
	}
}

// WorkingHash is the root hash the working version will have when it is
// committed: the app hash of the block being applied.
func (s *Store) WorkingHash() []byte { return s.tree.WorkingHash() }

// Commit saves the working version as the next version and makes it the one
// readers see. It returns the new version's root hash and number.
func (s *Store) Commit() ([]byte, int64, error) {
	s.saving.Lock()
	defer s.saving.Unlock()
	hash, version, err := s.tree.SaveVersion()
	if err != nil {
		return nil, 0, fmt.Errorf("commit version %d: %w", s.tree.WorkingVersion(), err)
	}
	imm, err := s.tree.GetImmutable(version)
	if err != nil {
		return nil, 0, fmt.Errorf("open committed version %d: %w", version, err)
	}
	if !bytes.Equal(imm.Hash(), hash) {
		return nil, 0, fmt.Errorf("committed version %d has hash %X, want %X", version, imm.Hash(), hash)
	}
	s.mu.Lock()
	if s.committed == nil || !bytes.Equal(s.committed.Hash(), hash) {
		s.settled = version
	}
	if s.committed == nil {
		s.oldest = version
	}
	s.committed = imm
	s.mu.Unlock()
	if s.cache != nil {
		s.cache.advance(version, s.written)
	}
	s.forgetWritten()
	return hash, version, nil
}

// Rollback discards the working version's changes.
func (s *Store) Rollback() {
	s.tree.Rollback()
	s.forgetWritten()
}

// forgetWritten empties the list of written keys, keeping its array for
// the next version.
func (s *Store) forgetWritten() {
	s.dirty = false
	clear(s.written)
	s.written = s.written[:0]
}

// resetCache empties the value cache when the committed version becomes
// version other than by Commit.
func (s *Store) resetCache(version int64) {
	s.forgetWritten()
	if s.cache != nil {
		s.cache.reset(version)
	}
}

// CacheStats reports the value cache; zero when it is turned off.
func (s *Store) CacheStats() CacheStats {
	if s.cache == nil {
		return CacheStats{}
	}
	return s.cache.stats()
}

// SetInitialVersion makes the first commit have version v (a chain whose
// genesis starts at a height other than 1).
func (s *Store) SetInitialVersion(v int64) {
	if v > 1 {
		s.tree.SetInitialVersion(uint64(v))
	}
}

// Version is the last committed version (the height of the last committed
// block), 0 before the first commit.
func (s *Store) Version() int64 {
	v := s.Latest()
	if v == nil {
		return 0
	}
	return v.Version()
}

// Hash is the root hash of the last committed version, nil before the first
// commit.
func (s *Store) Hash() []byte {
	v := s.Latest()
	if v == nil {
		return nil
	}
	return v.Hash()
}

// ErrNoVersion is returned for a version that is not (or no longer) stored.
var ErrNoVersion = errors.New("version not stored")

// PrunedError is returned for a version older than the oldest this store
// keeps: it was pruned (Prune), or the node joined by state sync after
// it. It is an ErrNoVersion.
type PrunedError struct {
	Version int64 // the version asked for
	Oldest  int64 // the oldest version stored
}

func (e *PrunedError) Error() string {
	return fmt.Sprintf("version %d is no longer stored: this node keeps versions from %d", e.Version, e.Oldest)
}

// Unwrap makes a PrunedError an ErrNoVersion, for callers that need not
// tell the two apart.
func (e *PrunedError) Unwrap() error { return ErrNoVersion }

// Oldest is the oldest version stored, 0 before the first commit.
func (s *Store) Oldest() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.oldest
}

// Prune deletes every version up to and including to, so that to+1 is
// the oldest left. The latest version and the one that settled its root
// hash (see View.Settled) are always kept, and a version a snapshot is
// being exported from cannot be deleted until the export ends: then Prune
// returns an error and deletes nothing, and the next call catches up.
// Like Commit, it must not run beside Commit, Import or Reset.
func (s *Store) Prune(to int64) error {
	s.mu.RLock()
	oldest, settled := s.oldest, s.settled
	s.mu.RUnlock()
	to = min(to, settled-1)
	if to < oldest {
		return nil
	}
	s.saving.Lock()
	defer s.saving.Unlock()
	if err := s.tree.DeleteVersionsTo(to); err != nil {
		return fmt.Errorf("prune versions %d to %d: %w", oldest, to, err)
	}
	s.mu.Lock()
	s.oldest = to + 1
	s.mu.Unlock()
	return nil
}

// Latest returns the last committed version for reading, or nil before the
// first commit.
func (s *Store) Latest() *View {
	epoch := s.epoch() // before the tree: see currentEpoch
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.committed == nil {
		return nil
	}
	if v := s.latest.Load(); v != nil && v.tree == s.committed && v.epoch == epoch && v.settled == s.settled && v.cache == s.cache {
		return v
	}
	v := &View{tree: s.committed, cache: s.cache, epoch: epoch, settled: s.settled}
	s.latest.Store(v)
	return v
}

// Base returns the last committed version when the working version is
// still exactly it (nothing written since the commit), or nil: the state a
// block about to be applied starts from, which other goroutines may read
// while the block is applied (chain.ApplyBlock reads ahead in it). It is
// called by the goroutine that writes the working version.
func (s *Store) Base() *View {
	if s.dirty {
		return nil
	}
	v := s.Latest()
	if v == nil || v.tree.Version() != s.tree.Version() {
		return nil
	}
	return v
}

func (s *Store) epoch() uint64 {
	if s.cache == nil {
		return 0
	}
	return s.cache.currentEpoch()
}

// At returns committed version v for reading.
func (s *Store) At(v int64) (*View, error) {
	epoch := s.epoch()
	if oldest := s.Oldest(); v > 0 && v < oldest {
		return nil, &PrunedError{Version: v, Oldest: oldest}
	}
	if v <= 0 || !s.tree.VersionExists(v) {
		return nil, fmt.Errorf("version %d: %w", v, ErrNoVersion)
	}
	imm, err := s.tree.GetImmutable(v)
	if err != nil {
		return nil, fmt.Errorf("version %d: %w", v, err)
	}
	return &View{tree: imm, cache: s.cache, epoch: epoch, settled: v}, nil
}

// View is one committed, immutable version of the state. It is safe for
// concurrent use.
type View struct {
	tree  *iavl.ImmutableTree
	cache *valueCache // nil when turned off; used only while it holds this view's epoch and version
	epoch uint64
	// settled: see Settled.
	settled int64
}

// Settled is the first version known to have this view's root hash: for
// the latest view, the version whose block last changed the state (the
// blocks after it, empty, changed nothing); for any other, its own
// version. A proof read from Settled verifies against the header of block
// Settled+1, which a chain that makes blocks only when needed makes right
// after the block that changed the state, and then no more.
func (v *View) Settled() int64 {
	if v.settled == 0 {
		return v.tree.Version()
	}
	return v.settled
}

// Version is the view's version (block height).
func (v *View) Version() int64 { return v.tree.Version() }

// Hash is the view's root hash (the app hash of its block).
func (v *View) Hash() []byte { return v.tree.Hash() }

// Get reads key; nil when absent. The caller must not modify the value.
func (v *View) Get(key []byte) ([]byte, error) {
	if v.cache == nil {
		return v.tree.Get(key)
	}
	version := v.tree.Version()
	if value, ok := v.cache.get(nil, v.epoch, version, key); ok {
		return value, nil
	}
	value, err := v.tree.Get(key)
	if err == nil && value != nil {
		v.cache.fill(v.epoch, version, key, value)
	}
	return value, err
}

// AppendGet is Get with the value appended to dst, for a reader that
// reads many values one after the other into one buffer (the DNS front
// end answers a query from one record): no allocation when the value
// cache holds the key and dst has room. It returns dst, nil when key is
// absent.
func (v *View) AppendGet(dst, key []byte) ([]byte, error) {
	if v.cache != nil {
		if value, ok := v.cache.get(dst, v.epoch, v.tree.Version(), key); ok {
			return value, nil
		}
	}
	value, err := v.Get(key)
	if err != nil || value == nil {
		return nil, err
	}
	return append(dst, value...), nil
}

// Iterate calls fn for each key with the prefix, from start (inclusive,
// within the prefix; nil for the first) in ascending order, until fn returns
// false.
func (v *View) Iterate(prefix, start []byte, fn func(key, value []byte) bool) error {
	from := prefix
	if start != nil {
		from = start
	}
	it, err := v.tree.Iterator(from, prefixEnd(prefix), true)
	if err != nil {
		return fmt.Errorf("iterate %q: %w", prefix, err)
	}
	defer it.Close()
	for ; it.Valid(); it.Next() {
		if !fn(it.Key(), it.Value()) {
			break
		}
	}
	return it.Error()
}

// prefixEnd is the first key after every key with the prefix.
func prefixEnd(prefix []byte) []byte {
	end := bytes.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}
