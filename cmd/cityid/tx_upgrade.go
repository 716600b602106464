package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/cityid/cityid/client"
)

func txProposeUpgrade(g *globals) *cobra.Command {
	var f txFlags
	var height int64
	var info string
	var cancel bool
	cmd := &cobra.Command{
		Use:   "propose-upgrade NAME --height H [--info TEXT] | NAME --cancel",
		Short: "Propose or approve an upgrade at a height, or its cancellation (authority members)",
		Long: `Schedule an upgrade of the network's software (kind set_upgrade), M of N
like every governance change: every member who agrees signs the same name,
height and info, and the plan is made when the approvals reach the threshold.
At that height every node whose binary has no handler for NAME stops, saying
UPGRADE "NAME" NEEDED; the binary with the handler runs its migration once
and goes on. The height must be at least the network's upgrade_lead_blocks
(1,000 unless its genesis says otherwise) after the block that makes the
plan. One plan is pending at a time; --cancel (the plan's name and
height 0) removes it before its height. See docs/upgrade.md.`,
		Example: `  cityid tx propose-upgrade v7 --height 120000 --info "cityid 0.2.0: https://example.org/cityid/0.2.0" --from operator
  cityid tx propose-upgrade v7 --cancel --from operator
  cityid query upgrade`,
		Args: exactArgs(1, "one upgrade name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case cancel && (cmd.Flags().Changed("height") || info != ""):
				return usageError{errors.New("--cancel takes neither --height nor --info")}
			case !cancel && height <= 0:
				return usageError{errors.New("propose-upgrade needs --height H (a future height), or --cancel")}
			}
			return send(cmd, g, f.from, client.KindSetUpgrade, client.SetUpgrade{Name: args[0], Height: height, Info: info})
		},
	}
	cmd.Flags().Int64Var(&height, "height", 0, "the first block the new binary applies")
	cmd.Flags().StringVar(&info, "info", "", "for operators: the new binary's version, where to get it, its checksum")
	cmd.Flags().BoolVar(&cancel, "cancel", false, "cancel the pending plan of this name")
	f.registerFrom(cmd)
	return cmd
}
