package chain

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtproto "github.com/cometbft/cometbft/api/cometbft/types/v1"
	cmted25519 "github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/store"
	"github.com/cityid/cityid/internal/wire"
)

// AppVersion is the version of the state machine's rules on a chain that
// has run no upgrade, reported to CometBFT in Info. A change that changes
// which transactions are valid or what they write is brought to a running
// chain by a scheduled upgrade (upgrade.go) whose handler leads to the
// next version, which the state then records and Info reports.
//
// 2: signatures are checked under ZIP-215's rule (registry.SignatureOptions)
// instead of crypto/ed25519's, so a block's can be checked in batches.
// 3: a register_batch message is the compact form of docs/transactions.md
// (entries grouped under their node, values as [type, data] pairs).
// 4: an envelope's body may travel deflated (registry.EncodingDeflate).
// 5: an upgrade plan must be at least the network's upgrade_lead_blocks
// ahead of the block that writes it (registry.Params.UpgradeLead).
// 6: a governance change (set_upgrade, set_validator, set_city) from a key
// that is not an authority member is refused unauthorized before its other
// checks; only the refused transaction's code changes, which CometBFT
// hashes into the next header's LastResultsHash.
// No network ran 3 to 5 (there is no deployment yet), so 6 is the version
// a new chain starts at rather than an upgrade with a handler.
const AppVersion uint64 = wire.GenesisAppVersion

// Version is the software version reported in Info.
const Version = wire.Version

var _ abci.Application = (*App)(nil)

// App is the ABCI application.
type App struct {
	abci.BaseApplication

	machine *registry.Machine
	store   *store.Store
	log     *slog.Logger
	snaps   *snapshots
	onTx    func(kind, result string)
	// prepared remembers the transactions CheckTx prepared (decoded,
	// signature verified), so the recheck after every block and the block
	// itself neither decode nor verify them again.
	prepared *preparedCache
	// sigs checks signatures for CheckTx and FinalizeBlock alike,
	// keeping the keys it has seen expanded.
	sigs    *Signatures
	commits *Notifier
	// genDir: AppOptions.GenesisDir. openFile opens the files a genesis
	// names in it (openGenesisFile; a test gives another).
	genDir   string
	openFile registry.OpenFile

	// What Commit prunes, and CometBFT's oldest block (retention.go).
	keep Retention
	base blockBase

	// This binary's upgrade handlers, and the stop for an upgrade it has
	// none for (upgrade.go).
	upgrades upgrades
	halt     *halt

	// mempool is the mempool connection's view of every account with
	// transactions waiting: its next nonce, how much it has queued, and
	// the state its queued transactions will leave, so that one account
	// may queue several transactions in one block and each is checked
	// against what those before it will have written. Reset at every
	// commit; CometBFT rechecks what is left in the mempool right after,
	// in order, which builds it again.
	mu      sync.Mutex
	pending map[string]*pendingAccount
	last    registry.Block // the last committed block, for CheckTx's dry runs

	// The block being finalized, between FinalizeBlock and Commit: only the
	// consensus connection touches these.
	height  int64
	results []wire.TxResult
	hashes  []string
}

// AppOptions configure the application beyond its chain and store.
type AppOptions struct {
	Snapshots SnapshotOptions
	// GenesisDir is the folder of the genesis file, where the files a
	// genesis names (an imported export) are; "" for none.
	GenesisDir string
	// OnTx, when set, is told of every transaction of a committed block:
	// its kind ("unknown" when it did not decode) and result ("ok" or the
	// rejection code).
	OnTx func(kind, result string)
	// Retention says which blocks and state versions Commit keeps; the
	// zero value keeps everything.
	Retention Retention
	// Upgrades are the binary's upgrade handlers (Upgrades(), or a test's);
	// CheckUpgrades refuses a list that is not in order.
	Upgrades []Upgrade
	// UpgradeInfoFile, when set, is where the node writes the upgrade it
	// stops for (UpgradeInfoFile), for a supervisor.
	UpgradeInfoFile string
}

// NewApp returns the application over st for the chain chainID.
func NewApp(chainID string, st *store.Store, log *slog.Logger, opts ...AppOptions) *App {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var o AppOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	ups, err := newUpgrades(o.Upgrades)
	if err != nil {
		// Start refuses such a list first (CheckUpgrades): an App made
		// otherwise runs with none, and says why.
		log.Error("upgrade handlers ignored", "err", err)
		ups = upgrades{supported: AppVersion}
	}
	return &App{
		upgrades: ups,
		halt:     newHalt(o.UpgradeInfoFile),
		snaps:    newSnapshots(o.Snapshots, st, log.With("module", "snapshots")),
		onTx:     o.OnTx,
		keep:     o.Retention,
		machine:  registry.New(chainID),
		store:    st,
		log:      log,
		prepared: newPreparedCache(preparedCacheTxs, preparedCacheBytes),
		sigs:     NewSignatures(0),
		commits:  NewNotifier(),
		pending:  make(map[string]*pendingAccount),
		genDir:   o.GenesisDir,
	}
}

