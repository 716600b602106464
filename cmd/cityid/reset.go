package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/cityid/cityid/internal/node"
)

func newReset(g *globals) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "reset --home DIR --yes",
		Short: "Empty a node's data so it resyncs from its peers (keys and configuration kept)",
		Long: `Empty a node's data: the ledger state, CometBFT's blocks and state, and the
snapshots. The home's configuration, genesis and keys stay, and so does the
validator's last-signed state, so a validator never signs a height twice.
On its next start the node catches up from its peers by block sync, or by
state sync if its config.toml enables it. On a single-node network this
loses the ledger: it exists nowhere else.`,
		Example: "  cityid reset --home /tmp/net/node2 --yes && cityid start --home /tmp/net/node2",
		Args:    exactArgs(0, "no arguments, only flags"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !yes {
				return usageError{errors.New("reset deletes the node's ledger data; add --yes to confirm")}
			}
			removed, err := node.Reset(g.home)
			if err != nil {
				return err
			}
			return printOut(cmd, map[string]any{"home": g.home, "removed": removed})
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "confirm")
	return cmd
}
