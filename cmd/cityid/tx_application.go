package main

import (
	"fmt"
	"strconv"

	"github.com/cityid/cityid/client"
	"github.com/spf13/cobra"
)

func txApplyCity(g *globals) *cobra.Command {
	var f txFlags
	var m client.ApplyCity
	cmd := &cobra.Command{
		Use:   "apply-city",
		Short: "Apply for a city code",
		Long: `Apply for a city code for a country (ISO 3166-1 numeric) and a city number
(the national division code, e.g. GB/T 2260 in China, or "allocate"). The
application waits for the registry authority's approvals; it prints the
application ID. The applicant's key becomes the city's admin unless --admin
names others.`,
		Example: "  cityid tx apply-city --country 156 --city-number 130100 --name 石家庄市 --name-en Shijiazhuang --from alice",
		Args:    exactArgs(0, "no arguments, only flags"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			admins, err := adminKeys(g.home, f.admins)
			if err != nil {
				return err
			}
			m.Admins = admins
			return send(cmd, g, f.from, client.KindApplyCity, m)
		},
	}
	cmd.Flags().StringVar(&m.Country, "country", "", "ISO 3166-1 numeric country code, e.g. 156")
	cmd.Flags().StringVar(&m.CityNumber, "city-number", "", `six-digit city number, or "allocate"`)
	cmd.Flags().StringVar(&m.Name, "name", "", "the city's name")
	cmd.Flags().StringVar(&m.NameEn, "name-en", "", "the city's English name")
	cmd.Flags().StringVar(&m.Locode, "locode", "", "the city's UN/LOCODE, e.g. CNSJW")
	cmd.Flags().StringVar(&m.Contact, "contact", "", "who to contact about the application")
	cmd.Flags().StringVar(&m.Endpoint, "endpoint", "", "URL of the city's node")
	f.registerFrom(cmd)
	f.registerAdmins(cmd)
	return cmd
}

func txDecide(g *globals, approve bool) *cobra.Command {
	var f txFlags
	var reason, hash string
	kind, use, short := client.KindRejectApplication, "reject", "Reject a pending application (authority members)"
	example := `  cityid tx reject 1 --reason "not a city" --from operator`
	if approve {
		kind, use, short = client.KindApproveApplication, "approve", "Approve a pending application (authority members)"
		example = "  cityid tx approve 1 --from operator"
	}
	cmd := &cobra.Command{
		Use:   use + " APPLICATION-ID",
		Short: short,
		Long: short + `.

A vote names the application's content hash as well as its number, so it
can only ever count for the application the member looked at. Without
--hash, the hash is read from the node (cityid query application N shows
it); give --hash to vote for exactly the application you checked.`,
		Example: example,
		Args:    exactArgs(1, "one application ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, h, err := applicationRef(cmd, g, args[0], hash)
			if err != nil {
				return err
			}
			return send(cmd, g, f.from, kind, client.Decision{Application: n, Hash: h, Reason: reason})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why")
	cmd.Flags().StringVar(&hash, "hash", "", "the application's content hash (default: read from the node)")
	f.registerFrom(cmd)
	return cmd
}

func txWithdrawVote(g *globals) *cobra.Command {
	var f txFlags
	var hash, proposal string
	cmd := &cobra.Command{
		Use:   "withdraw-vote [APPLICATION-ID]",
		Short: "Take back your vote on an application, or your approval of a proposal (authority members)",
		Example: `  cityid tx withdraw-vote 3 --from operator
  cityid tx withdraw-vote --proposal 9f86d081884c7d659a2feaa0c55ad015 --from operator`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(args) == 1 && proposal != "", len(args) == 0 && proposal == "":
				return usageError{fmt.Errorf("name an application ID or --proposal, not both")}
			case proposal != "":
				return send(cmd, g, f.from, client.KindWithdrawVote, client.WithdrawVote{Proposal: proposal})
			}
			n, h, err := applicationRef(cmd, g, args[0], hash)
			if err != nil {
				return err
			}
			return send(cmd, g, f.from, client.KindWithdrawVote, client.WithdrawVote{Application: n, Hash: h})
		},
	}
	cmd.Flags().StringVar(&hash, "hash", "", "the application's content hash (default: read from the node)")
	cmd.Flags().StringVar(&proposal, "proposal", "", "a governance proposal's id (cityid query proposals)")
	f.registerFrom(cmd)
	return cmd
}

// applicationRef parses an application number and finds its content hash
// on the node unless one is given.
func applicationRef(cmd *cobra.Command, g *globals, arg, hash string) (uint64, string, error) {
	n, err := strconv.ParseUint(arg, 10, 64)
	if err != nil || n == 0 {
		return 0, "", usageError{fmt.Errorf("application ID %q is not a positive number", arg)}
	}
	if hash != "" {
		return n, hash, nil
	}
	c, err := g.client()
	if err != nil {
		return 0, "", err
	}
	// The vote is about to be signed: another chain's application N is
	// not the one meant, so the chains are compared before reading it.
	if err := g.checkChain(cmd, c); err != nil {
		return 0, "", err
	}
	app, err := c.Application(cmd.Context(), n)
	if err != nil {
		return 0, "", fmt.Errorf("read application %d for its content hash: %w", n, err)
	}
	return n, app.Hash, nil
}
