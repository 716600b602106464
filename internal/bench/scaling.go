package bench

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// How each figure scales with GOMAXPROCS (`cityid bench --procs`): one
// row per figure, a column per setting, the last setting's figure over
// the first's, and what bounds the figure as cores are added. The bounds
// say which part of the work runs on every core and which on one, as
// the code is built; the per-setting reports below the table say, from
// what each run measured, where its time went.

// scaleRow is one figure of the scaling table.
type scaleRow struct {
	name  string
	kind  scaleKind
	value func(Figures) (float64, bool)
	bound string
}

type scaleKind int

const (
	perSec  scaleKind = iota // a rate: the higher the better
	ratioOf                  // a ratio to a baseline of the same run
	latency                  // nanoseconds: the lower the better
)

func (k scaleKind) format(v float64) string {
	switch k {
	case ratioOf:
		return fmt.Sprintf("%.2f", v)
	case latency:
		return fmtDur(time.Duration(v))
	}
	return rate(v) + "/s"
}

// shape says how a rate grew against the cores it was given (cores is
// the last setting's GOMAXPROCS over the first's): in proportion
// ("linear", from 80% of it), not at all ("flat", within 15%), or in
// between; more than the cores is what a shared machine does to the
// first setting. Ratios and latencies are read from their figures.
func (k scaleKind) shape(growth, cores float64) string {
	if k != perSec || cores <= 1 {
		return ""
	}
	switch {
	case growth > cores*1.2:
		return "more than the cores (noise?)"
	case growth >= 0.8*cores:
		return "linear"
	case growth < 1.15 && growth > 1/1.15:
		return "flat"
	case growth <= 1/1.15:
		return "slower"
	}
	return fmt.Sprintf("%.0f%% of linear", 100*(growth-1)/(cores-1))
}

// scaleRows are the figures the scaling table follows.
func scaleRows() []scaleRow {
	state := func(f func(*StateReport) float64) func(Figures) (float64, bool) {
		return func(x Figures) (float64, bool) {
			if x.State == nil {
				return 0, false
			}
			return f(x.State), true
		}
	}
	e2e := func(f func(*E2EReport) float64) func(Figures) (float64, bool) {
		return func(x Figures) (float64, bool) {
			if x.E2E == nil {
				return 0, false
			}
			return f(x.E2E), true
		}
	}
	batch := func(f func(*BatchReport) float64) func(Figures) (float64, bool) {
		return func(x Figures) (float64, bool) {
			if x.Batch == nil {
				return 0, false
			}
			return f(x.Batch), true
		}
	}
	resolve := func(f func(*ResolveReport) float64) func(Figures) (float64, bool) {
		return func(x Figures) (float64, bool) {
			if x.Resolve == nil {
				return 0, false
			}
			return f(x.Resolve), true
		}
	}
	rows := []scaleRow{
		{"(a) register tx, every signature verified", perSec, state(func(s *StateReport) float64 { return s.TxPerSec }),
			"signature checks and decoding run ahead of the apply on every core, the apply and the commit on one: it grows with cores until the checks hide behind the sequential apply, and never passes the pre-verified rate"},
		{"    same blocks, signatures pre-verified", perSec, state(func(s *StateReport) float64 { return s.PreverifiedTxPerSec }),
			"the sequential apply and commit (one goroutine by design: the registry is a plain function of state and block); extra cores only take garbage collection off it"},
		{"    ratio, target (a)", ratioOf, state(func(s *StateReport) float64 { return s.Ratio() }),
			fmt.Sprintf("target ≥ %.2f on 2 cores, ≥ %.2f from %d: the share of verification the cores hide", TargetStateRatio, TargetStateRatioManyCores, StateManyCores)},
		{"    Ed25519 verification, all cores", perSec, state(func(s *StateReport) float64 { return s.VerifyAllCores }),
			"one goroutine per core, nothing shared: in proportion to cores (less what the machine's other work takes)"},
		{"    same writes straight to IAVL", perSec, state(func(s *StateReport) float64 { return s.IAVLSetTxPerSec }),
			"one goroutine: IAVL's tree writes and hashing are sequential"},
		{"(b) cityid end to end, committed", perSec, e2e(func(e *E2EReport) float64 { return e.CityID.TxPerSec }),
			"CheckTx runs on every core (the mempool connection is not serialised), FinalizeBlock and Commit on one (consensus serialises them): it grows with cores until block execution or consensus timeouts bound it"},
		{"    kvstore end to end, committed", perSec, e2e(func(e *E2EReport) float64 { return e.KVStore.TxPerSec }),
			"kvstore's CheckTx is trivial: CometBFT's own mempool, consensus and block store, mostly sequential, and mempool.size per block"},
		{"    ratio, target (b)", ratioOf, e2e(func(e *E2EReport) float64 { return e.Ratio }),
			fmt.Sprintf("target ≥ %.2f: CityID's per-transaction work over CometBFT's own", TargetE2ERatio)},
		{"(c) register_batch ids committed", perSec, batch(func(b *BatchReport) float64 { return b.Node.IDsPerSec }),
			"CheckTx of each 5,000-identifier batch on every core, the block's apply and tree writes on one: bounded by the sequential apply and the block interval"},
		{"    IAVL alone, same writes on disk", perSec, batch(func(b *BatchReport) float64 { return b.IAVLPerSec }),
			"one goroutine: the tree's writes, hashing and goleveldb's commit"},
		{"    ratio, target (c)", ratioOf, batch(func(b *BatchReport) float64 { return b.Ratio }),
			fmt.Sprintf("target ≥ %.2f: what the node adds to the tree's own writes", TargetBatchRatio)},
		{"(d) resolve p50, large state", latency, resolve(func(d *ResolveReport) float64 { return float64(d.Large.Resolve.P50) }),
			"one request at a time: a round trip's latency, which more cores do not shorten"},
		{"    with ?proof=true, large state", latency, resolve(func(d *ResolveReport) float64 { return float64(d.Large.ResolveProof.P50) }),
			"one request at a time: the proof's tree walk is sequential"},
	}
	for _, name := range []string{"HTTP/JSON", "Handle REST", "DNS"} {
		iface := func(f func(ServeInterface) float64) func(Figures) (float64, bool) {
			return func(x Figures) (float64, bool) {
				if x.Serve == nil {
					return 0, false
				}
				for _, it := range x.Serve.Interfaces {
					if it.Name == name {
						return f(it), true
					}
				}
				return 0, false
			}
		}
		rows = append(rows,
			scaleRow{"(e) " + name + " resolves, large state", perSec, iface(func(i ServeInterface) float64 { return i.Large.PerSec }),
				"server and load generator share the cores, each answer on its own goroutine: both grow with cores"},
			scaleRow{"    bare server", perSec, iface(func(i ServeInterface) float64 { return i.Baseline.PerSec }),
				"the same machine's ceiling: grows with cores as the node's does"},
			scaleRow{"    ratio, target (e)", ratioOf, iface(func(i ServeInterface) float64 { return i.LargeRatio }),
				fmt.Sprintf("target ≥ %.2f: the node's own CPU per answer over the bare server's; the same at any core count unless something is shared", TargetServeRatio)})
	}
	rows = append(rows, scaleRow{"(f) node DNS over Knot's", ratioOf, func(x Figures) (float64, bool) {
		if x.Serve == nil || x.Serve.DNSBaselines == nil || x.Serve.DNSBaselines.KnotRatio <= 0 {
			return 0, false
		}
		return x.Serve.DNSBaselines.KnotRatio, true
	}, fmt.Sprintf("target ≥ %.2f; Knot and NSD run with %d workers whatever GOMAXPROCS is, so at fewer cores the node is measured against the same servers", TargetKnotRatio, TargetDNSWorkers)})
	return rows
}

