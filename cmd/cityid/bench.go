package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"
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
		procs      string
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
		dataMiB    int
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
  data     a dataset (--data-mib, 1 GiB) served to an RFC 9421-signed request of
           a live grantee through the node's serving path, cold (hashed as sent)
           and warm, beside http.ServeContent of the same file; and the
           signature and grant check of a request, beside Ed25519 alone.

resolve and serve read states built once per run by the registry's state
machine from real register_batch transactions into a store on disk, served
by the node's own HTTP API and DNS front end; the states live in a temporary
folder removed at the end.

With --procs, every chosen benchmark runs under each GOMAXPROCS setting in
turn (the serving processes too), and the report begins with a table of how
each figure scales from the first setting to the last and what bounds it.

Each run is bounded in count and time, listens on loopback only, works in
temporary folders and stops by itself. The command exits 0 when a target is
missed: it reports, and says what bounds each figure. See
internal/bench/README.md.`,
		Example: `  cityid bench
  cityid bench --only state
  cityid bench --only state,e2e --procs 1,2,all
  cityid bench --only e2e --txs 10000 --duration 30s
  cityid bench --only batch --ids 100000
  cityid bench --only resolve,serve --scale 100000 --rounds 1
  cityid bench --only data`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			parts, err := bench.ParseParts(only)
			if err != nil {
				return usageError{fmt.Errorf("--only %w", err)}
			}
			cores, err := bench.ParseProcs(procs)
			if err != nil {
				return usageError{fmt.Errorf("--procs %w", err)}
			}
			if dataMiB < 1 {
				return usageError{fmt.Errorf("--data-mib %d: give a size in MiB from 1", dataMiB)}
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
			// Every server runs in a process of its own: this binary's
			// hidden `bench serve-child`.
			exe, err := os.Executable()
			if err != nil {
				return err
			}
			child := []string{exe, "bench", "serve-child"}
			if cpuProfile != "" {
				child = append(child, "--cpuprofile", cpuProfile+".serve")
			}
			res, err := bench.Run(cmd.Context(), bench.Options{
				Only: parts, Procs: cores, Txs: txs, Duration: duration, Rounds: rounds, IDs: ids, Scale: scale, CacheMB: cacheMB,
				Load:    bench.LoadOptions{Clients: clients, Duration: loadTime, Requests: requests},
				DataDir: dataDir, DataSize: int64(dataMiB) << 20, Log: log, Child: child, Progress: cmd.ErrOrStderr(),
			})
			var optErr *bench.OptionError
			if errors.As(err, &optErr) {
				return usageError{err}
			}
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), res)
			}
			res.WriteText(cmd.OutOrStdout())
			return nil
		},
	}
	def := bench.DefaultOptions()
	cmd.Flags().IntVar(&txs, "txs", def.Txs, "state and e2e: register transactions per measurement (state: per round; e2e: per app)")
	cmd.Flags().DurationVar(&duration, "duration", def.Duration, "e2e: time limit of each app's load; batch: twice this per round; what is committed by then is measured")
	cmd.Flags().StringVar(&only, "only", "", "run only these benchmarks, comma-separated: state, e2e, batch, resolve, serve, data")
	cmd.Flags().StringVar(&procs, "procs", "all", "run the chosen benchmarks under each of these GOMAXPROCS settings in turn, comma-separated (e.g. 1,2,all), and show how each figure scales")
	cmd.Flags().IntVar(&rounds, "rounds", def.Rounds, "rounds of each measurement; the best counts, since other work on the machine only slows a round down")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the full reports as JSON")
	cmd.Flags().StringVar(&logLevel, "log-level", "info", "e2e and batch: log the nodes to stderr at this level (debug, info, warn, error); off unless given")
	cmd.Flags().IntVar(&cacheMB, "cache-mb", 0, "resolve and serve: the served stores' block cache in MiB, as [state] cache_mb (default: the node's default)")
	cmd.Flags().IntVar(&scale, "scale", def.Scale, "resolve and serve: identifiers in the large state (the small one holds 10,000)")
	cmd.Flags().IntVar(&ids, "ids", def.IDs, "batch: identifiers registered per round, in register_batch transactions of 5,000")
	cmd.Flags().IntVar(&clients, "clients", def.Load.Clients, "serve: concurrent client goroutines of the load generator")
	cmd.Flags().DurationVar(&loadTime, "load-time", def.Load.Duration, "serve: time bound of each measured load run (after a 500 ms warm-up)")
	cmd.Flags().IntVar(&requests, "requests", def.Load.Requests, "serve: request bound of each measured load run")
	cmd.Flags().StringVar(&dataDir, "data", "", "batch, resolve and serve: folder of communities.csv.gz and cities.csv (default: internal/bench/testdata of the repository around the working directory)")
	cmd.Flags().IntVar(&dataMiB, "data-mib", bench.DefaultDataSize>>20, "data: the dataset's size in MiB (written to a temporary folder)")
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
