package testnode

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cometbft/cometbft/p2p"
)

// BuildIn compiles ./cmd/cityid into dir and returns the binary's path:
// Build for a TestMain, which has no testing.TB, so that the tests of a
// package share one binary.
func BuildIn(dir string) (string, error) { return BuildPackage(dir, "./cmd/cityid") }

// BuildPackage compiles the main package pkg, a path relative to the
// module's root, into dir and returns the binary's path: for the test
// programs that stand in for cityid (a byzantine validator).
func BuildPackage(dir, pkg string) (string, error) {
	bin := filepath.Join(dir, filepath.Base(pkg))
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin, nil
}

// Testnet writes the homes of a local network of validators and full nodes
// with `cityid testnet`, on a base port whose ports are all free on
// 127.0.0.1, and returns its nodes, not started: the first `validators`
// are the validators. Tests may edit the nodes' configuration files
// (EditConfig) before starting them (StartAll, Start or Launch).
func Testnet(t testing.TB, bin string, validators, fullNodes int) []*Node {
	t.Helper()
	n := validators + fullNodes
	base, err := FreeBasePort(3 * n)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "net")
	cmd := exec.Command(bin, "testnet", "--validators", strconv.Itoa(validators),
		"--full-nodes", strconv.Itoa(fullNodes), "--out", dir, "--base-port", strconv.Itoa(base), "--json")
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("cityid testnet: %v\n%s", err, stderr)
	}
	var homes []struct {
		Home string `json:"home"`
		HTTP string `json:"http"`
		RPC  string `json:"rpc"`
		P2P  string `json:"p2p"`
	}
	if err := json.Unmarshal(out, &homes); err != nil || len(homes) != n {
		t.Fatalf("cityid testnet printed %d nodes (%v), want %d:\n%s", len(homes), err, n, out)
	}
	nodes := make([]*Node, n)
	for i, h := range homes {
		nodes[i] = &Node{
			Bin: bin, Home: h.Home, HTTP: h.HTTP,
			RPC: strings.TrimPrefix(h.RPC, "tcp://"), P2P: strings.TrimPrefix(h.P2P, "tcp://"), t: t,
		}
	}
	return nodes
}

// FreeBasePort returns a port p such that p, p+1, … p+count-1 are all free
// on 127.0.0.1 at the time of the call. It tries random bases in
// 20000–60000, below the kernel's ephemeral range when there is room, so
// that outgoing connections (which take ephemeral ports) do not take a
// node's port between this check and the node's start.
func FreeBasePort(count int) (int, error) {
	lo, hi := 20000, 60000
	if eph, ok := ephemeralLow(); ok && eph-lo > 10*count && eph < hi {
		hi = eph
	}
	for range 200 {
		base := lo + rand.IntN(hi-lo-count)
		if portsFree(base, count) {
			return base, nil
		}
	}
	return 0, fmt.Errorf("no run of %d free loopback ports in %d–%d after 200 tries", count, lo, hi)
}

// ephemeralLow is the first port of Linux's ephemeral range.
func ephemeralLow() (int, bool) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0, false
	}
	p, err := strconv.Atoi(f[0])
	return p, err == nil
}

func portsFree(base, count int) bool {
	var held []net.Listener
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	for p := base; p < base+count; p++ {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			return false
		}
		held = append(held, l)
	}
	return true
}

// NodeID is the node's P2P ID, from its node key.
func (n *Node) NodeID() string {
	n.t.Helper()
	k, err := p2p.LoadNodeKey(filepath.Join(n.Home, "config", "node_key.json"))
	if err != nil {
		n.t.Fatalf("node key of %s: %v", n.Home, err)
	}
	return string(k.ID())
}

// EditConfig sets key in [section] of the home's config/<file> (file is
// "config.toml", CometBFT's, or "cityid.toml") to value, a TOML literal
// (`"text"`, `10`, `true`). The key must already be there: a misspelt key
// fails the test instead of being ignored by the node.
func (n *Node) EditConfig(file, section, key, value string) {
	n.t.Helper()
	path := filepath.Join(n.Home, "config", file)
	b, err := os.ReadFile(path)
	if err != nil {
		n.t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	in, done := section == "", false
	for i, l := range lines {
		s := strings.TrimSpace(l)
		if strings.HasPrefix(s, "[") {
			in = s == "["+section+"]"
			continue
		}
		if !in || strings.HasPrefix(s, "#") {
			continue
		}
		if k, _, ok := strings.Cut(s, "="); ok && strings.TrimSpace(k) == key {
			lines[i] = key + " = " + value
			done = true
			break
		}
	}
	if !done {
		n.t.Fatalf("%s has no key %q in [%s]", path, key, section)
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		n.t.Fatal(err)
	}
}

// Launch starts `cityid start` without waiting for the node to be ready:
// for networks, whose nodes commit nothing until enough of them run, and
// for tests that act while a node starts (WaitOutput).
func (n *Node) Launch() {
	n.t.Helper()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.exited != nil {
		select {
		case <-n.exited:
		default:
			n.t.Fatalf("launch %s: the node is already running", n.Home)
		}
	}
	cmd := n.command("start", "--home", n.Home, "--http", n.HTTP, "--rpc", n.RPC, "--p2p", n.P2P)
	n.out = &syncBuffer{}
	cmd.Stdout, cmd.Stderr = n.out, n.out
	if err := cmd.Start(); err != nil {
		n.t.Fatalf("start node: %v", err)
	}
	n.cmd = cmd
	exited := make(chan struct{})
	n.exited = exited
	go func() { _ = cmd.Wait(); close(exited) }()
	n.t.Cleanup(func() { n.Kill() })
}

// StartAll launches every node, then waits until each is ready.
func StartAll(t testing.TB, nodes []*Node, timeout time.Duration) {
	t.Helper()
	for _, n := range nodes {
		n.Launch()
	}
	for _, n := range nodes {
		if err := n.WaitReady(timeout); err != nil {
			t.Fatalf("node %s did not become ready: %v\n--- node output ---\n%s", n.Home, err, n.Output())
		}
	}
}

// Running reports whether the node's process is running.
func (n *Node) Running() bool {
	n.mu.Lock()
	exited := n.exited
	n.mu.Unlock()
	if exited == nil {
		return false
	}
	select {
	case <-exited:
		return false
	default:
		return true
	}
}

// WaitOutput waits until the output of the node's current run contains
// text, polling often so that a test can act right after a log line.
func (n *Node) WaitOutput(text string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if strings.Contains(n.Output(), text) {
			return nil
		}
		if !n.Running() {
			return fmt.Errorf("the node exited before printing %q", text)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no %q in the node's output after %s", text, timeout)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
