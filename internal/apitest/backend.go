package apitest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/cityid/cityid/internal/api"
	"github.com/cityid/cityid/internal/store"
	"github.com/cityid/cityid/internal/wire"
)

// ErrNoChain is what Backend answers to anything but a read of state:
// there is no mempool, block store or light client behind it.
var ErrNoChain = errors.New("store-backed backend: reads of committed state only, no chain")

// Backend is an api.Backend over committed state in a store: Latest and At
// read it, Status describes it; submitting, blocks, transactions and light
// blocks are refused with ErrNoChain. Reads go to the same store type
// (IAVL, in memory or on goleveldb) a node reads, so what the API answers
// over it is what a node answers; only what CometBFT keeps is missing.
type Backend struct {
	Store *store.Store
	// ChainID and Moniker are what Status reports.
	ChainID, Moniker string
}

var _ api.Backend = Backend{}

// NewEmptyBackend is a Backend over a store in memory with nothing
// committed: a node before its first block. The store is closed when the
// test ends.
func NewEmptyBackend(t testing.TB) Backend {
	t.Helper()
	st, err := store.OpenMemory(store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return Backend{Store: st, ChainID: ChainID}
}

// Latest is the store's last committed state; nil before the first commit.
func (b Backend) Latest() *store.View { return b.Store.Latest() }

// At is committed state at a height.
func (b Backend) At(h int64) (*store.View, error) { return b.Store.At(h) }

// PendingNonce: no mempool, so no account has transactions waiting.
func (b Backend) PendingNonce(string) (uint64, bool) { return 0, false }

// Status is the store's height and app hash under the configured chain ID.
func (b Backend) Status(context.Context) (wire.NodeStatus, error) {
	return wire.NodeStatus{ChainID: b.ChainID, Moniker: b.Moniker, Height: b.Store.Version(), AppHash: fmt.Sprintf("%X", b.Store.Hash())}, nil
}

// Submit is refused: there is no chain to commit to.
func (b Backend) Submit(context.Context, []byte) (wire.TxResult, error) {
	return wire.TxResult{}, ErrNoChain
}

// Block is refused: there is no block store.
func (b Backend) Block(context.Context, int64) (wire.BlockInfo, error) {
	return wire.BlockInfo{}, ErrNoChain
}

// Tx is refused: there is no transaction index.
func (b Backend) Tx(context.Context, string) (wire.TxInfo, error) {
	return wire.TxInfo{}, ErrNoChain
}

// LightBlock is refused: there are no signed headers.
func (b Backend) LightBlock(context.Context, int64) (json.RawMessage, error) {
	return nil, ErrNoChain
}
