package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/cityid/cityid/internal/node"
)

func newSigner() *cobra.Command {
	var o node.SignerOptions
	var level string
	cmd := &cobra.Command{
		Use:   "signer --key FILE --state FILE --chain-id ID --node tcp://HOST:PORT",
		Short: "Sign a validator's votes from a separate process, so its key never sits on the node",
		Long: `Runs a remote signer for a validator, as CometBFT's priv_validator_laddr
expects: set priv_validator_laddr in the node's config/config.toml (e.g.
"tcp://10.0.0.5:26659"), move config/priv_validator_key.json and
data/priv_validator_state.json from the node's home to the signer's machine,
and run this there. The node waits for the signer at start; the signer
connects to it, signs its votes and proposals, and reconnects when the node
restarts.

Double signing is refused: the state file records the last height, round
and step signed, and the signer will not sign a different vote or proposal
for one of them, nor for an earlier one, across restarts. Run one signer for
a key, never two, and never the key on the node as well.

Outside consensus the signer signs only a genesis member file of its
--chain-id, for 'cityid genesis member' on a home whose key is with it
(docs/keys.md); any other request to sign bytes is refused.`,
		Example: `  cityid signer --key /secure/priv_validator_key.json --state /secure/priv_validator_state.json \
      --chain-id cityid-net-1 --node tcp://10.0.0.5:26659`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := node.NewLogger(node.LogConfig{Level: level, Format: "text"}, os.Stderr)
			return node.RunSigner(cmd.Context(), o, log)
		},
	}
	cmd.Flags().StringVar(&o.KeyFile, "key", "", "the validator's priv_validator_key.json")
	cmd.Flags().StringVar(&o.StateFile, "state", "", "its priv_validator_state.json (what it last signed)")
	cmd.Flags().StringVar(&o.ChainID, "chain-id", "", "the network's chain ID")
	cmd.Flags().StringVar(&o.Node, "node", "", "the node's priv_validator_laddr (tcp://host:port or unix://path)")
	cmd.Flags().StringVar(&level, "log-level", "info", "debug, info, warn or error")
	hideGlobals(cmd, "home", "json", "passphrase-file") // it reads no home nor keyring, and prints no answers
	return cmd
}
