package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cityid/cityid/internal/bench/workload"
)

// Parts are the benchmarks `cityid bench` runs, in the order it runs them.
var Parts = []string{"state", "e2e", "batch", "resolve", "serve", "data"}

// Options are one `cityid bench` run: which benchmarks, under which
// GOMAXPROCS settings, with what bounds. Run checks them.
type Options struct {
	// Only lists the benchmarks to run (Parts); empty runs every one.
	Only []string
	// Procs lists the GOMAXPROCS settings every chosen benchmark runs
	// under, in order; 0 is every core (the GOMAXPROCS the process
	// started with). Empty: [0].
	Procs []int

	Txs      int           // state and e2e: register transactions per measurement
	Duration time.Duration // e2e: each app's load; batch: twice this per round
	Rounds   int           // rounds of each measurement; the best counts
	IDs      int           // batch: identifiers per round
	Scale    int           // resolve and serve: identifiers in the large state
	CacheMB  int           // resolve and serve: the served stores' block cache (0: the node's default)
	Load     LoadOptions   // serve: the load generator's bounds
	DataDir  string        // batch, resolve and serve: the reference data (FindData)
	DataSize int64         // data: the dataset's size in bytes (0: DefaultDataSize)

	// Log receives the nodes' logs of e2e and batch; nil discards them.
	Log *slog.Logger
	// Child is the command of a serving process (ServeChild behind it):
	// resolve and serve run every server in a process of its own with it;
	// nil runs them in this process (InProcess).
	Child []string
	// Progress receives a line as each benchmark starts; nil: none.
	Progress io.Writer
}

// DefaultOptions are `cityid bench`'s defaults: every benchmark, on every
// core, each bound the default of the benchmark it bounds (StateOptions,
// E2EOptions, BatchOptions, LoadOptions), so that each is set in one place.
func DefaultOptions() Options {
	var (
		s StateOptions
		e E2EOptions
		b BatchOptions
		l LoadOptions
	)
	s.defaults()
	e.defaults()
	b.defaults()
	l.defaults()
	return Options{
		Txs: s.Txs, Duration: e.Duration, Rounds: s.Rounds, IDs: b.IDs, Scale: DefaultLarge,
		Load: LoadOptions{Clients: l.Clients, Duration: l.Duration, Requests: l.Requests},
	}
}

// OptionError is an Options that cannot run: a usage mistake, not a
// failure of the benchmark.
type OptionError struct{ Err error }

func (e *OptionError) Error() string { return e.Err.Error() }
func (e *OptionError) Unwrap() error { return e.Err }

func optionErrorf(format string, a ...any) error {
	return &OptionError{Err: fmt.Errorf(format, a...)}
}

// ParseParts parses a comma-separated list of Parts ("" is every one).
func ParseParts(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if !slices.Contains(Parts, p) {
			return nil, optionErrorf("%q: want one or more of %s, comma-separated", p, strings.Join(Parts, ", "))
		}
		out = append(out, p)
	}
	return out, nil
}

// ParseProcs parses a comma-separated list of GOMAXPROCS settings: whole
// numbers from 1, or "all" for every core (0 in Options.Procs).
func ParseProcs(s string) ([]int, error) {
	var out []int
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "all" {
			out = append(out, 0)
			continue
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			return nil, optionErrorf("%q: want a number of cores from 1, or all, comma-separated", p)
		}
		out = append(out, n)
	}
	return out, nil
}

