package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cityid/cityid/internal/bench"
)

// newBench is `cityid bench`: the throughput benchmarks of
// internal/bench, printed as a table against their targets.
func newBench() *cobra.Command {
	var (
		txs        int
		duration   time.Duration
		only       string
		rounds     int
		asJSON     bool
		logLevel   string
		scale      int
		cacheMB    int
		ids        int
		clients    int
		loadTime   time.Duration
		requests   int
		dataDir    string
		cpuProfile string
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure throughput and latency against the targets, each beside a baseline of the same run",
		Long: `Measure CityID against its targets, with baselines measured in the same run:

  state    signed register transactions applied per second by the state machine
           (every signature verified, in-memory IAVL, a commit per block), beside
           Ed25519 verification on every core, the same blocks with signatures
           pre-verified, and the same writes straight to IAVL.
  e2e      committed register transactions per second through an in-process
           CometBFT node on loopback, beside CometBFT's kvstore example app on a
           node with the same settings and transactions of the same size.
  batch    identifiers committed per second with register_batch (5,000 real
           community identifiers each) on one in-process node, beside the same
           writes (recorded by replaying the node's blocks) set straight into
           IAVL on disk, a commit per block of the node's.
  resolve  proof generation and client verification per resolve, the light
           client's cost per header, resolve latency over HTTP with and without
           proof at 10,000 and --scale identifiers, and disk bytes per identifier.
  serve    resolves per second and p50/p99 latency over HTTP/JSON, Handle REST
           and DNS at 10,000 and --scale identifiers, from a load generator on
           loopback, beside a bare net/http and a bare miekg/dns server answering
           fixed answers of the same size: the ceiling of this machine.

resolve and serve read states built once per run by the registry's state
machine from real register_batch transactions into a store on disk, served
by the node's own HTTP API and DNS front end; the states live in a temporary
folder removed at the end.

Each run is bounded in count and time, listens on loopback only, works in
temporary folders and stops by itself. The command exits 0 when a target is
missed: it reports, and says what bounds each figure. See
internal/bench/README.md.`,
		Example: `  cityid bench
  cityid bench --only state
  cityid bench --only e2e --txs 10000 --duration 30s
  cityid bench --only batch --ids 100000
  cityid bench --only resolve,serve --scale 100000 --rounds 1`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			parts, err := benchParts(only)
			if err != nil {
				return usageError{err}
			}
			if txs <= 0 || duration <= 0 || rounds <= 0 || ids <= 0 || clients <= 0 || loadTime <= 0 || requests <= 0 {
				return usageError{fmt.Errorf("--txs, --duration, --rounds, --ids, --clients, --load-time and --requests must be positive")}
			}
			if scale < bench.DefaultSmall {
				return usageError{fmt.Errorf("--scale %d: the large state must hold at least the small one's %d identifiers", scale, bench.DefaultSmall)}
			}
			if cacheMB < 0 {
				return usageError{fmt.Errorf("--cache-mb %d: give a size in MiB, or 0 for the node's default", cacheMB)}
			}
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return usageError{fmt.Errorf("--log-level %q: %w", logLevel, err)}
			}
			var log *slog.Logger
			if cmd.Flags().Changed("log-level") {
				log = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
			}
			if cpuProfile != "" {
				stop, err := startCPUProfile(cpuProfile)
				if err != nil {
					return err
				}
				defer stop()
			}
			ctx := cmd.Context()
			out, errw := cmd.OutOrStdout(), cmd.ErrOrStderr()
			res := benchResults{Date: time.Now().UTC(), Machine: bench.ThisMachine()}
			if parts["state"] {
				fmt.Fprintf(errw, "state machine: %d register transactions, %s …\n", txs, plural(rounds, "round"))
				r, err := bench.RunState(ctx, bench.StateOptions{Txs: txs, Rounds: rounds})
				if err != nil {
					return fmt.Errorf("state benchmark: %w", err)
				}
				res.State = &r
			}
			if parts["e2e"] {
				fmt.Fprintf(errw, "end to end: kvstore, then cityid, %d transactions or %s each, %s …\n", txs, duration, plural(rounds, "round"))
				r, err := bench.RunE2E(ctx, bench.E2EOptions{Txs: txs, Duration: duration, Rounds: rounds, Log: log})
				if err != nil {
					return fmt.Errorf("end-to-end benchmark: %w", err)
				}
				res.E2E = &r
			}
			if parts["batch"] || parts["resolve"] || parts["serve"] {
				data, err := bench.FindData(dataDir)
				if err != nil {
					return usageError{err}
				}
				dir, err := bench.LoadDirectory(data)
				if err != nil {
					return fmt.Errorf("benchmark data: %w", err)
				}
				if scale > dir.Len() {
					return usageError{fmt.Errorf("--scale %d: the community directory makes at most %d identifiers", scale, dir.Len())}
				}
				if parts["batch"] {
					fmt.Fprintf(errw, "register_batch: %d identifiers on a fresh node, %s …\n", ids, plural(rounds, "round"))
					r, err := bench.RunBatch(ctx, dir, bench.BatchOptions{IDs: ids, Duration: duration * 2, Rounds: rounds, Log: log})
					if err != nil {
						return fmt.Errorf("register_batch benchmark: %w", err)
					}
					res.Batch = &r
				}
				if parts["resolve"] || parts["serve"] {
					states, err := bench.NewStates(dir, bench.StatesOptions{})
					if err != nil {
						return err
					}
					defer states.Close()
					// Every server runs in a process of its own: this
					// binary's hidden `bench serve-child`.
					exe, err := os.Executable()
					if err != nil {
						return err
					}
					child := []string{exe, "bench", "serve-child"}
					if cpuProfile != "" {
						child = append(child, "--cpuprofile", cpuProfile+".serve")
					}
					launch := bench.WithCache(bench.Subprocess(child...), cacheMB)
					fmt.Fprintf(errw, "building states of %d and %d identifiers (register_batch blocks through the state machine, on disk) …\n", bench.DefaultSmall, scale)
					if parts["resolve"] {
						fmt.Fprintf(errw, "resolve: proofs, verification and latency at both states, %s, then the light client on a short-lived node …\n", plural(rounds, "round"))
						r, err := bench.RunResolve(ctx, states, bench.ResolveOptions{Large: scale, Rounds: rounds, Launch: launch})
						if err != nil {
							return fmt.Errorf("resolve benchmark: %w", err)
						}
						res.Resolve = &r
					}
					if parts["serve"] {
						fmt.Fprintf(errw, "serve: %d clients, %s or %d requests per run, HTTP/JSON, Handle REST and DNS, %s …\n", clients, loadTime, requests, plural(rounds, "round"))
						r, err := bench.RunServe(ctx, states, bench.ServeOptions{Large: scale, Rounds: rounds, Launch: launch,
							Load: bench.LoadOptions{Clients: clients, Duration: loadTime, Requests: requests}})
						if err != nil {
							return fmt.Errorf("serve benchmark: %w", err)
						}
						res.Serve = &r
					}
				}
			}
			if asJSON {
				return printJSON(out, res)
			}
			printBench(out, res)
			return nil
		},
	}
	cmd.Flags().IntVar(&txs, "txs", 20_000, "state and e2e: register transactions per measurement (state: per round; e2e: per app)")
	cmd.Flags().DurationVar(&duration, "duration", 60*time.Second, "e2e: time limit of each app's load; batch: twice this per round; what is committed by then is measured")
	cmd.Flags().StringVar(&only, "only", "", "run only these benchmarks, comma-separated: state, e2e, batch, resolve, serve")
	cmd.Flags().IntVar(&rounds, "rounds", 3, "rounds of each measurement; the best counts, since other work on the machine only slows a round down")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the full reports as JSON")
	cmd.Flags().StringVar(&logLevel, "log-level", "info", "e2e and batch: log the nodes to stderr at this level (debug, info, warn, error); off unless given")
	cmd.Flags().IntVar(&cacheMB, "cache-mb", 0, "resolve and serve: the served stores' block cache in MiB, as [state] cache_mb (default: the node's default)")
	cmd.Flags().IntVar(&scale, "scale", bench.DefaultLarge, "resolve and serve: identifiers in the large state (the small one holds 10,000)")
	cmd.Flags().IntVar(&ids, "ids", 200_000, "batch: identifiers registered per round, in register_batch transactions of 5,000")
	cmd.Flags().IntVar(&clients, "clients", 8, "serve: concurrent client goroutines of the load generator")
	cmd.Flags().DurationVar(&loadTime, "load-time", 3*time.Second, "serve: time bound of each measured load run (after a 500 ms warm-up)")
	cmd.Flags().IntVar(&requests, "requests", 1_000_000, "serve: request bound of each measured load run")
	cmd.Flags().StringVar(&dataDir, "data", "", "batch, resolve and serve: folder of communities.csv.gz and cities.csv (default: internal/bench/testdata of the repository around the working directory)")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file (go tool pprof), and one of each serving process to FILE.serve-PID")
	cmd.AddCommand(newBenchServeChild())
	return cmd
}

