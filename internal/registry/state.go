package registry

import (
	"encoding/json"
	"fmt"
	"slices"

	jsonv2 "github.com/go-json-experiment/json"
)

// Reader is read access to ledger state: a committed version of the Merkle
// tree, or the working state of the block being applied. Get returns nil and
// no error for a missing key.
type Reader interface {
	Get(key []byte) ([]byte, error)
}

// AbsenceReader is a Reader that also says which of many keys, in
// ascending order without repeats, it does not hold, for less than a Get
// each: a committed view of the store (store.View.Absent). Reading ahead
// (ReadAhead) asks it about a batch's new identifiers.
type AbsenceReader interface {
	Reader
	Absent(keys [][]byte) ([]bool, error)
}

// Ranger is a Reader that also walks the keys under a prefix in order,
// from start (inclusive; nil for the first) while fn returns true: a
// committed view of the store. Reads that list (GetAnchors) need it;
// applying a transaction never does, so KV does not have it.
type Ranger interface {
	Reader
	Iterate(prefix, start []byte, fn func(key, value []byte) bool) error
}

// KV is read and write access to the working state of a block.
type KV interface {
	Reader
	Set(key, value []byte) error
	Delete(key []byte) error
}

// overlay buffers the writes of one transaction over the block's state. It
// is flushed to the block's state only when the transaction succeeds, in the
// order the writes were first made: the Merkle tree's shape depends on the
// order of its writes, so the order must be the same on every node, which a
// map's iteration order is not.
//
// Most transactions write two or three keys (a record and the account's
// nonce, a child index): an overlay holds its first few writes in arrays of
// its own and finds them by comparing keys, and builds an index only when
// it holds more (a pending state's, a batch's). A map for every
// transaction was a tenth of what CheckTx allocated.
type overlay struct {
	base  Reader
	order []string       // the keys, in first-write order
	vals  []write        // vals[i] is the last write of order[i]
	index map[string]int // position in order; nil up to smallOverlay writes
	// The first smallOverlay keys and writes, in the overlay's own
	// allocation.
	smallKeys [smallOverlay]string
	smallVals [smallOverlay]write
}

// smallOverlay is how many writes an overlay finds without an index:
// comparing a key with a few others costs less than hashing it.
const smallOverlay = 4

type write struct {
	value   []byte
	deleted bool
	// stamp, when not nil, makes value a new record's head, and the
	// record withStamps(value, stamp): made when the write is read or
	// reaches the store, not when it is staged. CheckTx stages every
	// record of a batch on its account's pending state, where nearly none
	// is read again, and the head is the prepared transaction's already.
	stamp []byte
}

// bytes is the value w writes.
func (w write) bytes() []byte {
	if w.stamp != nil {
		return withStamps(w.value, w.stamp)
	}
	return w.value
}

func newOverlay(base Reader) *overlay {
	o := &overlay{base: base}
	o.order, o.vals = o.smallKeys[:0], o.smallVals[:0]
	return o
}

// find returns the position of key among the writes, or -1.
func (o *overlay) find(key []byte) int {
	if o.index != nil {
		if i, ok := o.index[string(key)]; ok {
			return i
		}
		return -1
	}
	for i, k := range o.order {
		if k == string(key) {
			return i
		}
	}
	return -1
}

// has reports whether the overlay holds a write of key.
func (o *overlay) has(key []byte) bool { return o.find(key) >= 0 }

func (o *overlay) Get(key []byte) ([]byte, error) {
	if i := o.find(key); i >= 0 {
		if o.vals[i].deleted {
			return nil, nil
		}
		return o.vals[i].bytes(), nil
	}
	return o.base.Get(key)
}

func (o *overlay) Set(key, value []byte) error {
	o.put(key, write{value: value})
	return nil
}

func (o *overlay) Delete(key []byte) error {
	o.put(key, write{deleted: true})
	return nil
}

// put records w as the write of key.
func (o *overlay) put(key []byte, w write) {
	if i := o.find(key); i >= 0 {
		o.vals[i] = w
		return
	}
	o.add(string(key), w)
}