func (o *Options) check() error {
	if o.Txs <= 0 || o.Duration <= 0 || o.Rounds <= 0 || o.IDs <= 0 || o.Load.Clients <= 0 || o.Load.Duration <= 0 || o.Load.Requests <= 0 {
		return optionErrorf("--txs, --duration, --rounds, --ids, --clients, --load-time and --requests must be positive")
	}
	if o.Scale < DefaultSmall {
		return optionErrorf("--scale %d: the large state must hold at least the small one's %d identifiers", o.Scale, DefaultSmall)
	}
	if o.DataSize < 0 || (o.DataSize > 0 && o.DataSize < 1<<20) {
		return optionErrorf("--data-mib: give a size in MiB from 1")
	}
	if o.CacheMB < 0 {
		return optionErrorf("--cache-mb %d: give a size in MiB, or 0 for the node's default", o.CacheMB)
	}
	for _, p := range o.Only {
		if !slices.Contains(Parts, p) {
			return optionErrorf("--only %q: want one or more of %s", p, strings.Join(Parts, ", "))
		}
	}
	for _, p := range o.Procs {
		if p < 0 {
			return optionErrorf("--procs %d: want a number of cores from 1, or all", p)
		}
	}
	return nil
}

// Results is what a run measured: Figures of the last GOMAXPROCS setting
// (every core, unless --procs says otherwise) at the top, as before there
// were settings, and every setting's in Scaling when there are several.
type Results struct {
	Date    time.Time `json:"date"`
	Machine Machine   `json:"machine"`
	Figures
	Scaling []Figures `json:"scaling,omitempty"`
}

// Figures are the reports of the benchmarks run under one GOMAXPROCS.
type Figures struct {
	Procs   int            `json:"gomaxprocs"`
	State   *StateReport   `json:"state,omitempty"`
	E2E     *E2EReport     `json:"e2e,omitempty"`
	Batch   *BatchReport   `json:"batch,omitempty"`
	Resolve *ResolveReport `json:"resolve,omitempty"`
	Serve   *ServeReport   `json:"serve,omitempty"`
	Data    *DataReport    `json:"data,omitempty"`
}

// Run runs the chosen benchmarks under each GOMAXPROCS setting in turn,
// and gives GOMAXPROCS back as it found it. The states of resolve and
// serve are built once, under the first setting, and read under every one.
func Run(ctx context.Context, o Options) (Results, error) {
	res := Results{Date: time.Now().UTC(), Machine: ThisMachine()}
	if err := o.check(); err != nil {
		return res, err
	}
	if len(o.Procs) == 0 {
		o.Procs = []int{0}
	}
	parts := o.Only
	if len(parts) == 0 {
		parts = Parts
	}
	has := func(p string) bool { return slices.Contains(parts, p) }
	progress := o.Progress
	if progress == nil {
		progress = io.Discard
	}
	say := func(format string, a ...any) { fmt.Fprintf(progress, format+"\n", a...) }

	r := &runner{o: o, has: has, say: say}
	defer r.close()
	if has("batch") || has("resolve") || has("serve") {
		if err := r.loadData(); err != nil {
			return res, err
		}
	}
	// "all" is the GOMAXPROCS the process started with: every core the
	// runtime may use (within a container's CPU limit, which NumCPU
	// ignores), or what the GOMAXPROCS variable says.
	all := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(all)
	for _, p := range o.Procs {
		procs := p
		if procs == 0 {
			procs = all
		}
		runtime.GOMAXPROCS(procs)
		if len(o.Procs) > 1 {
			say("GOMAXPROCS %d:", procs)
		}
		f, err := r.figures(ctx, procs)
		if err != nil {
			return res, err
		}
		res.Scaling = append(res.Scaling, f)
	}
	res.Figures = res.Scaling[len(res.Scaling)-1]
	if len(res.Scaling) == 1 {
		res.Scaling = nil
	}
	return res, nil
}

// runner holds what the settings of one run share: the reference data
// and the states built from it.
type runner struct {
	o      Options
	has    func(string) bool
	say    func(string, ...any)
	dir    *workload.Directory
	states *States
}

func (r *runner) close() {
	if r.states != nil {
		r.states.Close()
	}
}

func (r *runner) loadData() error {
	data, err := FindData(r.o.DataDir)
	if err != nil {
		return &OptionError{Err: err}
	}
	dir, err := LoadDirectory(data)
	if err != nil {
		return fmt.Errorf("benchmark data: %w", err)
	}
	if r.o.Scale > dir.Len() {
		return optionErrorf("--scale %d: the community directory makes at most %d identifiers", r.o.Scale, dir.Len())
	}
	r.dir = dir
	return nil
}