// Commits is where submitters wait for their transactions.
func (a *App) Commits() *Notifier { return a.commits }

// Machine is the application's state machine.
func (a *App) Machine() *registry.Machine { return a.machine }

// Info tells CometBFT the last block the application committed, so that the
// handshake replays exactly the blocks the store does not have.
func (a *App) Info(context.Context, *abci.InfoRequest) (*abci.InfoResponse, error) {
	version, err := a.StateAppVersion()
	if err != nil {
		return nil, fmt.Errorf("info: %w", err)
	}
	return &abci.InfoResponse{
		Data:             "cityid",
		Version:          Version,
		AppVersion:       version,
		LastBlockHeight:  a.store.Version(),
		LastBlockAppHash: a.store.Hash(),
	}, nil
}

// InitChain writes the registry's genesis state. It is saved with the first
// block, as Cosmos SDK chains do, so a node stopped before its first commit
// simply runs InitChain again.
func (a *App) InitChain(_ context.Context, req *abci.InitChainRequest) (*abci.InitChainResponse, error) {
	if err := checkGenesisAppVersion(req); err != nil {
		return nil, err
	}
	a.store.Rollback()
	a.store.SetInitialVersion(req.InitialHeight)
	vals := make([]registry.Validator, len(req.Validators))
	for i, v := range req.Validators {
		if v.PubKeyType != cmted25519.KeyType {
			return nil, fmt.Errorf("init chain %s: validator %d has a %s key; CityID validators use ed25519", req.ChainId, i+1, v.PubKeyType)
		}
		vals[i] = registry.Validator{PubKey: hex.EncodeToString(v.PubKeyBytes), Power: v.Power}
	}
	open := a.openFile
	if open == nil {
		open = a.openGenesisFile
	}
	if err := a.machine.InitGenesisFrom(a.store, req.AppStateBytes, vals, open); err != nil {
		// An import may have written part of its export before it was
		// refused: none of it stays.
		a.store.Rollback()
		return nil, fmt.Errorf("init chain %s: %w", req.ChainId, err)
	}
	// Until the first block, CheckTx stages transactions at the genesis
	// time: a grant's expiry is judged against it, not against year 1.
	a.mu.Lock()
	if a.last.Time.IsZero() {
		a.last.Time = req.Time
	}
	a.mu.Unlock()
	resp := &abci.InitChainResponse{AppHash: a.store.WorkingHash()}
	// An import of a chain that ran upgrades starts at its application
	// version (the export carries upgrade/version). CometBFT asked Info
	// for the version before this state existed, and takes InitChain's
	// parameters over the genesis's: they make headers carry it from
	// the first block.
	version, err := stateAppVersion(a.store)
	if err != nil {
		a.store.Rollback()
		return nil, fmt.Errorf("init chain %s: %w", req.ChainId, err)
	}
	if version > a.upgrades.supported {
		a.store.Rollback()
		return nil, fmt.Errorf("init chain %s: the imported state is at application version %d; this binary runs versions up to %d", req.ChainId, version, a.upgrades.supported)
	}
	if version != AppVersion {
		resp.ConsensusParams = &cmtproto.ConsensusParams{Version: &cmtproto.VersionParams{App: version}}
	}
	a.log.Info("genesis state written", "chain_id", req.ChainId, "initial_height", req.InitialHeight, "app_version", version)
	return resp, nil
}

// checkGenesisAppVersion refuses a genesis made by a cityid whose rules
// are not this binary's. CometBFT starts a chain at the application
// version Info reports (the handshake sets it before InitChain), not at
// the genesis's consensus_params.version.app: without this check a genesis
// made by an older release would start under this one's rules, and a
// network whose nodes run both would stall at height 1 on CometBFT's
// "wrong Block.Header.Version". A genesis with version 0 was made before
// genesis files carried one (node's consensusParams), and starts as it
// always did.
func checkGenesisAppVersion(req *abci.InitChainRequest) error {
	var v uint64
	if p := req.ConsensusParams; p != nil && p.Version != nil {
		v = p.Version.App
	}
	if v == 0 || v == AppVersion {
		return nil
	}
	return fmt.Errorf("init chain %s: the genesis is for application version %d, and this cityid starts chains at application version %d: "+
		"run the cityid release that made the genesis (the one that starts chains at version %d) on every node; "+
		"a later release comes to a running chain by a scheduled upgrade (docs/upgrade.md)",
		req.ChainId, v, AppVersion, v)
}

