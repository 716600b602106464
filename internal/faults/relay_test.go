package faults

import (
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// partition rewires a testnet's P2P links through TCP relays that the test
// can sever: one relay per ordered pair of nodes (A dials B through relay
// A→B, which forwards to B's real P2P port). Every node's persistent_peers
// names the relays (same node IDs, relay addresses) and pex is off, so no
// node learns, and dials, another's real address. A peer that dialled in
// reports its real listen address, which is not in the persistent list, so
// CometBFT never redials it there either: only the dialling side redials,
// through its relay.
type partition struct {
	t  testing.TB
	c  *cluster
	wg sync.WaitGroup

	mu      sync.Mutex
	closed  bool
	severed map[int]bool
	relays  []*relay
}

type relay struct {
	from, to int
	ln       net.Listener
	target   string
	conns    map[*link]struct{} // guarded by partition.mu
}

// link is one connection through a relay: the dialler's side and the
// target's.
type link struct{ in, out net.Conn }

func (l *link) close() { l.in.Close(); l.out.Close() }

// newPartition puts relays between every pair of the cluster's nodes and
// rewrites their config.toml; call it before starting them.
func newPartition(t *testing.T, c *cluster) *partition {
	p := &partition{t: t, c: c, severed: map[int]bool{}}
	t.Cleanup(p.close)
	for i, n := range c.nodes {
		var peers []string
		for j, m := range c.nodes {
			if j == i {
				continue
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			r := &relay{from: i, to: j, ln: ln, target: m.P2P, conns: map[*link]struct{}{}}
			p.mu.Lock()
			p.relays = append(p.relays, r)
			p.mu.Unlock()
			p.wg.Add(1)
			go p.accept(r)
			peers = append(peers, m.NodeID()+"@"+ln.Addr().String())
		}
		n.EditConfig("config.toml", "p2p", "persistent_peers", strconv.Quote(strings.Join(peers, ",")))
		n.EditConfig("config.toml", "p2p", "pex", "false")
		n.EditConfig("config.toml", "p2p", "allow_duplicate_ip", "true")
		n.EditConfig("config.toml", "p2p", "addr_book_strict", "false")
	}
	return p
}

func (p *partition) accept(r *relay) {
	defer p.wg.Done()
	for {
		in, err := r.ln.Accept()
		if err != nil {
			return // closed
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.serve(r, in)
		}()
	}
}

func (p *partition) cut(r *relay) bool { return p.closed || p.severed[r.from] || p.severed[r.to] }

func (p *partition) serve(r *relay, in net.Conn) {
	p.mu.Lock()
	refused := p.cut(r)
	p.mu.Unlock()
	if refused {
		in.Close()
		return
	}
	out, err := net.DialTimeout("tcp", r.target, 5*time.Second)
	if err != nil {
		in.Close()
		return
	}
	l := &link{in: in, out: out}
	p.mu.Lock()
	if p.cut(r) { // severed while dialling
		p.mu.Unlock()
		l.close()
		return
	}
	r.conns[l] = struct{}{}
	p.mu.Unlock()

	copied := make(chan struct{})
	go func() {
		_, _ = io.Copy(out, in)
		l.close()
		close(copied)
	}()
	_, _ = io.Copy(in, out)
	l.close()
	<-copied
	p.mu.Lock()
	delete(r.conns, l)
	p.mu.Unlock()
}

// sever cuts node x off: every live connection through a relay from or to
// x is closed, and new ones are refused until heal.
func (p *partition) sever(x int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.severed[x] = true
	for _, r := range p.relays {
		if r.from == x || r.to == x {
			for l := range r.conns {
				l.close()
			}
		}
	}
}

// heal lets node x's peers connect again.
func (p *partition) heal(x int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.severed, x)
}

// links counts the live connections through relays from or to x.
func (p *partition) links(x int) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, r := range p.relays {
		if r.from == x || r.to == x {
			n += len(r.conns)
		}
	}
	return n
}

// close stops every relay and connection, waiting a bounded time.
func (p *partition) close() {
	p.mu.Lock()
	p.closed = true
	for _, r := range p.relays {
		r.ln.Close()
		for l := range r.conns {
			l.close()
		}
	}
	p.mu.Unlock()
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		p.t.Errorf("relays did not stop within 10s")
	}
}
