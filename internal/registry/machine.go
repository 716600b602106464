package registry

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"time"
)

// Block is what the state machine knows of the block it applies: its height
// and the time in its header.
type Block struct {
	Height int64
	Time   time.Time
}

// Result is the outcome of one transaction. Err is nil when it was applied;
// Data is then its JSON result (the new code, id or version).
type Result struct {
	// Kind is the transaction's kind, "" when it did not decode.
	Kind string
	Err  *Error
	Data []byte
	// Validators are the validator set changes the transaction made.
	Validators []ValidatorUpdate
}

// Outcome is what an applied transaction reports (Result.Data): the fields
// its kind sets.
type Outcome struct {
	ID          string `json:"id,omitempty"`      // the identifier written
	Version     uint64 `json:"version,omitempty"` // its version after the write
	Application uint64 `json:"application,omitempty"`
	Status      string `json:"status,omitempty"` // application or record status
	Approvals   int    `json:"approvals,omitempty"`
	Rejections  int    `json:"rejections,omitempty"`
	Threshold   int    `json:"threshold,omitempty"`
	CityCode    string `json:"city_code,omitempty"` // set when a city code is issued
	Count       int    `json:"count,omitempty"`     // identifiers written by a batch
	Proposal    string `json:"proposal,omitempty"`  // a governance proposal's id
}

// ValidatorUpdate changes a validator's voting power (0 removes it). The
// chain layer hands these to CometBFT, where they take effect two blocks on.
type ValidatorUpdate struct {
	PubKey string `json:"pub_key"` // Ed25519, hex
	Power  int64  `json:"power"`
}

// Machine applies transactions of one chain. It holds no state of its own
// beyond the chain ID: state is passed in on every call, so one Machine
// serves CheckTx and FinalizeBlock at once.
type Machine struct {
	chainID string
	workers int
}

// New returns the state machine of the chain chainID.
func New(chainID string) *Machine {
	return &Machine{chainID: chainID, workers: runtime.GOMAXPROCS(0)}
}

// ChainID is the chain this machine signs and verifies for.
func (m *Machine) ChainID() string { return m.chainID }

// Prepare runs every check that needs no state: envelope shape, signature,
// body and message validation.
func (m *Machine) Prepare(tx []byte) (*Tx, *Error) {
	return m.prepare(tx, false)
}

func (m *Machine) prepare(tx []byte, verified bool) (*Tx, *Error) {
	env, err := DecodeEnvelope(tx)
	if err != nil {
		return nil, err
	}
	if !verified {
		if err := env.Verify(m.chainID); err != nil {
			return nil, err
		}
	}
	t, err := decodeBody(env)
	if err != nil {
		return nil, err
	}
	t.Hash = TxHash(tx)
	return t, nil
}

// Prepared looks up a transaction whose exact bytes already passed Prepare
// (in CheckTx), returning nil when it has not. It is called from several
// goroutines at once and must be safe for that.
type Prepared func(tx []byte) *Tx

// ApplyBlock applies the transactions of a block in order and returns one
// result per transaction. Transactions are prepared (decoded, signatures
// checked) on all cores while earlier ones are being applied, so a block
// costs about the greater of its preparation spread over the cores and its
// sequential application; a transaction that prepared already knows is not
// decoded or verified again. The error is non-nil only when state could not
// be read or written: the block cannot be applied on this node and the
// caller must stop.
func (m *Machine) ApplyBlock(kv KV, blk Block, txs [][]byte, prepared Prepared) ([]Result, error) {
	type prep struct {
		tx   *Tx
		err  *Error
		done chan struct{}
	}
	preps := make([]prep, len(txs))
	for i := range preps {
		preps[i].done = make(chan struct{})
	}
	// Workers take transactions in order, so the one the applier waits for
	// is always among the first in progress.
	var next sync.Mutex
	idx := 0
	workers := m.workers
	if workers > len(txs) {
		workers = len(txs)
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				next.Lock()
				i := idx
				idx++
				next.Unlock()
				if i >= len(txs) {
					return
				}
				if prepared != nil {
					preps[i].tx = prepared(txs[i])
				}
				if preps[i].tx == nil {
					preps[i].tx, preps[i].err = m.prepare(txs[i], false)
				}
				close(preps[i].done)
			}
		}()
	}
	defer wg.Wait()

	cache := newBlockCache()
	results := make([]Result, len(txs))
	for i := range txs {
		<-preps[i].done
		if preps[i].err != nil {
			results[i] = Result{Err: preps[i].err}
			continue
		}
		r, err := m.apply(kv, blk, preps[i].tx, cache)
		r.Kind = preps[i].tx.Kind
		if err != nil {
			// Drain the workers before returning; wg.Wait is deferred.
			next.Lock()
			idx = len(txs)
			next.Unlock()
			return nil, fmt.Errorf("apply tx %d (%s) at height %d: %w", i, preps[i].tx.Hash, blk.Height, err)
		}
		results[i] = r
	}
	return results, nil
}

