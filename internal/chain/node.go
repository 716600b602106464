package chain

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	abcicli "github.com/cometbft/cometbft/abci/client"
	abci "github.com/cometbft/cometbft/abci/types"
	cfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/crypto"
	cmted25519 "github.com/cometbft/cometbft/crypto/ed25519"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	mempl "github.com/cometbft/cometbft/mempool"
	nm "github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/proxy"
	"github.com/cometbft/cometbft/rpc/client/local"
	"github.com/cometbft/cometbft/types"

	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/store"
	"github.com/cityid/cityid/internal/wire"
)

// clientCreator gives CometBFT local clients of app: the consensus
// connection serialised, the others in their callers' goroutines, and, for
// CityID's App, the mempool connection's CheckTx a dry run (mempoolClient).
func clientCreator(app abci.Application) proxy.ClientCreator {
	base := proxy.NewConsensusSyncLocalClientCreator(app)
	if a, ok := app.(*App); ok {
		return appClients{ClientCreator: base, app: a}
	}
	return base
}

type appClients struct {
	proxy.ClientCreator
	app *App
}

func (c appClients) NewABCIMempoolClient() (abcicli.Client, error) {
	cl, err := c.ClientCreator.NewABCIMempoolClient()
	if err != nil {
		return nil, err
	}
	return mempoolClient{Client: cl, app: c.app}, nil
}

// mempoolClient is the mempool connection's client. CometBFT's mempool
// sends every transaction, new or rechecked, with CheckTxAsync; CheckTx
// is called only by the check_tx RPC route, which judges a transaction
// and does not add it to the mempool. It must then take no place in its
// account's queue (App.DryCheckTx).
type mempoolClient struct {
	abcicli.Client
	app *App
}

func (c mempoolClient) CheckTx(ctx context.Context, req *abci.CheckTxRequest) (*abci.CheckTxResponse, error) {
	return c.app.DryCheckTx(ctx, req)
}

// Node is a running CometBFT node with the CityID application in process.
type Node struct {
	node   *nm.Node
	client *local.Local
	app    *App
	store  *store.Store
	log    *slog.Logger

	// watchStuck's goroutine (regossip.go): closed to stop it, and when
	// it has ended.
	stopStuck, stuckDone chan struct{}

	// signer is the listener for a remote signer (waitForSigner), nil
	// with a key file: CometBFT stops only a signer client it made.
	signer *privval.SignerListenerEndpoint
}

// StateDir is where, under a CometBFT home, the application keeps its IAVL
// state: beside CometBFT's own databases, so one folder is one node.
func StateDir(conf *cfg.Config) string { return filepath.Join(conf.DBDir(), "cityid") }

// Options configure a node beyond CometBFT's config.
type Options struct {
	// SnapshotInterval takes a state sync snapshot every so many blocks
	// (0: none); SnapshotKeep keeps that many.
	SnapshotInterval int64
	SnapshotKeep     int
	// OnTx is AppOptions.OnTx.
	OnTx func(kind, result string)
	// Store sizes the state store's caches; its Logger is set by Start.
	Store store.Options
	// Retention is AppOptions.Retention.
	Retention Retention
	// Upgrades are the binary's upgrade handlers (AppOptions.Upgrades).
	Upgrades []Upgrade
	// WrapApp, when set, wraps the application CometBFT is given: the
	// network tests run a byzantine validator by wrapping its
	// PrepareProposal. No command or configuration file sets it; the
	// node's own reads and writes still go to the App itself.
	WrapApp func(abci.Application) abci.Application
}

// SnapshotDir is where a node keeps its state sync snapshots.
func SnapshotDir(conf *cfg.Config) string { return filepath.Join(conf.DBDir(), "snapshots") }

