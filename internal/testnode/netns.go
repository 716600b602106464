package testnode

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Machines are network namespaces standing in for separate machines: each
// has its own loopback, an eth0 with an address of its own on one private
// /24, and a veth link to a bridge in the test's own namespace, which holds
// the .1 address of the subnet, so the test reaches every machine and the
// machines reach each other, on the same ports, as machines on a LAN do.
// Processes started through Command run in a machine's namespace.
//
// It needs root and iproute2's `ip`; without them it fails the test with
// what is missing (a skip would let a multi-machine path go untested).
// Everything it makes (namespaces, links, the bridge, and any process left
// in a namespace) goes with the test, failed or not.
type Machines struct {
	Names []string // the namespaces, for `ip netns exec`
	Addrs []string // each machine's address on the bridge
	Host  string   // the test's own address on the bridge

	t      testing.TB
	bridge string
}

// NewMachines makes n machines.
func NewMachines(t testing.TB, n int) *Machines {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("separate machines are network namespaces, which only root can make: run this test as root (CI does)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Fatal("separate machines need iproute2's ip (ip netns): apt-get install -y iproute2")
	}
	var tag [3]byte
	if _, err := rand.Read(tag[:]); err != nil {
		t.Fatal(err)
	}
	// Names short enough for an interface (15 bytes): cid + 6 hex + b or
	// v<i>. A random tag keeps parallel test runs apart.
	prefix := "cid" + hex.EncodeToString(tag[:])
	subnet, err := freeSubnet()
	if err != nil {
		t.Fatal(err)
	}
	m := &Machines{t: t, bridge: prefix + "b", Host: subnet + ".1"}
	t.Cleanup(m.remove)
	m.ip("link", "add", m.bridge, "type", "bridge")
	m.ip("addr", "add", m.Host+"/24", "dev", m.bridge)
	m.ip("link", "set", m.bridge, "up")
	for i := range n {
		name, veth, addr := fmt.Sprintf("%s%d", prefix, i), fmt.Sprintf("%sv%d", prefix, i), fmt.Sprintf("%s.%d", subnet, 10+i)
		m.ip("netns", "add", name)
		m.Names = append(m.Names, name)
		m.ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", name)
		m.ip("link", "set", veth, "master", m.bridge, "up")
		m.ip("-n", name, "addr", "add", addr+"/24", "dev", "eth0")
		m.ip("-n", name, "link", "set", "eth0", "up")
		m.ip("-n", name, "link", "set", "lo", "up")
		m.Addrs = append(m.Addrs, addr)
	}
	return m
}

func (m *Machines) ip(args ...string) {
	m.t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		m.t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// Command is name with args, to run on machine i until ctx ends.
func (m *Machines) Command(ctx context.Context, i int, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", m.Names[i], name}, args...)...)
}

// remove kills what still runs in the namespaces (the tests' own nodes
// are stopped before, by their own cleanups) and deletes the namespaces,
// which takes their ends of the links, and the bridge, which takes the
// rest.
func (m *Machines) remove() {
	for _, name := range m.Names {
		out, _ := exec.Command("ip", "netns", "pids", name).Output()
		for _, f := range strings.Fields(string(out)) {
			if pid, err := strconv.Atoi(f); err == nil {
				if p, err := os.FindProcess(pid); err == nil {
					_ = p.Kill()
				}
			}
		}
	}
	for _, name := range m.Names {
		// A namespace whose processes are still dying is busy for a moment.
		for try := 0; ; try++ {
			out, err := exec.Command("ip", "netns", "del", name).CombinedOutput()
			if err == nil {
				break
			}
			if try == 20 {
				m.t.Errorf("ip netns del %s: %v\n%s", name, err, out)
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if out, err := exec.Command("ip", "link", "del", m.bridge).CombinedOutput(); err != nil && !strings.Contains(string(out), "Cannot find device") {
		m.t.Errorf("ip link del %s: %v\n%s", m.bridge, err, out)
	}
}

// freeSubnet is the first three octets of a 10.213.x.0/24 that no
// interface of this machine has an address in.
func freeSubnet() (string, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "", err
	}
	var tries [1]byte
	for range 64 {
		if _, err := rand.Read(tries[:]); err != nil {
			return "", err
		}
		subnet := fmt.Sprintf("10.213.%d", tries[0])
		_, want, _ := net.ParseCIDR(subnet + ".0/24")
		used := false
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && (want.Contains(ipn.IP) || ipn.Contains(want.IP)) {
				used = true
			}
		}
		if !used {
			return subnet, nil
		}
	}
	return "", fmt.Errorf("no free 10.213.x.0/24 among 64 tries")
}

// Ports a node on a machine listens on: CometBFT's usual P2P and RPC ports
// and CityID's API port, the same on every machine, as on real ones.
const (
	MachineP2PPort  = 26656
	MachineRPCPort  = 26657
	MachineHTTPPort = 8680
)

// NodeOn is a node to run on machine i, in home, on the usual ports of the
// machine's address; its DNS front end is off.
func (m *Machines) NodeOn(i int, bin, home string) *Node {
	addr := m.Addrs[i]
	return &Node{
		Bin: bin, Home: home, Netns: m.Names[i], t: m.t,
		HTTP: net.JoinHostPort(addr, strconv.Itoa(MachineHTTPPort)),
		RPC:  net.JoinHostPort(addr, strconv.Itoa(MachineRPCPort)),
		P2P:  net.JoinHostPort(addr, strconv.Itoa(MachineP2PPort)),
	}
}
