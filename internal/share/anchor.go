package share

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/internal/accesslog"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/store"
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
	// QuietEvery is how often, at most, a log is anchored when none of
	// its entries since its latest anchor names a grantee
	// (DefaultQuietAnchorEvery when 0).
	QuietEvery time.Duration
}

// DefaultQuietAnchorEvery bounds how often the node anchors a log that
// grew only by requests naming no grantee: anonymous reads of a public
// dataset, requests by keys that hold no grant, its own admins'. Anyone
// can make such entries, so anchoring them every anchor_every would let a
// stranger make the chain grow by one transaction per dataset per
// interval with no record changed. Nobody holds a right those entries
// must prove, and the next anchor covers them anyway (the chain hashes
// every entry before it): a day bounds what an owner could rewrite.
const DefaultQuietAnchorEvery = 24 * time.Hour

// AnchorAll anchors the head of every access log that is due (anchorDue)
// and whose dataset the key administers. It returns the anchors
// committed.
func (s *Service) AnchorAll(ctx context.Context, a Anchoring) ([]registry.Anchor, error) {
	return s.anchorAll(ctx, a, nil)
}

// CheckAnchoredLogs holds every access log the key may anchor that no
// longer holds its latest anchor (holdIfForked), and releases those that
// do again; AnchorAll does the same for each log it looks at.
func (s *Service) CheckAnchoredLogs(ctx context.Context, a Anchoring) error {
	datasets, err := s.opts.Log.Datasets()
	if err != nil {
		return fmt.Errorf("list access logs: %w", err)
	}
	view := s.opts.Latest()
	if view == nil {
		return nil
	}
	signer := registry.KeyText(a.Key.Public().(ed25519.PublicKey))
	// Every log is looked at, whatever another's failure: one log that
	// refuses to load must not leave the others unchecked.
	var errs []error
	have := make(map[string]bool, len(datasets)) // looked up only
	for _, ds := range datasets {
		have[ds] = true
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		if err := s.checkAnchored(a, signer, view, ds); err != nil {
			errs = append(errs, err)
		}
	}
	// A log this node's key anchored and whose file is gone (the logs
	// folder lost): appended to, it would number entries from 1 again
	// under anchored numbers. Only the ledger knows of it.
	var missing []registry.Anchor
	if err := registry.LatestAnchors(view, func(an registry.Anchor) bool {
		if an.Signer == signer && an.Entries > 0 && !have[an.Dataset] {
			missing = append(missing, an)
		}
		return ctx.Err() == nil
	}); err != nil {
		errs = append(errs, fmt.Errorf("read the ledger's anchors: %w", err))
	}
	for _, an := range missing {
		problem := fmt.Errorf("the access log of %s is missing, though this node's key anchored %d entries of it (height %d): appending would number entries from 1 again under anchored numbers; restore the log (a copy with the anchored entries) and restart", an.Dataset, an.Entries, an.Anchored.Height)
		if err := s.opts.Log.Hold(an.Dataset, problem); err != nil {
			errs = append(errs, err)
			continue
		}
		if a.Logger != nil {
			a.Logger.Error("access log held: requests to the dataset are refused until it is repaired", "dataset", an.Dataset, "err", problem)
		}
	}
	return errors.Join(errs...)
}

// checkAnchored is CheckAnchoredLogs for one dataset's log.
func (s *Service) checkAnchored(a Anchoring, signer string, view *store.View, dataset string) error {
	id, err := code.Parse(dataset)
	if err != nil {
		return fmt.Errorf("access log of %q: %w", dataset, err)
	}
	last, _, err := registry.LatestAnchor(view, dataset)
	if err != nil {
		return fmt.Errorf("read the latest anchor of %s: %w", dataset, err)
	}
	if last.Entries == 0 {
		return nil
	}
	st, err := s.opts.Log.Status(dataset)
	if err != nil {
		return err
	}
	_, err = s.holdIfForked(a, signer, view, id, dataset, st, last)
	return err
}