// openGenesisFile opens a file the genesis names, in the genesis file's
// folder; the registry has checked that name is a plain file name.
func (a *App) openGenesisFile(name string) (io.ReadCloser, error) {
	if a.genDir == "" {
		return nil, fmt.Errorf("the genesis names file %s, and this node was given no genesis folder", name)
	}
	return os.Open(filepath.Join(a.genDir, name))
}

// CheckTx admits a transaction to the mempool: its envelope, signature and
// body are checked, its nonce must be the account's next one (counting
// transactions already waiting), the account must stay within its share of
// the mempool, and the transaction is run against committed state as the
// account's waiting transactions will leave it, so that a transaction bound
// to be refused never enters a block.
func (a *App) CheckTx(_ context.Context, req *abci.CheckTxRequest) (*abci.CheckTxResponse, error) {
	return a.checkTx(req, true)
}

// DryCheckTx judges a transaction as CheckTx does, against its account's
// queue, without adding it to the queue: for a transaction that does not
// enter the mempool (CometBFT's check_tx RPC route, mempoolClient). Were
// it counted, the account's next transaction would be refused as taking
// its nonce, or let in behind a transaction no block will hold.
func (a *App) DryCheckTx(_ context.Context, req *abci.CheckTxRequest) (*abci.CheckTxResponse, error) {
	return a.checkTx(req, false)
}