// Start opens the application's store and starts CometBFT on the home in
// conf. The node runs until Stop.
func Start(ctx context.Context, conf *cfg.Config, log *slog.Logger, opts ...Options) (*Node, error) {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if err := conf.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("config %s: %w", filepath.Join(conf.RootDir, "config", "config.toml"), err)
	}
	genDoc, err := types.GenesisDocFromFile(conf.GenesisFile())
	if err != nil {
		return nil, fmt.Errorf("read genesis: %w", err)
	}
	so := o.Store
	so.Logger = log.With("module", "iavl")
	st, err := store.Open(StateDir(conf), so)
	if err != nil {
		return nil, err
	}
	// A binary that must not run this state (an upgrade is due that it
	// has no handler for, or ran that it does not know) says so before
	// CometBFT starts: a refusal that needs no block, every restart.
	if err := CheckUpgrades(st, o.Upgrades); err != nil {
		st.Close()
		return nil, err
	}
	app := NewApp(genDoc.ChainID, st, log.With("module", "app"), AppOptions{Snapshots: SnapshotOptions{
		Dir: SnapshotDir(conf), Interval: o.SnapshotInterval, Keep: o.SnapshotKeep,
	}, OnTx: o.OnTx, Retention: o.Retention, Upgrades: o.Upgrades, UpgradeInfoFile: UpgradeInfoFile(conf.DBDir())})
	var consensus abci.Application = app
	// InitChain finds the files a genesis names (an imported export)
	// beside the genesis file.
	app.genDir = filepath.Dir(conf.GenesisFile())
	if o.WrapApp != nil {
		consensus = o.WrapApp(app)
	}
	n, err := startApp(ctx, conf, consensus, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	n.app, n.store = app, st
	base := n.node.BlockStore().Base
	app.base.Store(&base)
	n.stopStuck, n.stuckDone = make(chan struct{}), make(chan struct{})
	go n.watchStuck(n.stopStuck, n.stuckDone)
	return n, nil
}

// startApp starts CometBFT on the home in conf with app in process: the
// CityID App, or a wrapper of it (Options.WrapApp). (internal/bench
// assembles its nodes the same way: a change here is to be made there.)
func startApp(ctx context.Context, conf *cfg.Config, app abci.Application, log *slog.Logger) (*Node, error) {
	nodeKey, err := p2p.LoadNodeKey(conf.NodeKeyFile())
	if err != nil {
		return nil, fmt.Errorf("load node key: %w", err)
	}
	// A validator whose key is kept by a remote signer (priv_validator_laddr:
	// CometBFT listens there for the signer, cityid signer or another) has
	// no key file here, and needs none.
	var pv types.PrivValidator
	var signer *privval.SignerListenerEndpoint
	cmtLog := NewCometLogger(log.With("module", "cometbft"))
	if laddr := conf.PrivValidatorListenAddr; laddr == "" {
		pv = privval.LoadFilePV(conf.PrivValidatorKeyFile(), conf.PrivValidatorStateFile())
	} else {
		if pv, signer, err = waitForSigner(ctx, conf, cmtLog, log); err != nil {
			return nil, err
		}
		// CometBFT would listen at the address again, and give up on
		// the signer after 3 s: it is given the connected client.
		own := *conf
		own.PrivValidatorListenAddr = ""
		conf = &own
	}
	node, err := nm.NewNode(ctx, conf, pv, nodeKey,
		// Only the consensus connection is serialised by CometBFT; mempool
		// and query calls run in their callers' goroutines, so CheckTx
		// verifies signatures on every core. App guards its own shared
		// state (the mempool's nonces) and reads only committed state.
		clientCreator(app),
		nm.DefaultGenesisDocProviderFunc(conf),
		dbProvider(log.With("module", "pebble")),
		nm.DefaultMetricsProvider(conf.Instrumentation),
		cmtLog,
	)
	if err != nil {
		stopSigner(signer)
		return nil, fmt.Errorf("create node: %w", err)
	}
	if err := node.Start(); err != nil {
		stopSigner(signer)
		return nil, fmt.Errorf("start node: %w", err)
	}
	out := &Node{node: node, client: local.New(node), log: log, signer: signer}
	if a, ok := app.(*App); ok {
		out.app = a
		// CheckTx judges a transaction as the next block would: after a
		// restart that replayed nothing, the last block is the block
		// store's, not zero (valid_until_height and grant expiries
		// would otherwise be judged at height 1, year 1).
		bs := node.BlockStore()
		if meta := bs.LoadBlockMeta(bs.Height()); meta != nil {
			a.noteLast(registry.Block{Height: meta.Header.Height, Time: meta.Header.Time})
		}
	}
	return out, nil
}

