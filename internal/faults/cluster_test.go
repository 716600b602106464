package faults

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	dbm "github.com/cometbft/cometbft-db"

	"github.com/cityid/cityid/client"
	"github.com/cityid/cityid/internal/node"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/testnode"
)

// Bounds of the waits. A 4-validator testnet on loopback makes a block
// within about a second of a transaction (timeout_commit 500ms), and none
// when idle: every wait for heights to advance runs while a writer sends
// transactions. These leave a wide margin on a loaded 2-core machine while
// keeping a stuck network from hanging the suite.
const (
	readyTimeout   = 60 * time.Second // a node starting, block syncing or state syncing
	catchUpTimeout = 60 * time.Second // every node reaching the same height
	writeTimeout   = 15 * time.Second // one acknowledged write
	requestTimeout = 10 * time.Second // one read
)

// cluster is a testnet of cityid processes and what the test learnt of it.
type cluster struct {
	t     *testing.T // the top-level test, which owns the processes
	nodes []*testnode.Node
	cl    []*client.Client // a client of each node's API
	vals  int

	mu    sync.Mutex
	past  []string          // each node's output from its earlier runs
	acked map[string]string // every write acknowledged so far: id → its TEXT value

	cityKey ed25519.PrivateKey // admin of the city, its sector and unit
	unit    string             // the unit the writers register under
	cityApp uint64             // the city's application, decided
	appHash string             // its content hash
	// endpoint, set before setupCity, is the URL of the city's own node
	// that its application names.
	endpoint string
}

// newCluster writes the homes of a testnet of vals validators and full
// full nodes; nothing runs yet.
func newCluster(t *testing.T, vals, full int) *cluster {
	return clusterOf(t, testnode.Testnet(t, bin, vals, full), vals)
}

// clusterOf is the cluster of nodes whose homes are written, the first
// vals of them validators; nothing runs yet.
func clusterOf(t *testing.T, nodes []*testnode.Node, vals int) *cluster {
	c := &cluster{
		t: t, nodes: nodes, vals: vals,
		past: make([]string, len(nodes)), acked: map[string]string{},
	}
	for _, n := range c.nodes {
		// The tests write and read every block from one address, more
		// than the API lets one client do at its default rates; the
		// limits have tests of their own (internal/api).
		n.EditConfig("cityid.toml", "http.limits", "reads_per_second", "0")
		n.EditConfig("cityid.toml", "http.limits", "writes_per_second", "0")
		cl, err := client.New(n.URL())
		if err != nil {
			t.Fatal(err)
		}
		c.cl = append(c.cl, cl)
	}
	t.Cleanup(c.keepLogs)
	return c
}

func (c *cluster) name(i int) string { return fmt.Sprintf("node%d", i) }

func (c *cluster) validators() []int { return seq(0, c.vals) }

