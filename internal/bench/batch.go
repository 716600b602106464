package bench

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"sync"
	"time"

	cfg "github.com/cometbft/cometbft/config"
	cmtpubsub "github.com/cometbft/cometbft/libs/pubsub"
	"github.com/cometbft/cometbft/types"

	"github.com/cityid/cityid/internal/bench/workload"
	"github.com/cityid/cityid/internal/chain"
	"github.com/cityid/cityid/internal/node"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/store"
)

// BatchOptions bound the register_batch benchmark. Zero fields take the
// defaults.
type BatchOptions struct {
	// IDs is how many identifiers are registered per round, in
	// register_batch transactions of 5,000 (registry.MaxBatch); default
	// 200,000.
	IDs int
	// Loaders is how many keys sign the batches, in turn; default 4.
	Loaders int
	// Duration bounds each round's load; default 120 s.
	Duration time.Duration
	// Rounds is how many fresh nodes are loaded; each figure's best round
	// counts. Default 1.
	Rounds int
	// Log receives the node's logs; default: discarded.
	Log *slog.Logger
}

func (o *BatchOptions) defaults() {
	if o.IDs <= 0 {
		o.IDs = 200_000
	}
	if o.Loaders <= 0 {
		o.Loaders = 4
	}
	if o.Duration <= 0 {
		o.Duration = 120 * time.Second
	}
	if o.Rounds <= 0 {
		o.Rounds = 1
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
}

// BatchReport is the outcome of RunBatch.
type BatchReport struct {
	IDs        int       `json:"ids"`
	Batches    int       `json:"batches"`
	BatchBytes int       `json:"batch_bytes"` // mean size of a signed register_batch
	Settings   []Setting `json:"settings"`
	// Node is the best round on the node; IAVL and Replay the best of
	// the baselines (each round measures its own).
	Node BatchRun `json:"node"`
	// IAVLPerSec is the baseline: the exact writes of the node's load
	// blocks (recorded by replaying its blocks through the state machine)
	// set straight into a fresh IAVL store on disk, a commit per block of
	// the node's, in identifiers per second.
	IAVLPerSec float64 `json:"iavl_per_sec"`
	// ReplayPerSec is the state machine alone on disk: the node's load
	// blocks through Machine.ApplyBlock (every signature verified) and a
	// commit each, no CometBFT.
	ReplayPerSec float64    `json:"replay_per_sec"`
	Ratio        float64    `json:"ratio"` // Node.IDsPerSec over IAVLPerSec
	Runs         []BatchRun `json:"runs"`
	Machine      Machine    `json:"machine"`
}

// Met reports whether both targets are met.
func (r BatchReport) Met() bool { return r.MetRate() && r.MetRatio() }

// MetRate reports whether the node reaches TargetBatchIDsPerSec.
func (r BatchReport) MetRate() bool { return r.Node.IDsPerSec >= TargetBatchIDsPerSec }

// MetRatio reports whether the node reaches TargetBatchRatio of the tree
// alone.
func (r BatchReport) MetRatio() bool { return r.Ratio >= TargetBatchRatio }

// AllComplete reports whether every round committed every identifier and
// its replay reached the node's app hash.
func (r BatchReport) AllComplete() bool {
	for _, run := range r.Runs {
		if run.IDs != r.IDs || !run.ReplayMatches {
			return false
		}
	}
	return len(r.Runs) > 0
}

// BatchRun is one round: a fresh node loaded with the batches.
type BatchRun struct {
	IDs          int     `json:"ids"`      // identifiers committed with code 0
	Txs          int     `json:"txs"`      // batches committed
	OK           int     `json:"ok"`       // of which with code 0
	Accepted     int     `json:"accepted"` // batches CheckTx admitted
	Refused      int     `json:"refused"`
	FirstRefusal string  `json:"first_refusal,omitempty"`
	FirstFailure string  `json:"first_failure,omitempty"`
	FullWaits    int     `json:"full_waits"`
	NonceWaits   int     `json:"nonce_waits"`
	SubmitPerSec float64 `json:"submit_per_sec"` // identifiers CheckTx admitted per second

	Blocks      int   `json:"blocks"` // blocks holding load
	MaxBlockIDs int   `json:"max_block_ids"`
	FirstHeight int64 `json:"first_height"`
	LastHeight  int64 `json:"last_height"`
	// IDsPerSec is the figure: identifiers committed after the first
	// block holding load, over the time from that block's commit to the
	// last one's.
	IDsPerSec  float64       `json:"ids_per_sec"`
	Window     time.Duration `json:"window"`
	FromSubmit float64       `json:"from_submit"` // every identifier over first submission to last commit
	MaxGap     time.Duration `json:"max_gap"`
	CPUCores   float64       `json:"cpu_cores"`
	TimedOut   bool          `json:"timed_out"`

	// Phases is where the time between load blocks went, from the
	// consensus events of each load height (means over the load blocks).
	Phases BlockPhases `json:"phases"`

	// The baselines of this round, from this round's blocks.
	IAVLPerSec    float64 `json:"iavl_per_sec"`
	ReplayPerSec  float64 `json:"replay_per_sec"`
	ReplayMatches bool    `json:"replay_matches"` // the replay reached the node's app hash
	AppHash       string  `json:"app_hash"`
}

// RunBatch runs the register_batch benchmark: a fresh single-validator
// node per round (node.Init defaults, startCityID, loopback only), the
// cities, sectors and units set up through it, then the batches fed to its
// mempool; the committed blocks are then replayed through the state
// machine to record their writes, and the writes set straight into IAVL
// as the baseline.
func RunBatch(ctx context.Context, dir *workload.Directory, opts BatchOptions) (BatchReport, error) {
	opts.defaults()
	rep := BatchReport{IDs: opts.IDs, Machine: ThisMachine()}
	if opts.IDs > dir.Len() {
		return rep, fmt.Errorf("%d identifiers: the directory holds %d", opts.IDs, dir.Len())
	}
	fix, err := workload.NewBatchFixture(benchChainID, nil, opts.Loaders, dir, registry.MaxBatch)
	if err != nil {
		return rep, err
	}
	// The batches are signed by the loaders only, so once for every round.
	rep.Batches = fix.Batches(opts.IDs)
	txs, err := signBatches(fix, 0, rep.Batches, opts.IDs)
	if err != nil {
		return rep, err
	}
	rep.BatchBytes = meanLen(txs)
	for round := range opts.Rounds {
		run, settings, err := runBatchRound(ctx, fix, txs, opts)
		if err != nil {
			return rep, fmt.Errorf("round %d: %w", round+1, err)
		}
		rep.Settings = settings
		rep.Runs = append(rep.Runs, run)
		if run.IDsPerSec > rep.Node.IDsPerSec {
			rep.Node = run
		}
		rep.IAVLPerSec = max(rep.IAVLPerSec, run.IAVLPerSec)
		rep.ReplayPerSec = max(rep.ReplayPerSec, run.ReplayPerSec)
	}
	if rep.IAVLPerSec > 0 {
		rep.Ratio = rep.Node.IDsPerSec / rep.IAVLPerSec
	}
	return rep, nil
}

func runBatchRound(ctx context.Context, fix *workload.BatchFixture, txs [][]byte, opts BatchOptions) (BatchRun, []Setting, error) {
	var run BatchRun
	home, err := os.MkdirTemp("", "cityid-bench-batch-")
	if err != nil {
		return run, nil, err
	}
	defer func() {
		time.Sleep(indexerSettle) // see runApp
		os.RemoveAll(home)
	}()
	conf, err := initHome(home, "bench-batch", "off")
	if err != nil {
		return run, nil, err
	}
	gen, err := types.GenesisDocFromFile(conf.Comet.GenesisFile())
	if err != nil {
		return run, nil, err
	}
	settings := describe(conf.Comet, gen)
	op, err := node.LoadKey(home, node.OperatorKey)
	if err != nil {
		return run, nil, err
	}
	fix.Authority = op.Private
	stages, err := fix.SetupStages(opts.IDs)
	if err != nil {
		return run, nil, err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var n *cometNode
	labelled("batch-node", func() { n, err = startCityID(ctx, conf.Comet, opts.Log) })
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
	w := &watcher{countIDs: true}
	go w.run(ctx, sub)
	pw, err := watchPhases(ctx, n)
	if err != nil {
		return run, nil, err
	}
	if err := w.waitHeight(ctx, 1, startTimeout); err != nil {
		return run, nil, err
	}
	var after int64
	for i, stage := range stages {
		if after, err = commitStage(ctx, n, w, stage); err != nil {
			return run, nil, fmt.Errorf("setup stage %d: %w", i+1, err)
		}
	}

	runtime.GC()
	cpu0 := processCPU()
	start := time.Now()
	deadline := start.Add(opts.Duration)
	var fs feedStats
	labelled("batch-node", func() { fs = feed(ctx, n.Mempool(), txs, opts.Loaders, deadline) })
	run.Accepted, run.Refused, run.FirstRefusal = fs.accepted, fs.refused, fs.firstRefusal
	run.FullWaits, run.NonceWaits = fs.fullWaits, fs.nonceWaits
	for w.committed(after) < run.Accepted && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(drainPoll / 10)
	}
	if err := ctx.Err(); err != nil {
		return run, nil, err
	}
	cpu := processCPU() - cpu0
	blocks := w.since(after)
	measureIDs(&run, blocks, start, cpu)
	run.Phases = pw.phases(run.FirstHeight, run.LastHeight)
	if fs.took > 0 {
		run.SubmitPerSec = float64(fs.accepted) * float64(fix.BatchIDs) / fs.took.Seconds()
	}
	run.TimedOut = run.IDs < opts.IDs && !time.Now().Before(deadline)

	// What the node committed, for the replay: every block from the
	// first, and the state it reached.
	view := n.store.Latest()
	height, appHash := view.Version(), view.Hash()
	run.AppHash = fmt.Sprintf("%X", appHash)
	committed := make([]*types.Block, height+1)
	for h := int64(1); h <= height; h++ {
		if committed[h], _ = n.BlockStore().LoadBlock(h); committed[h] == nil {
			return run, nil, fmt.Errorf("block %d is not in the block store", h)
		}
	}
	stopped = true
	if err := n.stop(); err != nil {
		return run, nil, err
	}
	cancel()

	load := make(map[int64]bool) // only looked up
	for _, b := range blocks {
		if b.txs > 0 && b.height <= height {
			load[b.height] = true
		}
	}
	var writes []blockWrites
	var replayRate float64
	var replayHash []byte
	labelled("batch-replay", func() { writes, replayRate, replayHash, err = replayBlocks(conf.Comet, gen, committed, load) })
	if err != nil {
		return run, nil, fmt.Errorf("replay: %w", err)
	}
	run.ReplayPerSec = replayRate
	run.ReplayMatches = string(replayHash) == string(appHash)
	if labelled("batch-iavl", func() { run.IAVLPerSec, err = iavlOnDisk(writes) }); err != nil {
		return run, nil, fmt.Errorf("iavl baseline: %w", err)
	}
	return run, settings, nil
}

// commitStage puts a stage's transactions into the mempool in order and
// waits until they are committed, each with code 0; it returns the height
// of the last block it waited for.
func commitStage(ctx context.Context, n *cometNode, w *watcher, txs [][]byte) (int64, error) {
	from := n.BlockStore().Height()
	for i, tx := range txs {
		if err := checkTx(n.Mempool(), tx); err != nil {
			return 0, fmt.Errorf("tx %d refused: %w", i+1, err)
		}
	}
	limit := time.Now().Add(chain.WaitTimeout)
	for w.committed(from) < len(txs) {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		if time.Now().After(limit) {
			return 0, fmt.Errorf("%d of %d transactions committed within %s", w.committed(from), len(txs), chain.WaitTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var last int64
	for _, b := range w.since(from) {
		if b.failure != "" {
			return 0, fmt.Errorf("block %d: %s", b.height, b.failure)
		}
		last = max(last, b.height)
	}
	return last, nil
}

// measureIDs fills in the committed figures from the blocks after setup.
func measureIDs(run *BatchRun, blocks []block, start time.Time, cpu time.Duration) {
	w, ok := measureWindow(blocks, start, func(b block) int { return b.ids })
	if !ok {
		return
	}
	run.Txs, run.OK, run.IDs, run.MaxBlockIDs, run.FirstFailure, run.MaxGap = w.txs, w.ok, w.total, w.maxUnit, w.firstFailure, w.maxGap
	run.Blocks, run.FirstHeight, run.LastHeight = len(w.blocks), w.first().height, w.last().height
	run.FromSubmit, run.Window, run.IDsPerSec = w.fromSubmit, w.window, w.perSec
	if cpu > 0 {
		run.CPUCores = cpu.Seconds() / w.last().at.Sub(start).Seconds()
	}
}

// blockWrites are the writes of one load block and the identifiers it
// registered.
type blockWrites struct {
	writes []workload.Write
	ids    int
}

// replayBlocks applies the node's committed blocks (from height 1, after
// the genesis state) through the state machine onto a fresh store on disk,
// as the node's App does, recording the writes of the load blocks. It
// returns them, the rate of the load blocks' ApplyBlock and Commit, and
// the app hash reached.
func replayBlocks(conf *cfg.Config, gen *types.GenesisDoc, blocks []*types.Block, load map[int64]bool) ([]blockWrites, float64, []byte, error) {
	dir, err := os.MkdirTemp("", "cityid-bench-replay-")
	if err != nil {
		return nil, 0, nil, err
	}
	defer os.RemoveAll(dir)
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		return nil, 0, nil, err
	}
	defer st.Close()
	st.SetInitialVersion(gen.InitialHeight)
	vals := make([]registry.Validator, len(gen.Validators))
	for i, v := range gen.Validators {
		vals[i] = registry.Validator{PubKey: hex.EncodeToString(v.PubKey.Bytes()), Power: v.Power}
	}
	m := registry.New(gen.ChainID)
	if err := m.InitGenesis(st, gen.AppState, vals); err != nil {
		return nil, 0, nil, err
	}
	var out []blockWrites
	var took time.Duration
	ids := 0
	for _, b := range blocks[1:] {
		txs := make([][]byte, len(b.Txs))
		for i, tx := range b.Txs {
			txs[i] = tx
		}
		blk := registry.Block{Height: b.Height, Time: b.Time}
		var kv registry.KV = st
		var rec *workload.Recorder
		if load[b.Height] {
			rec = &workload.Recorder{KV: st}
			kv = rec
		}
		start := time.Now()
		// The workers read ahead in the committed state, as FinalizeBlock has them do.
		var opts chain.BlockOptions
		if v := st.Base(); v != nil {
			opts.Base = v
		}
		res, err := chain.ApplyBlock(m, kv, blk, txs, opts)
		if err != nil {
			return nil, 0, nil, err
		}
		if _, _, err := st.Commit(); err != nil {
			return nil, 0, nil, err
		}
		if rec == nil {
			continue
		}
		took += time.Since(start)
		bw := blockWrites{writes: rec.Writes}
		for _, r := range res {
			if r.Err == nil {
				bw.ids += outcomeCount(r.Data)
			}
		}
		ids += bw.ids
		out = append(out, bw)
	}
	if took <= 0 {
		return nil, 0, nil, errors.New("no load block to replay")
	}
	return out, float64(ids) / took.Seconds(), st.Hash(), nil
}

// iavlOnDisk sets the recorded writes straight into a fresh store on disk,
// committing after each block's, and returns identifiers per second.
func iavlOnDisk(blocks []blockWrites) (float64, error) {
	dir, err := os.MkdirTemp("", "cityid-bench-iavl-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	st, err := store.Open(dir, store.Options{ValueCacheBytes: -1}) // the tree alone
	if err != nil {
		return 0, err
	}
	defer st.Close()
	runtime.GC()
	ids := 0
	start := time.Now()
	for _, b := range blocks {
		for _, w := range b.writes {
			if err := st.Set(w.Key, w.Value); err != nil {
				return 0, err
			}
		}
		if _, _, err := st.Commit(); err != nil {
			return 0, err
		}
		ids += b.ids
	}
	return float64(ids) / time.Since(start).Seconds(), nil
}

// Bound says what limits the node's figure, from what the round observed.
func (r BatchReport) Bound() string {
	n := r.Node
	if n.IDs == 0 {
		return "no identifier was committed"
	}
	perBlock := float64(n.IDs) / float64(max(n.Blocks, 1))
	gap := n.Window.Seconds() / float64(max(n.Blocks-1, 1))
	s := fmt.Sprintf("blocks held %s identifiers on average (at most %s; %d-byte batches, block.max_bytes %s) every %.0f ms; "+
		"the node kept %.2f cores busy; CheckTx admitted %s ids/s; ",
		rate(perBlock), rate(float64(n.MaxBlockIDs)), r.BatchBytes, settingOf(r.Settings, "block.max_bytes"), gap*1000,
		n.CPUCores, rate(n.SubmitPerSec))
	if n.Phases.Heights > 0 {
		s += "a load block's height went: " + n.Phases.String() + "; "
	}
	switch {
	case n.FullWaits == 0 && n.SubmitPerSec < n.IDsPerSec*1.2:
		s += "the mempool never filled, so CheckTx intake bounds the rate"
	default:
		s += fmt.Sprintf("the state machine alone replays the same blocks on disk at %s ids/s and the tree alone takes their writes at %s ids/s: "+
			"the rest of each block interval is CometBFT (block saved, executed, committed; consensus timeouts) and CheckTx of the next batches on the same 2 cores",
			rate(r.ReplayPerSec), rate(r.IAVLPerSec))
	}
	return s
}

func settingOf(ss []Setting, name string) string {
	i := slices.IndexFunc(ss, func(s Setting) bool { return s.Name == name })
	if i < 0 {
		return "?"
	}
	return ss[i].Value
}

// BlockPhases splits the time of a height, from the consensus events the
// node publishes, into: Propose, from the new round to the complete
// proposal (PrepareProposal reaping the mempool, the block made, split
// into parts and taken back in); Vote, from there to the commit step
// (ProcessProposal, prevotes, precommits); Execute, from the commit step
// to the NewBlock event (block saved, FinalizeBlock, the app's Commit,
// state saved); Wait, from NewBlock to the next height's new round (what
// is left of timeout_commit). Means over the load blocks.
type BlockPhases struct {
	Propose time.Duration `json:"propose"`
	Vote    time.Duration `json:"vote"`
	Execute time.Duration `json:"execute"`
	Wait    time.Duration `json:"wait"`
	Heights int           `json:"heights"`
}

func (p BlockPhases) String() string {
	return fmt.Sprintf("propose %s, vote %s, execute (save, FinalizeBlock, Commit) %s, wait %s",
		fmtDur(p.Propose), fmtDur(p.Vote), fmtDur(p.Execute), fmtDur(p.Wait))
}

// phaseWatcher records when each height's consensus events came.
type phaseWatcher struct {
	mu                             sync.Mutex
	round, proposal, commit, block map[int64]time.Time // only looked up
}

func watchPhases(ctx context.Context, n *cometNode) (*phaseWatcher, error) {
	pw := &phaseWatcher{round: map[int64]time.Time{}, proposal: map[int64]time.Time{}, commit: map[int64]time.Time{}, block: map[int64]time.Time{}}
	bus := n.EventBus()
	for _, q := range []cmtpubsub.Query{types.EventQueryNewRound, types.EventQueryCompleteProposal, types.EventQueryNewRoundStep, types.EventQueryNewBlockHeader} {
		sub, err := bus.Subscribe(ctx, "cityid-bench-phases", q, blockEvents)
		if err != nil {
			return nil, fmt.Errorf("subscribe to %s: %w", q, err)
		}
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case <-sub.Canceled():
					return
				case msg := <-sub.Out():
					at := time.Now()
					pw.mu.Lock()
					switch ev := msg.Data().(type) {
					case types.EventDataNewRound:
						if ev.Round == 0 {
							pw.round[ev.Height] = at
						}
					case types.EventDataCompleteProposal:
						pw.proposal[ev.Height] = at
					case types.EventDataRoundState:
						if ev.Step == "RoundStepCommit" {
							pw.commit[ev.Height] = at
						}
					case types.EventDataNewBlockHeader:
						pw.block[ev.Header.Height] = at
					}
					pw.mu.Unlock()
				}
			}
		}()
	}
	return pw, nil
}

// phases averages the phases of heights from to to.
func (pw *phaseWatcher) phases(from, to int64) BlockPhases {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	var p BlockPhases
	for h := from; h <= to && from > 0; h++ {
		r, ok1 := pw.round[h]
		c, ok2 := pw.proposal[h]
		m, ok3 := pw.commit[h]
		b, ok4 := pw.block[h]
		next, ok5 := pw.round[h+1]
		if !(ok1 && ok2 && ok3 && ok4 && ok5) {
			continue
		}
		p.Propose += c.Sub(r)
		p.Vote += m.Sub(c)
		p.Execute += b.Sub(m)
		p.Wait += next.Sub(b)
		p.Heights++
	}
	if p.Heights > 0 {
		k := time.Duration(p.Heights)
		p.Propose, p.Vote, p.Execute, p.Wait = p.Propose/k, p.Vote/k, p.Execute/k, p.Wait/k
	}
	return p
}
