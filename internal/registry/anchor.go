package registry

import (
	"fmt"

	"github.com/cityid/cityid/code"
)

// AnchorLog anchors the head of a dataset's access log (issue 12): after
// Entries entries the log's last entry hash is Head. The owner's node
// sends it periodically, so the owner cannot rewrite its log afterwards
// and a grantee can show its access was logged.
type AnchorLog struct {
	Dataset string `json:"dataset"`
	Entries uint64 `json:"entries"` // the log's length: entries 1..Entries
	Head    string `json:"head"`    // hex SHA-256 (64 lowercase hex) of entry Entries
	dataset code.ID
}

// Anchor is an anchored log head as the ledger keeps it: under
// AnchorKey(Dataset, Entries), one per anchor_log, and the latest again
// under the dataset's head key, so that the latest is one read (and one
// proof) away however many there are.
type Anchor struct {
	Dataset  string `json:"dataset"`
	Entries  uint64 `json:"entries"`
	Head     string `json:"head"`
	Signer   string `json:"signer"`
	Anchored Stamp  `json:"anchored"`
}

func (m *AnchorLog) validate(string) *Error {
	id, err := code.Parse(m.Dataset)
	if err != nil {
		return invalidID("dataset", m.Dataset, err)
	}
	m.dataset, m.Dataset = id, id.String()
	if m.Entries == 0 {
		return errorf(CodeInvalid, "entries is 0 or missing: a log is anchored after its first entry, so entries is at least 1")
	}
	if m.Entries > MaxAnchorEntries {
		return errorf(CodeInvalid, "entries %d is more than the %d allowed (2^53-1, what every reader's numbers hold exactly)", m.Entries, uint64(MaxAnchorEntries))
	}
	if !isHexText(m.Head, 64, false) {
		return errorf(CodeInvalid, "head %q is not a SHA-256 in 64 lowercase hex digits", clip(m.Head))
	}
	return nil
}

func (m *AnchorLog) apply(c *txContext) (Outcome, *Error) {
	// As for revoke_access: whatever became of the dataset since (its DATA
	// value dropped, the record or a node above deactivated), its admins
	// anchor its log, for the requests it refused are logged too. The
	// record must exist: an anchor names a dataset someone can look up.
	l, found, err := c.lineage(m.dataset)
	if err != nil {
		return Outcome{}, err
	}
	if !found {
		return Outcome{}, errorf(CodeNotFound, "dataset %s is not registered", m.Dataset)
	}
	if !l.selfAdmin && !l.parentAdmin {
		return Outcome{}, errorf(CodeUnauthorized, "key %s is not an admin of %s or of any node above it", c.signer, m.Dataset)
	}
	latest, ok, gerr := LatestAnchor(c.st, m.Dataset)
	if gerr != nil {
		return Outcome{}, internal("read latest anchor", gerr)
	}
	// A log only grows: anchoring the same count again, or fewer, would
	// let the owner put a second history beside the one anchored.
	// version_mismatch, as for an update against a stale version: the
	// sender's view of the ledger is behind, and reads the latest anchor.
	if ok && m.Entries <= latest.Entries {
		return Outcome{}, errorf(CodeVersionMismatch, "the log of %s is anchored at %d entries (height %d): a new anchor must count more than %d",
			m.Dataset, latest.Entries, latest.Anchored.Height, latest.Entries)
	}
	a := Anchor{Dataset: m.Dataset, Entries: m.Entries, Head: m.Head, Signer: c.signer, Anchored: c.stamp()}
	if err := putJSON(c.st, AnchorKey(m.Dataset, m.Entries), a); err != nil {
		return Outcome{}, internal("write anchor", err)
	}
	if err := putJSON(c.st, AnchorHeadKey(m.Dataset), a); err != nil {
		return Outcome{}, internal("write latest anchor", err)
	}
	return Outcome{ID: m.Dataset, Entries: m.Entries, Status: "anchored"}, nil
}

// LatestAnchor reads a dataset's latest anchor; ok is false when its log
// was never anchored. dataset is canonical.
func LatestAnchor(r Reader, dataset string) (Anchor, bool, error) {
	var a Anchor
	ok, err := getJSON(r, AnchorHeadKey(dataset), &a)
	return a, ok, err
}

// LatestAnchors calls fn with every dataset's latest anchor, in the order
// of their datasets' keys, until fn returns false.
func LatestAnchors(r Ranger, fn func(Anchor) bool) error {
	var derr error
	err := r.Iterate([]byte(prefixAnchorHead), nil, func(k, v []byte) bool {
		var a Anchor
		if derr = DecodeState(v, &a); derr != nil {
			derr = fmt.Errorf("decode %q: %w", k, derr)
			return false
		}
		return fn(a)
	})
	if err != nil {
		return err
	}
	return derr
}

// GetAnchors reads up to limit anchors of a dataset (canonical) whose
// Entries are more than after, ascending by Entries.
func GetAnchors(r Ranger, dataset string, after uint64, limit int) ([]Anchor, error) {
	out := []Anchor{}
	if limit <= 0 || after >= MaxAnchorEntries {
		return out, nil
	}
	var derr error
	err := r.Iterate(AnchorPrefix(dataset), AnchorKey(dataset, after+1), func(k, v []byte) bool {
		var a Anchor
		if derr = DecodeState(v, &a); derr != nil {
			derr = fmt.Errorf("decode %q: %w", k, derr)
			return false
		}
		out = append(out, a)
		return len(out) < limit
	})
	if err != nil {
		return nil, fmt.Errorf("list anchors of %s: %w", dataset, err)
	}
	if derr != nil {
		return nil, derr
	}
	return out, nil
}
