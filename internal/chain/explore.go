package chain

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	cmtjson "github.com/cometbft/cometbft/libs/json"
	"github.com/cometbft/cometbft/types"

	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/store"
	"github.com/cityid/cityid/internal/wire"
)

// At returns committed state at height h.
func (n *Node) At(h int64) (*store.View, error) { return n.store.At(h) }

// BlockTime returns the header time of block h, without its
// transactions: what a grant's expiry is compared with.
func (n *Node) BlockTime(ctx context.Context, h int64) (time.Time, error) {
	hdr, err := n.client.Header(ctx, &h)
	if err != nil {
		return time.Time{}, notFound(err, "header %d", h)
	}
	if hdr.Header == nil {
		return time.Time{}, fmt.Errorf("header %d: %w", h, wire.ErrNotFound)
	}
	return hdr.Header.Time, nil
}

// Block returns block h (0: the latest) with its transactions and results.
func (n *Node) Block(ctx context.Context, h int64) (wire.BlockInfo, error) {
	if err := n.checkKept("block", h); err != nil {
		return wire.BlockInfo{}, err
	}
	if h <= 0 {
		// The latest block whose results are stored: CometBFT saves a
		// block before it executes it, so its own latest can be a block
		// without results yet. The app's committed version always has
		// them (they are saved before Commit).
		h = n.store.Version()
	}
	b, err := n.client.Block(ctx, &h)
	if err != nil {
		return wire.BlockInfo{}, notFound(err, "block %d", h)
	}
	if b.Block == nil {
		// A node that joined by state sync has no blocks before its
		// snapshot, and none at all until the first after it.
		return wire.BlockInfo{}, fmt.Errorf("block %d: %w (this node joined by state sync and does not store it)", h, wire.ErrNotFound)
	}
	res, err := n.client.BlockResults(ctx, &b.Block.Height)
	if err != nil {
		return wire.BlockInfo{}, notFound(err, "results of block %d", b.Block.Height)
	}
	out := wire.BlockInfo{
		Height: b.Block.Height, Hash: b.BlockID.Hash.String(), Time: b.Block.Time, ChainID: b.Block.ChainID,
		Proposer: b.Block.ProposerAddress.String(), AppHash: b.Block.AppHash.String(),
		NumTxs: len(b.Block.Txs), Txs: make([]wire.TxInfo, len(b.Block.Txs)),
	}
	for i, tx := range b.Block.Txs {
		out.Txs[i] = n.txInfo(tx, b.Block.Height, uint32(i), res.TxResults[i].Code, res.TxResults[i].Log, res.TxResults[i].Data)
	}
	return out, nil
}

// Tx returns a committed transaction by its hash (hex).
func (n *Node) Tx(ctx context.Context, hash string) (wire.TxInfo, error) {
	h, err := hex.DecodeString(hash)
	if err != nil || len(h) != 32 {
		return wire.TxInfo{}, fmt.Errorf("transaction hash %q is not 64 hex digits", hash)
	}
	r, err := n.client.Tx(ctx, h, false)
	if err != nil {
		// CometBFT indexes a block's transactions after the block is
		// committed, so a client that was just told its transaction is
		// committed may ask before the index has it: answer from the
		// block the commit named.
		if info, ok := n.recentTx(ctx, strings.ToUpper(hash)); ok {
			return info, nil
		}
		return wire.TxInfo{}, notFound(err, "transaction %s", strings.ToUpper(hash))
	}
	return n.txInfo(r.Tx, r.Height, r.Index, r.TxResult.Code, r.TxResult.Log, r.TxResult.Data), nil
}

// recentTx finds a transaction the app committed lately in its block.
func (n *Node) recentTx(ctx context.Context, hash string) (wire.TxInfo, bool) {
	if n.app == nil {
		return wire.TxInfo{}, false
	}
	res, ok := n.app.Commits().Recent(hash)
	if !ok {
		return wire.TxInfo{}, false
	}
	b, err := n.Block(ctx, res.Height)
	if err != nil {
		return wire.TxInfo{}, false
	}
	for _, tx := range b.Txs {
		if tx.Hash == hash {
			return tx, true
		}
	}
	return wire.TxInfo{}, false
}

// txInfo is a committed transaction as the explorer shows it; a refusal
// comes whole (with an invalid identifier's reason and position), as a
// submission's answer does.
func (n *Node) txInfo(tx types.Tx, height int64, index uint32, code uint32, log string, data []byte) wire.TxInfo {
	out := wire.TxInfo{Hash: registry.TxHash(tx), Height: height, Index: index, Code: code}
	if code != CodeOK {
		out.Error = n.refusal(tx, code, log)
	} else if json.Valid(data) {
		out.Result = data
	}
	if in, err := registry.Inspect(tx); err == nil {
		out.Tx = &in
	}
	return out
}

// LightBlock returns the signed header and validator set of height h in
// CometBFT's JSON encoding: what a light client needs to verify that
// header, and with it the app hash of height h-1.
func (n *Node) LightBlock(ctx context.Context, h int64) (json.RawMessage, error) {
	// CometBFT keeps the headers and commits of pruned blocks within the
	// evidence age, but not always their validator sets: a block below
	// the base is refused as a whole, the same way every time.
	if err := n.checkKept("block", h); err != nil {
		return nil, err
	}
	lb, err := n.lightBlock(ctx, h)
	if err != nil {
		return nil, err
	}
	if err := lb.ValidateBasic(lb.ChainID); err != nil {
		return nil, fmt.Errorf("light block %d: %w", h, err)
	}
	b, err := cmtjson.Marshal(lb)
	if err != nil {
		return nil, fmt.Errorf("encode light block %d: %w", h, err)
	}
	return b, nil
}

// notFound marks CometBFT's answers for heights and hashes it does not
// have, which it reports as plain errors.
func notFound(err error, format string, args ...any) error {
	msg := err.Error()
	if strings.Contains(msg, "must be less than or equal") || strings.Contains(msg, "not found") ||
		strings.Contains(msg, "must be greater than") || strings.Contains(msg, "is not available") ||
		strings.Contains(msg, "could not find") {
		return fmt.Errorf("%s: %w (%s)", fmt.Sprintf(format, args...), wire.ErrNotFound, msg)
	}
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), err)
}
