package main

import (
	"fmt"
	"io"
	"log/slog"
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
		txs      int
		duration time.Duration
		only     string
		rounds   int
		asJSON   bool
		logLevel string
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure throughput: the state machine alone, and one node end to end against CometBFT's kvstore",
		Long: `Measure CityID's throughput against its targets, with baselines measured in
the same run:

  state  signed register transactions applied per second by the state machine
         (every signature verified, in-memory IAVL, a commit per block), beside
         Ed25519 verification on every core, the same blocks with signatures
         pre-verified, and the same writes straight to IAVL.
  e2e    committed register transactions per second through an in-process
         CometBFT node on loopback, beside CometBFT's kvstore example app on a
         node with the same settings and transactions of the same size.

Each run is bounded by --txs and --duration, works in temporary folders and
stops by itself. The command exits 0 when a target is missed: it reports,
and says what bounds the missed figure. See internal/bench/README.md.`,
		Example: `  cityid bench
  cityid bench --only state
  cityid bench --only e2e --txs 10000 --duration 30s`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if only != "" && only != "state" && only != "e2e" {
				return usageError{fmt.Errorf("--only %q: want state or e2e", only)}
			}
			if txs <= 0 || duration <= 0 || rounds <= 0 {
				return usageError{fmt.Errorf("--txs, --duration and --rounds must be positive")}
			}
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return usageError{fmt.Errorf("--log-level %q: %w", logLevel, err)}
			}
			var log *slog.Logger
			if cmd.Flags().Changed("log-level") {
				log = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
			}
			out := cmd.OutOrStdout()
			res := benchResults{Date: time.Now().UTC(), Machine: bench.ThisMachine()}
			if only != "e2e" {
				fmt.Fprintf(cmd.ErrOrStderr(), "state machine: %d register transactions, %s …\n", txs, plural(rounds, "round"))
				r, err := bench.RunState(cmd.Context(), bench.StateOptions{Txs: txs, Rounds: rounds})
				if err != nil {
					return fmt.Errorf("state benchmark: %w", err)
				}
				res.State = &r
			}
			if only != "state" {
				fmt.Fprintf(cmd.ErrOrStderr(), "end to end: kvstore, then cityid, %d transactions or %s each, %s …\n", txs, duration, plural(rounds, "round"))
				r, err := bench.RunE2E(cmd.Context(), bench.E2EOptions{Txs: txs, Duration: duration, Rounds: rounds, Log: log})
				if err != nil {
					return fmt.Errorf("end-to-end benchmark: %w", err)
				}
				res.E2E = &r
			}
			if asJSON {
				return printJSON(out, res)
			}
			printBench(out, res)
			return nil
		},
	}
	cmd.Flags().IntVar(&txs, "txs", 20_000, "register transactions per measurement (state: per round; e2e: per app)")
	cmd.Flags().DurationVar(&duration, "duration", 60*time.Second, "end to end: time limit of each app's load; what is committed by then is measured")
	cmd.Flags().StringVar(&only, "only", "", "run only the state or the e2e benchmark")
	cmd.Flags().IntVar(&rounds, "rounds", 3, "rounds of each measurement; the best counts, since other work on the machine only slows a round down")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the full reports as JSON")
	cmd.Flags().StringVar(&logLevel, "log-level", "info", "end to end: log the nodes to stderr at this level (debug, info, warn, error); off unless given")
	return cmd
}

// benchResults is what `cityid bench` prints.
type benchResults struct {
	Date    time.Time          `json:"date"`
	Machine bench.Machine      `json:"machine"`
	State   *bench.StateReport `json:"state,omitempty"`
	E2E     *bench.E2EReport   `json:"e2e,omitempty"`
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
	if len(missed) > 0 {
		fmt.Fprintln(w, "\nMissed targets:")
		for _, m := range missed {
			fmt.Fprintf(w, "  %s\n", m)
		}
	} else {
		fmt.Fprintln(w, "\nEvery target measured is met.")
	}
}

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