// signerWaitNote is how often a node waiting for its remote signer says
// so.
const signerWaitNote = 10 * time.Second

// waitForSigner listens at conf's priv_validator_laddr for the remote
// signer (cityid signer, or another) and waits for it until ctx ends,
// saying every signerWaitNote what to run, as an operator starting the
// node before the signer expects (CometBFT alone gives up after 3 s).
// The client it returns retries a request for 5 s, as CometBFT's own
// does, while the signer reconnects.
func waitForSigner(ctx context.Context, conf *cfg.Config, cmtLog cmtlog.Logger, log *slog.Logger) (types.PrivValidator, *privval.SignerListenerEndpoint, error) {
	laddr := conf.PrivValidatorListenAddr
	gen, err := types.GenesisDocFromFile(conf.GenesisFile())
	if err != nil {
		return nil, nil, fmt.Errorf("read genesis: %w", err)
	}
	rounds := 0
	client, endpoint, err := ListenForSigner(ctx, laddr, gen.ChainID, signerWaitNote, cmtLog, func() {
		if rounds++; rounds > 1 { // not before the signer had a chance
			log.Warn("waiting for the remote signer: on the machine with the validator's key and state files, run cityid signer",
				"priv_validator_laddr", laddr, "chain_id", gen.ChainID)
		}
	})
	if err != nil {
		return nil, nil, fmt.Errorf("waiting for the remote signer on %s: %w", laddr, err)
	}
	if _, err := client.GetPubKey(); err != nil {
		stopSigner(endpoint)
		return nil, nil, fmt.Errorf("the remote signer on %s: its public key: %w (is it run with --chain-id %s?)", laddr, err, gen.ChainID)
	}
	log.Info("the remote signer connected", "priv_validator_laddr", laddr)
	return privval.NewRetrySignerClient(client, 50, 100*time.Millisecond), endpoint, nil
}

// ListenForSigner listens at laddr (a priv_validator_laddr) for a remote
// signer of chainID and waits until one connects or ctx ends, calling
// waiting before each wait of at most every. On an error nothing is left
// listening; otherwise the caller stops the endpoint when done.
func ListenForSigner(ctx context.Context, laddr, chainID string, every time.Duration, log cmtlog.Logger, waiting func()) (*privval.SignerClient, *privval.SignerListenerEndpoint, error) {
	endpoint, err := privval.NewSignerListener(laddr, log)
	if err != nil {
		return nil, nil, fmt.Errorf("listen for the remote signer on priv_validator_laddr %s: %w", laddr, err)
	}
	client, err := privval.NewSignerClient(endpoint, chainID)
	if err != nil {
		return nil, nil, fmt.Errorf("listen for the remote signer on priv_validator_laddr %s: %w", laddr, err)
	}
	for {
		wait := every
		if deadline, ok := ctx.Deadline(); ok {
			wait = min(wait, time.Until(deadline))
		}
		if waiting != nil {
			waiting()
		}
		err := client.WaitForConnection(max(wait, time.Millisecond))
		if err == nil {
			return client, endpoint, nil
		}
		if cerr := ctx.Err(); cerr != nil {
			stopSigner(endpoint)
			return nil, nil, fmt.Errorf("%w (%w)", cerr, err)
		}
	}
}

// stopSigner closes the listener for a remote signer, if there is one,
// and its connection.
func stopSigner(endpoint *privval.SignerListenerEndpoint) {
	if endpoint != nil && endpoint.IsRunning() {
		_ = endpoint.Stop()
	}
}

