package bench

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText writes the results as `cityid bench` prints them: for each
// GOMAXPROCS setting a table of every figure against its target and
// baseline, how each was made and what bounds it, and the targets
// missed; with several settings, first how each figure scales.
func (r Results) WriteText(w io.Writer) {
	fmt.Fprintf(w, "CityID benchmarks, %s\nmachine: %s\n\n", r.Date.Format("2006-01-02 15:04 MST"), r.Machine)
	if len(r.Scaling) == 0 {
		r.Figures.writeText(w)
		return
	}
	writeScaling(w, r.Scaling)
	for _, f := range r.Scaling {
		fmt.Fprintf(w, "\n=== GOMAXPROCS %d ===\n\n", f.Procs)
		f.writeText(w)
	}
}

func (r Figures) writeText(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tFIGURE\tBASELINE\tRATIO\tTARGET\tRESULT")
	var missed []string
	if s := r.State; s != nil {
		target := StateTarget(s.Machine.GOMAXPROCS)
		fmt.Fprintf(tw, "(a) state machine: register, every signature verified\t%s tx/s\t%s tx/s pre-verified\t%.2f\t≥ %.2f × pre-verified\t%s\n",
			rate(s.TxPerSec), rate(s.PreverifiedTxPerSec), s.Ratio(), target, verdict(s.Met()))
		fmt.Fprintf(tw, "    Ed25519 verification on %s\t%s /s\t\t\t\t\n", plural(s.Machine.GOMAXPROCS, "core"), rate(s.VerifyAllCores))
		fmt.Fprintf(tw, "    same writes straight to IAVL\t%s tx/s\t\t\t\t\n", rate(s.IAVLSetTxPerSec))
		fmt.Fprintf(tw, "    Ed25519 verification, one core\t%s /s\t\t\t\t\n", rate(s.VerifyOneCore))
		if !s.Met() {
			missed = append(missed, fmt.Sprintf("(a) %.2f × the pre-verified apply is below %.2f: %s.",
				s.Ratio(), target, s.Bound()))
		}
	}
	if e := r.E2E; e != nil {
		fmt.Fprintf(tw, "(b) one node end to end: register, committed\t%s tx/s\t%s tx/s kvstore\t%.2f\t≥ %.2f × kvstore\t%s\n",
			rate(e.CityID.TxPerSec), rate(e.KVStore.TxPerSec), e.Ratio, TargetE2ERatio, verdict(e.Met()))
		if !e.Met() {
			missed = append(missed, fmt.Sprintf("(b) %.2f × kvstore is below %.2f: %s.", e.Ratio, TargetE2ERatio, e.Bound()))
		}
	}
	if b := r.Batch; b != nil {
		fmt.Fprintf(tw, "(c) register_batch on one node: identifiers committed\t%s ids/s\t\t\t≥ %s ids/s\t%s\n",
			rate(b.Node.IDsPerSec), rate(TargetBatchIDsPerSec), verdict(b.MetRate()))
		fmt.Fprintf(tw, "    the same over the IAVL tree alone (same writes, on disk)\t%s ids/s\t%s ids/s IAVL alone\t%.2f\t≥ %.2f × IAVL\t%s\n",
			rate(b.Node.IDsPerSec), rate(b.IAVLPerSec), b.Ratio, TargetBatchRatio, verdict(b.MetRatio()))
		fmt.Fprintf(tw, "    same blocks through the state machine alone, on disk\t%s ids/s\t\t\t\t\n", rate(b.ReplayPerSec))
		if !b.Met() {
			missed = append(missed, fmt.Sprintf("(c) %s ids/s, %.2f × the IAVL tree alone (targets ≥ %s ids/s and ≥ %.2f): %s.",
				rate(b.Node.IDsPerSec), b.Ratio, rate(TargetBatchIDsPerSec), TargetBatchRatio, b.Bound()))
		}
	}
	if d := r.Resolve; d != nil {
		s, l := d.Small, d.Large
		for _, row := range []struct {
			what       string
			small, big LoadResult
			growth     float64
		}{{"(d) resolve latency p50, GET /v1/ids", s.Resolve, l.Resolve, d.LatencyGrowth},
			{"    resolve latency p50, with ?proof=true", s.ResolveProof, l.ResolveProof, d.ProofLatencyGrowth}} {
			fmt.Fprintf(tw, "%s, %s ids\t%s (p99 %s)\t%s (p99 %s) at %s\t%.2f\t≤ %.1f × %s's\t%s\n",
				row.what, rate(float64(l.State.IDs)), fmtDur(row.big.P50), fmtDur(row.big.P99), fmtDur(row.small.P50), fmtDur(row.small.P99),
				rate(float64(s.State.IDs)), row.growth, TargetLatencyGrowth, rate(float64(s.State.IDs)), verdict(row.growth <= TargetLatencyGrowth))
		}
		both := func(what string, f func(ResolveScale) string) {
			fmt.Fprintf(tw, "    %s\t%s at %s; %s at %s\t\t\t\t\n", what, f(l), rate(float64(l.State.IDs)), f(s), rate(float64(s.State.IDs)))
		}
		both("proof generation per resolve (View.Proof + encode), p50", func(x ResolveScale) string { return fmtDur(x.Proof.P50) })
		both("tree read per resolve without proof (View.Get), p50", func(x ResolveScale) string { return fmtDur(x.Read.P50) })
		both("client verification per resolve (Decode + Existence), p50", func(x ResolveScale) string { return fmtDur(x.Verify.P50) })
		if lf := d.Light; lf != nil {
			fmt.Fprintf(tw, "    light client per new header, amortised over the answers it signs\t%s verify; %s with decoding; %s end to end\t\t\t\t\n",
				fmtDur(lf.Verify.P50), fmtDur(lf.Verify.P50+lf.Decode.P50), fmtDur(lf.Header.P50))
		}
		both("disk bytes per identifier, as built (compacted)", func(x ResolveScale) string {
			return fmt.Sprintf("%s B (%s B)", rate(x.State.BytesPerID()), rate(x.State.CompactedPerID()))
		})
		if !d.Met() {
			missed = append(missed, fmt.Sprintf("(d) resolve latency at %s identifiers is %.2f × (with proof %.2f ×) that at %s, above %.1f ×: %s.",
				rate(float64(l.State.IDs)), d.LatencyGrowth, d.ProofLatencyGrowth, rate(float64(s.State.IDs)), TargetLatencyGrowth, d.Bounds()[0]))
		}
	}
	if v := r.Serve; v != nil {
		label := "(e)"
		for _, it := range v.Interfaces {
			for _, row := range []struct {
				n     int
				res   LoadResult
				ratio float64
			}{{v.Small.IDs, it.Small, it.SmallRatio}, {v.Large.IDs, it.Large, it.LargeRatio}} {
				fmt.Fprintf(tw, "%s %s resolves/s, %s ids\t%s/s, p50 %s, p99 %s\t%s/s bare, p99 %s\t%.2f\t≥ %.2f × bare\t%s\n",
					label, it.Name, rate(float64(row.n)), rate(row.res.PerSec), fmtDur(row.res.P50), fmtDur(row.res.P99),
					rate(it.Baseline.PerSec), fmtDur(it.Baseline.P99), row.ratio, TargetServeRatio, verdict(row.ratio >= TargetServeRatio))
				label = "   "
			}
			fmt.Fprintf(tw, "    %s p99, %s ids over %s\t%s\t%s\t%.2f\t≤ %.1f ×\t%s\n", it.Name, rate(float64(v.Large.IDs)), rate(float64(v.Small.IDs)),
				fmtDur(it.Large.P99), fmtDur(it.Small.P99), it.P99Growth, TargetLatencyGrowth, verdict(it.P99Growth <= TargetLatencyGrowth))
			if !it.Met() {
				missed = append(missed, fmt.Sprintf("(e) %s: %.2f and %.2f of the bare server's rate, p99 growth %.2f (targets ≥ %.2f, ≤ %.1f): %s.",
					it.Name, it.SmallRatio, it.LargeRatio, it.P99Growth, TargetServeRatio, TargetLatencyGrowth, it.Bound()))
			}
		}
		if b := v.DNSBaselines; b != nil && b.KnotRatio > 0 {
			node, knot := b.server("node"), b.server("Knot")
			fmt.Fprintf(tw, "(f) DNS answers/s beside Knot, %s ids\t%s/s\t%s/s Knot\t%.2f\t≥ %.2f × Knot\t%s\n",
				rate(float64(b.Names)), rate(node.Result.PerSec), rate(knot.Result.PerSec), b.KnotRatio, TargetKnotRatio, verdict(b.Met()))
			if !b.Met() {
				missed = append(missed, fmt.Sprintf("(f) the node's DNS answers %.2f × Knot's, below %.2f: see the DNS lines under (e).", b.KnotRatio, TargetKnotRatio))
			}
		}
	}
	if d := r.Data; d != nil {
		fmt.Fprintf(tw, "(g) %s dataset to a signed grantee's request, warm (verified before)\t%s MB/s\t%s MB/s http.ServeContent\t%.2f\t≥ %.2f × ServeContent\t%s\n",
			mib(d.Size), rate(d.Warm.MBPerSec), rate(d.Bare.MBPerSec), d.WarmRatio, TargetDataServeRatio, verdict(d.MetServe()))
		fmt.Fprintf(tw, "    the same, cold: the first full read after the file changed, hashed as sent\t%s MB/s\t%s MB/s http.ServeContent\t%.2f\t\t\n",
			rate(d.Cold.MBPerSec), rate(d.Bare.MBPerSec), d.ColdRatio)
		fmt.Fprintf(tw, "    SHA-256 in memory, one core (what a cold read cannot exceed)\t%s MB/s\t\t\t\t\n", rate(d.SHA256MBPerSec))
		fmt.Fprintf(tw, "    signature and grant check of a grantee's request (Decide), %d grants, mean\t%s (p50 %s, p99 %s)\t%s Ed25519 verify, same round\t\t≤ %s\t%s\n",
			d.Decide.Grants, fmtDur(d.Decide.Mean), fmtDur(d.Decide.P50), fmtDur(d.Decide.P99), fmtDur(d.Decide.Ed25519), fmtDur(TargetDecide), verdict(d.MetDecide()))
		fmt.Fprintf(tw, "    the same, first request after a new block (reads the ledger afresh), p50\t%s\t\t\t\t\n", fmtDur(d.Decide.FirstAfterBlock))
		if !d.MetServe() {
			missed = append(missed, fmt.Sprintf("(g) the node serves a verified dataset at %.2f × http.ServeContent, below %.2f: %s.", d.WarmRatio, TargetDataServeRatio, d.Bound()))
		}
		if !d.MetDecide() {
			missed = append(missed, fmt.Sprintf("(g) the signature and grant check takes %s a request, above %s (Ed25519 alone %s).", fmtDur(d.Decide.Mean), fmtDur(TargetDecide), fmtDur(d.Decide.Ed25519)))
		}
	}
	tw.Flush()

	if s := r.State; s != nil {
		fmt.Fprintf(w, "\n(a) %d register transactions of %d bytes (a URL and a TEXT value, distinct ids) from %d keys, blocks of %d, in-memory IAVL, commit per block; best of rounds %s tx/s.\n",
			s.Txs, s.TxBytes, s.Loaders, s.BlockTxs, joinNums(s.Rounds))
		if p := s.Projection(); p != "" {
			fmt.Fprintf(w, "    %s.\n", p)
		}
	}
	if e := r.E2E; e != nil {
		fmt.Fprintf(w, "\n(b) both apps on a fresh single-validator node (node.Init defaults), one after the other, loopback only, with:\n")
		for _, s := range e.Settings {
			fmt.Fprintf(w, "      %s = %s\n", s.Name, s.Value)
		}
		var cr, kr []float64
		for _, a := range e.Runs {
			if a.App == "cityid" {
				cr = append(cr, a.TxPerSec)
			} else {
				kr = append(kr, a.TxPerSec)
			}
		}
		fmt.Fprintf(w, "    rounds: kvstore %s tx/s; cityid %s tx/s. Each app's best round below.\n", joinNums(kr), joinNums(cr))
		for _, a := range []AppRun{e.KVStore, e.CityID} {
			fmt.Fprintf(w, "    %s: %d of %d txs of %d bytes committed, %d with code 0, in %d blocks (heights %d-%d, at most %d txs, longest gap %s)\n",
				a.App, a.Committed, a.Txs, a.TxBytes, a.OK, a.Blocks, a.FirstHeight, a.LastHeight, a.MaxBlockTxs, a.MaxGap.Round(time.Millisecond))
			fmt.Fprintf(w, "      %s tx/s over the %s from the first block to the last; %s tx/s from the first submission; CheckTx admitted %s tx/s, %d back-offs on a full mempool",
				rate(a.TxPerSec), a.Window.Round(time.Millisecond), rate(a.FromSubmit), rate(a.SubmitPerSec), a.FullWaits)
			if a.NonceWaits > 0 {
				fmt.Fprintf(w, ", %d on a nonce refusal", a.NonceWaits)
			}
			if a.CPUCores > 0 {
				fmt.Fprintf(w, "; %.2f cores busy", a.CPUCores)
			}
			fmt.Fprintln(w, ".")
			if a.Refused > 0 {
				fmt.Fprintf(w, "      %d refused by CheckTx; first: %s\n", a.Refused, a.FirstRefusal)
			}
			if a.FirstFailure != "" {
				fmt.Fprintf(w, "      first failed result: %s\n", a.FirstFailure)
			}
			if a.TimedOut {
				fmt.Fprintf(w, "      the time limit ran out before every transaction was committed: the figure is over what was.\n")
			}
		}
		if e.AllComplete() {
			fmt.Fprintf(w, "    every round of cityid committed all %d register transactions with code 0.\n", e.CityID.Txs)
		} else {
			fmt.Fprintf(w, "    NOT every round of cityid committed every register transaction with code 0: see the runs in --json.\n")
		}
		fmt.Fprintf(w, "    kvstore's transactions are \"key=value\" bytes padded to the mean size of CityID's, so both move the same bytes through the mempool and blocks.\n")
	}
	r.writeDetails(w)
	if len(missed) > 0 {
		fmt.Fprintln(w, "\nMissed targets:")
		for _, m := range missed {
			fmt.Fprintf(w, "  %s\n", m)
		}
	} else {
		fmt.Fprintln(w, "\nEvery target measured is met.")
	}
}

