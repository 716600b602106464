package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cityid/cityid/client"
	"github.com/cityid/cityid/internal/node"
)

func newGenesis(g *globals) *cobra.Command {
	cmd := group(&cobra.Command{
		Use:   "genesis",
		Short: "Make one network's genesis from the nodes of several institutes",
		Long: `Several institutes, each on its own machine, start one network:

  1. each runs 'cityid init' (its keys never leave its machine) and
     'cityid genesis member --chain-id ID --address PUBLIC-HOST:26656 > NAME.json';
  2. they exchange the member files (public keys and addresses only);
  3. each runs the same 'cityid genesis collect' with every member file,
     the same --chain-id and --genesis-time, and compares the printed
     genesis_sha256 with the others' before starting.

A city's full node runs the same collect to get the genesis and its peers.
See docs/operations.md.`,
	})
	cmd.AddCommand(newGenesisMember(g), newGenesisCollect(g))
	return cmd
}

func newGenesisMember(g *globals) *cobra.Command {
	var o node.MemberOptions
	cmd := &cobra.Command{
		Use:   "member --chain-id ID [--address HOST:PORT]",
		Short: "Print this node's member file (node ID and key, address, validator and operator public keys) as JSON",
		Long: `Print what the other institutes need to include this node in a new
network's genesis, as JSON, to share with them, signed by the node key and
the validator key. --address is where the other machines reach this node's
P2P port; it is written into the node's config as p2p.external_address.

When the validator key is in a remote signer (priv_validator_laddr in
config/config.toml), member listens on that address as the node would and
waits (--signer-wait) for 'cityid signer' to connect and sign the file;
the signer signs nothing else outside consensus. Whichever signer connects
first is asked: member prints the address and public key of the one that
did, to compare with what 'cityid signer' logged at its start, and
--validator-key HEX refuses any other key. See docs/keys.md.`,
		Example: "  cityid genesis member --chain-id cityid-pilot --address 203.0.113.10:26656 > institute-a.json",
		Args:    exactArgs(0, "no arguments, only flags"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.ValidatorKey != "" {
				// A mistyped key is the command line's mistake (exit 2),
				// found before the node's files are read or a signer is
				// waited for.
				if _, err := client.ParsePubKey(strings.ToLower(o.ValidatorKey)); err != nil {
					return usageError{fmt.Errorf("--validator-key: %w", err)}
				}
			}
			o.Waiting = func(laddr string) {
				signer, note := node.SignerCommand(o.ChainID, laddr)
				if note != "" {
					note = "\n(" + note + ")"
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "waiting up to %s for the remote signer to connect to %s; on its machine, with the validator's key and state files, run:\n  %s%s\n",
					orDefaultWait(o.SignerWait), laddr, signer, note)
			}
			o.Connected = func(address, pubKey string) {
				// The listener authenticates nobody: the operator checks
				// that the signer that connected is theirs.
				check := "compare them with what 'cityid signer' logged at its start (or give --validator-key)"
				if o.ValidatorKey != "" {
					check = "to be checked against --validator-key before anything is signed"
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "a remote signer connected, signing for the validator address=%s pub_key=%s: %s\n", address, pubKey, check)
			}
			m, err := node.Member(g.home, o)
			if err != nil {
				return err
			}
			// A file to share, whatever --json says.
			return printJSON(cmd.OutOrStdout(), m)
		},
	}
	cmd.Flags().StringVar(&o.Address, "address", "", "HOST:PORT the other nodes dial (default: the config's p2p.external_address)")
	cmd.Flags().StringVar(&o.ChainID, "chain-id", "", "the new network's chain ID (required: the file is signed for it, and collect takes it for that chain only)")
	cmd.Flags().StringVar(&o.ValidatorKey, "validator-key", "", "the validator public key (hex, as 'cityid signer' logs it as pub_key) the file must name: a signer with another key is refused")
	cmd.Flags().DurationVar(&o.SignerWait, "signer-wait", node.DefaultSignerWait, "how long to wait for the remote signer to connect, when the validator key is in one")
	hideGlobals(cmd, "node", "json") // it talks to no API, and its output is always JSON
	return cmd
}

// orDefaultWait is the wait Member uses for a --signer-wait of d.
func orDefaultWait(d time.Duration) time.Duration {
	if d <= 0 {
		return node.DefaultSignerWait
	}
	return d
}

func newGenesisCollect(g *globals) *cobra.Command {
	var opts node.CollectOptions
	var at string
	cmd := &cobra.Command{
		Use:   "collect --chain-id ID --genesis-time TIME MEMBER.json...",
		Short: "Write the genesis of the members' network into this home, and its peers",
		Long: `Write into --home (initialised, never started) the genesis whose validators
are the members (power 10 each) and whose registry authority is their
operator keys, M of N (--threshold, default a majority), and set the other
members as persistent peers. Every institute gives the same flags and files
and gets the same genesis: compare genesis_sha256 before starting.`,
		Example: `  cityid genesis collect --chain-id cityid-pilot --genesis-time 2027-01-04T08:00:00Z \
      institute-a.json institute-b.json institute-c.json institute-d.json`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{errors.New("genesis collect needs the member files of the validators, one or more")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, files []string) error {
			if at == "" {
				// Each institute's genesis must be the same bytes: a time
				// taken from each machine's clock would differ.
				return usageError{errors.New("genesis collect needs --genesis-time, agreed by every institute (RFC 3339, such as 2027-01-04T08:00:00Z; a time already past begins as soon as enough validators run)")}
			}
			t, err := time.Parse(time.RFC3339, at)
			if err != nil {
				return usageError{fmt.Errorf("--genesis-time %q is not an RFC 3339 time such as 2027-01-04T08:00:00Z", at)}
			}
			if opts.ChainID == "" {
				return usageError{errors.New("genesis collect needs --chain-id, the same for every institute")}
			}
			opts.GenesisTime = t
			opts.MemberFiles = files
			res, err := node.Collect(g.home, opts)
			if err != nil {
				return err
			}
			return printOut(cmd, res)
		},
	}
	cmd.Flags().StringVar(&opts.ChainID, "chain-id", "", "the new network's chain ID (required, the same on every machine)")
	cmd.Flags().StringVar(&at, "genesis-time", "", "the genesis time, RFC 3339 (required, the same on every machine)")
	cmd.Flags().IntVar(&opts.Threshold, "threshold", 0, "approvals of the registry authority needed (M of N; default a majority)")
	return cmd
}