// newBenchServeChild is `cityid bench serve-child`, hidden: one serving
// process of the resolve and serve benchmarks, driven by `cityid bench`
// over its standard input and output (bench.ServeChild).
func newBenchServeChild() *cobra.Command {
	var cpuProfile string
	cmd := &cobra.Command{
		Use:    "serve-child",
		Short:  "A serving process of `cityid bench` (internal)",
		Hidden: true,
		Args:   exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cpuProfile != "" {
				stop, err := startCPUProfile(fmt.Sprintf("%s-%d", cpuProfile, os.Getpid()))
				if err != nil {
					return err
				}
				defer stop()
			}
			return bench.ServeChild(cmd.Context(), os.Stdin, os.Stdout)
		},
	}
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of this process to FILE-PID")
	return cmd
}

// benchParts parses --only; empty selects every benchmark.
func benchParts(only string) (map[string]bool, error) {
	all := []string{"state", "e2e", "batch", "resolve", "serve"}
	parts := make(map[string]bool)
	if only == "" {
		for _, p := range all {
			parts[p] = true
		}
		return parts, nil
	}
	for _, p := range strings.Split(only, ",") {
		p = strings.TrimSpace(p)
		if !slices.Contains(all, p) {
			return nil, fmt.Errorf("--only %q: want one or more of %s, comma-separated", p, strings.Join(all, ", "))
		}
		parts[p] = true
	}
	return parts, nil
}

