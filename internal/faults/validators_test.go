package faults

import (
	"slices"
	"testing"
	"time"
)

// TestValidatorFaults runs a network of four validators, as separate
// processes whose P2P links go through severable relays, through three
// faults in turn while a client keeps writing. After each, the network
// must have converged: every acknowledged write on every node, the same
// blocks and app hashes everywhere. A fork watch runs throughout.
func TestValidatorFaults(t *testing.T) {
	c := newCluster(t, 4, 0)
	p := newPartition(t, c)
	c.start(t, c.validators()...)
	forks := c.watchForks(t)
	c.setupCity(t)

	for _, phase := range []struct {
		name string
		run  func(*testing.T)
	}{
		{"sigkill_and_restart", func(t *testing.T) { killAndRestart(t, c) }},
		{"partition_and_heal", func(t *testing.T) { partitionAndHeal(t, c, p) }},
		{"two_of_four_stopped", func(t *testing.T) { haltAndResume(t, c) }},
	} {
		ok := t.Run(phase.name, func(t *testing.T) {
			phase.run(t)
			forks.check(t)
		})
		if !ok {
			// The next fault would start from a broken network and say
			// nothing new.
			t.Fatalf("phase %s failed; later phases not run", phase.name)
		}
	}
}

// without is idx less x.
func without(idx []int, x ...int) []int {
	return slices.DeleteFunc(slices.Clone(idx), func(i int) bool { return slices.Contains(x, i) })
}

// killAndRestart: SIGKILL one validator, keep writing through the other
// three, restart it: it catches up and takes writes again.
func killAndRestart(t *testing.T, c *cluster) {
	all := c.validators()
	const victim = 1
	w := c.startWriter(t, "kill", all)
	w.waitAcks(t, 3, 30*time.Second)

	w.setTargets(without(all, victim))
	c.nodes[victim].Kill()
	killedAt := c.heights([]int{0})[0]
	w.waitAcks(t, 5, 60*time.Second) // three of four validators still commit
	c.waitHeight(t, without(all, victim), killedAt+3, catchUpTimeout)

	start := time.Now()
	c.start(t, victim)
	t.Logf("%s restarted and caught up (ready) in %s", c.name(victim), time.Since(start).Round(time.Millisecond))
	w.setTargets(all)
	w.waitAcksVia(t, victim, 2, 60*time.Second)
	w.halt(t)
	c.checkConverged(t, all)
}

// partitionAndHeal: cut one validator off from its peers, keep writing
// through the others, heal: it catches up and takes writes again.
func partitionAndHeal(t *testing.T, c *cluster, p *partition) {
	all := c.validators()
	const x = 2
	rest := without(all, x)
	w := c.startWriter(t, "partition", all)
	w.waitAcks(t, 2, 30*time.Second)

	w.setTargets(rest)
	p.sever(x)
	// The cut is real: the node has no peer left, and no connection
	// from or to it passes the relays.
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, err := c.status(x)
		if err == nil && st.Peers == 0 && p.links(x) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still has peers (%+v, %v) or relayed links (%d) 20s after the cut", c.name(x), st, err, p.links(x))
		}
		time.Sleep(100 * time.Millisecond)
	}
	// A block whose votes it already had may still commit; then nothing.
	time.Sleep(time.Second)
	cutAt := c.heights([]int{x})[0]
	w.waitAcks(t, 5, 60*time.Second)
	c.waitHeight(t, rest, cutAt+3, catchUpTimeout)
	if h := c.heights([]int{x})[0]; h != cutAt {
		t.Errorf("%s, cut off from every peer, went from height %d to %d", c.name(x), cutAt, h)
	}
	if st, err := c.status(x); err != nil || st.Peers != 0 {
		t.Errorf("%s has peers while cut off: %+v, %v", c.name(x), st, err)
	}

	p.heal(x)
	start := time.Now()
	c.waitHeight(t, []int{x}, slices.Max(c.heights(rest)), catchUpTimeout)
	t.Logf("%s caught up %s after the heal", c.name(x), time.Since(start).Round(time.Millisecond))
	w.setTargets(all)
	w.waitAcksVia(t, x, 2, 60*time.Second)
	w.halt(t)
	c.checkConverged(t, all)
}

// haltAndResume: stop two of the four validators. With half the voting
// power the chain must stop committing (and acknowledge no write) and
// fork nowhere; with one of them back, three of four, it resumes.
func haltAndResume(t *testing.T, c *cluster) {
	all := c.validators()
	live, down := []int{0, 1}, []int{2, 3}
	w := c.startWriter(t, "halt", all)
	w.waitAcks(t, 2, 30*time.Second)

	w.setTargets(live)
	for _, i := range down {
		c.nodes[i].Stop()
	}
	// A block whose precommits were cast before the stop may still
	// commit; after that, nothing can.
	time.Sleep(2 * time.Second)
	stuck := c.heights(live)
	acks := w.acks()
	for end := time.Now().Add(8 * time.Second); time.Now().Before(end); {
		time.Sleep(500 * time.Millisecond)
		if hs := c.heights(live); !slices.Equal(hs, stuck) {
			t.Fatalf("with two of four validators stopped, %v went from heights %v to %v", live, stuck, hs)
		}
	}
	if got := w.acks(); got != acks {
		t.Errorf("%d writes acknowledged while the chain could not commit", got-acks)
	}
	if slices.Min(stuck) < 1 {
		t.Fatalf("live nodes %v did not answer their status: %v", live, stuck)
	}
	t.Logf("with %v stopped, %v stayed at heights %v for 8s", down, live, stuck)

	c.start(t, down[0])
	resumed := append(slices.Clone(live), down[0])
	w.setTargets(resumed)
	c.waitHeight(t, resumed, slices.Max(stuck)+3, catchUpTimeout)
	w.waitAcks(t, 3, 60*time.Second)

	c.start(t, down[1])
	w.setTargets(all)
	w.waitAcksVia(t, down[1], 1, 60*time.Second)
	w.halt(t)
	c.checkConverged(t, all)
}
