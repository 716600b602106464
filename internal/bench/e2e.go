package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	cfg "github.com/cometbft/cometbft/config"
	mempl "github.com/cometbft/cometbft/mempool"
	"github.com/cometbft/cometbft/types"

	"github.com/cityid/cityid/internal/bench/workload"
	"github.com/cityid/cityid/internal/chain"
	"github.com/cityid/cityid/internal/node"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/testnode"
)

// E2EOptions bound the end-to-end comparison. Zero fields take the
// defaults.
type E2EOptions struct {
	// Txs is how many transactions each app is given; default 20,000.
	Txs int
	// Duration bounds each app's load (submitting and committing);
	// default 60 s. Whatever is committed by then is measured.
	Duration time.Duration
	// Loaders is how many keys sign CityID's register transactions;
	// default 15, the most the fixture's admin lists hold beside the
	// applicant (MaxAdmins, 16): each account may have
	// only chain.MaxPendingTxs transactions waiting, and a block of a
	// loaded node takes more than a few accounts' worth.
	Loaders int
	// Rounds is how many times each app is run, alternately; each app's
	// best round counts, since other work on the machine only ever slows
	// a round down. Default 1.
	Rounds int
	// Log receives the nodes' logs; default: discarded.
	Log *slog.Logger
}

func (o *E2EOptions) defaults() {
	if o.Txs <= 0 {
		o.Txs = 20_000
	}
	if o.Duration <= 0 {
		o.Duration = 60 * time.Second
	}
	if o.Loaders <= 0 {
		o.Loaders = registry.MaxAdmins - 1
	}
	if o.Rounds <= 0 {
		o.Rounds = 1
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
}

// Setting is one CometBFT setting both nodes ran with.
type Setting struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// E2EReport is the outcome of RunE2E.
type E2EReport struct {
	Settings []Setting `json:"settings"`
	// CityID and KVStore are each app's best round; Ratio is CityID's
	// TxPerSec over kvstore's.
	CityID  AppRun   `json:"cityid"`
	KVStore AppRun   `json:"kvstore"`
	Ratio   float64  `json:"ratio"`
	Runs    []AppRun `json:"runs"` // every round of both, in the order run
	Machine Machine  `json:"machine"`
}

// AllComplete reports whether every round of CityID committed every
// transaction with code 0.
func (r E2EReport) AllComplete() bool {
	for _, run := range r.Runs {
		if run.App == "cityid" && !run.Complete() {
			return false
		}
	}
	return len(r.Runs) > 0
}

// Met reports whether target (b) is met.
func (r E2EReport) Met() bool { return r.Ratio >= TargetE2ERatio }

// AppRun is one app's run through the harness.
type AppRun struct {
	App     string `json:"app"`
	Txs     int    `json:"txs"`      // transactions prepared
	TxBytes int    `json:"tx_bytes"` // their mean size

	Accepted     int     `json:"accepted"` // taken into the mempool by CheckTx
	Refused      int     `json:"refused"`  // refused by CheckTx (other than a full mempool)
	FirstRefusal string  `json:"first_refusal,omitempty"`
	FullWaits    int     `json:"full_waits"`  // back-offs on a full mempool
	NonceWaits   int     `json:"nonce_waits"` // back-offs on a nonce refusal after a mempool-full drop
	SubmitPerSec float64 `json:"submit_per_sec"`

	Committed    int    `json:"committed"` // load transactions in committed blocks
	OK           int    `json:"ok"`        // of which with code 0
	FirstFailure string `json:"first_failure,omitempty"`
	Blocks       int    `json:"blocks"` // committed blocks holding load
	MaxBlockTxs  int    `json:"max_block_txs"`
	FirstHeight  int64  `json:"first_height"`
	LastHeight   int64  `json:"last_height"`

	// TxPerSec is the figure: transactions committed after the first
	// block holding load, over the time from that block's commit to the
	// last one's.
	TxPerSec float64       `json:"tx_per_sec"`
	Window   time.Duration `json:"window"`
	// FromSubmit is every committed transaction over the time from the
	// first submission to the last commit: the figure with the ramp-up.
	FromSubmit float64 `json:"from_submit"`
	TimedOut   bool    `json:"timed_out"` // Duration ran out before every transaction was committed

	// MaxGap is the longest time between two consecutive blocks holding
	// load: a stall shows here.
	MaxGap time.Duration `json:"max_gap"`
	// CPUCores is the process's CPU time over the wall time of the load,
	// from the first submission to the last commit: how many cores the
	// node kept busy (the harness's own feeding included).
	CPUCores float64 `json:"cpu_cores"`

	lastCommit time.Time
}

// Complete reports whether every prepared transaction was committed with
// code 0.
func (r AppRun) Complete() bool { return r.OK == r.Txs && r.Committed == r.Txs }

// app is one application under test.
type app struct {
	name string
	// start starts a node with the app on conf.
	start func(ctx context.Context, conf *cfg.Config, log *slog.Logger) (*cometNode, error)
	// setup prepares state for the load through n's mempool, following
	// its blocks with w, and returns the height of its last block; zero
	// when there is nothing to prepare.
	setup func(ctx context.Context, n *cometNode, w *watcher, home string) (int64, error)
	txs   [][]byte
}

// RunE2E runs kvstore and then CityID, one after the other (Rounds
// times), each on a new single-validator node in a temporary home, with
// the same settings, and measures committed transactions per second.
func RunE2E(ctx context.Context, opts E2EOptions) (E2EReport, error) {
	opts.defaults()
	rep := E2EReport{Machine: ThisMachine()}

	f, err := workload.New(benchChainID, nil, opts.Loaders)
	if err != nil {
		return rep, err
	}
	ours, err := f.RegisterTxs(0, opts.Txs)
	if err != nil {
		return rep, err
	}
	size := meanLen(ours)
	cityid := app{
		name:  "cityid",
		start: startCityID,
		setup: func(ctx context.Context, n *cometNode, w *watcher, home string) (int64, error) {
			txs, err := setupTxs(home, f)
			if err != nil {
				return 0, err
			}
			// One at a time, each committed before the next, as a
			// client that waits for its answers would send them: each
			// builds on the one before.
			var height int64
			for i, tx := range txs {
				if height, err = commitStage(ctx, n, w, [][]byte{tx}); err != nil {
					return 0, fmt.Errorf("setup tx %d: %w", i+1, err)
				}
			}
			return height, nil
		},
		txs: ours,
	}
	kv := app{name: "kvstore", start: startKVStore, txs: kvstoreTxs(opts.Txs, size)}

	for round := range opts.Rounds {
		for _, a := range []app{kv, cityid} {
			run, settings, err := runApp(ctx, a, opts)
			if err != nil {
				return rep, fmt.Errorf("%s, round %d: %w", a.name, round+1, err)
			}
			if rep.Settings == nil {
				rep.Settings = settings
			} else if !slices.Equal(settings, rep.Settings) {
				return rep, fmt.Errorf("%s ran with other settings than kvstore:\n %v\n %v", a.name, settings, rep.Settings)
			}
			rep.Runs = append(rep.Runs, run)
			best := &rep.CityID
			if a.name == kv.name {
				best = &rep.KVStore
			}
			if best.App == "" || run.TxPerSec > best.TxPerSec {
				*best = run
			}
		}
	}
	if rep.KVStore.TxPerSec > 0 {
		rep.Ratio = rep.CityID.TxPerSec / rep.KVStore.TxPerSec
	}
	return rep, nil
}

// kvstoreTxs returns n kvstore transactions "bench-<i>=vvv…" of size bytes
// each, the mean size of CityID's register transactions.
func kvstoreTxs(n, size int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		key := fmt.Sprintf("bench-%08d=", i)
		out[i] = []byte(key + strings.Repeat("v", max(size-len(key), 1)))
	}
	return out
}

