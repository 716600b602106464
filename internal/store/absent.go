package store

import (
	"bytes"
	"fmt"
)

// Absent reports which of keys the view does not hold: absent[i] is true
// when keys[i] is absent. keys must be in ascending order, without
// repeats.
//
// A registration must find its identifier free, and a register_batch
// brings thousands of new identifiers that sort next to each other (they
// share their node). A Get each was a read of the fast index in goleveldb
// each, a tenth of a node's CPU under a bulk load, once in CheckTx and
// again reading ahead of the block. Absent asks the tree instead how many
// keys lie between two of them (the rank IAVL's GetWithIndex gives): when
// none do, every key between is absent without a read of its own. A run
// of new identifiers costs two descents of the tree, however long it is.
//
// Keys the view holds between them split the run in two, each judged the
// same way; past a budget of descents (a fraction of len(keys), reached
// only when keys interleave with many the view holds) the rest are read
// one by one, so no choice of keys makes it cost much more than a Get
// each.
//
// It reads this version's tree, never the fast index (which always holds
// the latest version), so the answer is this version's whatever is
// committed meanwhile.
func (v *View) Absent(keys [][]byte) ([]bool, error) {
	absent, _, err := v.absent(keys)
	return absent, err
}

// absent is Absent, also counting the descents of the tree it made.
func (v *View) absent(keys [][]byte) (absent []bool, descents int, err error) {
	absent = make([]bool, len(keys))
	if len(keys) == 0 {
		return absent, 0, nil
	}
	for i := 1; i < len(keys); i++ {
		if bytes.Compare(keys[i-1], keys[i]) >= 0 {
			return nil, 0, fmt.Errorf("absent: key %d (%q) does not come after key %d (%q)", i+1, keys[i], i, keys[i-1])
		}
	}
	if v.tree.Size() == 0 {
		for i := range absent {
			absent[i] = true
		}
		return absent, 0, nil
	}
	budget := 2 + len(keys)/4
	w := absenceWalk{v: v, keys: keys, absent: absent, budget: budget}
	first, err := w.rank(0)
	if err != nil {
		return nil, 0, err
	}
	if len(keys) > 1 {
		last, err := w.rank(len(keys) - 1)
		if err != nil {
			return nil, 0, err
		}
		if err := w.between(0, len(keys)-1, first, last); err != nil {
			return nil, 0, err
		}
	}
	return absent, budget - w.budget, nil
}

// absenceWalk is one call of Absent.
type absenceWalk struct {
	v      *View
	keys   [][]byte
	absent []bool
	budget int // descents of the tree left before keys are read one by one
}

// keyRank is where a key sits in the tree: how many keys it holds that
// come before it, and whether it holds the key itself.
type keyRank struct {
	before int64
	held   bool
}

// rank finds keys[i]'s rank and records whether it is absent.
func (w *absenceWalk) rank(i int) (keyRank, error) {
	w.budget--
	before, value, err := w.v.tree.GetWithIndex(w.keys[i])
	if err != nil {
		return keyRank{}, fmt.Errorf("absent: rank %q: %w", w.keys[i], err)
	}
	// The store never holds an empty value (Set refuses one), so a nil
	// value is an absent key.
	held := value != nil
	w.absent[i] = !held
	return keyRank{before: before, held: held}, nil
}

// between judges the keys strictly between keys[i] and keys[j], whose
// ranks are ri and rj.
func (w *absenceWalk) between(i, j int, ri, rj keyRank) error {
	if j-i < 2 {
		return nil
	}
	held := rj.before - ri.before // the tree's keys from keys[i] to before keys[j]
	if ri.held {
		held--
	}
	if held == 0 {
		for k := i + 1; k < j; k++ {
			w.absent[k] = true
		}
		return nil
	}
	if w.budget <= 0 {
		for k := i + 1; k < j; k++ {
			value, err := w.v.Get(w.keys[k])
			if err != nil {
				return fmt.Errorf("absent: read %q: %w", w.keys[k], err)
			}
			w.absent[k] = value == nil
		}
		return nil
	}
	m := (i + j) / 2
	rm, err := w.rank(m)
	if err != nil {
		return err
	}
	if err := w.between(i, m, ri, rm); err != nil {
		return err
	}
	return w.between(m, j, rm, rj)
}
