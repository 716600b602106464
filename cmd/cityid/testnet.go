package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cityid/cityid/internal/node"
)

func newTestnet(g *globals) *cobra.Command {
	var opts node.TestnetOptions
	cmd := &cobra.Command{
		Use:   "testnet --validators N [--full-nodes M] --out DIR",
		Short: "Write the homes of a local network of several nodes",
		Long: `Write one home per node under DIR (node0, node1, ...): one genesis whose
validators are the first N nodes and whose registry authority is their
operator keys with a majority threshold; each home keeps its node's key as
'operator', names the other nodes as persistent peers, and listens on its
own loopback ports (node i: P2P base+3i, RPC base+3i+1, HTTP API base+3i+2,
written in its config). The network gets a chain ID of its own
(cityid-testnet- and 6 random characters, printed with each node; --chain-id
sets it exactly). Start each node with cityid start --home DIR/nodeI.`,
		Example: `  cityid testnet --validators 4 --full-nodes 1 --out /tmp/net
  for i in 0 1 2 3 4; do cityid start --home /tmp/net/node$i > /tmp/net/node$i.log 2>&1 & done
  cityid resolve 1561301001 --node http://127.0.0.1:26702`,
		Args: exactArgs(0, "no arguments, only flags"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Output == "" {
				return usageError{fmt.Errorf("testnet needs --out DIR")}
			}
			opts.Keyring = g.keyringOptions(cmd)
			nodes, err := node.Testnet(opts)
			if err != nil {
				return err
			}
			return printOut(cmd, nodes)
		},
	}
	cmd.Flags().IntVar(&opts.Validators, "validators", 4, "number of validators")
	cmd.Flags().IntVar(&opts.FullNodes, "full-nodes", 0, "number of full nodes (not validators)")
	outFlag(cmd, &opts.Output, "folder for the homes (new or empty)")
	cmd.Flags().StringVar(&opts.ChainID, "chain-id", "", "chain ID (default "+node.TestnetChainIDPrefix+"-<6 random characters>)")
	cmd.Flags().IntVar(&opts.BasePort, "base-port", node.DefaultTestnetBasePort, "first loopback port; each node takes three")
	cmd.Flags().StringVar(&opts.Import, "import", "", "start the network from this export (cityid export; see cityid init --import)")
	cmd.Flags().StringVar(&opts.Host, "host", "127.0.0.1", "address the nodes listen on and dial each other at")
	return cmd
}
