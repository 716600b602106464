package node

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/cockroachdb/pebble"
	lerrors "github.com/syndtr/goleveldb/leveldb/errors"
	lstorage "github.com/syndtr/goleveldb/leveldb/storage"

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

// recoverHint is added to start-up failures to say what to do. Only an
// error that shows the node's own data to be damaged (damagedData) gets
// the advice to rebuild it from the network: a reset deletes the state,
// which for a port taken, a permission or a full disk would cost a whole
// sync and mend nothing. A store locked by another process is not damaged
// either: that process is told apart. Any other error is said as it is.
func recoverHint(home string, err error) error {
	data := filepath.Join(home, "data")
	switch {
	case chain.IsUpgradeStop(err):
		// The data is sound; the binary is the wrong one for it. A reset
		// would only make the node sync to the same height and stop.
		return err
	case errors.Is(err, syscall.EADDRINUSE):
		// A port that another process holds says nothing of the data.
		return fmt.Errorf("%w\n\nAnother process listens on that address: stop it, or give this node other ports (--rpc, --p2p, or config/config.toml in %s).", err, home)
	case isLockedStore(err):
		return fmt.Errorf("%w\n\nAnother process holds the node's data in %s: stop it before starting this node.", err, data)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%w\n\nThe node may not read or write a file of %s: run it as the user that owns the home (a service: sudo -u cityid), or give that user the files back.", err, home)
	case errors.Is(err, syscall.ENOSPC):
		return fmt.Errorf("%w\n\nThe disk that holds %s is full: free space, then start the node again.", err, data)
	case damagedData(err):
		return fmt.Errorf("%w\n\nThe node's data in %s is damaged, so the node will not start on it.\n"+
			"Rebuild it from the network (keys, configuration and genesis are kept):\n"+
			"  cityid reset --home %s --yes && cityid start --home %s", err, data, home, home)
	}
	return err
}

// damagedData reports whether a start-up error shows that the node's own
// data cannot be read as it is: a database that says it is corrupt
// (goleveldb's state, pebble's CometBFT stores), the state tree missing
// what its versions name, or CometBFT finding its stores and the state at
// odds when it replays them (the handshake).
func damagedData(err error) bool {
	var lc *lerrors.ErrCorrupted
	var sc *lstorage.ErrCorrupted
	if errors.As(err, &lc) || errors.As(err, &sc) || pebble.IsCorruptionError(err) {
		return true
	}
	// These have no type to match: CometBFT formats the handshake's
	// error with %v, which drops its types (sm.ErrAppBlockHeightTooHigh,
	// ErrLastStateMismatch...), and the store names IAVL's failures to
	// load by the step. TestRecoverHint pins them on real failures.
	msg := err.Error()
	for _, s := range []string{"error during handshake", "load tree: ", "load version "} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