// setupTxs are the transactions that issue the fixture's city and
// register its sector and unit, signed by the home's operator key (the
// registry authority), in the order they must be committed.
func setupTxs(home string, f *workload.Fixture) ([][]byte, error) {
	op, err := node.LoadKey(home, node.OperatorKey)
	if err != nil {
		return nil, err
	}
	f.Authority = op.Private
	return f.SetupTxs()
}

// setupCity commits setupTxs through a running node's Submit, each
// waiting for its commit, and returns the height of the last setup
// block.
func setupCity(ctx context.Context, n *chain.Node, home string, f *workload.Fixture) (int64, error) {
	txs, err := setupTxs(home, f)
	if err != nil {
		return 0, err
	}
	var height int64
	for i, tx := range txs {
		ctx, cancel := context.WithTimeout(ctx, chain.WaitTimeout)
		res, err := n.Submit(ctx, tx)
		cancel()
		if err != nil {
			return 0, fmt.Errorf("setup tx %d: %w", i+1, err)
		}
		if res.Code != chain.CodeOK {
			return 0, fmt.Errorf("setup tx %d refused: %v", i+1, res.Err)
		}
		height = res.Height
	}
	return height, nil
}

// initHome makes a single-validator home with node.Init's defaults on
// free loopback ports (testnode.FreeBasePort, as the network tests find
// theirs), with the DNS front end at dns ("" is node.Init's default,
// "off" none), and loads its configuration.
func initHome(home, moniker, dns string) (*node.Config, error) {
	base, err := testnode.FreeBasePort(3)
	if err != nil {
		return nil, err
	}
	if _, err := node.Init(home, node.InitOptions{
		ChainID: benchChainID, Moniker: moniker, DNS: dns,
		HTTP: fmt.Sprintf("127.0.0.1:%d", base), RPC: fmt.Sprintf("tcp://127.0.0.1:%d", base+1), P2P: fmt.Sprintf("tcp://127.0.0.1:%d", base+2),
	}); err != nil {
		return nil, err
	}
	return node.Load(home)
}