// Stop stops CometBFT and closes the store.
func (n *Node) Stop() error {
	var errs []error
	if n.stopStuck != nil {
		close(n.stopStuck)
		<-n.stuckDone
		n.stopStuck = nil
	}
	if n.node.IsRunning() {
		stopped := make(chan error, 1)
		go func() {
			err := n.node.Stop()
			if err == nil {
				n.node.Wait()
			}
			stopped <- err
		}()
		var parked <-chan struct{}
		if n.app != nil {
			parked = n.app.halt.parked
		}
		select {
		case err := <-stopped:
			if err != nil {
				errs = append(errs, fmt.Errorf("stop node: %w", err))
			}
		case <-parked:
			// FinalizeBlock holds the block of an upgrade this binary
			// has no handler for, and CometBFT's stop waits for it:
			// both are left to the process's exit, and the stores as
			// the last commit left them (what a crash leaves, and what
			// a restart reads and refuses).
			n.log.Info("node stopped at the upgrade height; its stores are as the last commit left them", "err", n.app.HaltError())
			return errors.Join(errs...)
		}
	}
	stopSigner(n.signer)
	if n.app != nil {
		n.app.Close()
	}
	if n.store != nil {
		if err := n.store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close store: %w", err))
		}
	}
	return errors.Join(errs...)
}

// App is the node's application.
func (n *Node) App() *App { return n.app }

// Halted is closed when the node stopped for an upgrade its binary has no
// handler for (App.Halted); HaltError says which.
func (n *Node) Halted() <-chan struct{} { return n.app.Halted() }

// HaltError is the upgrade the node stopped for, nil while it runs.
func (n *Node) HaltError() error { return n.app.HaltError() }

// Store is the node's state.
func (n *Node) Store() *store.Store { return n.store }

// ChainID is the node's chain.
func (n *Node) ChainID() string { return n.node.GenesisDoc().ChainID }

// Status reports the node's height and sync state, and whether it is a
// validator: of the latest block's set, or, at height 0, of the genesis's
// (wire.NodeStatus).
func (n *Node) Status(ctx context.Context) (wire.NodeStatus, error) {
	s, err := n.client.Status(ctx)
	if err != nil {
		return wire.NodeStatus{}, fmt.Errorf("node status: %w", err)
	}
	st := wire.NodeStatus{
		ChainID:     s.NodeInfo.Network,
		NodeID:      string(s.NodeInfo.DefaultNodeID),
		Moniker:     s.NodeInfo.Moniker,
		Height:      s.SyncInfo.LatestBlockHeight,
		AppHash:     s.SyncInfo.LatestAppHash.String(),
		CatchingUp:  s.SyncInfo.CatchingUp,
		Peers:       n.node.Switch().Peers().Size(),
		Validator:   s.ValidatorInfo.VotingPower > 0,
		VotingPower: s.ValidatorInfo.VotingPower,
	}
	// Before the first block CometBFT reports the Unix epoch as the
	// latest block's time: there is no block, so no time.
	if st.Height > 0 {
		st.BlockTime = s.SyncInfo.LatestBlockTime
	}
	// Before the first block CometBFT may not know the validators yet: a
	// node waiting for its peers (block sync) looks them up at height 0,
	// which has none, and says 0 power. The set of block 1 is the
	// genesis's (InitChain returns no other), so that is what is true.
	if st.Height == 0 {
		st.VotingPower = 0
		for _, v := range n.node.GenesisDoc().Validators {
			if v.PubKey != nil && bytes.Equal(v.PubKey.Address(), s.ValidatorInfo.Address) {
				st.VotingPower = v.Power
			}
		}
		st.Validator = st.VotingPower > 0
	}
	return st, nil
}