// writeScaling writes the scaling table of the settings in sets.
func writeScaling(w io.Writer, sets []Figures) {
	fmt.Fprintln(w, "How each figure scales with GOMAXPROCS (each setting's best round; the machine may be shared):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := []string{"FIGURE"}
	for _, s := range sets {
		head = append(head, fmt.Sprintf("GOMAXPROCS %d", s.Procs))
	}
	cores := float64(sets[len(sets)-1].Procs) / float64(max(sets[0].Procs, 1))
	head = append(head, fmt.Sprintf("%d → %d", sets[0].Procs, sets[len(sets)-1].Procs), "MEASURED")
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	var bounds, given []string
	var parent string
	for _, row := range scaleRows() {
		cells := []string{row.name}
		var first, last float64
		seen := false
		for i, s := range sets {
			v, ok := row.value(s)
			if !ok {
				cells = append(cells, "-")
				continue
			}
			seen = true
			cells = append(cells, row.kind.format(v))
			if i == 0 {
				first = v
			}
			last = v
		}
		if !seen {
			continue
		}
		growth, shape := "-", ""
		if first > 0 {
			growth = fmt.Sprintf("%.2f ×", last/first)
			shape = row.kind.shape(last/first, cores)
		}
		cells = append(cells, growth, shape)
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
		// A sub-row is named after its figure; a bound already given
		// (the three interfaces of (e) share theirs) is not repeated.
		name := strings.TrimSpace(row.name)
		if strings.HasPrefix(row.name, " ") {
			name = parent + ", " + name
		} else {
			parent = name
		}
		if !slices.Contains(given, row.bound) {
			given = append(given, row.bound)
			bounds = append(bounds, name+": "+row.bound+".")
		}
	}
	tw.Flush()
	fmt.Fprintln(w, "\nWhat bounds each figure as cores are added (from how the code is built; MEASURED says what this run saw):")
	for _, b := range bounds {
		fmt.Fprintf(w, "  %s\n", b)
	}
}
