package registry

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"strconv"
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
	// Hash is the transaction's hash (TxHash), set by BlockApply for a
	// transaction that decoded, so the caller need not hash it again.
	Hash string
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
	Hash        string `json:"hash,omitempty"`      // a new application's content hash
	Entries     uint64 `json:"entries,omitempty"`   // an anchored access log's length
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
}

// New returns the state machine of the chain chainID.
func New(chainID string) *Machine {
	return &Machine{chainID: chainID}
}

// ChainID is the chain this machine signs and verifies for.
func (m *Machine) ChainID() string { return m.chainID }

// Prepare runs every check that needs no state: envelope shape, signature,
// body and message validation.
func (m *Machine) Prepare(tx []byte) (*Tx, *Error) {
	return m.prepare(tx, false)
}

func (m *Machine) prepare(tx []byte, verified bool) (*Tx, *Error) {
	u, err := m.Decode(tx)
	if err != nil {
		return nil, err
	}
	if !verified {
		verified = VerifySignature(u.PubKey, u.Message, u.Signature)
	}
	return u.Checked(verified)
}

// Unchecked is a transaction whose envelope decoded, its body decoded and
// validated (or refused), whose signature is not checked yet: what the
// chain checks in batches, on several cores, before the block applies.
type Unchecked struct {
	PubKey    ed25519.PublicKey // a point of the curve, not of small order
	Message   []byte            // what the signature signs: PAE(chain ID, body)
	Signature []byte            // 64 bytes
	keyText   string
	chainID   string
	tx        *Tx    // the body, decoded and validated, or
	err       *Error // why it is refused
	// deflated, when the body travels compressed, is its envelope, whose
	// body Checked inflates and decodes only once the signature has
	// verified (tx and err are nil until then); hash is then the
	// transaction's.
	deflated *Envelope
	hash     string
}

// Decode runs every check that needs no state but the signature's. A
// refusal of the envelope comes at once; one of the body waits for the
// signature (Checked), which is judged first, as Prepare judges it.
func (m *Machine) Decode(tx []byte) (*Unchecked, *Error) {
	return m.DecodeKnown(tx, nil)
}

// DecodeKnown is Decode for a caller that remembers keys: checked reports
// the keys (in their text form) of transactions Decode accepted before,
// whose point check (ParsePubKey: on the curve, not of small order) is
// then not repeated. A key checked reports that never passed the check
// would be taken unchecked: report only keys of accepted transactions.
func (m *Machine) DecodeKnown(tx []byte, checked func(pub string) bool) (*Unchecked, *Error) {
	return m.decode(tx, nil, checked)
}

// DecodeHashed is DecodeKnown for a caller that has hashed tx already
// (sum is its SHA-256, CometBFT's hash): CheckTx keys what it prepared by
// that hash, and the transaction is not hashed twice.
func (m *Machine) DecodeHashed(tx []byte, sum [32]byte, checked func(pub string) bool) (*Unchecked, *Error) {
	return m.decode(tx, &sum, checked)
}

func (m *Machine) decode(tx []byte, sum *[32]byte, checked func(pub string) bool) (u *Unchecked, rerr *Error) {
	// Bytes from a peer or a proposer must never take a node down: a
	// panic while decoding them is a defect, and a refusal of them, the
	// same on every node.
	defer func() {
		if p := recover(); p != nil {
			u, rerr = nil, errorf(CodeMalformed, "transaction could not be decoded: %v", clip(fmt.Sprint(p)))
			rerr.Defect = true
		}
	}()
	env, pub, msg, err := decodeSigned(tx, checked, &m.chainID)
	if err != nil {
		return nil, err
	}
	if msg == nil {
		msg = env.Signed(m.chainID)
	}
	u = &Unchecked{PubKey: pub, Message: msg, Signature: env.Signature, keyText: env.PubKey, chainID: m.chainID}
	hash := func() string {
		if sum == nil {
			return TxHash(tx)
		}
		return hashText(*sum)
	}
	if env.BodyEncoding != "" {
		// Inflating waits for the signature: a compressed body costs
		// its inflating only to the holder of a key.
		u.deflated, u.hash = &env, hash()
		return u, nil
	}
	body, _ := env.PlainBody() // a plain body is itself
	u.tx, u.err = decodeBody(body, env.PubKey)
	if u.tx != nil {
		u.tx.Hash = hash()
	}
	return u, nil
}

