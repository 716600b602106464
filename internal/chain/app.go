package chain

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cmted25519 "github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/store"
)

// AppVersion is the version of the state machine's rules, reported to
// CometBFT in Info. Raise it with every change that changes which
// transactions are valid or what they write.
const AppVersion uint64 = 1

// Version is the software version reported in Info.
const Version = "0.1.0"

var _ abci.Application = (*App)(nil)

// App is the ABCI application.
type App struct {
	abci.BaseApplication

	machine *registry.Machine
	store   *store.Store
	log     *slog.Logger
	sigs    *sigCache
	commits *Notifier

	// mempool is the mempool connection's view: the next nonce of every
	// account with transactions waiting, so that one account may queue
	// several transactions in one block. Reset at every commit; CometBFT
	// rechecks what is left in the mempool right after.
	mu      sync.Mutex
	pending map[string]uint64
	last    registry.Block // the last committed block, for CheckTx's dry runs

	// The block being finalized, between FinalizeBlock and Commit: only the
	// consensus connection touches these.
	height  int64
	results []TxResult
	hashes  []string
}

// TxResult is a committed transaction's result, as a submitter is told it.
type TxResult struct {
	Hash   string          `json:"hash"`
	Height int64           `json:"height"`
	Code   uint32          `json:"code"`
	Err    *registry.Error `json:"error,omitempty"`
	Data   []byte          `json:"data,omitempty"`
}

// NewApp returns the application over st for the chain chainID.
func NewApp(chainID string, st *store.Store, log *slog.Logger) *App {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &App{
		machine: registry.New(chainID),
		store:   st,
		log:     log,
		sigs:    newSigCache(sigCacheSize),
		commits: NewNotifier(),
		pending: make(map[string]uint64),
	}
}

// Commits is where submitters wait for their transactions.
func (a *App) Commits() *Notifier { return a.commits }

// Machine is the application's state machine.
func (a *App) Machine() *registry.Machine { return a.machine }

// Info tells CometBFT the last block the application committed, so that the
// handshake replays exactly the blocks the store does not have.
func (a *App) Info(context.Context, *abci.InfoRequest) (*abci.InfoResponse, error) {
	return &abci.InfoResponse{
		Data:             "cityid",
		Version:          Version,
		AppVersion:       AppVersion,
		LastBlockHeight:  a.store.Version(),
		LastBlockAppHash: a.store.Hash(),
	}, nil
}

// InitChain writes the registry's genesis state. It is saved with the first
// block, as Cosmos SDK chains do, so a node stopped before its first commit
// simply runs InitChain again.
func (a *App) InitChain(_ context.Context, req *abci.InitChainRequest) (*abci.InitChainResponse, error) {
	a.store.Rollback()
	a.store.SetInitialVersion(req.InitialHeight)
	vals := make([]registry.Validator, len(req.Validators))
	for i, v := range req.Validators {
		if v.PubKeyType != cmted25519.KeyType {
			return nil, fmt.Errorf("init chain %s: validator %d has a %s key; CityID validators use ed25519", req.ChainId, i+1, v.PubKeyType)
		}
		vals[i] = registry.Validator{PubKey: hex.EncodeToString(v.PubKeyBytes), Power: v.Power}
	}
	if err := a.machine.InitGenesis(a.store, req.AppStateBytes, vals); err != nil {
		return nil, fmt.Errorf("init chain %s: %w", req.ChainId, err)
	}
	a.log.Info("genesis state written", "chain_id", req.ChainId, "initial_height", req.InitialHeight)
	return &abci.InitChainResponse{AppHash: a.store.WorkingHash()}, nil
}