// checkTx is CheckTx; keep adds an admitted transaction to its account's
// queue and pending state.
func (a *App) checkTx(req *abci.CheckTxRequest, keep bool) (*abci.CheckTxResponse, error) {
	hash := sha256.Sum256(req.Tx)
	var tx *registry.Tx
	if req.Type == abci.CHECK_TX_TYPE_RECHECK {
		// A recheck is of a transaction CheckTx prepared. A new one
		// (CometBFT's mempool cache has not seen it) nearly never is:
		// looking for it in a map of up to preparedCacheTxs cost ~0.5
		// µs a transaction in cache misses, and preparing again one that
		// was (regossip's) costs its decode and signature, with the
		// same verdict.
		tx = a.prepared.get(hash)
	}
	if tx == nil {
		u, rerr := a.sigs.decodeHashed(a.machine, req.Tx, hash)
		if rerr != nil {
			a.noteDefect("CheckTx", req.Tx, rerr)
			return checkTxResponse(rerr), nil
		}
		if tx, rerr = a.sigs.check(u); rerr != nil {
			a.noteDefect("CheckTx", req.Tx, rerr) // a deflated body is decoded here
			return checkTxResponse(rerr), nil
		}
		// Counted by what it holds: a deflated batch's decoded
		// message is of its inflated body's size, eight times the
		// bytes that traveled.
		a.prepared.add(hash, tx, max(len(req.Tx), tx.BodyBytes))
	}

	// The map is locked only to find the account; the account is locked
	// while its transaction is staged, so accounts are checked in
	// parallel on every core and each account's queue in order.
	a.mu.Lock()
	acct := a.pending[tx.Signer]
	if acct == nil {
		acct = &pendingAccount{}
		a.pending[tx.Signer] = acct
	}
	next := registry.Block{Height: a.last.Height + 1, Time: a.last.Time}
	a.mu.Unlock()
	acct.mu.Lock()
	defer acct.mu.Unlock()
	// Committed state is taken only when it is needed: an account whose
	// pending state stands on the last commit (ready) stages on it, and
	// reads its committed nonce only when its queue is empty or the
	// transaction's nonce is not the next. Most transactions come so.
	var view *store.View
	viewTaken := false
	latest := func() *store.View {
		if !viewTaken {
			view, viewTaken = a.store.Latest(), true
		}
		return view
	}
	// A pending state is only made on committed state (below), which
	// the store never loses once it has some.
	ready := acct.state != nil && !acct.rebase
	committed := func() (uint64, error) {
		if latest() == nil {
			return 0, nil
		}
		return registry.AccountNonce(view, tx.Signer)
	}
	want := acct.next
	if acct.txs == 0 {
		c, err := committed()
		if err != nil {
			return nil, fmt.Errorf("check tx %s: %w", tx.Hash, err)
		}
		want = c + 1
	}
	if err := registry.CheckNonce(tx.Nonce, want); err != nil {
		if tx.Nonce < want {
			c, cerr := committed()
			if cerr != nil {
				return nil, fmt.Errorf("check tx %s: %w", tx.Hash, cerr)
			}
			if tx.Nonce > c {
				err.Msg = fmt.Sprintf("nonce %d is taken by a transaction waiting in the mempool; the account's next nonce is %d", tx.Nonce, want)
			}
		}
		return checkTxResponse(err), nil
	}
	if acct.txs >= MaxPendingTxs || acct.bytes+len(req.Tx) > MaxPendingBytes {
		return checkTxResponse(&registry.Error{Code: registry.CodeAccountBusy, Msg: fmt.Sprintf(
			"account %s has %d transactions (%d bytes) waiting, the most one account may queue (%d, %d bytes): wait for them to be committed",
			tx.Signer, acct.txs, acct.bytes, MaxPendingTxs, MaxPendingBytes)}), nil
	}
	switch {
	case !ready && latest() == nil:
		// Before the first block there is no committed state to run
		// against.
	case req.Type == abci.CHECK_TX_TYPE_RECHECK:
		// After a block CometBFT rechecks what is left in the mempool,
		// one transaction at a time with the mempool locked: check
		// here only what a block alone can change for the account's
		// own queue (its nonce, above; its last height), and rebuild
		// its pending state when it next sends a transaction, in
		// parallel with other accounts. A transaction that the new
		// state now refuses for other reasons is refused in its block,
		// and uses its nonce: the price of a race its signer lost.
		if err := tx.CheckHeight(next.Height); err != nil {
			return checkTxResponse(err), nil
		}
	default:
		switch {
		case !keep && (acct.state == nil || acct.rebase):
			// A dry run changes nothing of the account's: where its
			// pending state is still to be made or rebased (between a
			// commit and the recheck, which the check_tx route does not
			// wait for, the queue is being counted again), it judges on
			// a state of its own, made as CheckTx would.
			dry, err := a.restage(latest(), next, acct.queue)
			if err != nil {
				return nil, fmt.Errorf("check tx %s: %w", tx.Hash, err)
			}
			return a.stageDry(req, tx, dry, next)
		case acct.state == nil:
			st, err := a.restage(latest(), next, acct.queue)
			if err != nil {
				return nil, fmt.Errorf("check tx %s: %w", tx.Hash, err)
			}
			acct.state = st
		case acct.rebase:
			// A block was committed since the account's queue was
			// staged: the new state is the base, and the writes of
			// what still waits are kept, without running it again.
			waiting := make(map[string]bool, len(acct.queue)) // looked up only
			for _, q := range acct.queue {
				waiting[q.Hash] = true
			}
			if err := acct.state.Rebase(latest(), func(h string) bool { return waiting[h] }); err != nil {
				return nil, fmt.Errorf("check tx %s: %s", tx.Hash, err.Msg)
			}
		}
		acct.rebase = false
		if !keep {
			return a.stageDry(req, tx, acct.state.Fork(), next)
		}
		if err := a.machine.Stage(acct.state, next, tx); err != nil {
			if err.Code == registry.CodeInternal {
				return nil, fmt.Errorf("check tx %s: %s", tx.Hash, err.Msg)
			}
			a.noteDefect("CheckTx", req.Tx, err)
			return checkTxResponse(err), nil
		}
	}
	if keep {
		acct.next, acct.txs, acct.bytes = tx.Nonce+1, acct.txs+1, acct.bytes+len(req.Tx)
		acct.queue = append(acct.queue, tx)
	}
	return &abci.CheckTxResponse{Code: CodeOK}, nil
}

// restage makes a pending state on committed state view with the
// account's queued transactions staged on it, in order. What a queued
// transaction's refusal leaves out is what its block will leave out.
func (a *App) restage(view *store.View, next registry.Block, queue []*registry.Tx) (*registry.Pending, error) {
	st := registry.NewPending(view)
	for _, q := range queue {
		if err := a.machine.Stage(st, next, q); err != nil && err.Code == registry.CodeInternal {
			return nil, fmt.Errorf("restage %s: %s", q.Hash, err.Msg)
		}
	}
	return st, nil
}

// stageDry judges tx on st, a pending state no one else holds.
func (a *App) stageDry(req *abci.CheckTxRequest, tx *registry.Tx, st *registry.Pending, next registry.Block) (*abci.CheckTxResponse, error) {
	if err := a.machine.Stage(st, next, tx); err != nil {
		if err.Code == registry.CodeInternal {
			return nil, fmt.Errorf("check tx %s: %s", tx.Hash, err.Msg)
		}
		a.noteDefect("CheckTx", req.Tx, err)
		return checkTxResponse(err), nil
	}
	return &abci.CheckTxResponse{Code: CodeOK}, nil
}

