package main

import (
	"errors"

	"github.com/cityid/cityid/client"
	"github.com/spf13/cobra"
)

// txAnchorLog anchors a dataset's access-log head by hand; the owner's
// node sends the same transaction on its own, periodically.
func txAnchorLog(g *globals) *cobra.Command {
	var f txFlags
	var entries uint64
	var head string
	cmd := &cobra.Command{
		Use:   "anchor-log DATASET --entries N --head SHA256",
		Short: "Anchor the head of a dataset's access log: after N entries, the last entry's SHA-256",
		Long: `Anchors the head of a dataset's access log on the ledger, so that the owner
cannot rewrite the log's first N entries afterwards. N must be more than the
count anchored last; the signer must be an admin of the dataset or of a node
above it. The owner's node sends this itself; this command is for by hand.`,
		Example: "  cityid tx anchor-log 1561301001.36.1/flow-2026 --entries 42 --head 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 --from alice",
		Args:    exactArgs(1, "one dataset identifier"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if entries == 0 || head == "" {
				return usageError{errors.New("--entries N (the log's length, at least 1) and --head SHA256 (its last entry's hash, 64 hex digits) are required")}
			}
			return send(cmd, g, f.from, client.KindAnchorLog, client.AnchorLog{Dataset: args[0], Entries: entries, Head: head})
		},
	}
	cmd.Flags().Uint64Var(&entries, "entries", 0, "the log's length: entries 1 to N are anchored")
	cmd.Flags().StringVar(&head, "head", "", "the SHA-256 of entry N, 64 lowercase hex digits")
	f.registerFrom(cmd)
	return cmd
}
