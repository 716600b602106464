package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	dbm "github.com/cosmos/cosmos-db"

	"github.com/cityid/cityid/internal/bench/workload"
	"github.com/cityid/cityid/internal/chain"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/store"
)

// States builds the large states the resolve and serve benchmarks read,
// once per run: the registry's state machine applies real register_batch
// transactions, block by block, to a store on disk — the state a node
// holds after committing those blocks, built without CometBFT, which
// plays no part in reads. Every state lives in one temporary folder that
// Close removes.
type States struct {
	fix  *workload.BatchFixture
	opts StatesOptions
	root string

	mu     sync.Mutex
	states map[int]*BuiltState // by identifiers; only looked up
}

// StatesOptions say how states are built. Zero fields take the defaults.
type StatesOptions struct {
	// BlockBatches is how many register_batch transactions of 5,000
	// identifiers go in one block; default 4 (20,000 identifiers, about
	// 4.6 MB of a block's 8 MB bound).
	BlockBatches int
	// Compact runs a full goleveldb compaction after the build (disk
	// figures are given both ways); default true, as DefaultStatesOptions.
	NoCompact bool
	// Dir is where the temporary folder is made; default os.TempDir().
	Dir string
}

// NewStates prepares to build states of identifiers from dir's
// communities.
func NewStates(dir *workload.Directory, opts StatesOptions) (*States, error) {
	if opts.BlockBatches <= 0 {
		opts.BlockBatches = 4
	}
	fix, err := workload.NewBatchFixture(benchChainID, nil, 4, dir, registry.MaxBatch)
	if err != nil {
		return nil, err
	}
	root, err := os.MkdirTemp(opts.Dir, "cityid-bench-states-")
	if err != nil {
		return nil, err
	}
	return &States{fix: fix, opts: opts, root: root, states: make(map[int]*BuiltState)}, nil
}

// Close removes every state. Whatever serves them must be stopped first.
func (s *States) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.states = nil
	return os.RemoveAll(s.root)
}

// Directory is the community directory the states are built from.
func (s *States) Directory() *workload.Directory { return s.fix.Dir }

// BuiltState is a state of IDs community identifiers (the directory's
// first IDs) in a store on disk, closed: whoever reads it opens it, one
// process at a time.
type BuiltState struct {
	IDs      int   `json:"ids"`
	Blocks   int   `json:"blocks"`    // blocks holding batches
	BlockIDs int   `json:"block_ids"` // identifiers per full block
	Height   int64 `json:"height"`
	// Build is the time ApplyBlock and Commit took for the batch blocks,
	// every signature verified (signing the batches is not counted);
	// BuildPerSec is identifiers over it.
	Build       time.Duration `json:"build"`
	BuildPerSec float64       `json:"build_per_sec"`
	// DiskBytes is the store's folder as the build left it (goleveldb
	// compacts in the background while writing; nothing forced), every
	// committed version kept as a node keeps them. Compacted is the same
	// folder after a full manual compaction (goleveldb CompactRange over
	// every key), which Compaction took; 0 when not run.
	DiskBytes  int64         `json:"disk_bytes"`
	Compacted  int64         `json:"compacted_bytes"`
	Compaction time.Duration `json:"compaction"`
	// Logical is what the database holds, uncompressed (keys and values),
	// by IAVL's key class: "tree nodes" (s<version><nonce>: every
	// version's leaves and inner nodes), "fast index" (f<key>: IAVL v1's
	// key → value copy of the latest version, for reads without a tree
	// walk) and "metadata"; read after the compaction.
	Logical    []KeyClass `json:"logical,omitempty"`
	BatchBytes int        `json:"batch_bytes"` // mean size of a signed register_batch
	// Dir is the store's folder.
	Dir string `json:"-"`
}

// open opens the state's store, as the tree alone; the caller closes it.
func (b *BuiltState) open() (*store.Store, error) {
	// Without the value cache: the figures read here are the tree's.
	st, err := store.Open(b.Dir, store.Options{ValueCacheBytes: -1})
	if err != nil {
		return nil, err
	}
	if st.Version() != b.Height {
		st.Close()
		return nil, fmt.Errorf("store %s is at version %d, want %d", b.Dir, st.Version(), b.Height)
	}
	return st, nil
}

// KeyClass is the logical size of one class of IAVL's keys.
type KeyClass struct {
	Class string `json:"class"`
	Keys  int    `json:"keys"`
	Bytes int64  `json:"bytes"`
}

// BytesPerID is DiskBytes per identifier.
func (b *BuiltState) BytesPerID() float64 { return float64(b.DiskBytes) / float64(b.IDs) }

// CompactedPerID is Compacted per identifier.
func (b *BuiltState) CompactedPerID() float64 { return float64(b.Compacted) / float64(b.IDs) }