// pendingAccount is what the mempool holds of one account. mu guards the
// rest; an account with no transaction waiting (txs 0) is as if absent.
type pendingAccount struct {
	mu    sync.Mutex
	next  uint64         // the nonce its next transaction must carry
	txs   int            // transactions waiting
	bytes int            // their bytes
	queue []*registry.Tx // they themselves, in nonce order
	// state is committed state as they will leave it. After a commit it
	// is rebased (rebase) on the new state when the account next sends a
	// transaction, keeping the writes of what the recheck found waiting.
	state  *registry.Pending
	rebase bool
}

// Each account's share of the mempool. CometBFT's mempool holds 5,000
// transactions by default and is first come, first served: without a
// share, one key with no rights could fill it, and the blocks, with
// transactions the state lets it queue. These bound what one account
// queues between two blocks, not what it may send: a city loading
// millions of identifiers sends register_batch transactions, and each
// block takes what the account queued.
const (
	// MaxPendingTxs is how many transactions one account may have
	// waiting.
	MaxPendingTxs = 1000
	// MaxPendingBytes is how many bytes of transactions one account may
	// have waiting: a few of the largest register_batch transactions.
	MaxPendingBytes = 8 << 20
)

// noteDefect logs a refusal the registry made of its own panic: the
// transaction was refused the same way on every node and the chain goes
// on, but the panic is a bug of the registry, which must not pass as an
// ordinary refusal.
func (a *App) noteDefect(where string, tx []byte, err *registry.Error) {
	if err != nil && err.Defect {
		a.log.Error("the registry panicked on a transaction and refused it: a defect to report",
			"in", where, "tx", registry.TxHash(tx), "code", err.Code, "err", err.Msg)
	}
}

func checkTxResponse(err *registry.Error) *abci.CheckTxResponse {
	return &abci.CheckTxResponse{Code: ABCICode(err), Log: err.Msg, Info: err.Code, Codespace: Codespace}
}

// ProcessProposal refuses a proposed block that holds a transaction twice,
// or one whose nonce is not above its account's last in committed state (a
// used nonce, or 0, which no transaction carries): an honest proposer
// never makes one (its mempool holds a transaction once and CheckTx
// refuses used nonces), and such a block would be applied correctly (the
// copy refused as nonce_replayed) but would tell readers otherwise, since
// CometBFT indexes a transaction's result by its hash and the copy's
// refusal would replace the original's success. Everything else a
// proposer may include is judged in FinalizeBlock, transaction by
// transaction, and refused there with its code. The checks read only
// the proposal and committed state, the same on every honest validator.
func (a *App) ProcessProposal(_ context.Context, req *abci.ProcessProposalRequest) (*abci.ProcessProposalResponse, error) {
	accept := &abci.ProcessProposalResponse{Status: abci.PROCESS_PROPOSAL_STATUS_ACCEPT}
	reject := &abci.ProcessProposalResponse{Status: abci.PROCESS_PROPOSAL_STATUS_REJECT}
	view := a.store.Latest()
	seen := make(map[[32]byte]struct{}, len(req.Txs)) // looked up only
	// Each signer's last nonce in committed state, read once: a loaded
	// block holds many transactions of each of a few accounts.
	usedBy := make(map[string]uint64) // looked up only
	left := registry.MaxBlockBodyBytes
	for i, tx := range req.Txs {
		h := sha256.Sum256(tx)
		if _, dup := seen[h]; dup {
			a.log.Warn("proposal refused: a transaction twice", "height", req.Height, "tx", i, "hash", fmt.Sprintf("%X", h))
			return reject, nil
		}
		seen[h] = struct{}{}
		w := a.weigh(h, tx, left)
		if w.badSignature {
			// Checked before anything is inflated, and whatever the
			// state: no honest proposer's CheckTx let it in, and each
			// costs a verification, here and again in the block.
			a.log.Warn("proposal refused: a transaction whose signature is refused before its body is read", "height", req.Height, "tx", i)
			return reject, nil
		}
		if w.size > left {
			a.log.Warn("proposal refused: its transactions' plain bodies pass the block's budget", "height", req.Height, "tx", i,
				"budget", registry.MaxBlockBodyBytes, "left", left)
			return reject, nil
		}
		left -= w.size
		if view == nil || !w.ok {
			continue // one that does not decode: FinalizeBlock refuses it
		}
		signer, nonce := w.signer, w.nonce
		used, ok := usedBy[signer]
		if !ok {
			n, err := registry.AccountNonce(view, signer)
			if err != nil {
				return nil, fmt.Errorf("process proposal %d: %w", req.Height, err)
			}
			used, usedBy[signer] = n, n
		}
		if nonce <= used {
			a.log.Warn("proposal refused: a transaction whose nonce is used", "height", req.Height, "tx", i, "signer", signer, "nonce", nonce, "used", used)
			return reject, nil
		}
	}
	return accept, nil
}

