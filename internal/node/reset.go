package node

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/cityid/cityid/internal/chain"
)

// Reset empties a node's data so that it resyncs from its peers (block
// sync, or state sync when enabled): the ledger state, CometBFT's blocks,
// state and write-ahead log, and the snapshots. It keeps the home's
// configuration, genesis and keys, and the validator's last-signed state
// (priv_validator_state.json), so a validator never signs twice at a height
// it signed before. It returns what it removed.
//
// It refuses, with an *InUseError, while a node runs on home: a running
// node whose data vanished under it could never run again.
func Reset(home string) (_ []string, err error) {
	c, err := Load(home)
	if err != nil {
		return nil, err
	}
	lock, err := lockHome(home)
	if err != nil {
		var inUse *InUseError
		if errors.As(err, &inUse) {
			return nil, fmt.Errorf("reset: %w: stop the node that runs on it first; its data is untouched", err)
		}
		return nil, fmt.Errorf("reset: %w", err)
	}
	defer func() { err = errors.Join(err, lock.release()) }()
	data := c.Comet.DBDir()
	entries, err := os.ReadDir(data)
	if err != nil {
		return nil, fmt.Errorf("reset %s: %w", home, err)
	}
	keep := filepath.Base(c.Comet.PrivValidatorStateFile())
	var removed []string
	for _, e := range entries {
		if e.Name() == keep {
			continue
		}
		path := filepath.Join(data, e.Name())
		if err := os.RemoveAll(path); err != nil {
			return removed, fmt.Errorf("reset %s: %w", home, err)
		}
		removed = append(removed, path)
	}
	return removed, nil
}

// recoverHint is added to start-up failures that come from the node's own
// data: the state cannot be trusted, so the node refuses to run on it and
// says how to rebuild it from the network.
//
// A store locked by another process is not damaged: that process is told
// apart, and reset is not suggested for it.
func recoverHint(home string, err error) error {
	if chain.IsUpgradeStop(err) {
		// The data is sound; the binary is the wrong one for it. A reset
		// would only make the node sync to the same height and stop.
		return err
	}
	if errors.Is(err, syscall.EADDRINUSE) {
		// A port that another process holds says nothing of the data.
		return fmt.Errorf("%w\n\nAnother process listens on that address: stop it, or give this node other ports (--rpc, --p2p, or config/config.toml in %s).", err, home)
	}
	if isLockedStore(err) {
		return fmt.Errorf("%w\n\nAnother process holds the node's data in %s: stop it before starting this node.", err, filepath.Join(home, "data"))
	}
	return fmt.Errorf("%w\n\nThe node's data in %s cannot be used as it is, so the node will not start on it.\n"+
		"If it is damaged, rebuild it from the network (keys, configuration and genesis are kept):\n"+
		"  cityid reset --home %s --yes && cityid start --home %s", err, filepath.Join(home, "data"), home, home)
}