// Checked is the transaction once its signature has been checked under
// SignatureOptions (verified reports the verdict): a bad signature is
// refused before anything its body says.
func (u *Unchecked) Checked(verified bool) (*Tx, *Error) {
	if !verified {
		return nil, badSignature(u.keyText, u.chainID)
	}
	if u.deflated != nil {
		return decodeEncoded(*u.deflated, u.hash)
	}
	if u.tx == nil && u.err == nil {
		// Not made by Decode: nothing was decoded to apply.
		return nil, errorf(CodeMalformed, "transaction was not decoded")
	}
	return u.tx, u.err
}

// Prepared looks up a transaction whose exact bytes already passed Prepare
// (in CheckTx), returning nil when it has not.
type Prepared func(tx []byte) *Tx

// ApplyBlock applies the transactions of a block in order, one after the
// other, and returns one result per transaction: each is prepared (or
// taken from prepared, when its exact bytes passed Prepare before), then
// applied. It is the block as the state machine defines it; the chain gets
// the same results faster by preparing on several cores ahead of a
// BlockApply. The error is non-nil only when state could not be read or
// written: the block cannot be applied on this node and the caller must
// stop.
func (m *Machine) ApplyBlock(kv KV, blk Block, txs [][]byte, prepared Prepared) ([]Result, error) {
	b := m.BeginBlock(kv, blk)
	results := make([]Result, len(txs))
	for i, raw := range txs {
		var tx *Tx
		if prepared != nil {
			tx = prepared(raw)
		}
		if tx == nil {
			var err *Error
			if tx, err = m.Prepare(raw); err != nil {
				results[i] = b.Refused(err)
				continue
			}
		}
		r, err := b.Apply(tx)
		if err != nil {
			return nil, err
		}
		results[i] = r
	}
	if err := b.End(); err != nil {
		return nil, err
	}
	return results, nil
}

// BlockApply applies the transactions of one block in their order, one
// call each, whoever prepared them: the transactions of a block share
// what they read of the nodes above them (a block cache), and a store
// failure names the transaction. The block's last write waits for End,
// which must follow its last transaction. It is used by one goroutine.
type BlockApply struct {
	m  *Machine
	kv KV // accounts, over the block's state
	// accounts holds the nonces of existing accounts until End.
	accounts *accountWrites
	blk      Block
	cache    *blockCache
	n        int // transactions of the block so far
	// written holds every key the block's applied transactions wrote, so
	// that a fact read ahead of the block (ApplyAhead) is known to hold
	// still without reading the tree.
	written map[string]struct{} // looked up only
}

// BeginBlock starts applying block blk to kv.
func (m *Machine) BeginBlock(kv KV, blk Block) *BlockApply {
	cache := newBlockCache()
	cache.settles = true // apply tells it every write (blockCache.wrote)
	accounts := newAccountWrites(kv)
	return &BlockApply{m: m, kv: accounts, accounts: accounts, blk: blk, cache: cache, written: make(map[string]struct{})}
}

// End writes what the block's transactions left for its end (accountWrites:
// the nonces of accounts that existed). Call it after the block's last
// transaction, before the state is hashed or committed. The error is a
// store failure.
func (b *BlockApply) End() error {
	if err := b.accounts.end(); err != nil {
		return fmt.Errorf("end block at height %d: %w", b.blk.Height, err)
	}
	return nil
}

// Apply applies the block's next transaction, prepared (Prepare, or Decode
// and Checked). The error is non-nil only for a store failure.
func (b *BlockApply) Apply(tx *Tx) (Result, error) {
	return b.ApplyAhead(tx, Absent{})
}