// weight is what a proposal's transaction weighs against the block's
// budget of plain bodies (registry.MaxBlockBodyBytes), with its signer and
// nonce when it decodes (ok).
type weight struct {
	size   int
	signer string
	nonce  uint64
	ok     bool
	// badSignature: a signature refused while weighing: a deflated body's,
	// checked before it is inflated, or one that is not 64 bytes.
	badSignature bool
}

// weigh reads a transaction's plain body size, signer and nonce, from the
// prepared cache or by decoding it within left bytes
// (registry.InspectWithin: a compressed body is inflated only once its
// signature verifies, and never past left). A size past left means the
// transaction does not fit. One that does not decode weighs what its
// decoding in FinalizeBlock could cost: its bytes, or a whole batch's
// body for a compressed one, which that decoding inflates.
func (a *App) weigh(h [32]byte, tx []byte, left int) weight {
	if p := a.prepared.get(h); p != nil {
		return weight{size: max(p.BodyBytes, 1), signer: p.Signer, nonce: p.Nonce, ok: true}
	}
	in, err := registry.InspectWithin(a.machine.ChainID(), tx, left)
	switch {
	case err == nil:
		return weight{size: max(in.BodyBytes, 1), signer: in.Signer, nonce: in.Nonce, ok: true}
	case err.Code == registry.CodeBadSignature:
		return weight{size: len(tx), badSignature: true}
	case err.Reason == registry.ReasonInflatedTooLarge && left < registry.MaxBatchBodyBytes:
		return weight{size: left + 1} // past what is left, whatever it inflates to
	case err.Reason == registry.ReasonInflatedTooLarge, err.Reason == registry.ReasonBadDeflate:
		// Refused in the block once inflated up to the bound of any
		// body, or to where its stream breaks.
		return weight{size: registry.MaxBatchBodyBytes}
	}
	// Refused in the block; what reading it cost counts, inflated or not.
	return weight{size: max(in.BodyBytes, len(tx))}
}

// PrepareProposal fills the block from the mempool's transactions, in
// their order, while their plain bodies fit the block's budget
// (registry.MaxBlockBodyBytes) and their bytes CometBFT's: block.max_bytes
// bounds what travels, the budget what a block of compressed batches makes
// every node decode and apply. It stops at the first that does not fit
// rather than skip it, so no signer's next nonce goes ahead of one left
// for the next block.
func (a *App) PrepareProposal(_ context.Context, req *abci.PrepareProposalRequest) (*abci.PrepareProposalResponse, error) {
	left := registry.MaxBlockBodyBytes
	var total int64
	txs := make([][]byte, 0, len(req.Txs))
	for _, tx := range req.Txs {
		if req.MaxTxBytes > 0 && total+int64(len(tx)) > req.MaxTxBytes {
			break
		}
		w := a.weigh(sha256.Sum256(tx), tx, left)
		if w.size > left {
			break
		}
		left -= w.size
		total += int64(len(tx))
		txs = append(txs, tx)
	}
	return &abci.PrepareProposalResponse{Txs: txs}, nil
}

