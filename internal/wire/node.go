package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cityid/cityid/internal/registry"
)

// Version is the node software's version, reported in ABCI Info and the
// OpenAPI document.
const Version = "0.1.0"

// Errors the chain layer returns to readers, which every front end maps
// to its own answer (errors.Is).
var (
	// ErrNotFound: a block or transaction this node does not have.
	ErrNotFound = errors.New("not found")
	// ErrTimeout: a transaction was accepted into the mempool but not
	// committed within the wait.
	ErrTimeout = errors.New("transaction not committed in time")
	// ErrPruned: a block or state version below the oldest this node
	// keeps ([storage] keep_blocks and keep_versions, or a join by state
	// sync). A PrunedError says which.
	ErrPruned = errors.New("pruned")
)

// PrunedError names the height asked for and the oldest this node keeps.
// It is an ErrPruned and an ErrNotFound, so a caller that only knows "not
// here" answers as before.
type PrunedError struct {
	What   string // what was asked for: "block"
	Height int64
	Oldest int64
}

func (e *PrunedError) Error() string {
	return fmt.Sprintf("%s %d is pruned: this node keeps blocks from %d", e.What, e.Height, e.Oldest)
}

// Is makes a PrunedError both an ErrPruned and an ErrNotFound.
func (e *PrunedError) Is(target error) bool { return target == ErrPruned || target == ErrNotFound }

// TxResult is a committed transaction's result, as a submitter is told it.
type TxResult struct {
	Kind   string          `json:"kind,omitempty"`
	Hash   string          `json:"hash"`
	Height int64           `json:"height"`
	Code   uint32          `json:"code"`
	Err    *registry.Error `json:"error,omitempty"`
	Data   []byte          `json:"data,omitempty"`
}

// NodeStatus is what a node says of itself.
type NodeStatus struct {
	ChainID string `json:"chain_id"`
	NodeID  string `json:"node_id"`
	Moniker string `json:"moniker"`
	Height  int64  `json:"height"`
	AppHash string `json:"app_hash"`
	// BlockTime is the latest block's header time; absent before the
	// first block, when there is none.
	BlockTime  time.Time `json:"block_time,omitzero" jsonschema_description:"the latest block's header time; absent before the first block"`
	CatchingUp bool      `json:"catching_up"`
	Peers      int       `json:"peers"`
	// Validator and VotingPower say whether the node's validator key is
	// in the validator set of the latest block, and with what power;
	// before the first block (height 0), whether it is in the genesis's,
	// the set that signs block 1, whatever its peers have said.
	Validator   bool  `json:"validator" jsonschema_description:"whether this node's validator key is in the validator set of the latest block; at height 0, before the first block, whether it is in the genesis's validator set"`
	VotingPower int64 `json:"voting_power" jsonschema_description:"this node's voting power in that validator set (the genesis's at height 0); 0 when it is not in it"`
}

// TxInfo is a committed transaction as the explorer shows it.
type TxInfo struct {
	Hash   string              `json:"hash"`
	Height int64               `json:"height"`
	Index  uint32              `json:"index"`
	Code   uint32              `json:"code"`
	Error  *registry.Error     `json:"error,omitempty"`
	Result json.RawMessage     `json:"result,omitempty"`
	Tx     *registry.Inspected `json:"tx,omitempty"`
}

// BlockInfo is a committed block as the explorer shows it.
type BlockInfo struct {
	Height   int64     `json:"height"`
	Hash     string    `json:"hash"`
	Time     time.Time `json:"time"`
	ChainID  string    `json:"chain_id"`
	Proposer string    `json:"proposer"`
	// AppHash is the state after the previous block, which this block's
	// header signs.
	AppHash string   `json:"app_hash"`
	NumTxs  int      `json:"num_txs"`
	Txs     []TxInfo `json:"txs"`
}

// TxAnswer is the answer to POST /v1/txs for a committed transaction.
type TxAnswer struct {
	Hash   string           `json:"hash"`
	Height int64            `json:"height"`
	Result registry.Outcome `json:"result"`
}

// Account is the answer to GET /v1/accounts/{key}.
type Account struct {
	Height    int64  `json:"height"`
	Key       string `json:"key"`
	Nonce     uint64 `json:"nonce"`      // the last nonce used on the ledger; 0 for a new account
	NextNonce uint64 `json:"next_nonce"` // the nonce of the account's next transaction, counting those waiting in this node's mempool
	Pending   uint64 `json:"pending"`    // how many of the account's transactions wait in this node's mempool
}

// StatusAnswer is the answer to GET /v1/status.
type StatusAnswer struct {
	NodeStatus
	// Params and Authority are the network's, from committed state:
	// absent before the first block, when there is none.
	Params    registry.Params    `json:"params,omitzero" jsonschema_description:"the network's parameters; absent before the first block"`
	Authority registry.Authority `json:"authority,omitzero" jsonschema_description:"the registry authority; absent before the first block"`
	Build     Build              `json:"build"`
}

// Build is what a node's binary is (cityid version): its version, the API
// and protocol version it speaks, the commit it was built from and the
// versions of Go, CometBFT and IAVL in it.
type Build struct {
	Version    string `json:"version"`
	Protocol   string `json:"protocol"`
	Commit     string `json:"commit"`
	CommitTime string `json:"commit_time,omitempty"`
	Modified   bool   `json:"modified,omitempty"` // built from a work tree with changes not committed
	Go         string `json:"go"`
	CometBFT   string `json:"cometbft"`
	IAVL       string `json:"iavl"`
}

// Health is the answer of /healthz and /readyz.
type Health struct {
	Status string `json:"status"`
	Height int64  `json:"height,omitempty"`
}

// LightBlock is CometBFT's LightBlock in its own JSON encoding, as
// GET /v1/light/{h} answers it.
type LightBlock struct {
	SignedHeader map[string]any `json:"signed_header"`
	ValidatorSet map[string]any `json:"validator_set"`
}

// TrustRoot is the answer to GET /v1/trust: a header a browser or a light
// client may start trusting (chain, height, header hash and time), and the
// portal's address that pins it, which the trust QR code holds. It is
// worth what the channel it came by is worth: the registry authority
// prints it, a person scans it at a place they trust.
type TrustRoot struct {
	ChainID string    `json:"chain_id"`
	Height  int64     `json:"height"`
	Hash    string    `json:"hash"`
	Time    time.Time `json:"time"`
	URL     string    `json:"url"`
}
