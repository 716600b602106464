package chain_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/cityid/cityid/internal/bench/workload"
	"github.com/cityid/cityid/internal/chain"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/store"
)

// benchBlockTxs is how many register transactions the App benchmarks put
// between two commits: about what a loaded node's blocks hold (CometBFT's
// mempool holds 5,000, the block being executed among them), 200 for each
// of the 15 loaders `cityid bench --only e2e` signs with.
const benchBlockTxs = 3000

// benchApp is an App over an in-memory store with the workload's genesis
// and setup (city, sector, unit) committed through its own ABCI methods,
// as a node commits them.
type benchApp struct {
	app    *chain.App
	height int64
	time   time.Time
}

func newBenchApp(b *testing.B, f *workload.Fixture, onDisk bool) *benchApp {
	b.Helper()
	st, err := store.OpenMemory(store.Options{})
	if onDisk {
		st, err = store.Open(b.TempDir(), store.Options{})
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	gen, err := f.Genesis()
	if err != nil {
		b.Fatal(err)
	}
	a := &benchApp{app: chain.NewApp(f.ChainID, st, nil), time: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	if _, err := a.app.InitChain(context.Background(), &abci.InitChainRequest{
		ChainId: f.ChainID, InitialHeight: 1, AppStateBytes: gen, Time: a.time,
	}); err != nil {
		b.Fatal(err)
	}
	setup, err := f.SetupTxs()
	if err != nil {
		b.Fatal(err)
	}
	for _, tx := range setup {
		a.block(b, [][]byte{tx})
	}
	return a
}

// block finalizes and commits txs as the next block; every one must
// apply.
func (a *benchApp) block(b *testing.B, txs [][]byte) {
	b.Helper()
	a.height++
	a.time = a.time.Add(time.Second)
	ctx := context.Background()
	resp, err := a.app.FinalizeBlock(ctx, &abci.FinalizeBlockRequest{Height: a.height, Time: a.time, Txs: txs})
	if err != nil {
		b.Fatal(err)
	}
	for i, r := range resp.TxResults {
		if r.Code != chain.CodeOK {
			b.Fatalf("block %d tx %d: code %d: %s", a.height, i, r.Code, r.Log)
		}
	}
	if _, err := a.app.Commit(ctx, &abci.CommitRequest{}); err != nil {
		b.Fatal(err)
	}
}

// check admits txs to the mempool as new transactions; every one must be
// admitted.
func (a *benchApp) check(b *testing.B, txs [][]byte) {
	b.Helper()
	ctx := context.Background()
	for i, tx := range txs {
		resp, err := a.app.CheckTx(ctx, &abci.CheckTxRequest{Tx: tx, Type: abci.CHECK_TX_TYPE_CHECK})
		if err != nil {
			b.Fatal(err)
		}
		if resp.Code != chain.CodeOK {
			b.Fatalf("check tx %d: code %d: %s", i, resp.Code, resp.Log)
		}
	}
}

// BenchmarkCheckTx is App.CheckTx of signed register transactions (the
// workload of `cityid bench --only e2e`: 15 loaders, each's in nonce
// order) over a store with the setup committed, as a node admits them:
// decode, signature with the signer's expanded key, nonce read, staged on
// the account's pending state. Between blocks of benchBlockTxs (not
// timed) the transactions are finalized and committed, so each block's
// first transaction of an account rebases its pending state. ns/op and
// allocs/op are per transaction, on one goroutine; cpu-µs/tx is the
// process's CPU time in CheckTx per transaction, garbage collection
// included, which a shared machine disturbs less than ns/op.
func BenchmarkCheckTx(b *testing.B) {
	benchmarkCheckTx(b, func(b *testing.B, a *benchApp, blk [][]byte, _, _ int) { a.check(b, blk) })
}

// benchmarkCheckTx times check over the workload's register
// transactions, a block of benchBlockTxs at a time, each block then
// finalized and committed (not timed). from is the block's first
// transaction's index in the workload; loaders sign them in turn.
func benchmarkCheckTx(b *testing.B, check func(b *testing.B, a *benchApp, blk [][]byte, from, loaders int)) {
	f, err := workload.New("cityid-bench", nil, registry.MaxAdmins-1)
	if err != nil {
		b.Fatal(err)
	}
	a := newBenchApp(b, f, false)
	txs, err := f.RegisterTxs(0, b.N)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var cpu time.Duration
	b.ResetTimer()
	for from := 0; from < len(txs); from += benchBlockTxs {
		blk := txs[from:min(from+benchBlockTxs, len(txs))]
		start := cpuTime(b)
		check(b, a, blk, from, len(f.Loaders))
		cpu += cpuTime(b) - start
		b.StopTimer()
		a.block(b, blk)
		b.StartTimer()
	}
	b.ReportMetric(float64(cpu)/1e3/float64(b.N), "cpu-µs/tx")
}

// BenchmarkFinalizeBlock is App.FinalizeBlock and App.Commit of blocks of
// benchBlockTxs register transactions that CheckTx admitted before (not
// timed), as a loaded node runs them: every transaction is taken from the
// prepared cache, applied, and the block committed; over an in-memory
// store (memory) and over one on disk (disk: goleveldb, as a node's).
// ns/op, allocs/op and cpu-µs/tx (the process's CPU time, the block's
// workers and garbage collection included) are per transaction.
func BenchmarkFinalizeBlock(b *testing.B) {
	for _, c := range []struct {
		name   string
		onDisk bool
	}{{"memory", false}, {"disk", true}} {
		b.Run(c.name, func(b *testing.B) {
			f, err := workload.New("cityid-bench", nil, registry.MaxAdmins-1)
			if err != nil {
				b.Fatal(err)
			}
			a := newBenchApp(b, f, c.onDisk)
			txs, err := f.RegisterTxs(0, b.N)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			var cpu time.Duration
			b.ResetTimer()
			for from := 0; from < len(txs); from += benchBlockTxs {
				blk := txs[from:min(from+benchBlockTxs, len(txs))]
				b.StopTimer()
				a.check(b, blk)
				b.StartTimer()
				start := cpuTime(b)
				a.block(b, blk)
				cpu += cpuTime(b) - start
			}
			b.ReportMetric(float64(cpu)/1e3/float64(b.N), "cpu-µs/tx")
		})
	}
}

// BenchmarkCheckTxClients is BenchmarkCheckTx with each loader a client
// of its own: one goroutine per loader sends its transactions in nonce
// order, all at once, as RPC connections do. Blocks of benchBlockTxs are
// committed between rounds (not timed). ns/op is wall time per
// transaction with every core in use; cpu-µs/tx the process's CPU.
func BenchmarkCheckTxClients(b *testing.B) {
	benchmarkCheckTx(b, func(b *testing.B, a *benchApp, blk [][]byte, from, loaders int) {
		var wg sync.WaitGroup
		errs := make(chan error, loaders)
		for l := range loaders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := l; i < len(blk); i += loaders {
					resp, err := a.app.CheckTx(context.Background(), &abci.CheckTxRequest{Tx: blk[i], Type: abci.CHECK_TX_TYPE_CHECK})
					if err == nil && resp.Code != chain.CodeOK {
						err = fmt.Errorf("check tx %d: code %d: %s", from+i, resp.Code, resp.Log)
					}
					if err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	})
}
