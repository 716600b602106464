package chain

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/cityid/cityid/internal/registry"
)

// A block's transactions are prepared in chunks: a worker decodes a
// chunk's transactions and checks their signatures in one batch, while the
// registry applies the chunks before it, in order. A batch of 32 checks a
// signature in 19 µs against 34 alone (voi's multiscalar multiplication;
// BenchmarkSignature on the benchmark machine), and a chunk small enough
// keeps the applier from waiting long: the block's first chunk is of
// firstChunkTxs, so the apply starts after a few transactions'
// preparation. A chunk also ends at chunkBytes, so a block of large
// register_batch transactions spreads them over the workers.
const (
	firstChunkTxs = 8
	chunkTxs      = 32
	chunkBytes    = 256 << 10
)

// BlockOptions tune ApplyBlock. The zero value is the node's.
type BlockOptions struct {
	// Workers is how many goroutines prepare transactions ahead of the
	// apply; default GOMAXPROCS. The results and the app hash are the same
	// for every count (TestBlockWorkers).
	Workers int
	// Prepared looks up transactions CheckTx prepared already; nil: none.
	Prepared registry.Prepared
	// Signatures checks the signatures, with the keys it has expanded
	// before; nil: a Signatures of the block's own.
	Signatures *Signatures
	// Base is the state kv holds as the block begins, safe to read from
	// the workers while the block is applied (store.Store.Base); nil:
	// none. Workers read in it whether the identifiers a transaction
	// registers are taken (registry.ReadAhead), so the sequential apply
	// does not.
	Base registry.Reader
}

// ApplyBlock applies a block's transactions to kv with m, with the
// results and writes of m.ApplyBlock (the registry's sequential
// definition), faster: transactions are prepared (decoded, validated,
// signatures checked in batches) on opts.Workers goroutines, in chunks,
// while the registry applies the earlier ones one after the other, so a
// block costs about the greater of its preparation spread over the cores
// and its sequential apply. A transaction that opts.Prepared knows is not
// decoded or verified again. The error is non-nil only for a store
// failure; the goroutines have stopped when it returns.
func ApplyBlock(m *registry.Machine, kv registry.KV, blk registry.Block, txs [][]byte, opts BlockOptions) ([]registry.Result, error) {
	chunks := splitChunks(txs)
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, len(chunks))
	preps := make([]prepared, len(txs))
	done := make([]chan struct{}, len(chunks))
	for i := range done {
		done[i] = make(chan struct{})
	}
	// Workers take chunks in order, so the one the applier waits for is
	// always among the first in progress. stop tells them the block is
	// abandoned (a store failure).
	var next atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	sigs := opts.Signatures
	if sigs == nil {
		sigs = NewSignatures(len(txs))
	}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c := int(next.Add(1) - 1)
				if c >= len(chunks) || stop.Load() {
					return
				}
				ch := chunks[c]
				prepareChunk(m, txs[ch.from:ch.to], preps[ch.from:ch.to], opts.Prepared, sigs)
				if opts.Base != nil {
					readAhead(m, opts.Base, preps[ch.from:ch.to])
				}
				close(done[c])
			}
		}()
	}
	defer wg.Wait()

	run := m.BeginBlock(kv, blk)
	results := make([]registry.Result, len(txs))
	for c, ch := range chunks {
		<-done[c]
		for i := ch.from; i < ch.to; i++ {
			if preps[i].err != nil {
				results[i] = run.Refused(preps[i].err)
				continue
			}
			r, err := run.ApplyAhead(preps[i].tx, preps[i].absent)
			if err != nil {
				stop.Store(true)
				return nil, err
			}
			results[i] = r
			preps[i].tx = nil // applied: let its message go
		}
	}
	if err := run.End(); err != nil {
		return nil, err
	}
	return results, nil
}

// prepared is one transaction ready for the apply: tx, or why it is
// refused.
type prepared struct {
	tx     *registry.Tx
	err    *registry.Error
	absent registry.Absent // read ahead in BlockOptions.Base
}

// readAhead reads in base what the apply of each prepared transaction
// would read of its new identifiers. A read that fails leaves the
// transaction to read for itself.
func readAhead(m *registry.Machine, base registry.Reader, preps []prepared) {
	for i := range preps {
		if preps[i].tx == nil {
			continue
		}
		if a, err := m.ReadAhead(base, preps[i].tx); err == nil {
			preps[i].absent = a
		}
	}
}

type chunk struct{ from, to int }

// splitChunks cuts txs into runs of at most chunkTxs transactions
// (firstChunkTxs for the first) and, past the first of a run, chunkBytes
// bytes.
func splitChunks(txs [][]byte) []chunk {
	var out []chunk
	for from := 0; from < len(txs); {
		to, size, most := from, 0, chunkTxs
		if from == 0 {
			most = firstChunkTxs
		}
		for to < len(txs) && to-from < most && (to == from || size+len(txs[to]) <= chunkBytes) {
			size += len(txs[to])
			to++
		}
		out = append(out, chunk{from, to})
		from = to
	}
	return out
}

// prepareChunk prepares txs into out: each transaction known to cache is
// taken from it, the others decoded, and their signatures checked together.
func prepareChunk(m *registry.Machine, txs [][]byte, out []prepared, cache registry.Prepared, sigs *Signatures) {
	var pending []int
	us := make([]*registry.Unchecked, len(txs))
	for i, raw := range txs {
		if cache != nil {
			if tx := cache(raw); tx != nil {
				out[i].tx = tx
				continue
			}
		}
		u, err := sigs.decode(m, raw)
		if err != nil {
			out[i].err = err
			continue
		}
		us[i] = u
		pending = append(pending, i)
	}
	valid := sigs.verifyBatch(us, pending)
	for k, i := range pending {
		out[i].tx, out[i].err = us[i].Checked(valid[k])
	}
}