// ApplyAhead is Apply with what ReadAhead read of tx in the state kv held
// when the block began (BeginBlock): the apply then skips the reads those
// facts answer, with the same result.
func (b *BlockApply) ApplyAhead(tx *Tx, absent Absent) (Result, error) {
	i := b.n
	b.n++
	r, err := b.m.apply(b.kv, b.blk, tx, b.cache, &ahead{absent: absent, written: b.written})
	r.Kind, r.Hash = tx.Kind, tx.Hash
	if err != nil {
		return Result{}, fmt.Errorf("apply tx %d (%s) at height %d: %w", i, tx.Hash, b.blk.Height, err)
	}
	return r, nil
}

// Refused is the result of the block's next transaction when it did not
// prepare: refused with err, nothing written.
func (b *BlockApply) Refused(err *Error) Result {
	b.n++
	return Result{Err: err}
}

// Apply applies one prepared transaction to kv. A rejected transaction
// writes nothing. The error is non-nil only for a store failure.
func (m *Machine) Apply(kv KV, blk Block, tx *Tx) (Result, error) {
	return m.apply(kv, blk, tx, nil, nil)
}

// apply runs tx on kv and writes what it wrote; when ah is not nil, its
// facts spare reads and ah.written gains the keys written.
func (m *Machine) apply(kv KV, blk Block, tx *Tx, cache *blockCache, ah *ahead) (Result, error) {
	o, res := m.run(kv, blk, tx, cache, ah, true)
	if res.Err != nil && res.Err.Code == CodeInternal {
		// Only a store that cannot be read gets here: nothing a
		// transaction says is reported as internal (see run).
		return res, fmt.Errorf("%s", res.Err.Msg)
	}
	if o == nil {
		return res, nil
	}
	if err := o.flush(kv); err != nil {
		return Result{}, err
	}
	if cache != nil {
		cache.wrote(o.order)
	}
	if ah != nil {
		for _, k := range o.order {
			ah.written[k] = struct{}{}
		}
	}
	return res, nil
}

// DryRun runs tx against r as CheckTx stages it, on a pending state of
// its own, and discards its writes.
func (m *Machine) DryRun(r Reader, blk Block, tx *Tx) *Error {
	return m.Stage(NewPending(r), blk, tx)
}

// Pending is committed state as an account's transactions waiting in the
// mempool will leave it: CheckTx stages each transaction an account queues
// on the writes of those it queued before, so a transaction that would be
// refused for rights, existence or version never enters the mempool,
// wherever it stands in its account's queue.
type Pending struct {
	o *overlay
	// staged are the writes of each staged transaction, in order, so a
	// new committed state can be taken as the base without running the
	// transactions still waiting again (Rebase).
	staged []stagedTx
	// cache keeps the records the account's transactions decode, as a
	// block does: they mostly write under the same few nodes. It settles
	// as a block's does (Stage tells it every write to o), and every
	// record is unsettled with a new base (Rebase).
	cache *blockCache
}

type stagedTx struct {
	hash   string
	writes *overlay
}

// NewPending starts an account's pending state over committed state r,
// which must not change while p is built on it (Rebase takes a new one).
func NewPending(r Reader) *Pending {
	return &Pending{o: newOverlay(newCommittedReads(r)), cache: newPendingCache()}
}

// newPendingCache is a pending state's record cache. It settles: every
// write to the state under the account's transactions is a staged one's,
// which Stage tells it, and the committed state under them does not change
// until Rebase, which unsettles every record. A record an account's
// transactions read again is then neither read nor compared again.
func newPendingCache() *blockCache {
	c := newBlockCache()
	c.settles = true
	return c
}

// committedReads remembers the values a pending state read of committed
// state, which does not change: an account's transactions read the same
// few records (the nodes above what they register) one after the other,
// and the store gives each read a copy. It is only looked up, never
// iterated, and holds at most maxCommittedReads values; absent keys are
// not kept.
type committedReads struct {
	r      Reader
	values map[string][]byte
}

// maxCommittedReads bounds what a pending state remembers of committed
// state: the nodes and accounts an account's queue reads, with room.
const maxCommittedReads = 256