// putText is put of a key held as text already: it is not copied.
func (o *overlay) putText(k string, w write) {
	if i := o.find([]byte(k)); i >= 0 { // a conversion only compared: no copy
		o.vals[i] = w
		return
	}
	o.add(k, w)
}

// add records the write of a key the overlay does not hold yet.
func (o *overlay) add(k string, w write) {
	o.order = append(o.order, k)
	o.vals = append(o.vals, w)
	switch {
	case o.index != nil:
		o.index[k] = len(o.order) - 1
	case len(o.order) > smallOverlay:
		o.index = make(map[string]int, 2*len(o.order))
		for i, k := range o.order {
			o.index[k] = i
		}
	}
}

// reserve makes room for n more writes, for a transaction that knows how
// many it makes (a batch): an index made for them is not grown and copied
// a dozen times on the way to thousands of keys. An index made already
// grows as maps do.
func (o *overlay) reserve(n int) {
	if n <= smallOverlay {
		return
	}
	o.order = slices.Grow(o.order, n)
	o.vals = slices.Grow(o.vals, n)
	if o.index == nil {
		o.index = make(map[string]int, len(o.order)+n)
		for i, k := range o.order {
			o.index[k] = i
		}
	}
}

// flush writes the buffered writes to kv in first-write order.
func (o *overlay) flush(kv KV) error {
	if dst, ok := kv.(*overlay); ok {
		// Onto another overlay (a transaction staged on its account's
		// pending state, a pending state rebased): its keys are strings
		// already, and KV's []byte would copy each twice.
		dst.reserve(len(o.order))
		for i, k := range o.order {
			dst.putText(k, o.vals[i])
		}
		return nil
	}
	for i, k := range o.order {
		w := o.vals[i]
		var err error
		if w.deleted {
			err = kv.Delete([]byte(k))
		} else {
			err = kv.Set([]byte(k), w.bytes())
		}
		if err != nil {
			return fmt.Errorf("flush %q: %w", k, err)
		}
	}
	return nil
}

// getJSON reads key into v. It reports whether the key exists.
func getJSON(r Reader, key []byte, v any) (bool, error) {
	b, err := r.Get(key)
	if err != nil {
		return false, fmt.Errorf("get %q: %w", key, err)
	}
	if b == nil {
		return false, nil
	}
	if err := DecodeState(b, v); err != nil {
		return false, fmt.Errorf("decode %q: %w", key, err)
	}
	return true, nil
}

// DecodeState decodes a value the registry wrote into state (putJSON:
// encoding/json's output, valid UTF-8, no repeated or differently cased
// names) into v, a zero value. It runs encoding/json/v2's engine (the
// go-json-experiment mirror of the standard library's v2), three times
// faster than v1 on a record with a third of the allocations: reading
// records is most of a resolver's work and much of a registration's. On
// such input both engines give the same values (TestRecordGolden's "state
// decoders agree", FuzzStateDecoders); they differ only on input putJSON
// never writes (names in another case, repeated names, lone surrogates).
// Built with Go 1.27 or later, or GOEXPERIMENT=jsonv2, the module is an
// alias of the standard library's encoding/json/v2, the same engine.
func DecodeState(b []byte, v any) error { return jsonv2.Unmarshal(b, v) }

// putJSON writes v under key. encoding/json writes struct fields in their
// declared order and the registry's state types hold no maps, so the bytes
// are the same on every node. A stored Record is also the wire form of the
// HTTP API's record (GET /v1/ids sends the bytes as they are): a change
// to Record's fields changes both, and old records keep their old form.
func putJSON(kv KV, key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		// Only content can fail to encode (a time outside years 0–9999):
		// a refusal of the transaction, never a store failure.
		return errorf(CodeInvalid, "%q cannot be encoded: %v", key, err)
	}
	if err := kv.Set(key, b); err != nil {
		return fmt.Errorf("set %q: %w", key, err)
	}
	return nil
}
