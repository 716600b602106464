package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cityid/cityid/client"
	"github.com/cityid/cityid/internal/testnode"
)

// TestFourMachines runs the path of docs/operations.md for four institutes
// on four machines, each machine a network namespace of its own with its
// own address (not loopback ports), every node a cityid process started in
// its namespace on the usual ports:
//
//   - each institute runs `cityid init` and `cityid genesis member` on its
//     machine, and, with the four member files, the same `cityid genesis
//     collect`: the four genesis files are the same;
//   - the validators start and a city is approved by three of the four
//     operator keys, its application naming its own node's URL;
//   - the city's full node, on a fifth machine, joins by state sync from
//     two validators' RPC, trusting a header read from a validator;
//   - from the other machines, the city's record resolves to its node's
//     URL, and that URL answers with the city node's own ID;
//   - through the ledger (set_validator, 3 of 4 operators, each signing on
//     its own machine), the city's node becomes a validator and institute
//     3 stops being one; then with institutes 0 and 3 stopped, the chain
//     still commits, which only the new set can do.
func TestFourMachines(t *testing.T) {
	began := time.Now()
	const institutes, city = 4, 4
	m := testnode.NewMachines(t, institutes+1)
	dir := t.TempDir()
	// run is what an operator types on machine i.
	run := func(t testing.TB, i int, args ...string) []byte {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), writeTimeout+requestTimeout)
		defer cancel()
		out, err := m.Command(ctx, i, bin, args...).Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("machine %d: cityid %s: %v\n%s", i, strings.Join(args, " "), err, stderr)
		}
		return out
	}
	nodes := make([]*testnode.Node, institutes+1)
	members := make([]string, institutes)
	for i := range nodes {
		n := m.NodeOn(i, bin, filepath.Join(dir, fmt.Sprintf("machine%d", i)))
		run(t, i, "init", "--home", n.Home, "--moniker", fmt.Sprintf("node%d", i),
			"--p2p", "0.0.0.0:"+strconv.Itoa(testnode.MachineP2PPort), "--rpc", n.RPC, "--http", n.HTTP, "--dns", "off")
		if i < institutes {
			members[i] = filepath.Join(dir, fmt.Sprintf("institute%d.json", i))
			b := run(t, i, "genesis", "member", "--home", n.Home, "--chain-id", "cityid-pilot", "--address", n.P2P)
			if err := os.WriteFile(members[i], b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		nodes[i] = n
	}
	// Agreed among the institutes; a time to come would hold every node
	// until then (CometBFT starts consensus at the genesis time).
	genesisTime := time.Now().UTC().Format(time.RFC3339)
	var sums []string
	for i, n := range nodes {
		var res struct {
			SHA256 string `json:"genesis_sha256"`
		}
		args := append([]string{"genesis", "collect", "--home", n.Home, "--chain-id", "cityid-pilot",
			"--genesis-time", genesisTime, "--json"}, members...)
		if err := json.Unmarshal(run(t, i, args...), &res); err != nil || res.SHA256 == "" {
			t.Fatalf("machine %d: genesis collect printed no hash: %v", i, err)
		}
		sums = append(sums, res.SHA256)
		if res.SHA256 != sums[0] {
			t.Fatalf("machine %d's genesis hash %s is not machine 0's %s", i, res.SHA256, sums[0])
		}
	}

	c := clusterOf(t, nodes, institutes)
	for _, v := range c.validators() {
		c.nodes[v].EditConfig("cityid.toml", "snapshots", "interval", "10")
	}
	c.endpoint = nodes[city].URL()
	c.start(t, c.validators()...)
	// Ready takes three of four; the fourth's links come a moment later.
	deadline := time.Now().Add(catchUpTimeout)
	for _, v := range c.validators() {
		for {
			st, err := c.status(v)
			if err == nil && st.Peers == institutes-1 && st.Validator {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %+v, %v; want a validator with %d peers", c.name(v), st.NodeStatus, err, institutes-1)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	forks := c.watchForks(t)
	c.setupCity(t)

	for _, phase := range []struct {
		name string
		run  func(*testing.T)
	}{
		{"city_node_state_syncs", func(t *testing.T) { joinByStateSync(t, c, city, false) }},
		{"city_node_found", func(t *testing.T) { findCityNode(t, c, m, run) }},
		{"validator_added_and_removed", func(t *testing.T) { changeValidators(t, c, members, run) }},
	} {
		ok := t.Run(phase.name, func(t *testing.T) {
			phase.run(t)
			forks.check(t)
		})
		if !ok {
			t.Fatalf("phase %s failed; later phases not run", phase.name)
		}
	}
	t.Logf("four machines and a city's: %s in all", time.Since(began).Round(time.Millisecond))
}

// findCityNode: on every other machine, the city's record names its node's
// URL, and what answers there is the city's node.
func findCityNode(t *testing.T, c *cluster, m *testnode.Machines, run func(testing.TB, int, ...string) []byte) {
	const city = 4
	want := c.nodes[city].NodeID()
	for i := range c.validators() {
		var ans client.RecordAnswer
		if err := json.Unmarshal(run(t, i, "resolve", "1561301001", "--home", c.nodes[i].Home, "--json"), &ans); err != nil {
			t.Fatal(err)
		}
		if ans.Record.City == nil || ans.Record.City.Endpoint != c.endpoint {
			t.Fatalf("machine %d resolves the city to %+v, want its endpoint %s", i, ans.Record.City, c.endpoint)
		}
		var st client.Status
		if err := json.Unmarshal(run(t, i, "query", "status", "--node", ans.Record.City.Endpoint, "--json"), &st); err != nil {
			t.Fatal(err)
		}
		if st.NodeID != want {
			t.Errorf("machine %d reached node %s at %s, want the city's node %s", i, st.NodeID, ans.Record.City.Endpoint, want)
		}
	}
	host, _, _ := net.SplitHostPort(c.nodes[city].HTTP)
	if host != m.Addrs[city] {
		t.Fatalf("the city's node listens on %s, not on its machine's address %s", c.nodes[city].HTTP, m.Addrs[city])
	}
}

// changeValidators makes the city's node a validator and removes institute
// 3, each change signed by three of the four operators on their own
// machines; then stops institutes 0 and 3 and writes through the rest.
func changeValidators(t *testing.T, c *cluster, members []string, run func(testing.TB, int, ...string) []byte) {
	const city, leaving, stopped = 4, 3, 0
	var cityMember, leavingMember struct {
		ValidatorKey string `json:"validator_key"`
	}
	// The city's node publishes its key the way an institute does.
	if err := json.Unmarshal(run(t, city, "genesis", "member", "--home", c.nodes[city].Home, "--chain-id", "cityid-pilot", "--address", c.nodes[city].P2P), &cityMember); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(members[leaving])
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &leavingMember); err != nil {
		t.Fatal(err)
	}
	for _, change := range []struct{ key, power string }{{cityMember.ValidatorKey, "10"}, {leavingMember.ValidatorKey, "0"}} {
		for _, i := range []int{0, 1, 2} {
			run(t, i, "tx", "set-validator", change.key, "--power", change.power, "--from", "operator", "--home", c.nodes[i].Home, "--json")
		}
	}
	// CometBFT applies a change two blocks after the block that made it:
	// writes make those blocks.
	w := c.startWriter(t, "validators", c.validators())
	deadline := time.Now().Add(catchUpTimeout)
	for {
		cs, cerr := c.status(city)
		ls, lerr := c.status(leaving)
		if cerr == nil && lerr == nil && cs.Validator && cs.VotingPower == 10 && !ls.Validator {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s, the city's node is %+v (%v) and %s is %+v (%v); want the city's a validator of power 10 and %s none",
				catchUpTimeout, cs, cerr, c.name(leaving), ls, lerr, c.name(leaving))
		}
		time.Sleep(200 * time.Millisecond)
	}
	w.halt(t)
	c.checkConverged(t, []int{0, 1, 2, 3, city})

	// Of the old set, two of four would be left: no block. Of the new,
	// three of four: blocks.
	c.nodes[leaving].Stop()
	c.nodes[stopped].Stop()
	live := []int{1, 2, city}
	w = c.startWriter(t, "newset", live)
	w.waitAcks(t, 3, 30*time.Second)
	w.halt(t)
	c.checkConverged(t, live)
}
