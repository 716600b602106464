package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	cmtdb "github.com/cometbft/cometbft-db"
	"github.com/cometbft/cometbft/abci/example/kvstore"
	abci "github.com/cometbft/cometbft/abci/types"
	cfg "github.com/cometbft/cometbft/config"
	nm "github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/proxy"
	"github.com/cometbft/cometbft/types"

	"github.com/cityid/cityid/internal/chain"
	"github.com/cityid/cityid/internal/store"
)

// The e2e and batch benchmarks feed a node's mempool directly, follow its
// blocks on its event bus and read them back from its block store, and
// run CometBFT's kvstore example through the same harness as the
// baseline: so they start CometBFT themselves, here, rather than through
// chain.Start, whose node keeps CometBFT to itself. The assembly is
// chain.Start's: the same config, keys, providers and ABCI client
// creator, so that the two apps differ only by the app, and CityID's
// node differs from a real one only by what the harness reads of it.
// (A change to chain.Start's assembly is to be made here too, and to
// abciClient, which the e2e report prints.)

// abciClient is how startComet connects CometBFT to the app, as the e2e
// report's settings name it.
const abciClient = "in process, proxy.NewConsensusSyncLocalClientCreator (consensus serialised; CheckTx and queries in their callers' goroutines)"

// cometNode is a CometBFT node running an app in this process.
type cometNode struct {
	*nm.Node
	// app and store are CityID's; nil for kvstore.
	app   *chain.App
	store *store.Store
	close func() error // what the app holds, after the node stops
}

// startComet starts CometBFT on the home in conf with app in process, as
// chain.Start does.
func startComet(ctx context.Context, conf *cfg.Config, app abci.Application, log *slog.Logger) (*nm.Node, error) {
	nodeKey, err := p2p.LoadNodeKey(conf.NodeKeyFile())
	if err != nil {
		return nil, fmt.Errorf("load node key: %w", err)
	}
	pv := privval.LoadFilePV(conf.PrivValidatorKeyFile(), conf.PrivValidatorStateFile())
	n, err := nm.NewNode(ctx, conf, pv, nodeKey,
		// As chain.Start: only the consensus connection is serialised, so
		// CheckTx runs in the feeders' goroutines, on every core.
		proxy.NewConsensusSyncLocalClientCreator(app),
		nm.DefaultGenesisDocProviderFunc(conf),
		cfg.DefaultDBProvider,
		nm.DefaultMetricsProvider(conf.Instrumentation),
		chain.NewCometLogger(log.With("module", "cometbft")),
	)
	if err != nil {
		return nil, fmt.Errorf("create node: %w", err)
	}
	if err := n.Start(); err != nil {
		return nil, fmt.Errorf("start node: %w", err)
	}
	return n, nil
}

// startCityID starts CityID's App over a new store in the home's state
// folder, as chain.Start does with no options.
func startCityID(ctx context.Context, conf *cfg.Config, log *slog.Logger) (*cometNode, error) {
	gen, err := types.GenesisDocFromFile(conf.GenesisFile())
	if err != nil {
		return nil, fmt.Errorf("read genesis: %w", err)
	}
	st, err := store.Open(chain.StateDir(conf), store.Options{Logger: log.With("module", "iavl")})
	if err != nil {
		return nil, err
	}
	app := chain.NewApp(gen.ChainID, st, log.With("module", "app"))
	n, err := startComet(ctx, conf, app, log)
	if err != nil {
		app.Close()
		st.Close()
		return nil, err
	}
	return &cometNode{Node: n, app: app, store: st, close: func() error {
		app.Close()
		return st.Close()
	}}, nil
}

// startKVStore starts CometBFT's kvstore example app on a goleveldb
// database in the node's data folder: the engine CityID's IAVL store uses.
func startKVStore(ctx context.Context, conf *cfg.Config, log *slog.Logger) (*cometNode, error) {
	db, err := cmtdb.NewGoLevelDB("kvstore", conf.DBDir())
	if err != nil {
		return nil, fmt.Errorf("open kvstore database: %w", err)
	}
	a := kvstore.NewApplication(db)
	n, err := startComet(ctx, conf, a, log)
	if err != nil {
		a.Close()
		return nil, err
	}
	return &cometNode{Node: n, close: a.Close}, nil
}

// stop stops CometBFT, then closes what the app holds.
func (n *cometNode) stop() error {
	var errs []error
	if n.IsRunning() {
		if err := n.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("stop node: %w", err))
		}
		n.Wait()
	}
	if err := n.close(); err != nil {
		errs = append(errs, fmt.Errorf("close the app: %w", err))
	}
	return errors.Join(errs...)
}
