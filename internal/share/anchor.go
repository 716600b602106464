package share

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"time"

	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/wire"
)

// Anchoring is how a node anchors its access logs' heads on the ledger.
type Anchoring struct {
	Key     ed25519.PrivateKey
	ChainID string
	// Submit puts a signed transaction in the mempool and waits for its
	// commit.
	Submit func(ctx context.Context, tx []byte) (wire.TxResult, error)
	// PendingNonce is the next nonce of an account with transactions in
	// the mempool (api.Backend.PendingNonce).
	PendingNonce func(key string) (uint64, bool)
	Logger       *slog.Logger
}

// AnchorAll anchors the head of every access log that grew since the
// ledger's latest anchor of it and whose dataset the key administers. It
// returns the anchors committed.
func (s *Service) AnchorAll(ctx context.Context, a Anchoring) ([]registry.Anchor, error) {
	datasets, err := s.opts.Log.Datasets()
	if err != nil {
		return nil, fmt.Errorf("list access logs: %w", err)
	}
	signer := registry.KeyText(a.Key.Public().(ed25519.PublicKey))
	var out []registry.Anchor
	for _, ds := range datasets {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		anchor, ok, err := s.anchorOne(ctx, a, signer, ds)
		if err != nil {
			return out, err
		}
		if ok {
			out = append(out, anchor)
		}
	}
	return out, nil
}

// anchorOne anchors one log when it grew; ok is false when there was
// nothing to anchor or the key has no right to.
func (s *Service) anchorOne(ctx context.Context, a Anchoring, signer, dataset string) (registry.Anchor, bool, error) {
	id, err := code.Parse(dataset)
	if err != nil {
		return registry.Anchor{}, false, fmt.Errorf("access log of %q: %w", dataset, err)
	}
	entries, head, err := s.opts.Log.Head(dataset)
	if err != nil || entries == 0 {
		return registry.Anchor{}, false, err
	}
	view := s.opts.Latest()
	if view == nil {
		return registry.Anchor{}, false, nil
	}
	last, found, err := registry.LatestAnchor(view, dataset)
	if err != nil {
		return registry.Anchor{}, false, fmt.Errorf("read the latest anchor of %s: %w", dataset, err)
	}
	if found && last.Entries >= entries {
		return registry.Anchor{}, false, nil
	}
	if ok, err := adminOfLineage(s.readsAt(view), view, id, signer); err != nil || !ok {
		if err == nil && a.Logger != nil {
			a.Logger.Warn("access log not anchored: the anchor key is not an admin of the dataset or of a node above it",
				"dataset", dataset, "key", signer)
		}
		return registry.Anchor{}, false, err
	}
	nonce, err := registry.AccountNonce(view, signer)
	if err != nil {
		return registry.Anchor{}, false, fmt.Errorf("read the nonce of %s: %w", signer, err)
	}
	nonce++
	if next, ok := a.PendingNonce(signer); ok && next > nonce {
		nonce = next
	}
	msg := registry.AnchorLog{Dataset: dataset, Entries: entries, Head: head}
	body, err := registry.NewBody(registry.KindAnchorLog, nonce, msg)
	if err != nil {
		return registry.Anchor{}, false, err
	}
	tx, err := registry.Sign(a.ChainID, body, a.Key).Encode()
	if err != nil {
		return registry.Anchor{}, false, fmt.Errorf("sign the anchor of %s: %w", dataset, err)
	}
	res, err := a.Submit(ctx, tx)
	if err != nil {
		return registry.Anchor{}, false, fmt.Errorf("anchor %s at entry %d: %w", dataset, entries, err)
	}
	if res.Code != wire.ABCIOK {
		return registry.Anchor{}, false, fmt.Errorf("anchor %s at entry %d refused: %v", dataset, entries, res.Err)
	}
	return registry.Anchor{Dataset: dataset, Entries: entries, Head: head, Signer: signer,
		Anchored: registry.Stamp{Height: res.Height, Tx: res.Hash}}, true, nil
}

// RunAnchoring anchors the logs that grew every interval until ctx ends.
// A failure is logged and tried again at the next turn.
func (s *Service) RunAnchoring(ctx context.Context, every time.Duration, a Anchoring) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		anchors, err := s.AnchorAll(ctx, a)
		if err != nil && ctx.Err() == nil && a.Logger != nil {
			a.Logger.Warn("anchoring access logs failed; trying again at the next turn", "err", err)
		}
		for _, an := range anchors {
			if a.Logger != nil {
				a.Logger.Info("access log anchored", "dataset", an.Dataset, "entries", an.Entries, "height", an.Anchored.Height)
			}
		}
	}
}
