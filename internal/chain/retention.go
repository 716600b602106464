package chain

import (
	"sync/atomic"

	"github.com/cityid/cityid/internal/wire"
)

// Retention says how much history a node keeps. Zero keeps everything:
// blocks, transactions and reads at ?height=H work back to the first
// block. An identifier's history is kept in the state itself and needs no
// old versions.
type Retention struct {
	// KeepBlocks keeps the last so many blocks (with their results):
	// Commit raises CometBFT's retain height to latest-KeepBlocks+1, and
	// CometBFT prunes below it in the background. Never above the oldest
	// state sync snapshot this node offers, whose header and the two after
	// it a joining node's light client asks for.
	KeepBlocks int64
	// KeepVersions keeps the last so many versions of the state; Commit
	// deletes the older ones from the store. The version that settled the
	// latest root hash (store.View.Settled) and one a snapshot is being
	// taken of are kept whatever this says.
	KeepVersions int64
}

// blockBase reads the oldest block CometBFT's block store holds; set once
// the node runs (nil during the handshake's replay, when Commit returns no
// retain height).
type blockBase = atomic.Pointer[func() int64]

// retain prunes the store's old versions after version was committed, and
// returns the retain height for CometBFT (0: prune nothing).
func (a *App) retain(version int64) int64 {
	r := a.keep
	if r.KeepVersions > 0 {
		to := version - r.KeepVersions
		if h, ok := a.snaps.inProgress(); ok {
			to = min(to, h-1)
		}
		if err := a.store.Prune(to); err != nil {
			// A snapshot's export holds the version; the next commit
			// prunes it instead.
			a.log.Debug("state versions not pruned yet", "to", to, "err", err)
		}
	}
	if r.KeepBlocks <= 0 {
		return 0
	}
	base := a.base.Load()
	if base == nil {
		return 0
	}
	h := version - r.KeepBlocks + 1
	if hs := a.snaps.heights(); len(hs) > 0 {
		h = min(h, hs[0])
	}
	if taking, ok := a.snaps.inProgress(); ok {
		h = min(h, taking)
	}
	// CometBFT refuses (and logs) a retain height below its base: a node
	// that joined by state sync has no blocks before its snapshot.
	if h <= 1 || h <= (*base)() {
		return 0
	}
	return h
}

// checkKept says, as a *PrunedError, that block h is older than the
// oldest block the node holds; nil when it is not.
func (n *Node) checkKept(what string, h int64) error {
	if base := n.node.BlockStore().Base(); h > 0 && h < base {
		return &wire.PrunedError{What: what, Height: h, Oldest: base}
	}
	return nil
}