// FinalizeBlock applies a decided block to the store's working version.
func (a *App) FinalizeBlock(_ context.Context, req *abci.FinalizeBlockRequest) (*abci.FinalizeBlockResponse, error) {
	blk := registry.Block{Height: req.Height, Time: req.Time}
	// An upgrade scheduled at this height migrates first (a node without
	// its handler stops here); the block then applies on the migrated
	// state, which Base below no longer is.
	params, err := a.upgradeAt(req.Height)
	if err != nil {
		return nil, fmt.Errorf("finalize block %d: %w", req.Height, err)
	}
	// A nil *store.View must not become a non-nil Reader.
	var base registry.Reader
	if v := a.store.Base(); v != nil {
		base = v
	}
	results, err := ApplyBlock(a.machine, a.store, blk, req.Txs, BlockOptions{Signatures: a.sigs, Base: base, Prepared: func(tx []byte) *registry.Tx {
		return a.prepared.get(sha256.Sum256(tx))
	}})
	if err != nil {
		// A store failure: this node cannot apply the block. Returning
		// the error stops the node rather than let it go on with state
		// it cannot trust.
		return nil, fmt.Errorf("finalize block %d: %w", req.Height, err)
	}
	resp := &abci.FinalizeBlockResponse{TxResults: make([]*abci.ExecTxResult, len(results)), ConsensusParamUpdates: params}
	a.height = req.Height
	a.results = make([]wire.TxResult, len(results))
	a.hashes = make([]string, len(results))
	for i, r := range results {
		res := &abci.ExecTxResult{Code: ABCICode(r.Err), Data: r.Data, Codespace: Codespace}
		if r.Err != nil {
			res.Log, res.Info, res.Data = r.Err.Msg, r.Err.Code, nil
			a.noteDefect("FinalizeBlock", req.Txs[i], r.Err)
		}
		resp.TxResults[i] = res
		// A transaction that decoded carries its hash; only the others
		// are hashed here, on the consensus goroutine.
		h := r.Hash
		if h == "" {
			h = registry.TxHash(req.Txs[i])
		}
		a.hashes[i] = h
		a.results[i] = wire.TxResult{Kind: r.Kind, Hash: h, Height: req.Height, Code: res.Code, Err: r.Err, Data: res.Data}
		var key [32]byte
		if n, err := hex.Decode(key[:], []byte(h)); err == nil && n == len(key) {
			a.prepared.drop(key)
		}
	}
	// CometBFT refuses two updates of one validator in a block: keep the
	// last power each key was given, in the order the keys first appeared.
	at := make(map[string]int) // looked up only
	for _, r := range results {
		for _, v := range r.Validators {
			pub, err := hex.DecodeString(v.PubKey)
			if err != nil {
				return nil, fmt.Errorf("finalize block %d: validator key %q: %w", req.Height, v.PubKey, err)
			}
			if i, ok := at[v.PubKey]; ok {
				resp.ValidatorUpdates[i].Power = v.Power
				continue
			}
			at[v.PubKey] = len(resp.ValidatorUpdates)
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
	// The mempool's accounts start again: CometBFT rechecks what is left,
	// in order, which counts each account's queue again. Their pending
	// states are kept, to be rebased rather than built again; an account
	// that had nothing waiting since the last commit is forgotten.
	a.mu.Lock()
	for signer, acct := range a.pending { // any order: each entry on its own
		acct.mu.Lock()
		if acct.txs == 0 {
			delete(a.pending, signer)
		} else {
			acct.next, acct.txs, acct.bytes, acct.queue, acct.rebase = 0, 0, 0, nil, true
		}
		acct.mu.Unlock()
	}
	a.mu.Unlock()
	a.commits.publish(a.results)
	if a.onTx != nil {
		for _, r := range a.results {
			kind, result := r.Kind, "ok"
			if kind == "" {
				kind = "unknown"
			}
			if r.Err != nil {
				result = r.Err.Code
			}
			a.onTx(kind, result)
		}
	}
	a.haltAfterCommit(version)
	// What to retain is judged before this height's snapshot starts, so
	// the answer does not hang on how far that goroutine got: the
	// snapshots on disk and any still being written bound it, and the new
	// one reads a version this height keeps anyway.
	retain := a.retain(version)
	a.snaps.maybeTake(version)
	a.log.Debug("committed", "height", version, "app_hash", fmt.Sprintf("%X", hash), "txs", len(a.results))
	a.results, a.hashes = nil, nil
	return &abci.CommitResponse{RetainHeight: retain}, nil
}

// Close waits for a snapshot being written and drops a state sync restore
// in progress. Call it after CometBFT stopped, before closing the store.
func (a *App) Close() { a.snaps.close() }

// PendingNonce returns the next nonce of an account that has transactions
// waiting in the mempool; ok is false when it has none.
func (a *App) PendingNonce(signer string) (next uint64, ok bool) {
	a.mu.Lock()
	acct := a.pending[signer]
	a.mu.Unlock()
	if acct == nil {
		return 0, false
	}
	acct.mu.Lock()
	defer acct.mu.Unlock()
	return acct.next, acct.txs > 0
}

// noteLast records the last committed block as CheckTx's reference, unless
// the application has finalized a later one itself.
func (a *App) noteLast(b registry.Block) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if b.Height > a.last.Height {
		a.last = b
	}
}

// LastBlock is the last block the application finalized.
func (a *App) LastBlock() registry.Block {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.last
}

// Bounds of the prepared-transaction cache: a few full mempools' worth
// (CometBFT's default mempool holds 5,000 transactions), and no more bytes
// of transactions than a node can spare.
const (
	preparedCacheTxs   = 50_000
	preparedCacheBytes = 128 << 20
)

// preparedCache remembers transactions that passed Prepare, keyed by the
// hash of their exact bytes, signature included: a hit means these very
// bytes were decoded and verified, and Prepare is deterministic, so the
// result is the same as preparing them again. It holds no consensus state:
// a miss only costs a Prepare. The oldest entries go first.
type preparedCache struct {
	mu      sync.Mutex
	entries map[[32]byte]preparedEntry
	// ring holds the entries' keys in insertion order, the oldest at
	// head: a ring, grown up to maxTxs+1 keys and then reused, where a
	// slice appended to and compacted copied and allocated megabytes
	// again and again under a loaded mempool.
	ring     [][32]byte
	head     int
	bytes    int
	maxTxs   int
	maxBytes int
}

type preparedEntry struct {
	tx   *registry.Tx
	size int
}

func newPreparedCache(maxTxs, maxBytes int) *preparedCache {
	return &preparedCache{entries: make(map[[32]byte]preparedEntry), maxTxs: maxTxs, maxBytes: maxBytes}
}

func (c *preparedCache) add(h [32]byte, tx *registry.Tx, size int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.entries)
	old, had := c.entries[h]
	c.entries[h] = preparedEntry{tx: tx, size: size}
	if len(c.entries) == n {
		// Prepared already: these very bytes, so of the same size, and
		// a transaction prepared from them is the same; or dropped
		// (committed) and now prepared again, counted again.
		if had && old.tx == nil {
			c.bytes += size
			c.evict()
		}
		return
	}
	// The ring holds every key of entries, once: n before this one.
	if n == len(c.ring) {
		grown := make([][32]byte, min(max(2*len(c.ring), 1024), c.maxTxs+1))
		k := copy(grown, c.ring[c.head:])
		copy(grown[k:], c.ring[:c.head])
		c.ring, c.head = grown, 0
	}
	c.ring[(c.head+n)%len(c.ring)] = h
	c.bytes += size
	c.evict()
}

