package registry

import (
	"encoding/json"
	"fmt"

	jsonv2 "github.com/go-json-experiment/json"
)

// Reader is read access to ledger state: a committed version of the Merkle
// tree, or the working state of the block being applied. Get returns nil and
// no error for a missing key.
type Reader interface {
	Get(key []byte) ([]byte, error)
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
type overlay struct {
	base   Reader
	writes map[string]write
	order  []string
}

type write struct {
	value   []byte
	deleted bool
}

func newOverlay(base Reader) *overlay {
	return &overlay{base: base, writes: make(map[string]write)}
}

func (o *overlay) Get(key []byte) ([]byte, error) {
	if w, ok := o.writes[string(key)]; ok {
		if w.deleted {
			return nil, nil
		}
		return w.value, nil
	}
	return o.base.Get(key)
}

func (o *overlay) Set(key, value []byte) error {
	o.put(string(key), write{value: value})
	return nil
}

func (o *overlay) Delete(key []byte) error {
	o.put(string(key), write{deleted: true})
	return nil
}

func (o *overlay) put(k string, w write) {
	if _, ok := o.writes[k]; !ok {
		o.order = append(o.order, k)
	}
	o.writes[k] = w
}

// flush writes the buffered writes to kv in first-write order.
func (o *overlay) flush(kv KV) error {
	if dst, ok := kv.(*overlay); ok {
		// Onto another overlay (a transaction staged on its account's
		// pending state, a pending state rebased): its keys are strings
		// already, and KV's []byte would copy each twice.
		for _, k := range o.order {
			dst.put(k, o.writes[k])
		}
		return nil
	}
	for _, k := range o.order {
		w := o.writes[k]
		var err error
		if w.deleted {
			err = kv.Delete([]byte(k))
		} else {
			err = kv.Set([]byte(k), w.value)
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