func newCommittedReads(r Reader) *committedReads {
	return &committedReads{r: r, values: make(map[string][]byte)}
}

func (c *committedReads) Get(key []byte) ([]byte, error) {
	if v, ok := c.values[string(key)]; ok {
		return v, nil
	}
	v, err := c.r.Get(key)
	if err == nil && v != nil && len(c.values) < maxCommittedReads {
		c.values[string(key)] = v
	}
	return v, err
}

// Stage runs tx on p as the next block would and, when it would apply,
// keeps its writes in p for the account's next transaction. A refused
// transaction leaves p as it was.
func (m *Machine) Stage(p *Pending, blk Block, tx *Tx) *Error {
	// The new identifiers of a batch are looked up in committed state all
	// at once, when it can say (AbsenceReader), as a block reads them
	// ahead: a Get each was most of what staging a batch read. They are
	// looked up at the first of them (ahead.read).
	var ah *ahead
	if c, ok := p.o.base.(*committedReads); ok && asksAtOnce(tx) {
		if ar, ok := c.r.(AbsenceReader); ok {
			ah = &ahead{staged: p.o, read: func() (Absent, error) { return m.ReadAhead(ar, tx) }}
		}
	}
	o, res := m.run(p.o, blk, tx, p.cache, ah, false)
	if res.Err != nil {
		return res.Err
	}
	if err := o.flush(p.o); err != nil {
		return internal("stage", err)
	}
	p.cache.wrote(o.order)
	o.base = nil // kept only to be flushed again: let the old state go
	p.staged = append(p.staged, stagedTx{hash: tx.Hash, writes: o})
	return nil
}

// Fork is a pending state on p: what is staged on it leaves p as it was.
func (p *Pending) Fork() *Pending {
	return &Pending{o: newOverlay(p.o), cache: newPendingCache()}
}

// Rebase takes committed state r as p's base after a block, keeping the
// writes of the staged transactions still waiting (waiting reports which)
// in their order, without running them again. What the block changed
// under them is judged when their own block applies them.
func (p *Pending) Rebase(r Reader, waiting func(hash string) bool) *Error {
	o := newOverlay(newCommittedReads(r))
	kept := p.staged[:0]
	for _, s := range p.staged {
		if !waiting(s.hash) {
			continue
		}
		if err := s.writes.flush(o); err != nil {
			return internal("rebase", err)
		}
		kept = append(kept, s)
	}
	p.o, p.staged = o, kept
	p.cache.rebase()
	return nil
}

// run applies tx over r and returns the writes to make and the result. A
// transaction that fails its nonce check writes nothing. One that passes it
// has entered a block signed by its account and in its turn, so it uses its
// nonce whatever becomes of it, as on Cosmos chains: a refused transaction
// can then never be replayed later, when the state it was refused by has
// changed (an approval of an application that did not exist yet, a
// transfer queued behind a gap). Its other writes are dropped. The
// result's Data is encoded only with data: CheckTx's staging reads the
// verdict alone.
func (m *Machine) run(r Reader, blk Block, tx *Tx, cache *blockCache, ah *ahead, data bool) (*overlay, Result) {
	acct := AccountKey(tx.Signer) // read, then written
	last, err := getSeq(r, acct)
	if err != nil {
		return nil, Result{Err: internal("read account", err)}
	}
	if err := checkNonce(tx.Nonce, last+1); err != nil {
		return nil, Result{Err: err}
	}
	o := newOverlay(r)
	out, rerr := m.execute(o, blk, tx, cache, ah, data)
	if rerr != nil {
		if rerr.Code == CodeInternal {
			return nil, Result{Err: rerr}
		}
		o = newOverlay(r)
	}
	nonce := strconv.AppendUint(nil, tx.Nonce, 10)
	if err := o.Set(acct, nonce); err != nil {
		return nil, Result{Err: internal("write account", err)}
	}
	if rerr != nil {
		return o, Result{Err: rerr}
	}
	return o, out
}