// seq is [from, to).
func seq(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// launch starts node i's process without waiting, keeping the output of
// its previous run for the logs.
func (c *cluster) launch(i int) {
	c.mu.Lock()
	if out := c.nodes[i].Output(); out != "" {
		c.past[i] += out + fmt.Sprintf("----- %s restarted at %s -----\n", c.name(i), time.Now().Format(time.StampMilli))
	}
	c.mu.Unlock()
	c.nodes[i].Launch()
}

// start starts the nodes and waits until each is ready (committed state,
// not catching up).
func (c *cluster) start(t testing.TB, idx ...int) {
	t.Helper()
	for _, i := range idx {
		c.launch(i)
	}
	for _, i := range idx {
		if err := c.nodes[i].WaitReady(readyTimeout); err != nil {
			t.Fatalf("%s did not become ready: %v\n%s", c.name(i), err, tail(c.nodes[i].Output(), 40))
		}
	}
}

func (c *cluster) status(i int) (client.Status, error) {
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	return c.cl[i].Status(ctx)
}

// heights reads the nodes' heights; a node that does not answer is -1.
func (c *cluster) heights(idx []int) []int64 {
	out := make([]int64, len(idx))
	for k, i := range idx {
		out[k] = -1
		if st, err := c.status(i); err == nil {
			out[k] = st.Height
		}
	}
	return out
}

// waitHeight waits until every node in idx has committed height h.
func (c *cluster) waitHeight(t testing.TB, idx []int, h int64, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		hs := c.heights(idx)
		if slices.Min(hs) >= h {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s, nodes %v are at heights %v; want all at %d or more", timeout, idx, hs, h)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// catchUp waits until every node in idx has reached the height the highest
// of them has now, and applied it, and returns that height.
func (c *cluster) catchUp(t testing.TB, idx []int) int64 {
	t.Helper()
	h := slices.Max(c.heights(idx))
	if h < 1 {
		t.Fatalf("no node of %v answers its status", idx)
	}
	c.waitHeight(t, idx, h, catchUpTimeout)
	c.waitApplied(t, idx, h, catchUpTimeout)
	return h
}

// waitApplied waits until every node in idx answers reads from the state
// of height h or later. A node's status names a block as soon as it is
// stored, a moment before its state is applied: on a chain that makes
// blocks only with writes, no later block comes to cover that moment.
func (c *cluster) waitApplied(t testing.TB, idx []int, h int64, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for _, i := range idx {
		for {
			ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
			page, err := c.cl[i].Cities(ctx, "", 1)
			cancel()
			if err == nil && page.Height >= h {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after %s, %s reads state of height %d (%v); want %d or more", timeout, c.name(i), page.Height, err, h)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// setupCity creates, through the API of node 0, a city approved by a
// majority of the validators' operator keys (each home has its own), its
// education sector and a unit for the writers.
func (c *cluster) setupCity(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cl := c.cl[0]
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	send := func(key ed25519.PrivateKey, kind string, msg any) client.TxAnswer {
		t.Helper()
		sctx, scancel := context.WithTimeout(ctx, writeTimeout)
		defer scancel()
		ans, err := cl.Send(sctx, key, kind, msg)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		return ans
	}
	ans := send(key, registry.KindApplyCity, registry.ApplyCity{Country: "156", CityNumber: "130100", Name: "石家庄市", NameEn: "Shijiazhuang", Endpoint: c.endpoint})
	app, hash := ans.Result.Application, ans.Result.Hash
	st, err := cl.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := c.vals/2 + 1; st.Authority.Threshold != want || len(st.Authority.Members) != c.vals {
		t.Fatalf("authority is %d of %d, want %d of %d", st.Authority.Threshold, len(st.Authority.Members), want, c.vals)
	}
	for i := 0; i < st.Authority.Threshold; i++ {
		op, err := node.LoadKey(c.nodes[i].Home, "operator")
		if err != nil {
			t.Fatal(err)
		}
		ans = send(op.Private, registry.KindApproveApplication, registry.Decision{Application: app, Hash: hash})
	}
	if ans.Result.CityCode != "1561301001" {
		t.Fatalf("after %d approvals: %+v, want city code 1561301001", st.Authority.Threshold, ans.Result)
	}
	send(key, registry.KindRegisterSector, registry.RegisterSector{ID: "1561301001.85"})
	ans = send(key, registry.KindRegisterUnit, registry.RegisterUnit{Parent: "1561301001.85", Name: "Education Bureau"})
	if ans.Result.ID == "" {
		t.Fatalf("register_unit answered %+v", ans)
	}
	c.cityKey, c.unit, c.cityApp, c.appHash = key, ans.Result.ID, app, hash
}

// ackedCopy is every write acknowledged so far.
func (c *cluster) ackedCopy() map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]string, len(c.acked))
	for k, v := range c.acked {
		out[k] = v
	}
	return out
}

// checkConverged is the check after every fault: the nodes in idx reach
// the same height, every acknowledged write is on each of them with its
// value, and they have the same blocks and app hashes at every height
// they all have.
func (c *cluster) checkConverged(t testing.TB, idx []int) {
	t.Helper()
	h := c.catchUp(t, idx)
	c.checkAcked(t, idx)
	c.checkSameBlocks(t, idx)
	if t.Failed() {
		return
	}
	t.Logf("nodes %v converged at height %d with all %d acknowledged writes", idx, h, len(c.ackedCopy()))
}

// checkAcked resolves every acknowledged write on every node in idx.
func (c *cluster) checkAcked(t testing.TB, idx []int) {
	t.Helper()
	acked := c.ackedCopy()
	if len(acked) == 0 {
		t.Fatal("no write was acknowledged: the check would prove nothing")
	}
	ids := make([]string, 0, len(acked))
	for id := range acked {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, i := range idx {
		cl := c.cl[i]
		var bad []string
		for _, id := range ids {
			ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
			ans, err := cl.Resolve(ctx, id)
			cancel()
			switch {
			case err != nil:
				bad = append(bad, fmt.Sprintf("%s: %v", id, err))
			case len(ans.Record.Values) != 1 || ans.Record.Values[0].Type != "TEXT" || ans.Record.Values[0].Data != acked[id]:
				bad = append(bad, fmt.Sprintf("%s: values %+v, want TEXT %q", id, ans.Record.Values, acked[id]))
			}
		}
		if len(bad) > 0 {
			t.Errorf("%s lost or changed %d of %d acknowledged writes; first: %s", c.name(i), len(bad), len(ids), strings.Join(bad[:min(len(bad), 5)], "; "))
		}
	}
}

// block reads block h of node i.
func (c *cluster) block(t testing.TB, i int, h int64) (client.BlockInfo, error) {
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	return c.cl[i].Block(ctx, h)
}

// committedBlock reads block h of node i, a height its status already
// reported: CometBFT stores a block before it executes it, so for a
// moment the status names a height whose results are not saved yet (not
// found). It retries that for a short while.
func (c *cluster) committedBlock(t testing.TB, i int, h int64) (client.BlockInfo, error) {
	deadline := time.Now().Add(requestTimeout)
	for {
		b, err := c.block(t, i, h)
		if err == nil || client.Code(err) != "not_found" || time.Now().After(deadline) {
			return b, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// base is the lowest height whose block node i keeps: 1, or above the
// snapshot a node restored by state sync. Presence is monotone in height,
// so a binary search finds it. A block below the base is height_pruned.
func (c *cluster) base(t testing.TB, i int, top int64) int64 {
	t.Helper()
	has := func(h int64) bool {
		_, err := c.block(t, i, h)
		if code := client.Code(err); err != nil && code != client.CodeHeightPruned && code != client.CodeNotFound {
			t.Fatalf("%s block %d: %v", c.name(i), h, err)
		}
		return err == nil
	}
	if has(1) {
		return 1
	}
	// top is a height the node's status named: its block may be stored a
	// moment before its results are (committedBlock waits for them).
	if _, err := c.committedBlock(t, i, top); err != nil {
		t.Fatalf("%s has no block %d, its own height: %v", c.name(i), top, err)
	}
	lo, hi := int64(1), top // !has(lo), has(hi)
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if has(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// checkSameBlocks compares block hash and app hash at every height all the
// nodes in idx have.
func (c *cluster) checkSameBlocks(t testing.TB, idx []int) {
	t.Helper()
	hs := c.heights(idx)
	top := slices.Min(hs)
	if top < 1 {
		t.Fatalf("nodes %v at heights %v", idx, hs)
	}
	from := int64(1)
	for _, i := range idx {
		from = max(from, c.base(t, i, top))
	}
	if top-from < 3 {
		t.Fatalf("nodes %v share only heights %d–%d: too few to compare", idx, from, top)
	}
	mismatches := 0
	for h := from; h <= top; h++ {
		var want client.BlockInfo
		for k, i := range idx {
			b, err := c.committedBlock(t, i, h)
			if err != nil {
				t.Fatalf("%s block %d: %v", c.name(i), h, err)
			}
			if k == 0 {
				want = b
				continue
			}
			if b.Hash != want.Hash || b.AppHash != want.AppHash {
				mismatches++
				if mismatches <= 5 {
					t.Errorf("height %d: %s has block %s app hash %s, %s has block %s app hash %s",
						h, c.name(idx[0]), want.Hash, want.AppHash, c.name(i), b.Hash, b.AppHash)
				}
			}
		}
	}
	if mismatches == 0 && !t.Failed() {
		t.Logf("nodes %v: same block and app hash at every height %d–%d", idx, from, top)
	}
}

// verifiedResolve resolves ids on node i with proofs checked by CometBFT's
// light client, from a trusted header taken from validator v (so every
// header after it is checked against the validators' signatures), and
// checks a proof of absence too.
//
// The light client's witnesses are the running validators: a proof of the
// latest state names the header of the next block, which nodes commit a
// few milliseconds apart, and the light client waits for a witness that
// answers "height too high" rather than give it up.
func (c *cluster) verifiedResolve(t testing.TB, i, v int, ids []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// The trusted header: one that node i already has, read from the
	// validator (the light client fetches it from node i and compares).
	st, err := c.cl[i].Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	trusted, err := c.cl[v].Block(ctx, st.Height-1)
	if err != nil {
		t.Fatalf("trusted block from %s: %v", c.name(v), err)
	}
	hash, err := hex.DecodeString(trusted.Hash)
	if err != nil {
		t.Fatal(err)
	}
	var witnesses []*client.Client
	for _, w := range c.validators() {
		if w != i && c.nodes[w].Running() {
			witnesses = append(witnesses, c.cl[w])
		}
	}
	ver, err := client.NewVerifier(ctx, c.cl[i], witnesses, client.TrustOptions{Height: trusted.Height, Hash: hash}, dbm.NewMemDB())
	if err != nil {
		t.Fatalf("verifier on %s trusting %s's block %d: %v", c.name(i), c.name(v), trusted.Height, err)
	}
	acked := c.ackedCopy()
	verified := 0
	for _, id := range ids {
		ans, proved, err := ver.ResolveVerified(ctx, id)
		if err != nil {
			t.Errorf("%s: verified resolve of %s: %v%s", c.name(i), id, err, c.lightDiag(proved.HeaderHeight))
			continue
		}
		if !proved.Exists || proved.AppHash == "" || proved.HeaderHeight <= trusted.Height {
			t.Errorf("%s: %s verified as %+v", c.name(i), id, proved)
			continue
		}
		if len(ans.Record.Values) != 1 || ans.Record.Values[0].Data != acked[id] {
			t.Errorf("%s: %s verified with values %+v, want %q", c.name(i), id, ans.Record.Values, acked[id])
			continue
		}
		verified++
	}
	absent := c.unit + "/never-registered"
	_, proved, err := ver.ResolveVerified(ctx, absent)
	if client.Code(err) != "not_found" || proved.Exists || proved.AppHash == "" {
		t.Errorf("%s: %s answered %v, %+v; want not_found with a verified proof of absence%s", c.name(i), absent, err, proved, c.lightDiag(proved.HeaderHeight))
	} else {
		verified++
	}
	if len(ids) == 0 {
		t.Fatal("no identifier to verify")
	}
	t.Logf("%s: %d of %d answers (%d records, one absence) verified against headers from %s's block %d, witnesses %d",
		c.name(i), verified, len(ids)+1, len(ids), c.name(v), trusted.Height, len(witnesses))
}

// lightDiag says what every running node answers for light block h, for
// the message of a failed verification.
func (c *cluster) lightDiag(h int64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nat %s, light block %d:", time.Now().Format(time.StampMilli), h)
	for i, n := range c.nodes {
		if !n.Running() {
			continue
		}
		st, _ := c.status(i)
		code := "?"
		if resp, err := http.Get(fmt.Sprintf("%s/v1/light/%d", n.URL(), h)); err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
			resp.Body.Close()
			code = resp.Status
			if resp.StatusCode != http.StatusOK {
				code += " " + string(body)
			}
		} else {
			code = err.Error()
		}
		fmt.Fprintf(&b, "\n  %s (height %d): %s", c.name(i), st.Height, code)
	}
	return b.String()
}

// sample picks a few acknowledged ids: the first, the last and some between.
func (c *cluster) sample(n int) []string {
	var ids []string
	for id := range c.ackedCopy() {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if len(ids) <= n {
		return ids
	}
	var out []string
	for k := 0; k < n; k++ {
		out = append(out, ids[k*(len(ids)-1)/(n-1)])
	}
	return out
}

// keepLogs, when the test failed, shows the end of each node's log, and
// with CITYID_FAULTS_LOGS set saves every node's whole log there.
func (c *cluster) keepLogs() {
	dir := os.Getenv("CITYID_FAULTS_LOGS")
	if !c.t.Failed() && dir == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, n := range c.nodes {
		out := c.past[i] + n.Output()
		if out == "" {
			continue
		}
		if dir != "" {
			d := filepath.Join(dir, strings.ReplaceAll(c.t.Name(), "/", "_"))
			if err := os.MkdirAll(d, 0o755); err == nil {
				_ = os.WriteFile(filepath.Join(d, c.name(i)+".log"), []byte(out), 0o644)
			}
		}
		if c.t.Failed() {
			c.t.Logf("----- last lines of %s's log -----\n%s", c.name(i), tail(out, 30))
		}
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// forkWatch polls the latest block of every running node throughout a
// test and remembers the first block hash (and app hash) seen at each
// height: a node ever showing another one for that height is a fork.
type forkWatch struct {
	c    *cluster
	stop chan struct{}
	done chan struct{}

	mu        sync.Mutex
	seen      map[int64]string // height → "hash/app hash"
	who       map[int64]string
	conflicts []string
}

func (c *cluster) watchForks(t testing.TB) *forkWatch {
	w := &forkWatch{c: c, stop: make(chan struct{}), done: make(chan struct{}), seen: map[int64]string{}, who: map[int64]string{}}
	go w.run()
	t.Cleanup(w.close)
	return w
}

func (w *forkWatch) run() {
	defer close(w.done)
	for {
		for i, n := range w.c.nodes {
			if !n.Running() {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			b, err := w.c.cl[i].Block(ctx, 0)
			cancel()
			if err != nil {
				continue
			}
			w.record(w.c.name(i), b)
		}
		select {
		case <-w.stop:
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (w *forkWatch) record(node string, b client.BlockInfo) {
	w.mu.Lock()
	defer w.mu.Unlock()
	got := b.Hash + "/" + b.AppHash
	if first, ok := w.seen[b.Height]; !ok {
		w.seen[b.Height], w.who[b.Height] = got, node
	} else if first != got {
		w.conflicts = append(w.conflicts, fmt.Sprintf("height %d: %s showed %s, %s shows %s", b.Height, w.who[b.Height], first, node, got))
	}
}

// check fails the test for every fork seen so far.
func (w *forkWatch) check(t testing.TB) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.seen) == 0 {
		t.Fatal("the fork watch saw no block")
	}
	for _, c := range w.conflicts {
		t.Errorf("fork: %s", c)
	}
	w.conflicts = nil
}

func (w *forkWatch) close() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	select {
	case <-w.done:
	case <-time.After(10 * time.Second):
	}
}