// Bounds of one app's run, beside E2EOptions.Duration.
const (
	startTimeout  = 30 * time.Second       // for the node's first block
	backoff       = 2 * time.Millisecond   // after a full mempool
	nonceBackoff  = 20 * time.Millisecond  // after a nonce refusal: the next commit frees it
	blockEvents   = 1024                   // NewBlock events buffered for the watcher
	drainPoll     = 100 * time.Millisecond // checks that every accepted tx is committed
	indexerSettle = 2 * time.Second        // between stopping a node and removing its home
)

// runApp runs one app through the harness and returns its figures and the
// settings it ran with.
func runApp(ctx context.Context, a app, opts E2EOptions) (AppRun, []Setting, error) {
	run := AppRun{App: a.name, Txs: len(a.txs), TxBytes: meanLen(a.txs)}
	home, err := os.MkdirTemp("", "cityid-bench-"+a.name+"-")
	if err != nil {
		return run, nil, err
	}
	defer func() {
		// CometBFT v1.0 does not close its indexer databases on Stop: the
		// indexer may still be writing the last block when Stop returns,
		// and pebble exits the process if its folder vanishes under a
		// write. Give it time to finish before removing the home.
		time.Sleep(indexerSettle)
		os.RemoveAll(home)
	}()
	conf, err := initHome(home, "bench-"+a.name, "")
	if err != nil {
		return run, nil, err
	}
	gen, err := types.GenesisDocFromFile(conf.Comet.GenesisFile())
	if err != nil {
		return run, nil, err
	}
	settings := describe(conf.Comet, gen)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var n *cometNode
	labelled("e2e-"+a.name, func() { n, err = a.start(ctx, conf.Comet, opts.Log.With("app", a.name)) })
	if err != nil {
		return run, nil, err
	}
	stopped := false
	defer func() {
		if !stopped {
			n.stop()
		}
	}()
	sub, err := n.EventBus().Subscribe(ctx, "cityid-bench", types.EventQueryNewBlock, blockEvents)
	if err != nil {
		return run, nil, fmt.Errorf("subscribe to blocks: %w", err)
	}
	w := &watcher{}
	go w.run(ctx, sub)
	if err := w.waitHeight(ctx, 1, startTimeout); err != nil {
		return run, nil, err
	}
	var after int64
	if a.setup != nil {
		if after, err = a.setup(ctx, n, w, home); err != nil {
			return run, nil, err
		}
	}

	cpu0 := processCPU()
	start := time.Now()
	deadline := start.Add(opts.Duration)
	var fs feedStats
	labelled("e2e-"+a.name, func() { fs = feed(ctx, n.Mempool(), a.txs, opts.Loaders, deadline) })
	run.Accepted, run.Refused, run.FirstRefusal = fs.accepted, fs.refused, fs.firstRefusal
	run.FullWaits, run.NonceWaits = fs.fullWaits, fs.nonceWaits
	run.SubmitPerSec = float64(fs.accepted) / fs.took.Seconds()
	for w.committed(after) < run.Accepted && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(drainPoll)
	}
	if err := ctx.Err(); err != nil {
		return run, nil, err
	}
	select {
	case <-sub.Canceled():
		return run, nil, fmt.Errorf("the harness lost its subscription to blocks: %w", sub.Err())
	default:
	}
	blocks := w.since(after)
	cpu := processCPU() - cpu0
	stopped = true
	if err := n.stop(); err != nil {
		return run, nil, err
	}
	measure(&run, blocks, start)
	if last := run.lastCommit; !last.IsZero() && cpu > 0 {
		// CPU time is read after the drain, which polls every drainPoll:
		// a slight overestimate.
		run.CPUCores = cpu.Seconds() / last.Sub(start).Seconds()
	}
	run.TimedOut = run.Committed < run.Txs && !time.Now().Before(deadline)
	return run, settings, nil
}

