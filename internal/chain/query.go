package chain

import (
	"context"
	"errors"
	"fmt"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtcrypto "github.com/cometbft/cometbft/api/cometbft/crypto/v1"

	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/store"
	"github.com/cityid/cityid/internal/wire"
)

// ProofOpType is the type of the proof operation a query with prove=true
// returns: an ICS23 commitment proof over the IAVL tree, as Cosmos SDK
// chains name it, so tools that already verify those verify ours.
const ProofOpType = wire.ProofType

// Query paths.
const (
	QueryID  = "/id"  // data: an identifier (any case); value: its record
	QueryKey = "/key" // data: a raw state key; value: what is stored there
)

// Query answers ABCI queries from committed state: at the latest version,
// or at req.Height when it is set. With req.Prove the answer carries an
// ICS23 proof (existence, or non-existence for a missing key) that verifies
// against the app hash in the header of block Height+1; a proof of the
// latest state is read at the version that settled it (store.View.Settled),
// so that header exists on a quiet chain.
func (a *App) Query(_ context.Context, req *abci.QueryRequest) (*abci.QueryResponse, error) {
	var key []byte
	switch req.Path {
	case QueryID:
		id, err := code.Parse(string(req.Data))
		if err != nil {
			return queryError(registry.CodeInvalidID, fmt.Sprintf("identifier %q: %v", req.Data, err)), nil
		}
		key = registry.RecordKey(id.String())
	case QueryKey:
		if len(req.Data) == 0 {
			return queryError(registry.CodeInvalid, "query /key needs a key in data"), nil
		}
		key = req.Data
	default:
		return queryError(registry.CodeInvalid, fmt.Sprintf("unknown query path %q: use %s or %s", req.Path, QueryID, QueryKey)), nil
	}
	view, err := a.viewAt(req.Height)
	if err != nil {
		return queryError(registry.CodeNotFound, err.Error()), nil
	}
	if req.Prove && req.Height == 0 && view.Settled() < view.Version() {
		// As the HTTP API does: the latest blocks changed nothing, and the
		// header after the settled version already signs its hash, where
		// the latest's next header waits for the next write.
		if settled, err := a.store.At(view.Settled()); err == nil {
			view = settled
		}
	}
	resp := &abci.QueryResponse{Key: key, Height: view.Version(), Codespace: Codespace}
	if !req.Prove {
		value, err := view.Get(key)
		if err != nil {
			return nil, fmt.Errorf("query %q at %d: %w", key, view.Version(), err)
		}
		resp.Value = value
	} else {
		value, proof, err := view.Proof(key)
		if err != nil {
			return nil, fmt.Errorf("query %q at %d: %w", key, view.Version(), err)
		}
		data, err := proof.Marshal()
		if err != nil {
			return nil, fmt.Errorf("encode proof of %q: %w", key, err)
		}
		resp.Value = value
		resp.ProofOps = &cmtcrypto.ProofOps{Ops: []cmtcrypto.ProofOp{{Type: ProofOpType, Key: key, Data: data}}}
	}
	if resp.Value == nil {
		resp.Log = "does not exist"
	} else {
		resp.Log = "exists"
	}
	return resp, nil
}

func (a *App) viewAt(height int64) (*store.View, error) {
	if height == 0 {
		if v := a.store.Latest(); v != nil {
			return v, nil
		}
		return nil, errors.New("no block committed yet")
	}
	v, err := a.store.At(height)
	if err != nil {
		return nil, fmt.Errorf("height %d is not in this node's state (latest %d): %w", height, a.store.Version(), err)
	}
	return v, nil
}

func queryError(c, msg string) *abci.QueryResponse {
	return &abci.QueryResponse{Code: ABCICode(&registry.Error{Code: c}), Log: msg, Info: c, Codespace: Codespace}
}
