package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/internal/bench/workload"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/verify"
)

// The batch, resolve and serve harnesses on small states: they run, every
// answer is right, and everything stops and is removed. The figures of so
// short a run mean nothing; `cityid bench` gives the real ones.

func testDirectory(t testing.TB) *workload.Directory {
	t.Helper()
	dir, err := LoadDirectory("testdata")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestDirectory(t *testing.T) {
	dir := testDirectory(t)
	if dir.Communities() != 620_573 || dir.Len() != 2*620_573 {
		t.Fatalf("directory of %d communities, %d identifiers; want 620,573 and twice that", dir.Communities(), dir.Len())
	}
	for _, c := range []struct {
		i    int
		want string
	}{
		{0, "156110100X.84.1/c110101001001"},                 // 北京市 (市辖区), 多福巷社区居委会
		{dir.Communities(), "156110100X.36.1/c110101001001"}, // the same committee's water account
		{dir.Len() - 1, "1566590009.36.1/c659012505508"},
	} {
		if got := dir.ID(c.i); got != c.want {
			t.Errorf("ID(%d) = %s, want %s", c.i, got, c.want)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		i := rng.IntN(dir.Len())
		id, err := code.Parse(dir.ID(i))
		if err != nil {
			t.Fatalf("ID(%d) = %s: %v", i, dir.ID(i), err)
		}
		if id != dir.Parsed(i) || dir.Entry(i).ID != id.String() {
			t.Fatalf("ID(%d): Parsed %v and Entry %s disagree with %s", i, dir.Parsed(i), dir.Entry(i).ID, id)
		}
		if back, err := code.ParseDNSName(benchZone, id.DNSName(benchZone)); err != nil || back != id {
			t.Fatalf("DNS form of %s: %v %v", id, back, err)
		}
	}
}

func TestHistogram(t *testing.T) {
	var h histogram
	for i := 1; i <= 10_000; i++ {
		h.record(time.Duration(i) * time.Microsecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 5000 * time.Microsecond}, {0.99, 9900 * time.Microsecond}, {1, 10 * time.Millisecond}} {
		got := h.quantile(c.q)
		if d := float64(got-c.want) / float64(c.want); d < -0.02 || d > 0.02 {
			t.Errorf("quantile(%v) = %s, want %s within 2%%", c.q, got, c.want)
		}
	}
	for _, d := range []time.Duration{0, 1, 127, 128, 129, 1 << 20, 1<<40 - 1, 1 << 45} {
		i := histIndex(d)
		if i < 0 || i >= histBuckets {
			t.Fatalf("histIndex(%d) = %d, outside [0, %d)", d, i, histBuckets)
		}
		if v := histValue(i); d < 1<<40 && (float64(v) < float64(d)*0.98 || float64(v) > float64(d)*1.02+1) {
			t.Errorf("histValue(histIndex(%d)) = %d", d, v)
		}
	}
}

// sharedStates are built once for the tests and benchmarks of this
// package, in a folder removed by TestMain.
var sharedStates struct {
	once sync.Once
	s    *States
	err  error
}

func testStates(t testing.TB) *States {
	t.Helper()
	sharedStates.once.Do(func() {
		dir, err := LoadDirectory("testdata")
		if err != nil {
			sharedStates.err = err
			return
		}
		sharedStates.s, sharedStates.err = NewStates(dir, StatesOptions{BlockBatches: 1})
	})
	if sharedStates.err != nil {
		t.Fatal(sharedStates.err)
	}
	return sharedStates.s
}

// serveChildEnv makes the test binary a serving process (see
// TestSubprocess).
const serveChildEnv = "CITYID_BENCH_SERVE_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(serveChildEnv) == "1" {
		if err := ServeChild(context.Background(), os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	status := m.Run()
	if sharedStates.s != nil {
		sharedStates.s.Close()
	}
	os.Exit(status)
}

func TestRunResolve(t *testing.T) {
	states := testStates(t)
	opts := ResolveOptions{Small: 1000, Large: 6000, Rounds: 1, Latency: 200 * time.Millisecond, InProcess: 100 * time.Millisecond,
		NoLight: testing.Short(), LightHeaders: 3}
	rep, err := RunResolve(context.Background(), states, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range []ResolveScale{rep.Small, rep.Large} {
		st := sc.State
		if st.Height < 4 || st.Blocks != (st.IDs+4999)/5000 || st.DiskBytes <= 0 || st.Compacted <= 0 {
			t.Errorf("state %+v", *st)
		}
		if sc.Read.N == 0 || sc.Proof.N == 0 || sc.Verify.N == 0 || sc.Resolve.Requests == 0 || sc.ResolveProof.Requests == 0 {
			t.Errorf("%d ids: a figure is missing: %+v", st.IDs, sc)
		}
		if sc.ResolveProof.AnswerBytes <= sc.Resolve.AnswerBytes {
			t.Errorf("%d ids: answers with proof (%d bytes) are no larger than without (%d)", st.IDs, sc.ResolveProof.AnswerBytes, sc.Resolve.AnswerBytes)
		}
	}
	if rep.Large.ProofSteps <= rep.Small.ProofSteps {
		t.Errorf("proofs at %d ids have %.1f steps, at %d %.1f", rep.Large.State.IDs, rep.Large.ProofSteps, rep.Small.State.IDs, rep.Small.ProofSteps)
	}
	if rep.LatencyGrowth <= 0 || rep.ProofLatencyGrowth <= 0 {
		t.Errorf("no latency growth: %+v", rep)
	}
	if !testing.Short() {
		if l := rep.Light; l == nil || l.Validators != 1 || l.Headers < 3 || l.Verify.N == 0 || l.Header.N == 0 {
			t.Errorf("light client figure: %+v", rep.Light)
		}
	}
	if len(rep.Bounds()) < 4 {
		t.Errorf("bounds: %q", rep.Bounds())
	}
}

// The state the states build is the registry's: every identifier
// resolves through the state machine's own reader, and its proof checks.
func TestBuiltStateIsReal(t *testing.T) {
	states := testStates(t)
	b, err := states.Get(context.Background(), 6000)
	if err != nil {
		t.Fatal(err)
	}
	st, err := b.open()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	view := st.Latest()
	dir := states.Directory()
	for _, i := range []int{0, 4999, 5000, 5999} {
		rec, ok, err := registry.GetRecord(view, dir.ID(i))
		if err != nil || !ok {
			t.Fatalf("%s: %v %v", dir.ID(i), ok, err)
		}
		want := dir.Entry(i)
		if rec.Status != registry.StatusActive || len(rec.Values) != 2 || rec.Values[1].Data != want.Values[1].Data {
			t.Fatalf("%s: %+v, want the values of %+v", dir.ID(i), rec, want)
		}
		v, p, err := view.Proof(registry.RecordKey(dir.ID(i)))
		if err != nil {
			t.Fatal(err)
		}
		if err := verify.Existence(view.Hash(), registry.RecordKey(dir.ID(i)), v, p); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok, _ := registry.GetRecord(view, dir.ID(6000)); ok {
		t.Fatalf("%s is registered in a state of 6,000", dir.ID(6000))
	}
}

func TestRunServe(t *testing.T) {
	states := testStates(t)
	rep, err := RunServe(context.Background(), states, ServeOptions{Small: 1000, Large: 6000, Rounds: 1, WarmWindow: 50 * time.Millisecond, WarmCycles: 2,
		Load: LoadOptions{Clients: 2, Duration: 150 * time.Millisecond, Warmup: 50 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Interfaces) != 3 {
		t.Fatalf("%d interfaces", len(rep.Interfaces))
	}
	for _, it := range rep.Interfaces {
		for _, r := range []LoadResult{it.Baseline, it.Small, it.Large} {
			if r.Requests == 0 || r.Errors != 0 || r.PerSec <= 0 || r.P50 <= 0 || r.P99 < r.P50 {
				t.Errorf("%s: %+v", it.Name, r)
			}
		}
		// The ceiling answers as much as the node does.
		if d := it.Baseline.AnswerBytes - it.Small.AnswerBytes; d < -40 || d > 40 {
			t.Errorf("%s: the bare server answers %d bytes, the node %d", it.Name, it.Baseline.AnswerBytes, it.Small.AnswerBytes)
		}
		if it.SmallRatio <= 0 || it.LargeRatio <= 0 || it.P99Growth <= 0 || it.Bound() == "" {
			t.Errorf("%s: %+v", it.Name, it)
		}
	}
}

func TestRunBatch(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a CometBFT node")
	}
	rep, err := RunBatch(context.Background(), testDirectory(t), BatchOptions{IDs: 12_000, Duration: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.AllComplete() {
		t.Fatalf("not every identifier committed, or the replay missed the node's app hash: %+v", rep.Runs)
	}
	n := rep.Node
	if rep.Batches != 3 || n.Txs != 3 || n.OK != 3 || n.IDs != 12_000 || n.IDsPerSec <= 0 || rep.IAVLPerSec <= 0 || rep.ReplayPerSec <= 0 || rep.Ratio <= 0 {
		t.Errorf("%+v", rep)
	}
	if rep.Bound() == "" {
		t.Error("no bound")
	}
}

// The read backend answers reads and refuses the rest, as the API expects
// of a node.
func TestReadBackend(t *testing.T) {
	states := testStates(t)
	b, err := states.Get(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	f, err := InProcess(context.Background(), ServeSpec{Store: b.Dir})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Stop()
	dir := states.Directory()
	for _, c := range []struct {
		path string
		want int
	}{
		{"/v1/ids/" + dir.ID(0), http.StatusOK},
		{"/v1/ids/" + dir.ID(0) + "?proof=true", http.StatusOK},
		{"/v1/ids/" + dir.ID(0) + "?height=1", http.StatusNotFound},
		{"/v1/ids/" + dir.ID(5000), http.StatusNotFound},
		{"/api/handles/" + dir.ID(999), http.StatusOK},
		{"/v1/status", http.StatusOK},
		{"/v1/blocks/1", http.StatusInternalServerError},
	} {
		if _, err := fetch("http://"+f.HTTP+c.path, c.want); err != nil {
			t.Error(err)
		}
	}
	if _, err := askTXT(f.DNS, dir.Parsed(1).DNSName(benchZone)); err != nil {
		t.Error(err)
	}
}

// The serving process: the test binary itself, serving a state and the
// bare answers, telling its CPU time, and stopping when told.
func TestSubprocess(t *testing.T) {
	states := testStates(t)
	b, err := states.Get(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(serveChildEnv, "1")
	launch := Subprocess(os.Args[0], "-test.run=^$")
	// Under `cityid bench --procs` each serving process runs under the
	// setting being measured.
	node, err := WithProcs(launch, 1)(context.Background(), ServeSpec{Store: b.Dir})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Stop()
	if node.Procs != 1 {
		t.Errorf("the serving process runs under GOMAXPROCS %d, want 1", node.Procs)
	}
	dir := states.Directory()
	body, err := fetch("http://"+node.HTTP+"/v1/ids/"+dir.ID(7), http.StatusOK)
	if err != nil {
		t.Fatal(err)
	}
	txt, err := askTXT(node.DNS, dir.Parsed(7).DNSName(benchZone))
	if err != nil {
		t.Fatal(err)
	}
	packed, err := txt.Pack()
	if err != nil {
		t.Fatal(err)
	}
	bare, err := launch(context.Background(), ServeSpec{BareRecord: body, BareHandle: []byte("{}"), BareTXT: packed})
	if err != nil {
		t.Fatal(err)
	}
	defer bare.Stop()
	if got, err := fetch("http://"+bare.HTTP+"/v1/ids/anything", http.StatusOK); err != nil || string(got) != string(body) {
		t.Fatalf("bare record server: %q %v", got, err)
	}
	if got, err := fetch("http://"+bare.HandleHTTP+"/", http.StatusOK); err != nil || string(got) != "{}" {
		t.Fatalf("bare handle server: %q %v", got, err)
	}
	if m, err := askTXT(bare.DNS, dir.Parsed(9).DNSName(benchZone)); err != nil || len(m.Answer) != len(txt.Answer) {
		t.Fatalf("bare dns server: %v %v", m, err)
	}
	c0, err := node.CPU()
	if err != nil {
		t.Fatal(err)
	}
	for range 50 {
		if _, err := fetch("http://"+node.HTTP+"/v1/ids/"+dir.ID(3)+"?proof=true", http.StatusOK); err != nil {
			t.Fatal(err)
		}
	}
	c1, err := node.CPU()
	if err != nil {
		t.Fatal(err)
	}
	if c0 <= 0 || c1 <= c0 {
		t.Errorf("serving process CPU %s, then %s", c0, c1)
	}
	if err := node.Stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
	// Stopped, it let go of the store.
	st, err := b.open()
	if err != nil {
		t.Fatalf("the store is still held: %v", err)
	}
	st.Close()
}