// loadWindow is what the committed blocks that hold load say about a run,
// counting each block's transactions or its identifiers (count).
type loadWindow struct {
	blocks                  []block
	total, ok, txs, maxUnit int
	firstFailure            string
	maxGap, window          time.Duration
	fromSubmit, perSec      float64
}

// measureWindow reads the blocks after setup: the figure is what was
// committed after the first block holding load, over the time from that
// block's commit to the last one's (a single block: from the submission).
func measureWindow(blocks []block, start time.Time, count func(block) int) (loadWindow, bool) {
	var w loadWindow
	for _, b := range blocks {
		if b.txs > 0 {
			w.blocks = append(w.blocks, b)
		}
	}
	if len(w.blocks) == 0 {
		return w, false
	}
	for i, b := range w.blocks {
		w.total += count(b)
		w.txs += b.txs
		w.ok += b.ok
		w.maxUnit = max(w.maxUnit, count(b))
		if w.firstFailure == "" && b.failure != "" {
			w.firstFailure = b.failure
		}
		if i > 0 {
			w.maxGap = max(w.maxGap, b.at.Sub(w.blocks[i-1].at))
		}
	}
	first, last := w.first(), w.last()
	w.fromSubmit = float64(w.total) / last.at.Sub(start).Seconds()
	w.window = last.at.Sub(first.at)
	if len(w.blocks) > 1 {
		w.perSec = float64(w.total-count(first)) / w.window.Seconds()
	} else {
		w.perSec = w.fromSubmit
	}
	return w, true
}

func (w loadWindow) first() block { return w.blocks[0] }
func (w loadWindow) last() block  { return w.blocks[len(w.blocks)-1] }

// measure fills in the committed figures from the blocks that hold load.
func measure(run *AppRun, blocks []block, start time.Time) {
	w, ok := measureWindow(blocks, start, func(b block) int { return b.txs })
	if !ok {
		return
	}
	run.Committed, run.OK, run.MaxBlockTxs, run.FirstFailure, run.MaxGap = w.total, w.ok, w.maxUnit, w.firstFailure, w.maxGap
	run.lastCommit = w.last().at
	run.Blocks, run.FirstHeight, run.LastHeight = len(w.blocks), w.first().height, w.last().height
	run.FromSubmit, run.Window, run.TxPerSec = w.fromSubmit, w.window, w.perSec
}

