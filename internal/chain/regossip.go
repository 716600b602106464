package chain

import (
	"time"

	"github.com/cityid/cityid/internal/registry"
)

// A network that makes blocks only when transactions wait (consensus
// create_empty_blocks = false) can leave a transaction stuck: the node it
// was sent to gossips it at once, and a validator still committing the
// block before refuses it (its nonce or the record it needs is not there
// yet) and drops it; CometBFT never sends it again. When the validators
// that hold it have less than 2/3 of the power and the proposer is not
// among them, no block comes, since the others wait for transactions.
// An empty block a second hid this: the proposer turned, and reached a
// holder. Here the node that holds transactions no block has taken for a
// while puts them into its mempool again, which gossips them again, to
// peers that have caught up since.
const (
	// stuckAfter is how long transactions may wait with no new block
	// before they are gossiped again: more than a round that times out
	// (CometBFT's timeout_propose, 3s) and a commit.
	stuckAfter = 5 * time.Second
	// stuckCheck is how often the node looks.
	stuckCheck = time.Second
)

// watchStuck gossips the mempool's transactions again whenever they have
// waited stuckAfter with no new block, until stop is closed. It runs in
// its own goroutine, which Stop ends before CometBFT stops.
func (n *Node) watchStuck(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(stuckCheck)
	defer t.Stop()
	last, since := n.node.BlockStore().Height(), time.Now()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		h := n.node.BlockStore().Height()
		switch {
		case h != last, n.node.Mempool().Size() == 0, n.node.ConsensusReactor().WaitSync():
			// Blocks come, nothing waits, or the node is still syncing
			// and its mempool is not what holds the network back.
			last, since = h, time.Now()
		case time.Since(since) >= stuckAfter:
			n.regossip()
			since = time.Now()
		}
	}
}

// regossip empties the mempool and checks its transactions again, in
// their order: each comes back as a new entry, which the mempool reactor
// sends to every peer. Flush also empties the mempool's cache of seen
// transactions, which would otherwise refuse them as duplicates; the
// application's view of what waits is emptied with it and rebuilt by the
// checks, as after a block. A transaction that arrives between the reap
// and the flush is lost from this node's mempool (its sender's wait ends
// in a timeout, never in a false acknowledgement): the price of a
// mempool with no "send again" of its own.
func (n *Node) regossip() {
	mp := n.node.Mempool()
	txs := mp.ReapMaxTxs(-1)
	if len(txs) == 0 {
		return
	}
	n.log.Info("transactions waited with no block: gossiping them again", "txs", len(txs), "height", n.node.BlockStore().Height())
	mp.Flush()
	if n.app != nil {
		n.app.forgetPending()
	}
	for _, tx := range txs {
		// The application checks it as a new transaction; one the state
		// now refuses is dropped, as a recheck would drop it.
		if _, err := mp.CheckTx(tx, ""); err != nil {
			n.log.Debug("transaction not taken back", "tx", registry.TxHash(tx), "err", err)
		}
	}
	// The consensus engine, waiting for transactions, is told they are
	// there once a height; if that word came while it could not act on
	// it, it waits on. An update of the mempool at the height it is at
	// says it again (and rechecks what waits, as after a block, so the
	// application's view of it starts afresh as after a block).
	mp.Lock()
	defer mp.Unlock()
	if n.app != nil {
		n.app.forgetPending()
	}
	if err := mp.Update(n.node.BlockStore().Height(), nil, nil, nil, nil); err != nil {
		n.log.Warn("mempool update after gossiping again", "err", err)
	}
}

// forgetPending empties the application's view of the mempool's
// accounts, when the mempool has been emptied other than by a block.
func (a *App) forgetPending() {
	a.mu.Lock()
	clear(a.pending)
	a.mu.Unlock()
}
