// Package testnode runs real cityid node processes for end-to-end tests:
// it builds the binary once, starts nodes on free loopback ports in
// temporary homes, waits until they are ready, and kills or stops them.
// Nothing here is used by the program itself.
package testnode

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Build compiles ./cmd/cityid into a temporary folder and returns the
// binary's path.
func Build(t testing.TB) string {
	t.Helper()
	return BuildTags(t, "")
}

// BuildTags is Build with build tags: the upgrade tests build a "new"
// binary with -tags cityid_upgradetest beside the plain "old" one.
func BuildTags(t testing.TB, tags string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "cityid")
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"build", "-o", bin}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	cmd := exec.Command("go", append(args, "./cmd/cityid")...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s ./cmd/cityid: %v\n%s", strings.Join(args, " "), err, out)
	}
	return bin
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// FreeAddr returns a loopback address whose port is free, over both TCP
// and UDP, at the time of the call: the DNS front end binds both.
func FreeAddr(t testing.TB) string {
	t.Helper()
	addr, err := FreeLoopbackAddr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// FreeLoopbackAddr is FreeAddr for code with no testing.TB: the
// benchmark's servers (internal/bench), which a test and `cityid bench`
// both start.
func FreeLoopbackAddr() (string, error) {
	for range 16 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", err
		}
		addr := l.Addr().String()
		pc, err := net.ListenPacket("udp", addr)
		l.Close()
		if err == nil {
			pc.Close()
			return addr, nil
		}
	}
	return "", errors.New("no loopback port free over both TCP and UDP in 16 tries")
}

// Node is one cityid node process.
type Node struct {
	Bin  string
	Home string
	HTTP string // host:port of the API
	RPC  string
	P2P  string
	DNS  string // host:port of the DNS front end, UDP and TCP
	// Flags are given to every command and to start: a test of a keyring
	// with a passphrase of its own sets --passphrase-file here.
	Flags []string
	// Netns, when set, is the network namespace (a Machines machine) the
	// node and its commands run in.
	Netns string

	t      testing.TB
	mu     sync.Mutex
	cmd    *exec.Cmd
	out    *syncBuffer
	exited chan struct{}
}

// New prepares a node in a new temporary home on free ports; Start runs it.
func New(t testing.TB, bin string) *Node {
	t.Helper()
	return &Node{
		Bin: bin, Home: filepath.Join(t.TempDir(), "home"),
		HTTP: FreeAddr(t), RPC: FreeAddr(t), P2P: FreeAddr(t), DNS: FreeAddr(t), t: t,
	}
}

// URL is the node's API base URL.
func (n *Node) URL() string { return "http://" + n.HTTP }

// CLI runs a cityid command against this node's home and API, asking for
// JSON, and returns its stdout, stderr and exit code.
func (n *Node) CLI(args ...string) (stdout, stderr string, code int) {
	n.t.Helper()
	args = append(append(args, "--home", n.Home, "--node", n.URL(), "--json"), n.Flags...)
	cmd := n.command(args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code = 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			n.t.Fatalf("run cityid %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return o.String(), e.String(), code
}

// command is cityid with args, run in the node's namespace when it has
// one (`ip netns exec` execs the program in place: the process is
// cityid's, and signals reach it).
func (n *Node) command(args ...string) *exec.Cmd {
	return n.commandContext(context.Background(), args...)
}

// commandContext is command, killed when ctx is done.
func (n *Node) commandContext(ctx context.Context, args ...string) *exec.Cmd {
	if n.Netns == "" {
		return exec.CommandContext(ctx, n.Bin, args...)
	}
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", n.Netns, n.Bin}, args...)...)
}

// startArgs is the command line of `cityid start` on the node's home,
// ports and Flags: Start and StartExiting run the same node.
func (n *Node) startArgs() []string {
	dnsAddr := n.DNS
	if dnsAddr == "" {
		dnsAddr = "off"
	}
	return append([]string{"start", "--home", n.Home, "--http", n.HTTP, "--rpc", n.RPC, "--p2p", n.P2P, "--dns", dnsAddr}, n.Flags...)
}

// Start runs `cityid start` and waits until /readyz answers 200.
func (n *Node) Start() {
	n.t.Helper()
	n.mu.Lock()
	cmd := n.command(n.startArgs()...)
	n.out = &syncBuffer{}
	cmd.Stdout, cmd.Stderr = n.out, n.out
	if err := cmd.Start(); err != nil {
		n.mu.Unlock()
		n.t.Fatalf("start node: %v", err)
	}
	n.cmd = cmd
	n.exited = make(chan struct{})
	exited := n.exited
	go func() { _ = cmd.Wait(); close(exited) }()
	n.mu.Unlock()
	n.t.Cleanup(func() { n.Kill() })
	if err := n.WaitReady(60 * time.Second); err != nil {
		n.t.Fatalf("node did not become ready: %v\n--- node output ---\n%s", err, n.Output())
	}
}

// WaitReady polls /readyz until it answers 200.
func (n *Node) WaitReady(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, n.URL()+"/readyz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-n.exited:
			return fmt.Errorf("node exited")
		case <-ctx.Done():
			return fmt.Errorf("not ready after %s (last error: %v)", timeout, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// PID is the process ID of the node last started, 0 before the first
// Start.
func (n *Node) PID() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil || n.cmd.Process == nil {
		return 0
	}
	return n.cmd.Process.Pid
}

// WaitExit waits up to timeout for the node last started to exit by
// itself and returns its exit code; ok is false when it still runs.
func (n *Node) WaitExit(timeout time.Duration) (code int, ok bool) {
	n.mu.Lock()
	cmd, exited := n.cmd, n.exited
	n.mu.Unlock()
	if cmd == nil {
		return 0, false
	}
	select {
	case <-exited:
		return cmd.ProcessState.ExitCode(), true
	case <-time.After(timeout):
		return 0, false
	}
}

// StartExiting runs `cityid start` as Start does, for a node expected to
// refuse to start: it waits up to timeout for the process to exit and
// returns its exit code and output, or fails the test if it is still
// running (then it is killed).
func (n *Node) StartExiting(timeout time.Duration) (code int, output string) {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := n.commandContext(ctx, n.startArgs()...)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		n.t.Fatalf("cityid start did not exit within %s\n%s", timeout, out)
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		n.t.Fatalf("cityid start: %v", err)
	}
	return cmd.ProcessState.ExitCode(), string(out)
}

// Kill sends SIGKILL and waits for the process to go.
func (n *Node) Kill() { n.signal(syscall.SIGKILL) }

// Stop sends SIGTERM and waits for a clean exit.
func (n *Node) Stop() { n.signal(syscall.SIGTERM) }

func (n *Node) signal(sig syscall.Signal) {
	n.mu.Lock()
	cmd, exited := n.cmd, n.exited
	n.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	select {
	case <-exited:
		return
	default:
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
}

// Output is what the node printed so far.
func (n *Node) Output() string {
	n.mu.Lock()
	out := n.out
	n.mu.Unlock()
	if out == nil {
		return ""
	}
	return out.String()
}

// syncBuffer is a bytes.Buffer the process's output copier and the test
// can use at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
