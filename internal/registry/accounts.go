package registry

import (
	"bytes"
	"fmt"
)

// accountWrites is the state a block's transactions apply to: kv, with
// the nonces of accounts that already exist written once, at the block's
// end (BlockApply.End), rather than by every transaction. An account
// sends many transactions in a block, and each write of its key makes the
// tree copy the whole path down to it (IAVL v1 clones every node on the
// way of a Set): a tenth of a registration's sequential apply, for a value
// only the block's end needs. The tree comes out the same: the key
// exists, so writing it changes its value and not the tree's shape, and
// the nodes the block's writes leave new are the same whenever the
// value is written (TestAccountWritesSameTree). A key that does not exist
// yet (an account's first transaction) is written at once, in its
// turn, since inserts shape the tree in their order. Reads see the
// pending values. It is used by one goroutine.
type accountWrites struct {
	kv KV
	// pending holds the nonces to write at the end, by key, in the order
	// of their first write; existing notes account keys read present
	// in kv. Both are looked up only.
	pending  map[string][]byte
	order    []string
	existing map[string]struct{}
}

func newAccountWrites(kv KV) *accountWrites {
	return &accountWrites{kv: kv, pending: make(map[string][]byte), existing: make(map[string]struct{})}
}

func (a *accountWrites) Get(key []byte) ([]byte, error) {
	if v, ok := a.pending[string(key)]; ok {
		return v, nil
	}
	v, err := a.kv.Get(key)
	if err == nil && v != nil && bytes.HasPrefix(key, []byte(prefixAccount)) {
		a.existing[string(key)] = struct{}{}
	}
	return v, err
}

// Set keeps the value of an account key read present before (every
// transaction reads its account's nonce before writing it) for the end,
// and writes anything else at once.
func (a *accountWrites) Set(key, value []byte) error {
	k := string(key)
	if _, ok := a.existing[k]; ok {
		if _, queued := a.pending[k]; !queued {
			a.order = append(a.order, k)
		}
		a.pending[k] = value
		return nil
	}
	return a.kv.Set(key, value)
}

// Delete removes key at once; a pending value of it is dropped.
func (a *accountWrites) Delete(key []byte) error {
	k := string(key)
	if _, queued := a.pending[k]; queued {
		delete(a.pending, k)
		for i, o := range a.order {
			if o == k {
				a.order = append(a.order[:i], a.order[i+1:]...)
				break
			}
		}
	}
	delete(a.existing, k)
	return a.kv.Delete(key)
}

// end writes the pending values to kv, in the order of their first
// write.
func (a *accountWrites) end() error {
	for _, k := range a.order {
		if err := a.kv.Set([]byte(k), a.pending[k]); err != nil {
			return fmt.Errorf("write account %q: %w", k, err)
		}
	}
	clear(a.pending)
	a.order = a.order[:0]
	return nil
}