// describe lists the settings that decide throughput, for the report and
// to check that both nodes ran with the same.
func describe(c *cfg.Config, gen *types.GenesisDoc) []Setting {
	s := func(name string, v any) Setting { return Setting{Name: name, Value: fmt.Sprint(v)} }
	return []Setting{
		s("abci client", abciClient),
		s("consensus.timeout_propose", c.Consensus.TimeoutPropose),
		s("consensus.timeout_commit", c.Consensus.TimeoutCommit),
		s("consensus.create_empty_blocks", c.Consensus.CreateEmptyBlocks),
		s("consensus.create_empty_blocks_interval", c.Consensus.CreateEmptyBlocksInterval),
		s("mempool.type", c.Mempool.Type),
		s("mempool.size", c.Mempool.Size),
		s("mempool.max_txs_bytes", c.Mempool.MaxTxsBytes),
		s("mempool.cache_size", c.Mempool.CacheSize),
		s("mempool.recheck", c.Mempool.Recheck),
		s("block.max_bytes", gen.ConsensusParams.Block.MaxBytes),
		s("block.max_gas", gen.ConsensusParams.Block.MaxGas),
		s("tx_index.indexer", c.TxIndex.Indexer),
		s("db_backend", c.DBBackend),
	}
}

// feedStats counts what the mempool did with the load.
type feedStats struct {
	accepted, refused, fullWaits, nonceWaits int
	firstRefusal                             string
	took                                     time.Duration
}

// feed puts txs into the mempool as fast as it takes them, on one goroutine
// per core, until all are in or the deadline passes. Transaction i goes to
// feeder (i mod loaders) mod feeders, so each loader's transactions arrive
// in nonce order; on a full mempool a feeder backs off briefly and retries.
func feed(ctx context.Context, mp mempl.Mempool, txs [][]byte, loaders int, deadline time.Time) feedStats {
	feeders := min(max(1, loaders), max(1, runtimeProcs()))
	var accepted, refused, full, nonce atomic.Int64
	var first sync.Once
	var firstRefusal string
	start := time.Now()
	var wg sync.WaitGroup
	for w := range feeders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, tx := range txs {
				if (i%loaders)%feeders != w {
					continue
				}
				for {
					if ctx.Err() != nil || !time.Now().Before(deadline) {
						return
					}
					err := checkTx(mp, tx)
					var invalid mempl.ErrInvalidTx
					switch {
					case err == nil:
						accepted.Add(1)
					case errors.As(err, &mempl.ErrMempoolIsFull{}) || errors.Is(err, mempl.ErrRecheckFull),
						errors.As(err, &invalid) && invalid.Code == chain.ABCICode(&registry.Error{Code: registry.CodeAccountBusy}):
						// The mempool, or this loader's share of it, is
						// full until the next block.
						full.Add(1)
						time.Sleep(backoff)
						continue
					case errors.As(err, &invalid) && (invalid.Code == chain.ABCICode(&registry.Error{Code: registry.CodeNonceReplayed}) || invalid.Code == chain.ABCICode(&registry.Error{Code: registry.CodeNonceGap})):
						// The app counted this tx as pending, then the
						// mempool dropped it as full; the next commit
						// clears the app's pending nonces.
						nonce.Add(1)
						time.Sleep(nonceBackoff)
						continue
					default:
						refused.Add(1)
						first.Do(func() { firstRefusal = err.Error() })
					}
					break
				}
			}
		}()
	}
	wg.Wait()
	return feedStats{
		accepted: int(accepted.Load()), refused: int(refused.Load()),
		fullWaits: int(full.Load()), nonceWaits: int(nonce.Load()),
		firstRefusal: firstRefusal, took: time.Since(start),
	}
}