// benchResults is what `cityid bench` prints.
type benchResults struct {
	Date    time.Time            `json:"date"`
	Machine bench.Machine        `json:"machine"`
	State   *bench.StateReport   `json:"state,omitempty"`
	E2E     *bench.E2EReport     `json:"e2e,omitempty"`
	Batch   *bench.BatchReport   `json:"batch,omitempty"`
	Resolve *bench.ResolveReport `json:"resolve,omitempty"`
	Serve   *bench.ServeReport   `json:"serve,omitempty"`
}

func printBench(w io.Writer, r benchResults) {
	fmt.Fprintf(w, "CityID benchmarks, %s\nmachine: %s\n\n", r.Date.Format("2006-01-02 15:04 MST"), r.Machine)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tFIGURE\tBASELINE\tRATIO\tTARGET\tRESULT")
	var missed []string
	if s := r.State; s != nil {
		fmt.Fprintf(tw, "(a) state machine: register, every signature verified\t%s tx/s\t%s/s Ed25519 on %d cores\t%.2f\t≥ %s tx/s\t%s\n",
			num(s.TxPerSec), num(s.VerifyAllCores), s.Machine.GOMAXPROCS, s.TxPerSec/s.VerifyAllCores,
			num(bench.TargetStateTxPerSec), verdict(s.Met()))
		fmt.Fprintf(tw, "    same blocks, signatures pre-verified\t%s tx/s\t\t\t\t\n", num(s.PreverifiedTxPerSec))
		fmt.Fprintf(tw, "    same writes straight to IAVL\t%s tx/s\t\t\t\t\n", num(s.IAVLSetTxPerSec))
		fmt.Fprintf(tw, "    Ed25519 verification, one core\t%s /s\t\t\t\t\n", num(s.VerifyOneCore))
		if !s.Met() {
			missed = append(missed, fmt.Sprintf("(a) %s tx/s is below %s tx/s: %s.",
				num(s.TxPerSec), num(bench.TargetStateTxPerSec), s.Bound()))
		}
	}
	if e := r.E2E; e != nil {
		fmt.Fprintf(tw, "(b) one node end to end: register, committed\t%s tx/s\t%s tx/s kvstore\t%.2f\t≥ %.2f × kvstore\t%s\n",
			num(e.CityID.TxPerSec), num(e.KVStore.TxPerSec), e.Ratio, bench.TargetE2ERatio, verdict(e.Met()))
		if !e.Met() {
			missed = append(missed, fmt.Sprintf("(b) %.2f × kvstore is below %.2f: %s.", e.Ratio, bench.TargetE2ERatio, e.Bound()))
		}
	}
	if b := r.Batch; b != nil {
		fmt.Fprintf(tw, "(c) register_batch on one node: identifiers committed\t%s ids/s\t\t\t≥ %s ids/s\t%s\n",
			num(b.Node.IDsPerSec), num(bench.TargetBatchIDsPerSec), verdict(b.MetRate()))
		fmt.Fprintf(tw, "    the same over the IAVL tree alone (same writes, on disk)\t%s ids/s\t%s ids/s IAVL alone\t%.2f\t≥ %.2f × IAVL\t%s\n",
			num(b.Node.IDsPerSec), num(b.IAVLPerSec), b.Ratio, bench.TargetBatchRatio, verdict(b.MetRatio()))
		fmt.Fprintf(tw, "    same blocks through the state machine alone, on disk\t%s ids/s\t\t\t\t\n", num(b.ReplayPerSec))
		if !b.Met() {
			missed = append(missed, fmt.Sprintf("(c) %s ids/s, %.2f × the IAVL tree alone (targets ≥ %s ids/s and ≥ %.2f): %s.",
				num(b.Node.IDsPerSec), b.Ratio, num(bench.TargetBatchIDsPerSec), bench.TargetBatchRatio, b.Bound()))
		}
	}
	if d := r.Resolve; d != nil {
		s, l := d.Small, d.Large
		for _, row := range []struct {
			what       string
			small, big bench.LoadResult
			growth     float64
		}{{"(d) resolve latency p50, GET /v1/ids", s.Resolve, l.Resolve, d.LatencyGrowth},
			{"    resolve latency p50, with ?proof=true", s.ResolveProof, l.ResolveProof, d.ProofLatencyGrowth}} {
			fmt.Fprintf(tw, "%s, %s ids\t%s (p99 %s)\t%s (p99 %s) at %s\t%.2f\t≤ %.1f × %s's\t%s\n",
				row.what, num(float64(l.State.IDs)), dur(row.big.P50), dur(row.big.P99), dur(row.small.P50), dur(row.small.P99),
				num(float64(s.State.IDs)), row.growth, bench.TargetLatencyGrowth, num(float64(s.State.IDs)), verdict(row.growth <= bench.TargetLatencyGrowth))
		}
		both := func(what string, f func(bench.ResolveScale) string) {
			fmt.Fprintf(tw, "    %s\t%s at %s; %s at %s\t\t\t\t\n", what, f(l), num(float64(l.State.IDs)), f(s), num(float64(s.State.IDs)))
		}
		both("proof generation per resolve (View.Proof + encode), p50", func(x bench.ResolveScale) string { return dur(x.Proof.P50) })
		both("tree read per resolve without proof (View.Get), p50", func(x bench.ResolveScale) string { return dur(x.Read.P50) })
		both("client verification per resolve (Decode + Existence), p50", func(x bench.ResolveScale) string { return dur(x.Verify.P50) })
		if lf := d.Light; lf != nil {
			fmt.Fprintf(tw, "    light client per new header, amortised over the answers it signs\t%s verify; %s with decoding; %s end to end\t\t\t\t\n",
				dur(lf.Verify.P50), dur(lf.Verify.P50+lf.Decode.P50), dur(lf.Header.P50))
		}
		both("disk bytes per identifier, as built (compacted)", func(x bench.ResolveScale) string {
			return fmt.Sprintf("%s B (%s B)", num(x.State.BytesPerID()), num(x.State.CompactedPerID()))
		})
		if !d.Met() {
			missed = append(missed, fmt.Sprintf("(d) resolve latency at %s identifiers is %.2f × (with proof %.2f ×) that at %s, above %.1f ×: %s.",
				num(float64(l.State.IDs)), d.LatencyGrowth, d.ProofLatencyGrowth, num(float64(s.State.IDs)), bench.TargetLatencyGrowth, d.Bounds()[0]))
		}
	}
	if v := r.Serve; v != nil {
		label := "(e)"
		for _, it := range v.Interfaces {
			for _, row := range []struct {
				n     int
				res   bench.LoadResult
				ratio float64
			}{{v.Small.IDs, it.Small, it.SmallRatio}, {v.Large.IDs, it.Large, it.LargeRatio}} {
				fmt.Fprintf(tw, "%s %s resolves/s, %s ids\t%s/s, p50 %s, p99 %s\t%s/s bare, p99 %s\t%.2f\t≥ %.2f × bare\t%s\n",
					label, it.Name, num(float64(row.n)), num(row.res.PerSec), dur(row.res.P50), dur(row.res.P99),
					num(it.Baseline.PerSec), dur(it.Baseline.P99), row.ratio, bench.TargetServeRatio, verdict(row.ratio >= bench.TargetServeRatio))
				label = "   "
			}
			fmt.Fprintf(tw, "    %s p99, %s ids over %s\t%s\t%s\t%.2f\t≤ %.1f ×\t%s\n", it.Name, num(float64(v.Large.IDs)), num(float64(v.Small.IDs)),
				dur(it.Large.P99), dur(it.Small.P99), it.P99Growth, bench.TargetLatencyGrowth, verdict(it.P99Growth <= bench.TargetLatencyGrowth))
			if !it.Met() {
				missed = append(missed, fmt.Sprintf("(e) %s: %.2f and %.2f of the bare server's rate, p99 growth %.2f (targets ≥ %.2f, ≤ %.1f): %s.",
					it.Name, it.SmallRatio, it.LargeRatio, it.P99Growth, bench.TargetServeRatio, bench.TargetLatencyGrowth, it.Bound()))
			}
		}
	}
	tw.Flush()

	if s := r.State; s != nil {
		fmt.Fprintf(w, "\n(a) %d register transactions of %d bytes (a URL and a TEXT value, distinct ids) from %d keys, blocks of %d, in-memory IAVL, commit per block; best of rounds %s tx/s.\n",
			s.Txs, s.TxBytes, s.Loaders, s.BlockTxs, joinNums(s.Rounds))
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
		for _, a := range []bench.AppRun{e.KVStore, e.CityID} {
			fmt.Fprintf(w, "    %s: %d of %d txs of %d bytes committed, %d with code 0, in %d blocks (heights %d-%d, at most %d txs, longest gap %s)\n",
				a.App, a.Committed, a.Txs, a.TxBytes, a.OK, a.Blocks, a.FirstHeight, a.LastHeight, a.MaxBlockTxs, a.MaxGap.Round(time.Millisecond))
			fmt.Fprintf(w, "      %s tx/s over the %s from the first block to the last; %s tx/s from the first submission; CheckTx admitted %s tx/s, %d back-offs on a full mempool",
				num(a.TxPerSec), a.Window.Round(time.Millisecond), num(a.FromSubmit), num(a.SubmitPerSec), a.FullWaits)
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
	printBenchDetails(w, r)
	if len(missed) > 0 {
		fmt.Fprintln(w, "\nMissed targets:")
		for _, m := range missed {
			fmt.Fprintf(w, "  %s\n", m)
		}
	} else {
		fmt.Fprintln(w, "\nEvery target measured is met.")
	}
}

// printBenchDetails says how the batch, resolve and serve figures were
// made and what bounds each.
func printBenchDetails(w io.Writer, r benchResults) {
	if b := r.Batch; b != nil {
		n := b.Node
		fmt.Fprintf(w, "\n(c) %s real community identifiers in %d register_batch transactions of %d bytes (5,000 identifiers each, 4 signing keys) fed to the mempool of a fresh single-validator node (node.Init defaults, loopback); best of rounds %s ids/s.\n",
			num(float64(b.IDs)), b.Batches, b.BatchBytes, joinNums(batchRates(b.Runs)))
		fmt.Fprintf(w, "    best round: %s identifiers committed with code 0 in %d blocks (heights %d-%d, at most %s ids, longest gap %s) over %s; %s ids/s from the first submission; %.2f cores busy.\n",
			num(float64(n.IDs)), n.Blocks, n.FirstHeight, n.LastHeight, num(float64(n.MaxBlockIDs)), n.MaxGap.Round(time.Millisecond), n.Window.Round(time.Millisecond), num(n.FromSubmit), n.CPUCores)
		fmt.Fprintf(w, "    baseline: the node's blocks replayed from height 1 through the state machine onto a fresh store on disk, recording every write of the load blocks; ")
		if b.AllComplete() {
			fmt.Fprintf(w, "every round's replay reached the node's app hash, so the recorded writes are the node's.\n")
		} else {
			fmt.Fprintf(w, "NOT every round committed every identifier and replayed to the node's app hash: see --json.\n")
		}
		fmt.Fprintf(w, "    those writes set straight into a fresh IAVL store on disk (goleveldb), a commit per block of the node's: %s ids/s.\n", num(b.IAVLPerSec))
		fmt.Fprintf(w, "    bounded by: %s.\n", b.Bound())
	}
	if d := r.Resolve; d != nil {
		fmt.Fprintf(w, "\n(d) states of %s and %s community identifiers, built by the state machine from real register_batch transactions, %s per block, on disk, every version kept; each served by the node's own code (api.New and dnsfront.New with node.Start's options, the limit on costly reads off) over its store, in a process of its own that opens the store cold.\n",
			num(float64(d.Small.State.IDs)), num(float64(d.Large.State.IDs)), num(float64(d.Large.State.BlockIDs)))
		for _, x := range []bench.ResolveScale{d.Small, d.Large} {
			st := x.State
			fmt.Fprintf(w, "    %s ids: built at %s ids/s in %d blocks of batches; %s bytes on disk as built, %s after a full goleveldb compaction (%s); proofs %d bytes, %.1f steps.\n",
				num(float64(st.IDs)), num(st.BuildPerSec), st.Blocks, num(float64(st.DiskBytes)), num(float64(st.Compacted)), st.Compaction.Round(time.Millisecond), x.ProofBytes, x.ProofSteps)
		}
		fmt.Fprintf(w, "    latency: one client in this process, one request at a time, keep-alive, random identifiers (seeded), 2 s per run after a warm-up, rounds alternating the states; per request the server spent %s of CPU at %s, %s at %s (%s, %s with proof).\n",
			dur(d.Small.Resolve.ServerCPUPerReq), num(float64(d.Small.State.IDs)), dur(d.Large.Resolve.ServerCPUPerReq), num(float64(d.Large.State.IDs)),
			dur(d.Small.ResolveProof.ServerCPUPerReq), dur(d.Large.ResolveProof.ServerCPUPerReq))
		fmt.Fprintf(w, "    read, proof and verification: in this process, one goroutine, the store opened here, 1 s each per round after a warm-up.\n")
		if lf := d.Light; lf != nil {
			fmt.Fprintf(w, "    light client: %d headers of a %d-validator node's chain; an answer at height H is proved against the app hash in header H+1, shared by every answer read at H, so per resolve the header costs %s divided by the answers that share it.\n",
				lf.Headers, lf.Validators, dur(lf.Header.P50))
		}
		fmt.Fprintln(w, "    bounded by:")
		for _, b := range d.Bounds() {
			fmt.Fprintf(w, "      %s.\n", b)
		}
	}
	if v := r.Serve; v != nil {
		fmt.Fprintf(w, "\n(e) load generator in this process: %d client goroutines in a closed loop, random identifiers (seeded PCG), %s or %s requests per run after a %s warm-up; HTTP keep-alive, DNS over one UDP socket per client. Each server is a process of its own; the serving path is the node's own code (api.New, dnsfront.New with node.Start's options and metrics, the limit on costly reads and the DNS rate limit off) over the real store of (d).\n",
			v.Load.Clients, v.Load.Duration, num(float64(v.Load.Requests)), v.Load.Warmup)
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
}

func batchRates(runs []bench.BatchRun) []float64 {
	out := make([]float64, len(runs))
	for i, r := range runs {
		out[i] = r.IDsPerSec
	}
	return out
}

// dur formats a latency.
func dur(d time.Duration) string { return bench.FormatDuration(d) }

// plural is "1 round", "3 rounds".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func verdict(ok bool) string {
	if ok {
		return "pass"
	}
	return "MISS"
}

// num formats a rate with thousands separators.
func num(f float64) string {
	s := fmt.Sprintf("%.0f", f)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func joinNums(fs []float64) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = num(f)
	}
	return strings.Join(parts, ", ")
}

// startCPUProfile profiles this process into path until stop.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile %s: %w", path, err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