// Apply applies one prepared transaction to kv. A rejected transaction
// writes nothing. The error is non-nil only for a store failure.
func (m *Machine) Apply(kv KV, blk Block, tx *Tx) (Result, error) {
	return m.apply(kv, blk, tx, nil)
}

func (m *Machine) apply(kv KV, blk Block, tx *Tx, cache *blockCache) (Result, error) {
	o, res := m.run(kv, blk, tx, cache)
	if res.Err != nil {
		if res.Err.Code == CodeInternal {
			return res, fmt.Errorf("%s", res.Err.Msg)
		}
		return res, nil
	}
	if err := o.flush(kv); err != nil {
		return Result{}, err
	}
	return res, nil
}

// DryRun runs tx against committed state r and discards its writes: it is
// the stateful part of CheckTx, for a transaction whose account has nothing
// pending in the mempool.
func (m *Machine) DryRun(r Reader, blk Block, tx *Tx) *Error {
	_, res := m.run(r, blk, tx, nil)
	return res.Err
}

func (m *Machine) run(r Reader, blk Block, tx *Tx, cache *blockCache) (*overlay, Result) {
	o := newOverlay(r)
	last, err := AccountNonce(o, tx.Signer)
	if err != nil {
		return nil, Result{Err: internal("read account", err)}
	}
	if err := checkNonce(tx.Nonce, last+1); err != nil {
		return nil, Result{Err: err}
	}
	c := &txContext{st: o, block: blk, signer: tx.Signer, hash: tx.Hash, cache: cache}
	out, rerr := tx.msg.apply(c)
	if rerr != nil {
		return nil, Result{Err: rerr}
	}
	res := Result{Validators: c.validators}
	if err := o.Set(AccountKey(tx.Signer), []byte(strconv.FormatUint(tx.Nonce, 10))); err != nil {
		return nil, Result{Err: internal("write account", err)}
	}
	data, err := json.Marshal(out)
	if err != nil {
		return nil, Result{Err: internal("encode result", err)}
	}
	res.Data = data
	return o, res
}

// checkNonce compares a transaction's nonce with the one its account expects.
func checkNonce(nonce, want uint64) *Error {
	switch {
	case nonce < want:
		return errorf(CodeNonceReplayed, "nonce %d is already used; the account's next nonce is %d", nonce, want)
	case nonce > want:
		return errorf(CodeNonceGap, "nonce %d skips ahead; the account's next nonce is %d", nonce, want)
	}
	return nil
}

// CheckNonce is checkNonce for the mempool, which tracks the next nonce of
// accounts with transactions pending.
func CheckNonce(nonce, want uint64) *Error { return checkNonce(nonce, want) }

// AccountNonce returns the last nonce an account used; zero for a new account.
func AccountNonce(r Reader, pub string) (uint64, error) {
	return getSeq(r, AccountKey(pub))
}

// txContext is what a message sees while it applies.
type txContext struct {
	st         *overlay
	block      Block
	signer     string
	hash       string
	validators []ValidatorUpdate // set by an applied set_validator
	cache      *blockCache       // nil outside ApplyBlock
}

func (c *txContext) stamp() Stamp {
	return Stamp{Height: c.block.Height, Time: c.block.Time.UTC(), Tx: c.hash}
}