// execute runs the message of tx on o. Everything a message does with its
// content reports a refusal (an *Error with a code other than internal);
// internal is kept for state that cannot be read. A panic is a defect of
// the registry, but one caused by the content of a signed transaction: the
// same on every node, so it is refused like any other content, and the
// block goes on.
func (m *Machine) execute(o *overlay, blk Block, tx *Tx, cache *blockCache, ah *ahead, data bool) (res Result, rerr *Error) {
	defer func() {
		if p := recover(); p != nil {
			res, rerr = Result{}, errorf(CodeInvalid, "%s could not be applied: %v", tx.Kind, clip(fmt.Sprint(p)))
			rerr.Defect = true
		}
	}()
	if err := tx.CheckHeight(blk.Height); err != nil {
		return Result{}, err
	}
	c := &txContext{st: o, block: blk, signer: tx.Signer, hash: tx.Hash, cache: cache, ahead: ah}
	out, err := tx.msg.apply(c)
	if err != nil {
		return Result{}, err
	}
	if !data {
		// An Outcome holds strings and integers alone: its encoding
		// cannot fail, so leaving it out changes no verdict.
		return Result{Validators: c.validators}, nil
	}
	enc, jerr := json.Marshal(out)
	if jerr != nil {
		return Result{}, errorf(CodeInvalid, "%s result cannot be encoded: %v", tx.Kind, jerr)
	}
	return Result{Validators: c.validators, Data: enc}, nil
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
	ahead      *ahead            // facts read ahead of the block or of staging; may be nil
	stampBytes []byte            // stamp's encoding, once made
	stampHeld  []byte            // a copy of stampBytes that writes may keep (heldStamp)
	// stampBuf holds stampBytes, in the context's own allocation: a
	// stamp with a transaction's hash is ~140 bytes.
	stampBuf [160]byte
}

func (c *txContext) stamp() Stamp {
	return Stamp{Height: c.block.Height, Time: c.block.Time.UTC(), Tx: c.hash}
}

// stampJSON is the encoding of stamp, made once per transaction; nil when
// it cannot be encoded (a time past year 9999), which putJSON then
// refuses with its reason.
func (c *txContext) stampJSON() []byte {
	if c.stampBytes == nil {
		c.stampBytes = appendStamp(c.stampBuf[:0], c.stamp())
	}
	return c.stampBytes
}

// heldStamp is stampJSON in an allocation of its own, which the writes
// that complete a record from its head keep (write.stamp): stampJSON's
// bytes are the context's.
func (c *txContext) heldStamp() []byte {
	if c.stampHeld == nil {
		c.stampHeld = bytes.Clone(c.stampJSON())
	}
	return c.stampHeld
}

// decodeEncoded decodes and validates the compressed body of env, whose
// signature has verified, for the transaction of hash: inflated within
// its bound (PlainBody), then held to every rule a plain body is.
func decodeEncoded(env Envelope, hash string) (tx *Tx, rerr *Error) {
	// As in decode: no input may take a node down.
	defer func() {
		if p := recover(); p != nil {
			tx, rerr = nil, errorf(CodeMalformed, "transaction could not be decoded: %v", clip(fmt.Sprint(p)))
			rerr.Defect = true
		}
	}()
	body, err := env.PlainBody()
	if err != nil {
		return nil, err
	}
	if len(body) == 0 {
		return nil, errorf(CodeMalformed, "envelope: body inflates to nothing")
	}
	if tx, err = decodeBody(body, env.PubKey); err != nil {
		return nil, err
	}
	// What travels is bounded as the kind bounds its body: DEFLATE can
	// make bytes larger (stored blocks, empty ones), and a small message
	// must not ride in a batch's room.
	if tx.Kind != KindRegisterBatch && len(env.Body) > MaxBodyBytes {
		return nil, errorf(CodeTooLarge, "compressed body is %d bytes, more than the %d allowed for %s (only %s may be up to %d)",
			len(env.Body), MaxBodyBytes, tx.Kind, KindRegisterBatch, MaxBatchBodyBytes)
	}
	tx.Hash = hash
	return tx, nil
}