// figures runs every chosen benchmark once under the current GOMAXPROCS.
func (r *runner) figures(ctx context.Context, procs int) (Figures, error) {
	o, say := r.o, r.say
	f := Figures{Procs: procs}
	if r.has("state") {
		say("state machine: %d register transactions, %s …", o.Txs, plural(o.Rounds, "round"))
		rep, err := RunState(ctx, StateOptions{Txs: o.Txs, Rounds: o.Rounds})
		if err != nil {
			return f, fmt.Errorf("state benchmark: %w", err)
		}
		f.State = &rep
	}
	if r.has("e2e") {
		say("end to end: kvstore, then cityid, %d transactions or %s each, %s …", o.Txs, o.Duration, plural(o.Rounds, "round"))
		rep, err := RunE2E(ctx, E2EOptions{Txs: o.Txs, Duration: o.Duration, Rounds: o.Rounds, Log: o.Log})
		if err != nil {
			return f, fmt.Errorf("end-to-end benchmark: %w", err)
		}
		f.E2E = &rep
	}
	if r.has("batch") {
		say("register_batch: %d identifiers on a fresh node, %s …", o.IDs, plural(o.Rounds, "round"))
		rep, err := RunBatch(ctx, r.dir, BatchOptions{IDs: o.IDs, Duration: o.Duration * 2, Rounds: o.Rounds, Log: o.Log})
		if err != nil {
			return f, fmt.Errorf("register_batch benchmark: %w", err)
		}
		f.Batch = &rep
	}
	if r.has("data") {
		size := o.DataSize
		if size == 0 {
			size = DefaultDataSize
		}
		say("data: a %s dataset served to a signed grantee's request, cold and warm, beside http.ServeContent of the file, %s; then the signature and grant check …", mib(size), plural(o.Rounds, "round"))
		rep, err := RunData(ctx, DataOptions{Size: size, Rounds: o.Rounds})
		if err != nil {
			return f, fmt.Errorf("data benchmark: %w", err)
		}
		f.Data = &rep
	}
	if !r.has("resolve") && !r.has("serve") {
		return f, nil
	}
	if r.states == nil {
		states, err := NewStates(r.dir, StatesOptions{})
		if err != nil {
			return f, err
		}
		r.states = states
		say("building states of %d and %d identifiers (register_batch blocks through the state machine, on disk) …", DefaultSmall, o.Scale)
	}
	// Every server runs in a process of its own when there is a Child:
	// a node serving a state holds its caches, and with the load
	// generator in one process every collection would scan them all.
	launch := Launcher(InProcess)
	if len(o.Child) > 0 {
		launch = Subprocess(o.Child...)
	}
	launch = WithProcs(WithCache(launch, o.CacheMB), procs)
	if r.has("resolve") {
		say("resolve: proofs, verification and latency at both states, %s, then the light client on a short-lived node …", plural(o.Rounds, "round"))
		rep, err := RunResolve(ctx, r.states, ResolveOptions{Large: o.Scale, Rounds: o.Rounds, Launch: launch})
		if err != nil {
			return f, fmt.Errorf("resolve benchmark: %w", err)
		}
		f.Resolve = &rep
	}
	if r.has("serve") {
		say("serve: %d clients, %s or %d requests per run, HTTP/JSON, Handle REST and DNS, %s …", o.Load.Clients, o.Load.Duration, o.Load.Requests, plural(o.Rounds, "round"))
		rep, err := RunServe(ctx, r.states, ServeOptions{Large: o.Scale, Rounds: o.Rounds, Launch: launch, Load: o.Load})
		if err != nil {
			return f, fmt.Errorf("serve benchmark: %w", err)
		}
		f.Serve = &rep
	}
	return f, nil
}

// mib is a size in MiB, or GiB when whole.
func mib(n int64) string {
	if n%(1<<30) == 0 {
		return fmt.Sprintf("%d GiB", n>>30)
	}
	return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
}

// plural is "1 round", "3 rounds".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