// Get returns the state of the directory's first n identifiers, building
// it on first use.
func (s *States) Get(ctx context.Context, n int) (*BuiltState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.states == nil {
		return nil, fmt.Errorf("states are closed")
	}
	if b, ok := s.states[n]; ok {
		return b, nil
	}
	var b *BuiltState
	var err error
	labelled("state-build", func() { b, err = s.build(ctx, n) })
	if err != nil {
		return nil, fmt.Errorf("build a state of %d identifiers: %w", n, err)
	}
	flushDisk()
	s.states[n] = b
	return b, nil
}

// stateGenesis is the time of a built state's first block; block h is h
// seconds later. Block time only stamps records.
var stateGenesis = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func (s *States) build(ctx context.Context, n int) (*BuiltState, error) {
	f := s.fix
	dir := filepath.Join(s.root, fmt.Sprintf("state-%d", n))
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		return nil, err
	}
	closed := false
	defer func() {
		if !closed {
			st.Close()
		}
	}()
	b := &BuiltState{IDs: n, BlockIDs: s.opts.BlockBatches * f.BatchIDs, Dir: dir}
	m := registry.New(f.ChainID)
	gen, err := f.Genesis()
	if err != nil {
		return nil, err
	}
	if err := m.InitGenesis(st, gen, nil); err != nil {
		return nil, err
	}
	block := func(txs [][]byte) error {
		b.Height++
		// The workers read ahead in the committed state, as FinalizeBlock has them do.
		var opts chain.BlockOptions
		if v := st.Base(); v != nil {
			opts.Base = v
		}
		res, err := chain.ApplyBlock(m, st, registry.Block{Height: b.Height, Time: stateGenesis.Add(time.Duration(b.Height) * time.Second)}, txs, opts)
		if err != nil {
			return err
		}
		for i, r := range res {
			if r.Err != nil {
				return fmt.Errorf("block %d tx %d (%s) refused: %s: %s", b.Height, i, r.Kind, r.Err.Code, r.Err.Msg)
			}
		}
		_, _, err = st.Commit()
		return err
	}
	stages, err := f.SetupStages(n)
	if err != nil {
		return nil, err
	}
	for _, stage := range stages {
		if err := block(stage); err != nil {
			return nil, fmt.Errorf("setup: %w", err)
		}
	}
	batches := f.Batches(n)
	var batchBytes int
	for first := 0; first < batches; first += s.opts.BlockBatches {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		txs, err := signBatches(f, first, min(first+s.opts.BlockBatches, batches), n)
		if err != nil {
			return nil, err
		}
		for _, tx := range txs {
			batchBytes += len(tx)
		}
		start := time.Now()
		if err := block(txs); err != nil {
			return nil, err
		}
		b.Build += time.Since(start)
		b.Blocks++
	}
	b.BatchBytes = batchBytes / batches
	b.BuildPerSec = float64(n) / b.Build.Seconds()
	closed = true
	if err := st.Close(); err != nil {
		return nil, err
	}
	if b.DiskBytes, err = dirBytes(dir); err != nil {
		return nil, err
	}
	if !s.opts.NoCompact {
		start := time.Now()
		if b.Logical, err = compact(dir); err != nil {
			return nil, err
		}
		b.Compaction = time.Since(start)
		if b.Compacted, err = dirBytes(dir); err != nil {
			return nil, err
		}
	}
	runtime.GC()
	return b, nil
}

// signBatches signs batches from to to-1 of the first n identifiers, on
// every core.
func signBatches(f *workload.BatchFixture, from, to, n int) ([][]byte, error) {
	txs := make([][]byte, to-from)
	errs := make([]error, to-from)
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i := range txs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			txs[i], _, errs[i] = f.BatchTx(from+i, n)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return txs, nil
}

// compact runs a full goleveldb compaction of the store in dir, which
// must be closed, and then sizes what it holds by IAVL's key class.
func compact(dir string) ([]KeyClass, error) {
	db, err := dbm.NewGoLevelDB("state", dir, nil)
	if err != nil {
		return nil, fmt.Errorf("open %s for compaction: %w", dir, err)
	}
	defer db.Close()
	if err := db.ForceCompact(nil, nil); err != nil {
		return nil, fmt.Errorf("compact %s: %w", dir, err)
	}
	classes := []KeyClass{{Class: "tree nodes"}, {Class: "fast index"}, {Class: "metadata"}, {Class: "other"}}
	it, err := db.Iterator(nil, nil)
	if err != nil {
		return nil, err
	}
	defer it.Close()
	for ; it.Valid(); it.Next() {
		k := it.Key()
		c := &classes[3]
		switch k[0] {
		case 's':
			c = &classes[0]
		case 'f':
			c = &classes[1]
		case 'm':
			c = &classes[2]
		}
		c.Keys++
		c.Bytes += int64(len(k) + len(it.Value()))
	}
	if classes[3].Keys == 0 {
		classes = classes[:3]
	}
	return classes, it.Error()
}