// checkTx is what the RPC's broadcast_tx_async does: the mempool's CheckTx,
// whose callback has run when it returns with the in-process client.
func checkTx(mp mempl.Mempool, tx []byte) error {
	rr, err := mp.CheckTx(tx, "")
	if err != nil {
		return err
	}
	return rr.Error()
}

// block is what the watcher keeps of a committed block.
type block struct {
	height  int64
	txs, ok int
	ids     int    // identifiers written by the ok ones (the watcher's countIDs)
	failure string // the first non-zero result
	at      time.Time
}

// watcher records every committed block from the node's NewBlock events,
// which CometBFT publishes after the app's Commit.
type watcher struct {
	// countIDs makes the watcher read each successful result's count of
	// identifiers written (registry.Outcome.Count, or 1 without one).
	countIDs bool

	mu     sync.Mutex
	blocks []block
}

func (w *watcher) run(ctx context.Context, sub types.Subscription) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-sub.Canceled():
			return
		case msg := <-sub.Out():
			ev, ok := msg.Data().(types.EventDataNewBlock)
			if !ok {
				continue
			}
			b := block{height: ev.Block.Height, txs: len(ev.Block.Txs), at: time.Now()}
			for _, r := range ev.ResultFinalizeBlock.TxResults {
				if r.Code == 0 {
					b.ok++
					if w.countIDs {
						b.ids += outcomeCount(r.Data)
					}
				} else if b.failure == "" {
					b.failure = fmt.Sprintf("code %d %s: %s", r.Code, r.Info, r.Log)
				}
			}
			w.mu.Lock()
			w.blocks = append(w.blocks, b)
			w.mu.Unlock()
		}
	}
}

// outcomeCount is the identifiers a successful CityID transaction wrote,
// from its result: a register_batch's count, else 1.
func outcomeCount(data []byte) int {
	var out struct {
		Count int `json:"count"`
	}
	if json.Unmarshal(data, &out) != nil || out.Count < 1 {
		return 1
	}
	return out.Count
}

// since returns the blocks above height.
func (w *watcher) since(height int64) []block {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []block
	for _, b := range w.blocks {
		if b.height > height {
			out = append(out, b)
		}
	}
	return out
}

// committed counts the transactions in blocks above height.
func (w *watcher) committed(height int64) int {
	n := 0
	for _, b := range w.since(height) {
		n += b.txs
	}
	return n
}

// waitHeight waits until a block of at least height is committed.
func (w *watcher) waitHeight(ctx context.Context, height int64, timeout time.Duration) error {
	limit := time.Now().Add(timeout)
	for len(w.since(height-1)) == 0 {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(limit) {
			return fmt.Errorf("no block %d within %s", height, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// Bound says what limits CityID's figure, from what the run observed.
func (r E2EReport) Bound() string {
	c, k := r.CityID, r.KVStore
	switch {
	case c.Committed == 0:
		return "CityID committed no transaction"
	case c.FullWaits == 0:
		return fmt.Sprintf("bounded by mempool intake: CityID's mempool never filled (0 back-offs, kvstore's %d), "+
			"so its blocks carry only what CheckTx admits, %s tx/s (kvstore's CheckTx: %s tx/s). "+
			"each CheckTx verifies an Ed25519 signature and decodes envelope, body and message (in the feeders' goroutines, on every core); "+
			"after every block CometBFT rechecks what is left in the mempool, one at a time with the mempool locked (from the prepared-transaction cache: a nonce check and a dry run)",
			k.FullWaits, rate(c.SubmitPerSec), rate(k.SubmitPerSec))
	default:
		return fmt.Sprintf("bounded by block execution: the mempool filled (%d back-offs), so CheckTx kept up; "+
			"blocks held at most %d transactions and the time goes to FinalizeBlock and Commit", c.FullWaits, c.MaxBlockTxs)
	}
}

// rate formats a rate as a whole number with thousands separators.
func rate(f float64) string {
	s := strconv.FormatFloat(f, 'f', 0, 64)
	digits := strings.TrimPrefix(s, "-")
	var b strings.Builder
	b.WriteString(s[:len(s)-len(digits)])
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