// writeDetails says how the batch, resolve and serve figures were
// made and what bounds each.
func (r Figures) writeDetails(w io.Writer) {
	if b := r.Batch; b != nil {
		n := b.Node
		fmt.Fprintf(w, "\n(c) %s real community identifiers in %d register_batch transactions of %d bytes (5,000 identifiers each, 4 signing keys) fed to the mempool of a fresh single-validator node (node.Init defaults, loopback); best of rounds %s ids/s.\n",
			rate(float64(b.IDs)), b.Batches, b.BatchBytes, joinNums(batchRates(b.Runs)))
		fmt.Fprintf(w, "    best round: %s identifiers committed with code 0 in %d blocks (heights %d-%d, at most %s ids, longest gap %s) over %s; %s ids/s from the first submission; %.2f cores busy.\n",
			rate(float64(n.IDs)), n.Blocks, n.FirstHeight, n.LastHeight, rate(float64(n.MaxBlockIDs)), n.MaxGap.Round(time.Millisecond), n.Window.Round(time.Millisecond), rate(n.FromSubmit), n.CPUCores)
		fmt.Fprintf(w, "    baseline: the node's blocks replayed from height 1 through the state machine onto a fresh store on disk, recording every write of the load blocks; ")
		if b.AllComplete() {
			fmt.Fprintf(w, "every round's replay reached the node's app hash, so the recorded writes are the node's.\n")
		} else {
			fmt.Fprintf(w, "NOT every round committed every identifier and replayed to the node's app hash: see --json.\n")
		}
		fmt.Fprintf(w, "    those writes set straight into a fresh IAVL store on disk (goleveldb), a commit per block of the node's: %s ids/s.\n", rate(b.IAVLPerSec))
		fmt.Fprintf(w, "    bounded by: %s.\n", b.Bound())
	}
	if d := r.Resolve; d != nil {
		fmt.Fprintf(w, "\n(d) states of %s and %s community identifiers, built by the state machine from real register_batch transactions, %s per block, on disk, every version kept; each served by the node's own code (node.ServeFrontEnds, as node.Start serves, the limit on costly reads off) over its store, in a process of its own that opens the store cold.\n",
			rate(float64(d.Small.State.IDs)), rate(float64(d.Large.State.IDs)), rate(float64(d.Large.State.BlockIDs)))
		for _, x := range []ResolveScale{d.Small, d.Large} {
			st := x.State
			fmt.Fprintf(w, "    %s ids: built at %s ids/s in %d blocks of batches; %s bytes on disk as built, %s after a full goleveldb compaction (%s); proofs %d bytes, %.1f steps.\n",
				rate(float64(st.IDs)), rate(st.BuildPerSec), st.Blocks, rate(float64(st.DiskBytes)), rate(float64(st.Compacted)), st.Compaction.Round(time.Millisecond), x.ProofBytes, x.ProofSteps)
		}
		fmt.Fprintf(w, "    latency: one client in this process, one request at a time, keep-alive, random identifiers (seeded), 2 s per run after a warm-up, rounds alternating the states; per request the server spent %s of CPU at %s, %s at %s (%s, %s with proof).\n",
			fmtDur(d.Small.Resolve.ServerCPUPerReq), rate(float64(d.Small.State.IDs)), fmtDur(d.Large.Resolve.ServerCPUPerReq), rate(float64(d.Large.State.IDs)),
			fmtDur(d.Small.ResolveProof.ServerCPUPerReq), fmtDur(d.Large.ResolveProof.ServerCPUPerReq))
		fmt.Fprintf(w, "    read, proof and verification: in this process, one goroutine, the store opened here, 1 s each per round after a warm-up.\n")
		if lf := d.Light; lf != nil {
			fmt.Fprintf(w, "    light client: %d headers of a %d-validator node's chain; an answer at height H is proved against the app hash in header H+1, shared by every answer read at H, so per resolve the header costs %s divided by the answers that share it.\n",
				lf.Headers, lf.Validators, fmtDur(lf.Header.P50))
		}
		fmt.Fprintln(w, "    bounded by:")
		for _, b := range d.Bounds() {
			fmt.Fprintf(w, "      %s.\n", b)
		}
	}
	if v := r.Serve; v != nil {
		fmt.Fprintf(w, "\n(e) load generator in this process: %d client goroutines in a closed loop, random identifiers (seeded PCG), %s or %s requests per run after a %s warm-up; HTTP keep-alive, DNS over one UDP socket per client. Each server is a process of its own; the serving path is the node's own code (node.ServeFrontEnds with node.Start's options and metrics, the limit on costly reads and the DNS rate limit off) over the real store of (d).\n",
			v.Load.Clients, v.Load.Duration, rate(float64(v.Load.Requests)), v.Load.Warmup)
		for _, it := range v.Interfaces {
			fmt.Fprintf(w, "    %s: %s; ceiling: %s; answers %d bytes.\n", it.Name, it.Example, it.Ceiling, it.Small.AnswerBytes)
			fmt.Fprintf(w, "      bounded by: %s.\n", it.Bound())
		}
		if b := v.DNSBaselines; b != nil {
			for _, l := range b.Lines() {
				fmt.Fprintf(w, "    %s\n", l)
			}
		}
	}
	if d := r.Data; d != nil {
		d.writeDetails(w)
	}
}

