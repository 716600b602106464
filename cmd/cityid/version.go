package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cityid/cityid/internal/buildinfo"
)

func newVersion() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of cityid, the commit it was built from, and its Go, CometBFT and IAVL",
		Long: `Print what this binary is: its version, the API and protocol version it
speaks, the commit it was built from (with "modified" when the work tree had
changes), and the versions of Go, CometBFT and IAVL in it. A running node
says the same in GET /v1/status (build) and the cityid_build_info metric.`,
		Example: `  cityid version
  cityid version --json
  cityid --version`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return printOut(cmd, buildinfo.Get())
		},
	}
}

// versionLine is what --version prints.
func versionLine() string {
	b := buildinfo.Get()
	commit := b.Commit
	if len(commit) > 12 {
		commit = commit[:12]
	}
	if b.Modified {
		commit += "+modified"
	}
	return fmt.Sprintf("%s (protocol %s, commit %s, %s, CometBFT %s, IAVL %s)", b.Version, b.Protocol, commit, b.Go, b.CometBFT, b.IAVL)
}
