package faults

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cityid/cityid/client"
)

// TestFullNodesJoin runs four validators that take a state sync snapshot
// every 10 blocks (blocks come only with writes), and, while a client
// keeps writing, has full nodes join:
// one by block sync, one by state sync, and one by state sync killed with
// SIGKILL while it restores the snapshot. Each must end with every
// acknowledged write, the same blocks and app hashes as the validators, and
// answer resolves whose proofs CometBFT's light client verifies.
func TestFullNodesJoin(t *testing.T) {
	c := newCluster(t, 4, 3)
	for _, v := range c.validators() {
		c.nodes[v].EditConfig("cityid.toml", "snapshots", "interval", "10")
	}
	c.start(t, c.validators()...)
	forks := c.watchForks(t)
	c.setupCity(t)

	for _, phase := range []struct {
		name string
		run  func(*testing.T)
	}{
		{"block_sync", func(t *testing.T) { joinByBlockSync(t, c, 4) }},
		{"state_sync", func(t *testing.T) { joinByStateSync(t, c, 5, false) }},
		{"state_sync_killed_while_restoring", func(t *testing.T) { joinByStateSync(t, c, 6, true) }},
	} {
		ok := t.Run(phase.name, func(t *testing.T) {
			phase.run(t)
			forks.check(t)
		})
		if !ok {
			t.Fatalf("phase %s failed; later phases not run", phase.name)
		}
	}
}

// joinByBlockSync starts full node fn, which fetches and replays every
// block from the validators while writes go on.
func joinByBlockSync(t *testing.T, c *cluster, fn int) {
	vals := c.validators()
	w := c.startWriter(t, "blocksync", vals)
	w.waitAcks(t, 3, 30*time.Second)
	start := time.Now()
	c.start(t, fn)
	t.Logf("%s ready %s after its start", c.name(fn), time.Since(start).Round(time.Millisecond))
	w.waitAcks(t, 2, 30*time.Second)
	w.halt(t)

	joined := append(c.validators(), fn)
	c.checkConverged(t, joined)
	if b := c.base(t, fn, c.heights([]int{fn})[0]); b != 1 {
		t.Errorf("%s, joined by block sync, keeps blocks from %d, want 1", c.name(fn), b)
	}
	c.verifiedResolve(t, fn, 0, c.sample(5))
}

// joinByStateSync configures full node fn to state sync from the
// validators' snapshots and starts it; with kill, it is killed right after
// it begins restoring a snapshot, then started again.
func joinByStateSync(t *testing.T, c *cluster, fn int, kill bool) {
	vals := c.validators()
	name := "statesync"
	if kill {
		name = "statesync-kill"
	}
	// Writes make the blocks: a quiet chain makes none, so without them
	// no snapshot height comes, nor the two headers after a snapshot that
	// a joining node's light client checks it against.
	w := c.startWriter(t, name, vals)
	w.waitAcks(t, 2, 30*time.Second)
	// The validators have a snapshot to offer.
	for _, v := range vals[:2] {
		if err := c.nodes[v].WaitOutput("snapshot taken", catchUpTimeout); err != nil {
			t.Fatalf("%s: %v", c.name(v), err)
		}
	}
	// The root of trust: a header after the first snapshot, from a
	// validator.
	h := c.heights([]int{0})[0]
	trusted, err := c.committedBlock(t, 0, h)
	if err != nil {
		t.Fatal(err)
	}
	n := c.nodes[fn]
	n.EditConfig("config.toml", "statesync", "enable", "true")
	n.EditConfig("config.toml", "statesync", "rpc_servers", strconv.Quote(c.nodes[0].RPC+","+c.nodes[1].RPC))
	n.EditConfig("config.toml", "statesync", "trust_height", strconv.FormatInt(trusted.Height, 10))
	n.EditConfig("config.toml", "statesync", "trust_hash", strconv.Quote(trusted.Hash))
	n.EditConfig("config.toml", "statesync", "trust_period", `"168h"`)
	// CometBFT's least: waiting 15s for more snapshots buys a test nothing.
	n.EditConfig("config.toml", "statesync", "discovery_time", `"5s"`)

	start := time.Now()
	if kill {
		c.launch(fn)
		if err := n.WaitOutput("restoring snapshot", readyTimeout); err != nil {
			t.Fatalf("%s: %v\n%s", c.name(fn), err, tail(n.Output(), 40))
		}
		n.Kill()
		out := n.Output()
		stage := "before the snapshot was restored"
		if strings.Contains(out, "snapshot restored") {
			stage = "after the snapshot was restored"
		}
		t.Logf("%s killed %s after its start, %s", c.name(fn), time.Since(start).Round(time.Millisecond), stage)
		start = time.Now()
	}
	c.start(t, fn)
	t.Logf("%s ready %s after its (last) start", c.name(fn), time.Since(start).Round(time.Millisecond))
	w.waitAcks(t, 2, 30*time.Second)
	w.halt(t)

	if !strings.Contains(c.allOutput(fn), "snapshot restored") {
		t.Errorf("%s never logged \"snapshot restored\"", c.name(fn))
	}
	joined := append(c.validators(), fn)
	c.checkConverged(t, joined)
	// State sync, not block sync: the blocks before the snapshot are not
	// there.
	if b := c.base(t, fn, c.heights([]int{fn})[0]); b <= 1 {
		t.Errorf("%s keeps blocks from %d: it did not join by state sync", c.name(fn), b)
	} else {
		t.Logf("%s keeps blocks from height %d", c.name(fn), b)
		// A block before them is refused as pruned, naming the first kept.
		_, err := c.block(t, fn, b-1)
		var e *client.Error
		if !errors.As(err, &e) || e.Status != http.StatusGone || e.Problem.Code != client.CodeHeightPruned ||
			!strings.Contains(e.Problem.Detail, fmt.Sprintf("keeps heights from %d", b)) {
			t.Errorf("%s block %d, before the first it keeps: %v; want 410 %s naming %d", c.name(fn), b-1, err, client.CodeHeightPruned, b)
		}
	}
	c.verifiedResolve(t, fn, 1, c.sample(5))
}

// allOutput is node i's output over all its runs.
func (c *cluster) allOutput(i int) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.past[i] + c.nodes[i].Output()
}
