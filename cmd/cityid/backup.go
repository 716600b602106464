package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cityid/cityid/internal/backup"
	"github.com/cityid/cityid/internal/node"
)

// backupSummary is what backup and backup verify print of an archive.
type backupSummary struct {
	File         string             `json:"file"`
	ChainID      string             `json:"chain_id"`
	Height       int64              `json:"height"`
	AppHash      string             `json:"app_hash"`
	HeaderHeight int64              `json:"header_height"`
	HeaderHash   string             `json:"header_hash"`
	HeaderTime   string             `json:"header_time"`
	StateBytes   int64              `json:"state_bytes"`
	Entries      int                `json:"entries"`
	Blocks       *backup.BlockRange `json:"blocks,omitempty"`
	Verified     string             `json:"verified"`
}

func summary(file string, m backup.Manifest, verified string) backupSummary {
	return backupSummary{File: file, ChainID: m.ChainID, Height: m.Height, AppHash: m.AppHash,
		HeaderHeight: m.HeaderHeight, HeaderHash: m.HeaderHash, HeaderTime: m.HeaderTime,
		StateBytes: m.StateBytes, Entries: len(m.Files) + 1, Blocks: m.Blocks, Verified: verified}
}

func newBackup(g *globals) *cobra.Command {
	var out string
	var height int64
	var blocks bool
	cmd := &cobra.Command{
		Use:   "backup --out FILE [--height H] [--blocks]",
		Short: "Write a verifiable archive of a running node's state, without stopping it",
		Long: `Write an archive of the state of the node running on --home at a committed
height, with the signed header that carries its app hash (and that header's
commit and validator set), the genesis and, with --blocks, the blocks the
node holds. The node goes on committing blocks meanwhile. The command talks
to the node over its admin socket (data/admin.sock in the home), so it runs
on the node's machine as the node's user.

The archive is checked as it arrives and written to FILE only once whole.
'cityid backup verify FILE' checks it all again without a node, the state's
root included; 'cityid restore FILE --home DIR' brings a new node up from
it. Keys are not in it: back up the home's keys/ and config/ apart
(docs/backup.md).`,
		Example: `  sudo -u cityid cityid backup --home /var/lib/cityid --out /var/backups/cityid/$(date +%F).tar   # a folder the service user owns
  cityid backup --home /tmp/net/node0 --out node0.tar --height 1200 --blocks
  cityid backup verify node0.tar`,
		Args: exactArgs(0, "no arguments, only flags (or the subcommand verify FILE)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageError{errors.New("backup needs --out FILE, the archive to write")}
			}
			if height < 0 {
				return usageError{fmt.Errorf("--height %d is negative", height)}
			}
			m, err := node.Backup(cmd.Context(), g.home, out, node.BackupOptions{Height: height, Blocks: blocks})
			var nr *node.NotRunningError
			if errors.As(err, &nr) {
				return unavailableError{err}
			}
			if err != nil {
				return err
			}
			return printOut(cmd, summary(out, m, "signatures and hashes; run cityid backup verify for the state's root"))
		},
	}
	outFlag(cmd, &out, "the archive to write (must not exist)")
	cmd.Flags().Int64Var(&height, "height", 0, "the committed height to back up (default: the latest whose app hash a header carries)")
	cmd.Flags().BoolVar(&blocks, "blocks", false, "add the blocks the node holds, up to the height")
	cmd.AddCommand(&cobra.Command{
		Use:   "verify FILE",
		Short: "Check a backup archive without a node: hashes, signatures and the state's root",
		Long: `Check every part of a backup archive without a node: each entry's SHA-256
and size against the manifest, the headers' commit signatures against their
validator sets and their links to each other, and the state's root against
the signed app hash, by importing the state into a temporary store (on
disk, removed afterwards). Exit 0 when it all checks, 1 when the archive is
refused, with the entry and the reason.

The check says that the validators of the header signed this state. That
they are your network's validators is for you to compare: the header hash
printed against a node you trust (GET /v1/blocks/HEIGHT).`,
		Example: `  cityid backup verify node0.tar
  cityid backup verify node0.tar --json`,
		Args: exactArgs(1, "the archive"),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := node.VerifyBackup(args[0])
			if err != nil {
				return err
			}
			return printOut(cmd, summary(args[0], a.Manifest, "hashes, signatures and the state's root"))
		},
	})
	return cmd
}

func newRestore(g *globals) *cobra.Command {
	var a addrFlags
	var force bool
	var peers, trustHash string
	cmd := &cobra.Command{
		Use:   "restore FILE --home DIR [--force] [--peers ID@HOST:PORT,...] [--trust-hash HASH]",
		Short: "Bring a node's home up from a backup archive; it then catches up from its peers",
		Long: `Bring the node of --home up from a backup archive: the archive is checked
whole while its state is imported, the state's root must be the app hash of
the signed header, and CometBFT's state is bootstrapped at the archive's
height as offline state sync does. 'cityid start' then catches up from the
node's peers by block sync, from the height after the archive's.

A new or empty --home is made as a full node's, with the archive's
genesis; give it its peers with --peers (or p2p.persistent_peers in
config/config.toml), and, for a second node on the same machine, its own
ports with --http, --rpc, --p2p and --dns, written to its configuration as
init writes them. A home that holds a node already is refused unless
--force: then its data is replaced, and its configuration, keys and
validator's last-signed state stay; its genesis must be the archive's. A
refused archive leaves the home as it was.

The archive's signatures prove only that its own validators signed it. It
is trusted when they are the genesis's (a network whose validators never
changed), or when --trust-hash is the hash of its signed header (block
H+1, printed by backup verify), as a node you trust gives it:
curl NODE/v1/blocks/H+1. Otherwise it is refused.`,
		Example: `  cityid restore node0.tar --home /var/lib/cityid-new --peers 3f1c…@10.0.0.2:26656
  cityid restore node0.tar --home /tmp/net/node2 --force && cityid start --home /tmp/net/node2`,
		Args: exactArgs(1, "the archive"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.check(); err != nil {
				return err
			}
			newHome := a.initOptions()
			newHome.Keyring = g.keyringOptions(cmd)
			res, err := node.Restore(cmd.Context(), g.home, args[0], node.RestoreOptions{Force: force, Peers: peers, TrustHash: trustHash, NewHome: newHome})
			if err != nil {
				return err
			}
			return printOut(cmd, res)
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "replace the data of a home that holds a node (configuration and keys stay)")
	cmd.Flags().StringVar(&peers, "peers", "", "persistent peers to catch up from (ID@HOST:PORT, comma-separated)")
	cmd.Flags().StringVar(&trustHash, "trust-hash", "", "the hash of the archive's signed header (block H+1) from a node you trust; needed when the validators changed since genesis")
	a.register(cmd)
	return cmd
}