// writeDetails says how the data figures were made.
func (d DataReport) writeDetails(w io.Writer) {
	fmt.Fprintf(w, "\n(g) a %s dataset (pseudo-random bytes, stored through datastore's upload path) served over loopback by the node's serving path (node.ServeFrontEnds: the API with a node's limits and metrics behind node.HTTPServer; share.Service deciding; the access log entry fsynced before each answer) to a GET signed (RFC 9421) by the admin of a sector holding a live grant, one connection, the client reading a MiB at a time; beside it the same file served by http.ServeContent behind node.HTTPServer. Per round: the file's times touched, 1.5 s, a cold read (hashed as sent, which makes the blob trusted again), a warm read, a bare read; best of rounds: warm %s, cold %s, bare %s MB/s.\n",
		mib(d.Size), joinNums(d.WarmRounds), joinNums(d.ColdRounds), joinNums(d.BareRounds))
	fmt.Fprintf(w, "    CPU of this process (client and server) per GB moved, best rounds: warm %s, cold %s, bare %s.\n",
		fmtDur(d.Warm.CPUPerGB), fmtDur(d.Cold.CPUPerGB), fmtDur(d.Bare.CPUPerGB))
	if d.Trusted {
		fmt.Fprintf(w, "    every warm read was of a trusted blob (served from the file, with sendfile, as the bare server serves it); the access log holds one entry per request (%d).\n", d.LogEntries)
	} else {
		fmt.Fprintf(w, "    NOT every warm read was of a trusted blob: those were hashed as sent too.\n")
	}
	means := make([]string, len(d.Decide.Rounds))
	for i, m := range d.Decide.Rounds {
		means[i] = fmtDur(m)
	}
	fmt.Fprintf(w, "    Decide: rounds of %d requests of the grantee's admin, each signed with its own nonce, one at a time in this process, over a ledger whose dataset has %d grants (the signer's read last); the round of the lowest mean counts (means %s); the first after a new block is the p50 of 200, a block committed before each.\n",
		d.Decide.Requests, d.Decide.Grants, strings.Join(means, ", "))
	fmt.Fprintf(w, "    bounded by: %s.\n", d.Bound())
}

func batchRates(runs []BatchRun) []float64 {
	out := make([]float64, len(runs))
	for i, r := range runs {
		out[i] = r.IDsPerSec
	}
	return out
}

func verdict(ok bool) string {
	if ok {
		return "pass"
	}
	return "MISS"
}

func joinNums(fs []float64) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = rate(f)
	}
	return strings.Join(parts, ", ")
}

// server is the run of the server whose name starts with name (the node's
// is "node …", Knot's "Knot …"); zero when it did not run.
func (b DNSBaselines) server(name string) DNSServerRun {
	for _, s := range b.Servers {
		if strings.HasPrefix(strings.ToLower(s.Name), strings.ToLower(name)) {
			return s
		}
	}
	return DNSServerRun{}
}
