package registry

import (
	"bytes"
	"fmt"
	"slices"
)

// Reading ahead. A registration must find its identifier unregistered,
// and in a block of register_batch transactions that read is a fifth of
// the sequential apply's time per identifier: a lookup of a missing key
// in the tree and its database, work the tree's writes alone do not
// need. It can be done before the apply, on other cores, against the
// state the block starts from: an identifier absent there is absent when
// its transaction applies unless the block wrote it in between, which
// the apply knows without reading the tree (BlockApply keeps the keys
// its transactions wrote). A fact read ahead only ever spares a read: an
// identifier found there, or written since, is read as before, so every
// verdict is the sequential definition's (TestBlockWorkers).

// Absent is what ReadAhead found of a transaction's new identifiers: the
// record keys the state the block starts from does not hold. The zero
// value knows nothing.
type Absent struct {
	keys map[string]struct{} // looked up only
}

// ReadAhead reads which of the identifiers tx would register are absent
// from base, the state the block holding tx starts from. It does not
// change tx and may run on any goroutine, if base may be read there.
// Only register (with an identifier, not allocate) and register_batch
// register identifiers known before the apply; for other kinds it knows
// nothing. A base that is an AbsenceReader is asked about them all at
// once, in key order, when there are enough of them (minAbsentKeys); any
// other is read a key at a time.
func (m *Machine) ReadAhead(base Reader, tx *Tx) (Absent, error) {
	var keys [][]byte
	switch msg := tx.msg.(type) {
	case *Register:
		if msg.Allocate {
			return Absent{}, nil
		}
		keys = [][]byte{RecordKey(msg.id.String())}
	case *RegisterBatch:
		// Validation left each entry's identifier in its canonical text,
		// and refused repeats.
		keys = make([][]byte, len(msg.Entries))
		for i := range msg.Entries {
			keys[i] = RecordKey(msg.Entries[i].ID)
		}
	default:
		return Absent{}, nil
	}
	a := Absent{keys: make(map[string]struct{}, len(keys))}
	if ar, ok := base.(AbsenceReader); ok && len(keys) >= minAbsentKeys {
		// A batch's entries travel grouped by node, in the order given;
		// the keys are sorted here, the map holds them in any order.
		slices.SortFunc(keys, bytes.Compare)
		keys = slices.CompactFunc(keys, bytes.Equal)
		absent, err := ar.Absent(keys)
		if err != nil {
			return Absent{}, fmt.Errorf("read ahead: %w", err)
		}
		for i, key := range keys {
			if absent[i] {
				a.keys[string(key)] = struct{}{}
			}
		}
		return a, nil
	}
	for _, key := range keys {
		v, err := base.Get(key)
		if err != nil {
			return Absent{}, fmt.Errorf("read ahead %q: %w", key, err)
		}
		if v == nil {
			a.keys[string(key)] = struct{}{}
		}
	}
	return a, nil
}

// asksAtOnce reports whether tx registers enough identifiers for
// ReadAhead to ask an AbsenceReader about them all at once: staging reads
// ahead only then, since reading ahead one identifier is the read the
// apply would make, with a map and a closure more.
func asksAtOnce(tx *Tx) bool {
	b, ok := tx.msg.(*RegisterBatch)
	return ok && len(b.Entries) >= minAbsentKeys
}

// minAbsentKeys is how many keys make asking an AbsenceReader about them
// all at once cheaper than a Get each: a walk starts with a goleveldb
// iterator, ~1.8 µs on a small store against ~0.7 µs a Get
// (BenchmarkAbsent), and more where the store has more tables.
const minAbsentKeys = 16

// ahead is what an apply knows without reading the tree: the transaction's
// facts read ahead, and what was written since the state they were read
// from: the keys the block's applied transactions wrote (written), or a
// pending state's staged transactions (staged).
type ahead struct {
	absent  Absent
	written map[string]struct{}
	staged  *overlay
	// read, when not nil, reads absent when it is first needed: staging
	// reads ahead only once the transaction has got as far as its first
	// new identifier, past the checks of its signer's rights, so that a
	// batch of a key with no rights is refused for what that costs, not
	// after thousands of identifiers were looked up for it. A read that
	// fails leaves the transaction to read for itself.
	read func() (Absent, error)
}

// unregistered reports whether key is known to be absent from the
// working state as the transaction sees it (its own writes in o): absent
// from the block's starting state, and written neither by the block's
// earlier transactions (or the pending state's staged ones) nor by this
// one. False means: read it.
func (a *ahead) unregistered(key []byte, o *overlay) bool {
	if a == nil {
		return false
	}
	if a.read != nil {
		if absent, err := a.read(); err == nil {
			a.absent = absent
		}
		a.read = nil
	}
	if a.absent.keys == nil {
		return false
	}
	k := string(key) // map lookups with a converted key do not allocate
	if _, ok := a.absent.keys[k]; !ok {
		return false
	}
	if _, ok := a.written[k]; ok {
		return false
	}
	if a.staged != nil && a.staged.has(key) {
		return false
	}
	return !o.has(key)
}