// CheckTx admits a transaction to the mempool: its envelope, signature and
// body are checked, its nonce must be the account's next one (counting
// transactions already waiting), and, when the account has nothing waiting,
// it is run against committed state so that a transaction bound to fail
// never enters a block.
func (a *App) CheckTx(_ context.Context, req *abci.CheckTxRequest) (*abci.CheckTxResponse, error) {
	hash := sha256.Sum256(req.Tx)
	tx, rerr := a.machine.Prepare(req.Tx)
	if rerr != nil {
		return checkTxResponse(rerr), nil
	}
	a.sigs.add(hash)

	view := a.store.Latest()
	var committed uint64
	if view != nil {
		n, err := registry.AccountNonce(view, tx.Signer)
		if err != nil {
			return nil, fmt.Errorf("check tx %s: %w", tx.Hash, err)
		}
		committed = n
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	want, queued := a.pending[tx.Signer]
	if !queued {
		want = committed + 1
	}
	if err := registry.CheckNonce(tx.Nonce, want); err != nil {
		if tx.Nonce < want && tx.Nonce > committed {
			err.Msg = fmt.Sprintf("nonce %d is taken by a transaction waiting in the mempool; the account's next nonce is %d", tx.Nonce, want)
		}
		return checkTxResponse(err), nil
	}
	if !queued && view != nil {
		next := registry.Block{Height: a.last.Height + 1, Time: a.last.Time}
		if err := a.machine.DryRun(view, next, tx); err != nil {
			return checkTxResponse(err), nil
		}
	}
	a.pending[tx.Signer] = tx.Nonce + 1
	return &abci.CheckTxResponse{Code: CodeOK}, nil
}

func checkTxResponse(err *registry.Error) *abci.CheckTxResponse {
	return &abci.CheckTxResponse{Code: ABCICode(err), Log: err.Msg, Info: err.Code, Codespace: Codespace}
}

// FinalizeBlock applies a decided block to the store's working version.
func (a *App) FinalizeBlock(_ context.Context, req *abci.FinalizeBlockRequest) (*abci.FinalizeBlockResponse, error) {
	blk := registry.Block{Height: req.Height, Time: req.Time}
	results, err := a.machine.ApplyBlock(a.store, blk, req.Txs, func(tx []byte) bool {
		return a.sigs.has(sha256.Sum256(tx))
	})
	if err != nil {
		// A store failure: this node cannot apply the block. Returning
		// the error stops the node rather than let it go on with state
		// it cannot trust.
		return nil, fmt.Errorf("finalize block %d: %w", req.Height, err)
	}
	resp := &abci.FinalizeBlockResponse{TxResults: make([]*abci.ExecTxResult, len(results))}
	a.height = req.Height
	a.results = make([]TxResult, len(results))
	a.hashes = make([]string, len(results))
	for i, r := range results {
		res := &abci.ExecTxResult{Code: ABCICode(r.Err), Data: r.Data, Codespace: Codespace}
		if r.Err != nil {
			res.Log, res.Info, res.Data = r.Err.Msg, r.Err.Code, nil
		}
		resp.TxResults[i] = res
		h := registry.TxHash(req.Txs[i])
		a.hashes[i] = h
		a.results[i] = TxResult{Hash: h, Height: req.Height, Code: res.Code, Err: r.Err, Data: res.Data}
	}
	for _, r := range results {
		for _, v := range r.Validators {
			pub, err := hex.DecodeString(v.PubKey)
			if err != nil {
				return nil, fmt.Errorf("finalize block %d: validator key %q: %w", req.Height, v.PubKey, err)
			}
			resp.ValidatorUpdates = append(resp.ValidatorUpdates, abci.ValidatorUpdate{PubKeyType: cmted25519.KeyType, PubKeyBytes: pub, Power: v.Power})
		}
	}
	resp.AppHash = a.store.WorkingHash()
	a.mu.Lock()
	a.last = blk
	a.mu.Unlock()
	return resp, nil
}

// Commit saves the block's state. Only after the save are submitters told
// that their transactions are on the ledger.
func (a *App) Commit(context.Context, *abci.CommitRequest) (*abci.CommitResponse, error) {
	hash, version, err := a.store.Commit()
	if err != nil {
		return nil, fmt.Errorf("commit block %d: %w", a.height, err)
	}
	if version != a.height && a.height != 0 {
		return nil, fmt.Errorf("commit block %d: store saved version %d", a.height, version)
	}
	a.mu.Lock()
	clear(a.pending)
	a.mu.Unlock()
	a.commits.publish(a.results)
	a.log.Debug("committed", "height", version, "app_hash", fmt.Sprintf("%X", hash), "txs", len(a.results))
	a.results, a.hashes = nil, nil
	return &abci.CommitResponse{}, nil
}

// PendingNonce returns the next nonce of an account that has transactions
// waiting in the mempool; ok is false when it has none.
func (a *App) PendingNonce(signer string) (next uint64, ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	next, ok = a.pending[signer]
	return next, ok
}

// LastBlock is the last block the application finalized.
func (a *App) LastBlock() registry.Block {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.last
}

// sigCacheSize bounds the signature cache: a few blocks' worth of mempool.
const sigCacheSize = 200_000

// sigCache remembers transactions whose signature CheckTx verified, so that
// FinalizeBlock does not verify them again. The key is the hash of the whole
// transaction, signature included: a hit means these exact bytes verified.
// It holds no consensus state: a miss only costs a verification.
type sigCache struct {
	mu   sync.Mutex
	set  map[[32]byte]struct{}
	ring [][32]byte
	next int
}

func newSigCache(size int) *sigCache {
	return &sigCache{set: make(map[[32]byte]struct{}, size), ring: make([][32]byte, size)}
}

func (c *sigCache) add(h [32]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.set[h]; ok {
		return
	}
	old := c.ring[c.next]
	delete(c.set, old)
	c.ring[c.next] = h
	c.next = (c.next + 1) % len(c.ring)
	c.set[h] = struct{}{}
}

func (c *sigCache) has(h [32]byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.set[h]
	return ok
}

// Notifier lets submitters wait for their transaction's commit, and
// remembers the results of the last recentResults committed transactions
// for a submitter who sends a transaction again.
type Notifier struct {
	mu      sync.Mutex
	waiters map[string][]chan TxResult
	recent  map[string]TxResult
	ring    []string
	next    int
}

// recentResults bounds the Notifier's memory of committed results.
const recentResults = 20_000

// NewNotifier returns an empty Notifier.
func NewNotifier() *Notifier {
	return &Notifier{
		waiters: make(map[string][]chan TxResult),
		recent:  make(map[string]TxResult),
		ring:    make([]string, recentResults),
	}
}

// Watch registers interest in a transaction hash; call it before the
// transaction is submitted so its commit cannot be missed. The returned
// cancel must be called when the caller stops waiting.
func (n *Notifier) Watch(hash string) (<-chan TxResult, func()) {
	ch := make(chan TxResult, 1)
	n.mu.Lock()
	n.waiters[hash] = append(n.waiters[hash], ch)
	n.mu.Unlock()
	return ch, func() {
		n.mu.Lock()
		defer n.mu.Unlock()
		list := n.waiters[hash]
		for i, c := range list {
			if c == ch {
				list = append(list[:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(n.waiters, hash)
		} else {
			n.waiters[hash] = list
		}
	}
}

// Recent returns the result of a recently committed transaction.
func (n *Notifier) Recent(hash string) (TxResult, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	r, ok := n.recent[hash]
	return r, ok
}

func (n *Notifier) publish(results []TxResult) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, r := range results {
		if old := n.ring[n.next]; old != "" {
			delete(n.recent, old)
		}
		n.ring[n.next] = r.Hash
		n.next = (n.next + 1) % len(n.ring)
		n.recent[r.Hash] = r
		for _, ch := range n.waiters[r.Hash] {
			select {
			case ch <- r:
			default:
			}
		}
	}
}

// WaitTimeout is how long a submitter waits for its commit by default.
const WaitTimeout = 30 * time.Second
