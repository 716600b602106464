package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cityid/cityid/internal/node"
)

func newExport(g *globals) *cobra.Command {
	var height int64
	var out string
	cmd := &cobra.Command{
		Use:   "export [--height H] [--out FILE]",
		Short: "Write the registry's whole state at a height as a versioned JSON Lines export",
		Long: `Write the registry's state at height H (default: the last committed) as
JSON Lines (docs/export.md): a header (format, version, chain ID, height, app
hash, entry count, content SHA-256), then one line per entry a new network
carries (cities, applications decided, records and their history, grants,
anchors, counters, the authority and params), in the tree's key order.

A new network starts from it with 'cityid init --import FILE' or 'cityid
testnet --import FILE'. Two exports of one height, from any two nodes, are
byte-identical; an export of the new network holds the same entries and the
same content_sha256.

Export reads the node's store directly: stop the node first (any node of a
network can export it; started again, it catches up). A height must still
be stored (see [retention] in the config). Without --out the export goes to
standard output; with it, the file is written whole or not at all, never
over a file that exists, and the header is printed.`,
		Example: `  cityid export --home /tmp/net/node4 --height 1200 --out registry-1200.jsonl
  cityid init --home /tmp/new --import registry-1200.jsonl`,
		Args: exactArgs(0, "no arguments, only flags"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if height < 0 {
				return usageError{fmt.Errorf("--height %d is not a block height", height)}
			}
			if out == "" {
				_, err := node.Export(g.home, height, cmd.OutOrStdout())
				return err
			}
			h, err := node.ExportFile(g.home, height, out)
			if err != nil {
				return err
			}
			return printOut(cmd, map[string]any{"file": out, "header": h})
		},
	}
	cmd.Flags().Int64Var(&height, "height", 0, "the height to export (default: the last committed)")
	outFlag(cmd, &out, "write to this new file (default: standard output)")
	return cmd
}