// Submit puts a transaction into the mempool (which gossips it to peers)
// and waits until its block is committed. A transaction refused by CheckTx
// comes back at once as a result with its code; a transaction accepted but
// not committed before ctx ends returns wire.ErrTimeout, with the hash to look it
// up later.
func (n *Node) Submit(ctx context.Context, tx []byte) (wire.TxResult, error) {
	hash := registry.TxHash(tx)
	ch, cancel := n.app.Commits().Watch(hash)
	defer cancel()
	res, err := n.client.BroadcastTxSync(ctx, tx)
	var invalid mempl.ErrInvalidTx
	var tooLarge mempl.ErrTxTooLarge
	switch {
	case errors.As(err, &invalid):
		// CheckTx refused it: the application's own code and message.
		e := n.refusal(tx, invalid.Code, invalid.Log)
		return wire.TxResult{Hash: hash, Code: invalid.Code, Err: e}, nil
	case errors.As(err, &tooLarge):
		e := &registry.Error{Code: registry.CodeTooLarge, Msg: fmt.Sprintf("transaction is %d bytes, more than the mempool's %d", tooLarge.Actual, tooLarge.Max)}
		return wire.TxResult{Hash: hash, Code: ABCICode(e), Err: e}, nil
	case err != nil && !errors.Is(err, mempl.ErrTxInCache):
		return wire.TxResult{Hash: hash}, fmt.Errorf("submit %s: %w", hash, err)
	}
	seen := err != nil // in the mempool's cache: waiting, or committed already
	if seen {
		if r, ok := n.app.Commits().Recent(hash); ok {
			return r, nil
		}
		if r, ok := n.committedTx(ctx, hash); ok {
			return r, nil
		}
	}
	if err == nil && res.Code != CodeOK {
		e := n.refusal(tx, res.Code, res.Log)
		return wire.TxResult{Hash: hash, Code: res.Code, Err: e}, nil
	}
	// A transaction seen before may also have been committed before this
	// process started (the mempool cache outlives nothing, but the
	// transaction index lags the commit slightly): look it up now and then.
	var poll <-chan time.Time
	if seen {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		poll = t.C
	}
	for {
		select {
		case r := <-ch:
			return r, nil
		case <-poll:
			if r, ok := n.committedTx(ctx, hash); ok {
				return r, nil
			}
		case <-ctx.Done():
			return wire.TxResult{Hash: hash}, fmt.Errorf("wait for %s: %w", hash, wire.ErrTimeout)
		}
	}
}

// refusal is the registry's error for a transaction refused with ABCI
// code c and log msg. ABCI carries only the code and the message; an
// invalid identifier, and a deflated body that does not inflate, are found
// by the stateless checks, so running them again on the same bytes gives
// the error whole, with its reason and position.
func (n *Node) refusal(tx []byte, c uint32, msg string) *registry.Error {
	e := &registry.Error{Code: registryCode(c), Msg: msg}
	switch e.Code {
	case registry.CodeInvalidID, registry.CodeTooLarge, registry.CodeMalformed:
	default:
		return e
	}
	if n.app != nil {
		if _, perr := n.app.Machine().Prepare(tx); perr != nil && perr.Code == e.Code {
			return perr
		}
	}
	return e
}

// committedTx looks a transaction up in CometBFT's transaction index.
func (n *Node) committedTx(ctx context.Context, hash string) (wire.TxResult, bool) {
	h, err := hex.DecodeString(hash)
	if err != nil {
		return wire.TxResult{}, false
	}
	r, err := n.client.Tx(ctx, h, false)
	if err != nil {
		return wire.TxResult{}, false
	}
	out := wire.TxResult{Hash: hash, Height: r.Height, Code: r.TxResult.Code, Data: r.TxResult.Data}
	if r.TxResult.Code != CodeOK {
		out.Err = n.refusal(r.Tx, r.TxResult.Code, r.TxResult.Log)
	}
	return out, true
}

// GenValidatorKey creates a validator key file and its state file.
func GenValidatorKey(conf *cfg.Config) (crypto.PubKey, error) {
	pv, err := privval.GenFilePV(conf.PrivValidatorKeyFile(), conf.PrivValidatorStateFile(), func() (crypto.PrivKey, error) {
		return cmted25519.GenPrivKey(), nil
	})
	if err != nil {
		return nil, fmt.Errorf("generate validator key: %w", err)
	}
	pv.Save()
	return pv.Key.PubKey, nil
}

// Peers is how many peers the node is connected to.
func (n *Node) Peers() int { return n.node.Switch().Peers().Size() }

// Latest is the node's last committed state; nil before the first block.
func (n *Node) Latest() *store.View { return n.store.Latest() }

// PendingNonce is the application's PendingNonce.
func (n *Node) PendingNonce(signer string) (uint64, bool) { return n.app.PendingNonce(signer) }
