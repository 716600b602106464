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
// share their node). A Get each was a lookup in goleveldb each, a tenth of
// a node's CPU under a bulk load, once in CheckTx and again reading ahead
// of the block. Absent walks the view's keys from the first key asked to
// the last instead, beside the keys asked: a run of new identifiers costs
// one seek, however long it is.
//
// Keys the view holds between them that were not asked about cost a step
// each; past a budget of such steps (len(keys), reached only when the keys
// asked interleave with many more held ones) the rest are read one by one,
// so no choice of keys makes it cost much more than a Get each.
//
// The walk is IAVL's iterator. On the latest version that is its fast
// index in goleveldb, which holds the latest committed version and
// nothing else while no commit runs; on an older version, that version's
// tree. A block's read-ahead never runs beside a commit (its reads end
// before FinalizeBlock returns), nor does CheckTx from the mempool
// (CometBFT locks the mempool for a commit). CheckTx through CometBFT's
// check_tx RPC route may: a walk that starts as a commit ends can then
// find keys of the newer version present, or miss keys it deleted. The
// registry asks only about record keys, which are never deleted, and only
// to spare reads: a key called present is read. Walking the version's tree
// on the latest version too would read nodes that the next block's
// writes copy, and IAVL clears their child pointers as it does: a race
// the detector reports (TestAbsentWhileWriting).
func (v *View) Absent(keys [][]byte) ([]bool, error) {
	absent, _, err := v.absent(keys)
	return absent, err
}

// absent is Absent, also counting the keys read one by one.
func (v *View) absent(keys [][]byte) (absent []bool, gets int, err error) {
	absent = make([]bool, len(keys))
	if len(keys) == 0 {
		return absent, 0, nil
	}
	for i := 1; i < len(keys); i++ {
		if bytes.Compare(keys[i-1], keys[i]) >= 0 {
			return nil, 0, fmt.Errorf("absent: key %d (%q) does not come after key %d (%q)", i+1, keys[i], i, keys[i-1])
		}
	}
	last := keys[len(keys)-1]
	end := append(append(make([]byte, 0, len(last)+1), last...), 0) // the first key after last
	it, err := v.tree.Iterator(keys[0], end, true)
	if err != nil {
		return nil, 0, fmt.Errorf("absent: walk from %q: %w", keys[0], err)
	}
	i, budget, ended := 0, len(keys), false
	for i < len(keys) && budget > 0 {
		if !it.Valid() {
			ended = true // the view holds no key past the last the walk gave
			break
		}
		held := it.Key()
		for i < len(keys) && bytes.Compare(keys[i], held) < 0 {
			absent[i] = true // between the last held key and this one
			i++
		}
		switch {
		case i == len(keys):
		case bytes.Equal(keys[i], held):
			i++ // held: absent[i] stays false
		default:
			budget-- // a held key not asked about
		}
		it.Next()
	}
	if err := it.Error(); err != nil {
		it.Close()
		return nil, 0, fmt.Errorf("absent: walk from %q: %w", keys[0], err)
	}
	if err := it.Close(); err != nil {
		return nil, 0, fmt.Errorf("absent: walk from %q: %w", keys[0], err)
	}
	if ended {
		for ; i < len(keys); i++ {
			absent[i] = true
		}
		return absent, 0, nil
	}
	// The budget ran out: the rest one by one.
	for ; i < len(keys); i++ {
		value, err := v.Get(keys[i])
		if err != nil {
			return nil, 0, fmt.Errorf("absent: read %q: %w", keys[i], err)
		}
		absent[i] = value == nil
		gets++
	}
	return absent, gets, nil
}
