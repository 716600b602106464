package node

import (
	"fmt"
	"os"
	"path/filepath"
)

// Reset empties a node's data so that it resyncs from its peers (block
// sync, or state sync when enabled): the ledger state, CometBFT's blocks,
// state and write-ahead log, and the snapshots. It keeps the home's
// configuration, genesis and keys, and the validator's last-signed state
// (priv_validator_state.json), so a validator never signs twice at a height
// it signed before. It returns what it removed.
func Reset(home string) ([]string, error) {
	c, err := Load(home)
	if err != nil {
		return nil, err
	}
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
func recoverHint(home string, err error) error {
	return fmt.Errorf("%w\n\nThe node's data in %s cannot be used as it is, so the node will not start on it.\n"+
		"If it is damaged, rebuild it from the network (keys, configuration and genesis are kept):\n"+
		"  cityid reset --home %s --yes && cityid start --home %s", err, filepath.Join(home, "data"), home, home)
}