// anchorAll is AnchorAll; warned, when not nil, holds the datasets whose
// log the key cannot anchor and that were warned of already, so that the
// loop warns once, not every turn.
func (s *Service) anchorAll(ctx context.Context, a Anchoring, warned map[string]bool) ([]registry.Anchor, error) {
	datasets, err := s.opts.Log.Datasets()
	if err != nil {
		return nil, fmt.Errorf("list access logs: %w", err)
	}
	signer := registry.KeyText(a.Key.Public().(ed25519.PublicKey))
	var out []registry.Anchor
	// Every log is looked at, whatever another's failure: one that does
	// not load, or whose anchor is refused, must not leave the others
	// unanchored and unchecked turn after turn.
	var errs []error
	for _, ds := range datasets {
		if err := ctx.Err(); err != nil {
			return out, errors.Join(append(errs, err)...)
		}
		anchor, ok, err := s.anchorOne(ctx, a, signer, ds, warned)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			out = append(out, anchor)
		}
	}
	return out, errors.Join(errs...)
}

// anchorOne anchors one log when it is due; ok is false when it was not
// or the key has no right to.
func (s *Service) anchorOne(ctx context.Context, a Anchoring, signer, dataset string, warned map[string]bool) (registry.Anchor, bool, error) {
	id, err := code.Parse(dataset)
	if err != nil {
		return registry.Anchor{}, false, fmt.Errorf("access log of %q: %w", dataset, err)
	}
	st, err := s.opts.Log.Status(dataset)
	if err != nil {
		return registry.Anchor{}, false, err
	}
	entries, head := st.Entries, st.Head
	view := s.opts.Latest()
	if view == nil {
		return registry.Anchor{}, false, nil
	}
	last, _, err := registry.LatestAnchor(view, dataset) // none: 0 entries anchored
	if err != nil {
		return registry.Anchor{}, false, fmt.Errorf("read the latest anchor of %s: %w", dataset, err)
	}
	if last.Entries > 0 {
		// Before anchorDue, whose "nothing new" is also what a log that
		// lost anchored entries looks like.
		if ok, err := s.holdIfForked(a, signer, view, id, dataset, st, last); err != nil || !ok {
			return registry.Anchor{}, false, err
		}
	}
	if entries == 0 {
		return registry.Anchor{}, false, nil
	}
	if due, err := s.anchorDue(a, dataset, st, last.Entries); err != nil || !due {
		return registry.Anchor{}, false, err
	}
	if ok, err := adminOfLineage(s.readsAt(view), view, id, signer); err != nil || !ok {
		if err == nil && !warned[dataset] && a.Logger != nil {
			// Once per dataset in a loop (a mirror's logs are never
			// its key's to anchor), until the key may again.
			a.Logger.Warn("access log not anchored: the anchor key is not an admin of the dataset or of a node above it (said once)",
				"dataset", dataset, "key", signer)
		}
		if err == nil && warned != nil {
			warned[dataset] = true
		}
		return registry.Anchor{}, false, err
	}
	delete(warned, dataset)
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

// holdIfForked checks this node's log of a dataset against its latest
// anchor on the ledger: the log must still hold the anchored entry, with
// the anchored hash. A log behind its anchor (entries lost: a disk repair,
// a log restored from an old copy) or holding another entry there would,
// extended, give anchored numbers other hashes and, anchored again, fork
// the chain the ledger vouches for. Such a log is held (accesslog.Hold:
// requests that would be logged are refused with access_log_held, fail
// closed) and warned of at every turn, until repaired; ok is false then.
// Only a log this key may anchor is this node's anchored log: a mirror's
// log of another city's dataset is not the one its anchors name.
func (s *Service) holdIfForked(a Anchoring, signer string, view *store.View, id code.ID, dataset string, st accesslog.Status, last registry.Anchor) (bool, error) {
	if ok, err := adminOfLineage(s.readsAt(view), view, id, signer); err != nil || !ok {
		return true, err // left to anchorOne, which warns of it
	}
	if last.Signer != signer {
		// Anchored by another key (a standby node, a mirror whose key
		// administers a node above, `cityid data anchor` run
		// elsewhere): that anchor names another node's log, never this
		// one's, and holding this log would be forever, since the ledger
		// takes no lower anchor.
		return true, nil
	}
	var problem error
	if st.Entries < last.Entries {
		problem = fmt.Errorf("the access log of %s has %d entries, behind its latest anchor of %d (height %d): anchored entries are gone; appending would fork the anchored chain; restore the log (a copy with the anchored entries, or its side files) and restart", dataset, st.Entries, last.Entries, last.Anchored.Height)
	} else {
		at, err := s.opts.Log.Entries(dataset, last.Entries-1, 1)
		if err != nil {
			return false, fmt.Errorf("read entry %d of the access log of %s: %w", last.Entries, dataset, err)
		}
		if len(at) != 1 || at[0].Seq != last.Entries || at[0].Hash != last.Head {
			problem = fmt.Errorf("the access log of %s does not hold its anchored entry %d (height %d) with the anchored hash: the log forked from its anchor; restore the log and restart", dataset, last.Entries, last.Anchored.Height)
		}
	}
	if problem == nil {
		if held := s.opts.Log.Held(dataset); held != nil {
			// The file may match again (an operator copied a good log
			// over it), but this process's chain state (its count and
			// last hash) was read from the bad one: an append now would
			// chain onto that. A restart reads the file again and checks
			// it before anything is served.
			if a.Logger != nil {
				a.Logger.Error("access log held: its file matches its anchor again; restart the node to serve it", "dataset", dataset, "err", held)
			}
			return false, nil
		}
		return true, nil
	}
	if err := s.opts.Log.Hold(dataset, problem); err != nil {
		return false, err
	}
	if a.Logger != nil {
		// Every turn: the dataset refuses every logged request meanwhile.
		a.Logger.Error("access log held: requests to the dataset are refused until it is repaired", "dataset", dataset, "err", problem)
	}
	return false, nil
}

// anchorDue says whether a log that stands at st, and whose latest anchor
// on the ledger covers anchored entries, is to be anchored now: at once
// when an entry since names a grantee (a grantee may need to prove its
// access), otherwise once its oldest entry not anchored is QuietEvery old
// (DefaultQuietAnchorEvery), by this node's clock, as the entries' times
// are.
func (s *Service) anchorDue(a Anchoring, dataset string, st accesslog.Status, anchored uint64) (bool, error) {
	if anchored >= st.Entries {
		return false, nil
	}
	if st.LastGrantee > anchored {
		return true, nil
	}
	every := a.QuietEvery
	if every <= 0 {
		every = DefaultQuietAnchorEvery
	}
	first, err := s.opts.Log.Entries(dataset, anchored, 1)
	if err != nil {
		return false, fmt.Errorf("read entry %d of the access log of %s: %w", anchored+1, dataset, err)
	}
	if len(first) == 0 {
		return false, nil
	}
	at, err := time.Parse(time.RFC3339Nano, first[0].Time)
	if err != nil {
		// The node wrote it; a time it cannot read is no reason to hold
		// an anchor back.
		return true, nil
	}
	return !s.opts.Now().Before(at.Add(every)), nil
}

// RunAnchoring anchors the logs that are due every interval until ctx
// ends. A failure is logged and tried again at the next turn; a log the
// key may not anchor is warned of once.
func (s *Service) RunAnchoring(ctx context.Context, every time.Duration, a Anchoring) {
	t := time.NewTicker(every)
	defer t.Stop()
	warned := map[string]bool{}
	// At once, not an interval after a start: a log that lost anchored
	// entries (a crash recovery refused, a repair) is held before the
	// requests of a whole interval are appended to it.
	if err := s.CheckAnchoredLogs(ctx, a); err != nil && ctx.Err() == nil && a.Logger != nil {
		a.Logger.Warn("checking access logs against their anchors failed; checked again at the next turn", "err", err)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		anchors, err := s.anchorAll(ctx, a, warned)
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