// evict forgets the oldest entries while the cache holds more than its
// bounds. The caller holds mu.
func (c *preparedCache) evict() {
	for len(c.entries) > c.maxTxs || c.bytes > c.maxBytes {
		old := c.ring[c.head]
		c.head = (c.head + 1) % len(c.ring)
		c.bytes -= c.entries[old].size
		delete(c.entries, old)
	}
}

// drop forgets the transaction of hash h, committed in a block: no later
// block can hold it (its nonce is used), and a decoded batch kept until
// the ring comes round to it is megabytes the collector marks at every
// cycle, on the cores CheckTx needs. Its key stays in the ring, with no
// transaction, until the ring comes round to it.
func (c *preparedCache) drop(h [32]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[h]; ok && e.tx != nil {
		c.bytes -= e.size
		c.entries[h] = preparedEntry{}
	}
}

func (c *preparedCache) get(h [32]byte) *registry.Tx {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.entries[h].tx
}

// Notifier lets submitters wait for their transaction's commit, and
// remembers the results of the last recentResults committed transactions
// for a submitter who sends a transaction again.
type Notifier struct {
	mu      sync.Mutex
	waiters map[string][]chan wire.TxResult
	recent  map[string]wire.TxResult
	ring    []string
	next    int
}

// recentResults bounds the Notifier's memory of committed results.
const recentResults = 20_000

// NewNotifier returns an empty Notifier.
func NewNotifier() *Notifier {
	return &Notifier{
		waiters: make(map[string][]chan wire.TxResult),
		recent:  make(map[string]wire.TxResult),
		ring:    make([]string, recentResults),
	}
}

// Watch registers interest in a transaction hash; call it before the
// transaction is submitted so its commit cannot be missed. The returned
// cancel must be called when the caller stops waiting.
func (n *Notifier) Watch(hash string) (<-chan wire.TxResult, func()) {
	ch := make(chan wire.TxResult, 1)
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
func (n *Notifier) Recent(hash string) (wire.TxResult, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	r, ok := n.recent[hash]
	return r, ok
}

func (n *Notifier) publish(results []wire.TxResult) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, r := range results {
		// Honest validators refuse a proposal holding a transaction
		// that was applied (ProcessProposal), but a block decided
		// without them (more than two thirds of the power byzantine)
		// could hold it again, refused as a replay. What the
		// transaction did is what it did the first time: keep that,
		// and tell any waiter the same. (CometBFT's transaction index
		// keeps the last result instead: a lookup by hash would show
		// the replay.)
		if prev, ok := n.recent[r.Hash]; ok && prev.Err == nil && r.Err != nil {
			r = prev
		} else {
			n.remember(r)
		}
		for _, ch := range n.waiters[r.Hash] {
			select {
			case ch <- r:
			default:
			}
		}
	}
}

// remember keeps r as the recent result of its transaction, forgetting
// the oldest.
func (n *Notifier) remember(r wire.TxResult) {
	if _, ok := n.recent[r.Hash]; !ok {
		if old := n.ring[n.next]; old != "" {
			delete(n.recent, old)
		}
		n.ring[n.next] = r.Hash
		n.next = (n.next + 1) % len(n.ring)
	}
	n.recent[r.Hash] = r
}

// WaitTimeout is how long a submitter waits for its commit by default.
const WaitTimeout = wire.DefaultSubmitWait
