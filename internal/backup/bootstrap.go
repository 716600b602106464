package backup

import (
	"errors"
	"fmt"

	cfg "github.com/cometbft/cometbft/config"
	sm "github.com/cometbft/cometbft/state"
	cmtstore "github.com/cometbft/cometbft/store"
)

// Bootstrap writes the CometBFT state and block stores of a node at the
// archive's height H, into conf's data folder, whose stores must be empty.
// It does what CometBFT v1's node.BootstrapState does for offline state
// sync, with the light blocks of H, H+1 and H+2's validators taken from
// the archive (checked by Read) instead of fetched from RPC servers by a
// light client: BootstrapState needs those servers to still hold the
// blocks, and a trusting period that an archive months old has outlived.
// The state, like state sync's, is the one a light client builds (see
// statesync's lightClientStateProvider.State); the node then block-syncs
// from H+1.
func Bootstrap(conf *cfg.Config, dbp cfg.DBProvider, a *Archive) (err error) {
	bsDB, err := dbp(&cfg.DBContext{ID: "blockstore", Config: conf})
	if err != nil {
		return fmt.Errorf("bootstrap: open block store: %w", err)
	}
	blocks := cmtstore.NewBlockStore(bsDB, cmtstore.WithDBKeyLayout(conf.Storage.ExperimentalKeyLayout))
	defer func() { err = errors.Join(err, blocks.Close()) }()
	stDB, err := dbp(&cfg.DBContext{ID: "state", Config: conf})
	if err != nil {
		return fmt.Errorf("bootstrap: open state store: %w", err)
	}
	states := sm.NewStore(stDB, sm.StoreOptions{
		DiscardABCIResponses: conf.Storage.DiscardABCIResponses,
		DBKeyLayout:          conf.Storage.ExperimentalKeyLayout,
	})
	defer func() { err = errors.Join(err, states.Close()) }()
	if !blocks.IsEmpty() {
		return errors.New("bootstrap: the block store is not empty")
	}
	if st, err := states.Load(); err != nil {
		return fmt.Errorf("bootstrap: load state: %w", err)
	} else if !st.IsEmpty() {
		return errors.New("bootstrap: the state store is not empty")
	}
	state, err := sm.MakeGenesisState(a.Doc)
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	last, signed := a.Last, a.Signed
	state.Version.Consensus = signed.Version
	state.LastBlockHeight = last.Height
	state.LastBlockTime = last.Time
	state.LastBlockID = last.Commit.BlockID
	state.AppHash = signed.AppHash
	state.LastResultsHash = signed.LastResultsHash
	state.LastValidators = last.ValidatorSet
	state.Validators = signed.ValidatorSet
	state.NextValidators = a.NextValidators
	state.LastHeightValidatorsChanged = signed.Height + 1
	state.ConsensusParams = a.Params
	state.LastHeightConsensusParamsChanged = signed.Height
	if err := states.Bootstrap(state); err != nil {
		return fmt.Errorf("bootstrap: save state at %d: %w", last.Height, err)
	}
	if err := blocks.SaveSeenCommit(last.Height, last.Commit); err != nil {
		return fmt.Errorf("bootstrap: save the commit of %d: %w", last.Height, err)
	}
	// Block sync starts after this height, as after offline state sync.
	if err := states.SetOfflineStateSyncHeight(last.Height); err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	return nil
}
