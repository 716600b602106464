package faults

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cityid/cityid/client"
	"github.com/cityid/cityid/internal/registry"
)

// writer is a client registering identifiers one at a time, each sent to
// the next of its target nodes in turn and waited for until committed
// (Signer.Send, bounded by writeTimeout). An acknowledged write is
// recorded with its value; a write that fails or times out is not
// acknowledged and not checked. It runs until halt.
type writer struct {
	c      *cluster
	name   string // prefix of the local ids, one per phase
	stop   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}

	mu         sync.Mutex
	targets    []int
	acked      map[string]string
	via        map[int]int // acknowledged writes per node they were sent to
	failed     int
	lastErr    error
	lastHeight int64    // height of the last acknowledged write
	wrong      []string // answers that acknowledged something else than what was sent
}

// startWriter starts a writer on the cluster's unit, sending to targets.
func (c *cluster) startWriter(t testing.TB, name string, targets []int) *writer {
	ctx, cancel := context.WithCancel(context.Background())
	w := &writer{
		c: c, name: name, stop: make(chan struct{}), cancel: cancel, done: make(chan struct{}),
		targets: slices.Clone(targets), acked: map[string]string{}, via: map[int]int{},
	}
	go w.run(ctx)
	t.Cleanup(func() { w.cancel(); w.closeStop(); <-w.done })
	return w
}

// setTargets changes the nodes the writer sends to: the live ones.
func (w *writer) setTargets(targets []int) {
	w.mu.Lock()
	w.targets = slices.Clone(targets)
	w.mu.Unlock()
}

func (w *writer) acks() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.acked)
}

// waitAcks waits until more writes than now have been acknowledged.
func (w *writer) waitAcks(t testing.TB, more int, timeout time.Duration) {
	t.Helper()
	want := w.acks() + more
	deadline := time.Now().Add(timeout)
	for w.acks() < want {
		if time.Now().After(deadline) {
			w.mu.Lock()
			defer w.mu.Unlock()
			t.Fatalf("writer %s: %d writes acknowledged after %s, want %d (failed %d, last error: %v)",
				w.name, len(w.acked), timeout, want, w.failed, w.lastErr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitAcksVia waits until more writes than now sent through node i have
// been acknowledged.
func (w *writer) waitAcksVia(t testing.TB, i, more int, timeout time.Duration) {
	t.Helper()
	w.mu.Lock()
	want := w.via[i] + more
	w.mu.Unlock()
	deadline := time.Now().Add(timeout)
	for {
		w.mu.Lock()
		got, failed, lastErr := w.via[i], w.failed, w.lastErr
		w.mu.Unlock()
		if got >= want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("writer %s: %d writes through %s acknowledged after %s, want %d (failed %d, last error: %v)",
				w.name, got, w.c.name(i), timeout, want, failed, lastErr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (w *writer) closeStop() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
}

// halt stops the writer, abandoning a write in flight (it is then not
// acknowledged), and adds its acknowledged writes to the cluster's.
func (w *writer) halt(t testing.TB) {
	t.Helper()
	w.closeStop()
	w.cancel()
	select {
	case <-w.done:
	case <-time.After(writeTimeout + 5*time.Second):
		t.Fatalf("writer %s did not stop", w.name)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range w.wrong {
		t.Errorf("writer %s: %s", w.name, s)
	}
	w.c.mu.Lock()
	for id, v := range w.acked {
		w.c.acked[id] = v
	}
	w.c.mu.Unlock()
	t.Logf("writer %s: %d writes acknowledged, %d not (last error: %v)", w.name, len(w.acked), w.failed, w.lastErr)
}

func (w *writer) run(ctx context.Context) {
	defer close(w.done)
	for i := 0; ; i++ {
		select {
		case <-w.stop:
			return
		default:
		}
		w.mu.Lock()
		var target = -1
		if len(w.targets) > 0 {
			target = w.targets[i%len(w.targets)]
		}
		after := w.lastHeight
		w.mu.Unlock()
		if target < 0 {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		id := fmt.Sprintf("%s/%s-%d", w.c.unit, w.name, i)
		text := fmt.Sprintf("%s write %d via %s", w.name, i, w.c.name(target))
		wctx, cancel := context.WithTimeout(ctx, writeTimeout)
		ans, err := w.send(wctx, w.c.cl[target], after, id, text)
		cancel()
		w.mu.Lock()
		switch {
		case err != nil:
			w.failed++
			w.lastErr = fmt.Errorf("%s via %s: %w", id, w.c.name(target), err)
		case ans.Result.ID != id || ans.Result.Version != 1 || ans.Height <= 0:
			w.wrong = append(w.wrong, fmt.Sprintf("%s via %s acknowledged as %+v", id, w.c.name(target), ans))
		default:
			w.acked[id] = text
			w.via[target]++
			w.lastHeight = max(w.lastHeight, ans.Height)
		}
		w.mu.Unlock()
		if err != nil {
			select {
			case <-w.stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
}

// send registers id through cl. It first waits (briefly) until that node
// has committed the writer's previous write, so that it signs with the
// account's current nonce: a node a block behind would hand out a nonce
// already used.
func (w *writer) send(ctx context.Context, cl *client.Client, after int64, id, text string) (client.TxAnswer, error) {
	key := registry.KeyText(w.c.cityKey.Public().(ed25519.PublicKey))
	deadline := time.Now().Add(5 * time.Second)
	for {
		acct, err := cl.Account(ctx, key)
		if err != nil {
			return client.TxAnswer{}, err
		}
		if acct.Height >= after {
			break
		}
		if time.Now().After(deadline) {
			return client.TxAnswer{}, fmt.Errorf("the node is at height %d, behind the last write's %d", acct.Height, after)
		}
		select {
		case <-ctx.Done():
			return client.TxAnswer{}, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	s, err := cl.NewSigner(ctx, w.c.cityKey)
	if err != nil {
		return client.TxAnswer{}, err
	}
	return s.Send(ctx, registry.KindRegister, registry.Register{ID: id, Values: []registry.Value{{Type: "TEXT", Data: text}}})
}
