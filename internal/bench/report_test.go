package bench

import (
	"context"
	"errors"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseProcs(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []int
		bad  bool
	}{
		{in: "all", want: []int{0}},
		{in: "1,2,all", want: []int{1, 2, 0}},
		{in: " 4 , 1 ", want: []int{4, 1}},
		{in: "0", bad: true},
		{in: "-1", bad: true},
		{in: "two", bad: true},
		{in: "1,,2", bad: true},
	} {
		got, err := ParseProcs(c.in)
		var opt *OptionError
		switch {
		case c.bad && !errors.As(err, &opt):
			t.Errorf("ParseProcs(%q) = %v, %v; want an OptionError", c.in, got, err)
		case !c.bad && (err != nil || !slices.Equal(got, c.want)):
			t.Errorf("ParseProcs(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

func TestParseParts(t *testing.T) {
	if got, err := ParseParts(""); err != nil || got != nil {
		t.Errorf(`ParseParts("") = %v, %v; want every part (nil)`, got, err)
	}
	if got, err := ParseParts("state, serve"); err != nil || !slices.Equal(got, []string{"state", "serve"}) {
		t.Errorf("ParseParts = %v, %v", got, err)
	}
	var opt *OptionError
	if _, err := ParseParts("state,dns"); !errors.As(err, &opt) {
		t.Errorf("ParseParts(state,dns) = %v; want an OptionError", err)
	}
}

// TestStateTarget pins (a)'s target to the cores it runs on.
func TestStateTarget(t *testing.T) {
	for procs, want := range map[int]float64{1: TargetStateRatio, 2: TargetStateRatio, StateManyCores - 1: TargetStateRatio,
		StateManyCores: TargetStateRatioManyCores, 64: TargetStateRatioManyCores} {
		if got := StateTarget(procs); got != want {
			t.Errorf("StateTarget(%d) = %v, want %v", procs, got, want)
		}
	}
	r := StateReport{TxPerSec: 6_000, PreverifiedTxPerSec: 10_000, Machine: Machine{GOMAXPROCS: 2}}
	if !r.Met() {
		t.Errorf("0.6 of the pre-verified apply on 2 cores misses %v", TargetStateRatio)
	}
	r.Machine.GOMAXPROCS = 16
	if r.Met() {
		t.Errorf("0.6 of the pre-verified apply on 16 cores meets %v", TargetStateRatioManyCores)
	}
}

// TestWriteTextScaling renders two settings' figures and reads the
// scaling table back: each figure at each setting, its growth, its bound.
func TestWriteTextScaling(t *testing.T) {
	fig := func(procs int, k float64) Figures {
		return Figures{Procs: procs,
			State: &StateReport{TxPerSec: 10_000 * k, PreverifiedTxPerSec: 30_000, VerifyOneCore: 20_000, VerifyAllCores: 20_000 * k,
				IAVLSetTxPerSec: 90_000, Rounds: []float64{10_000 * k}, Machine: Machine{GOMAXPROCS: procs}},
			E2E: &E2EReport{CityID: AppRun{App: "cityid", TxPerSec: 7_000 * k}, KVStore: AppRun{App: "kvstore", TxPerSec: 10_000}, Ratio: 0.7 * k},
		}
	}
	res := Results{Date: time.Date(2026, 12, 4, 21, 0, 0, 0, time.UTC), Machine: Machine{NumCPU: 2, GOMAXPROCS: 2}}
	res.Scaling = []Figures{fig(1, 1), fig(2, 2)}
	res.Figures = res.Scaling[1]
	var b strings.Builder
	res.WriteText(&b)
	out := b.String()
	for _, want := range []string{
		"GOMAXPROCS 1  GOMAXPROCS 2  1 → 2",
		"(a) register tx, every signature verified  10,000/s",
		"    ratio, target (a)", "0.33", "0.67",
		"(b) cityid end to end, committed",
		"What bounds each figure as cores are added",
		"(a) register tx, every signature verified: signature checks",
		"(a) register tx, every signature verified, same blocks, signatures pre-verified: the sequential apply",
		"=== GOMAXPROCS 1 ===", "=== GOMAXPROCS 2 ===",
		"≥ 0.50 × pre-verified", "≥ 0.70 × kvstore",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q:\n%s", want, out)
		}
	}
	for _, row := range []string{
		`\n\(a\) register tx, every signature verified +10,000/s +20,000/s +2\.00 × +linear\n`,
		`\n    kvstore end to end, committed +10,000/s +10,000/s +1\.00 × +flat\n`,
		`\n    ratio, target \(b\) +0\.70 +1\.40 +2\.00 × *\n`,
	} {
		if !regexp.MustCompile(row).MatchString(out) {
			t.Errorf("the report lacks a row matching %q:\n%s", row, out)
		}
	}
	if strings.Contains(out, "(c) register_batch") || strings.Contains(out, "(e) DNS") {
		t.Errorf("the scaling table shows figures that were not measured:\n%s", out)
	}

	// One setting: no scaling table, the report as it always was.
	res.Scaling = nil
	b.Reset()
	res.WriteText(&b)
	if out := b.String(); strings.Contains(out, "GOMAXPROCS 1") || !strings.Contains(out, "(a) state machine: register, every signature verified") {
		t.Errorf("a single setting's report:\n%s", out)
	}
}

// TestRunProcs runs the state benchmark under two GOMAXPROCS settings
// and checks that each ran under its own and that Run gave GOMAXPROCS
// back.
func TestRunProcs(t *testing.T) {
	before := runtime.GOMAXPROCS(0)
	res, err := Run(context.Background(), Options{Only: []string{"state"}, Procs: []int{1, 2},
		Txs: 400, Duration: time.Second, Rounds: 1, IDs: 1, Scale: DefaultSmall,
		Load: LoadOptions{Clients: 1, Duration: time.Second, Requests: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if got := runtime.GOMAXPROCS(0); got != before {
		t.Errorf("GOMAXPROCS is %d after Run, was %d", got, before)
	}
	if len(res.Scaling) != 2 {
		t.Fatalf("%d settings in the results, want 2", len(res.Scaling))
	}
	for i, want := range []int{1, 2} {
		f := res.Scaling[i]
		if f.Procs != want || f.State == nil || f.State.Machine.GOMAXPROCS != want || f.State.TxPerSec <= 0 {
			t.Errorf("setting %d: %+v (state %+v), want GOMAXPROCS %d", i, f, f.State, want)
		}
	}
	if res.Figures.Procs != 2 || res.State != res.Scaling[1].State {
		t.Errorf("the top figures are not the last setting's: %+v", res.Figures)
	}
	if _, err := Run(context.Background(), Options{Only: []string{"state"}, Txs: 400}); !errors.As(err, new(*OptionError)) {
		t.Errorf("Run with bounds missing = %v, want an OptionError", err)
	}
}

func TestScaleShape(t *testing.T) {
	for _, c := range []struct {
		growth, cores float64
		want          string
	}{
		{2, 2, "linear"}, {1.7, 2, "linear"}, {1.05, 2, "flat"}, {0.95, 2, "flat"}, {0.5, 2, "slower"},
		{1.5, 2, "50% of linear"}, {5, 2, "more than the cores (noise?)"}, {8, 16, "47% of linear"},
	} {
		if got := perSec.shape(c.growth, c.cores); got != c.want {
			t.Errorf("shape(%v, %v) = %q, want %q", c.growth, c.cores, got, c.want)
		}
	}
	if got := ratioOf.shape(2, 2); got != "" {
		t.Errorf("a ratio's shape is %q, want none", got)
	}
}

// The defaults `cityid bench` starts from are a run Run accepts.
func TestDefaultOptions(t *testing.T) {
	o := DefaultOptions()
	if err := o.check(); err != nil {
		t.Fatalf("DefaultOptions: %v", err)
	}
	o.Procs = []int{-1}
	if err := o.check(); err == nil {
		t.Error("GOMAXPROCS -1 accepted")
	}
}

// The node beside Knot (issue 10, section 6) is a row of the table with
// its target, and a miss is listed with the others.
func TestWriteTextKnot(t *testing.T) {
	f := Figures{Procs: 2, Serve: &ServeReport{Small: &BuiltState{IDs: 10_000}, Large: &BuiltState{IDs: 10_000},
		DNSBaselines: &DNSBaselines{Names: 10_000, LoadGenerator: "dnsperf", KnotRatio: 0.35, Servers: []DNSServerRun{
			{Name: "node (dnsfront)", Result: LoadResult{PerSec: 58_000}, Ratio: 1},
			{Name: "Knot DNS", Version: "3.2.6", Result: LoadResult{PerSec: 165_000}, Ratio: 0.35},
		}}}}
	var b strings.Builder
	Results{Figures: f}.WriteText(&b)
	out := b.String()
	if !regexp.MustCompile(`\(f\) DNS answers/s beside Knot, 10,000 ids +58,000/s +165,000/s Knot +0\.35 +≥ 0\.70 × Knot +MISS`).MatchString(out) {
		t.Errorf("no (f) row:\n%s", out)
	}
	if !strings.Contains(out, "(f) the node's DNS answers 0.35 × Knot's, below 0.70") {
		t.Errorf("the miss is not listed:\n%s", out)
	}
}

// TestStateProjection: the cores the model puts (a) at its many-core
// target follow from the run's two costs, and a run without them makes
// no claim.
func TestStateProjection(t *testing.T) {
	for _, c := range []struct {
		sigMicros, restMicros float64
		want                  string
	}{
		{30, 10, "needs 4 cores or more"}, // 0.85 × 40/10 = 3.4
		{10, 10, "needs 2 cores or more"}, // 0.85 × 20/10 = 1.7
		{1, 20, "needs 1 core or more"},   // verification all but free
	} {
		r := StateReport{VerifyOneCore: 1e6 / c.sigMicros, PreverifiedTxPerSec: 1e6 / c.restMicros}
		if got := r.Projection(); !strings.Contains(got, c.want) {
			t.Errorf("sig %.0f µs, rest %.0f µs: %q does not say %q", c.sigMicros, c.restMicros, got, c.want)
		}
	}
	if got := (StateReport{PreverifiedTxPerSec: 10_000}).Projection(); got != "" {
		t.Errorf("without a verification figure: %q, want no projection", got)
	}
}
