package accesslog

import (
	"fmt"
	"slices"
)

// AnchorHead is one anchor of a log on the ledger: the log had Entries
// entries and the last one's hash was Head.
type AnchorHead struct {
	Entries uint64 `json:"entries"`
	Head    string `json:"head"`
}

// Report is what Verify found. OK means every check held; otherwise Code
// (stable) and Problem (for a person) say what failed, and At the 1-based
// position of the first entry that failed (for an anchor past the end of
// the log, the anchor's entry count).
type Report struct {
	OK       bool   `json:"ok"`
	Entries  uint64 `json:"entries"`  // entries checked
	Anchored uint64 `json:"anchored"` // entries covered by the highest anchor that matched
	Code     string `json:"code,omitempty"`
	Problem  string `json:"problem,omitempty"`
	At       uint64 `json:"at,omitempty"`
}

// Stable codes of Report.Code.
const (
	ProblemSeq            = "bad_seq"         // numbering not 1, 2, 3… (an entry deleted, added or moved)
	ProblemDataset        = "wrong_dataset"   // an entry of another dataset's log
	ProblemPrev           = "bad_prev"        // Prev is not the previous entry's Hash
	ProblemHash           = "bad_hash"        // Hash is not ComputeHash: a field was changed
	ProblemAnchorMismatch = "anchor_mismatch" // the entry an anchor names has another hash
	ProblemTruncated      = "truncated"       // an anchor counts more entries than the log has
)

// Verify checks a whole log, from entry 1: numbering without gaps, one
// dataset, each Prev the previous Hash (ZeroHash for entry 1), each Hash
// recomputed; and the anchors from the ledger: entry N's hash is the head of
// every anchor of N entries, and no anchor is past the end of the log. It
// reports the first entry, in log order, where any of these fails. Pure.
func Verify(entries []Entry, anchors []AnchorHead) Report {
	sorted := slices.Clone(anchors)
	slices.SortStableFunc(sorted, func(a, b AnchorHead) int {
		switch {
		case a.Entries < b.Entries:
			return -1
		case a.Entries > b.Entries:
			return 1
		}
		return 0
	})
	r := Report{Entries: uint64(len(entries))}
	fail := func(code string, at uint64, format string, args ...any) Report {
		r.Code, r.At, r.Problem = code, at, fmt.Sprintf(format, args...)
		return r
	}
	next := 0 // first anchor not yet checked
	for next < len(sorted) && sorted[next].Entries == 0 {
		if sorted[next].Head != ZeroHash {
			return fail(ProblemAnchorMismatch, 0, "an anchor of 0 entries has head %s, not the empty log's", sorted[next].Head)
		}
		next++
	}
	prev := ZeroHash
	for i, e := range entries {
		n := uint64(i) + 1
		switch {
		case e.Seq != n:
			return fail(ProblemSeq, n, "entry %d is numbered %d", n, e.Seq)
		case i > 0 && e.Dataset != entries[0].Dataset:
			return fail(ProblemDataset, n, "entry %d is of dataset %q, the log of %q", n, e.Dataset, entries[0].Dataset)
		case e.Prev != prev:
			return fail(ProblemPrev, n, "entry %d has prev %s, but entry %d's hash is %s", n, e.Prev, n-1, prev)
		}
		if h := e.ComputeHash(); e.Hash != h {
			return fail(ProblemHash, n, "entry %d has hash %s, but its fields hash to %s", n, e.Hash, h)
		}
		for next < len(sorted) && sorted[next].Entries == n {
			if sorted[next].Head != e.Hash {
				return fail(ProblemAnchorMismatch, n, "the ledger anchored entry %d with head %s, the log has %s", n, sorted[next].Head, e.Hash)
			}
			r.Anchored = n
			next++
		}
		prev = e.Hash
	}
	if next < len(sorted) {
		a := sorted[next]
		return fail(ProblemTruncated, a.Entries, "the ledger anchored %d entries, the log has %d", a.Entries, len(entries))
	}
	r.OK = true
	return r
}
