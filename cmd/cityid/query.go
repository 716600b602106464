package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"
)

// newQuery groups the read commands other than resolve.
func newQuery(g *globals) *cobra.Command {
	cmd := group(&cobra.Command{
		Use:   "query",
		Short: "Read the ledger: status, history, children, cities, applications, grants, anchors, blocks, transactions",
	})
	var limit int
	var after string
	pageFlags := func(c *cobra.Command) *cobra.Command {
		c.Flags().IntVar(&limit, "limit", 0, "entries per page (default 100, at most 1000)")
		c.Flags().StringVar(&after, "after", "", "cursor: the \"next\" of the previous page")
		return c
	}
	run := func(f func(cmd *cobra.Command, args []string) (any, error)) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, args []string) error {
			out, err := f(cmd, args)
			if err != nil {
				return err
			}
			return printOut(cmd, out)
		}
	}
	var status, dataset, grantee string
	apps := pageFlags(&cobra.Command{
		Use: "applications", Short: "List applications, oldest first",
		Example: "  cityid query applications --status pending",
		Args:    exactArgs(0, "no arguments"),
		RunE: run(func(cmd *cobra.Command, _ []string) (any, error) {
			c, err := g.client()
			if err != nil {
				return nil, err
			}
			return c.Applications(cmd.Context(), status, after, limit)
		}),
	})
	apps.Flags().StringVar(&status, "status", "", "pending, approved, rejected or expired")
	grants := pageFlags(&cobra.Command{
		Use: "grants (--dataset ID | --grantee NODE)", Short: "List the grants of a dataset, or those a node holds",
		Example: "  cityid query grants --dataset 1561301001.36.1/flow-2026",
		Args:    exactArgs(0, "no arguments, only flags"),
		RunE: run(func(cmd *cobra.Command, _ []string) (any, error) {
			if (dataset == "") == (grantee == "") {
				return nil, usageError{fmt.Errorf("give one of --dataset ID or --grantee NODE")}
			}
			c, err := g.client()
			if err != nil {
				return nil, err
			}
			return c.Grants(cmd.Context(), dataset, grantee, after, limit)
		}),
	})
	grants.Flags().StringVar(&dataset, "dataset", "", "the dataset identifier")
	grants.Flags().StringVar(&grantee, "grantee", "", "the grantee node")
	cmd.AddCommand(
		pageFlags(&cobra.Command{
			Use: "history ID", Short: "Every version of an identifier's record, oldest first",
			Example: "  cityid query history 1561301001.85.1/school-0042",
			Args:    exactArgs(1, "one identifier"),
			RunE: run(func(cmd *cobra.Command, args []string) (any, error) {
				c, err := g.client()
				if err != nil {
					return nil, err
				}
				a, err := afterCount(after, "a version number")
				if err != nil {
					return nil, err
				}
				return c.History(cmd.Context(), args[0], a, limit)
			}),
		}),
		pageFlags(&cobra.Command{
			Use: "children ID", Short: "A node's sectors or units, then the objects registered directly under it",
			Example: "  cityid query children 1561301001",
			Args:    exactArgs(1, "one node code"),
			RunE: run(func(cmd *cobra.Command, args []string) (any, error) {
				c, err := g.client()
				if err != nil {
					return nil, err
				}
				return c.Children(cmd.Context(), args[0], after, limit)
			}),
		}),
		pageFlags(&cobra.Command{
			Use: "cities", Short: "The directory of cities", Example: "  cityid query cities --limit 20",
			Args: exactArgs(0, "no arguments"),
			RunE: run(func(cmd *cobra.Command, _ []string) (any, error) {
				c, err := g.client()
				if err != nil {
					return nil, err
				}
				return c.Cities(cmd.Context(), after, limit)
			}),
		}),
		apps,
		&cobra.Command{
			Use: "application N", Short: "One application and its votes", Example: "  cityid query application 1",
			Args: exactArgs(1, "one application number"),
			RunE: run(func(cmd *cobra.Command, args []string) (any, error) {
				n, err := strconv.ParseUint(args[0], 10, 64)
				if err != nil || n == 0 {
					return nil, usageError{fmt.Errorf("application %q is not a positive number", args[0])}
				}
				c, err := g.client()
				if err != nil {
					return nil, err
				}
				return c.Application(cmd.Context(), n)
			}),
		},
		grants,
		pageFlags(&cobra.Command{
			Use: "anchors DATASET", Short: "A dataset's anchored access-log heads, by count, and the latest",
			Example: "  cityid query anchors 1561301001.36.1/flow-2026",
			Args:    exactArgs(1, "one dataset identifier"),
			RunE: run(func(cmd *cobra.Command, args []string) (any, error) {
				c, err := g.client()
				if err != nil {
					return nil, err
				}
				a, err := afterCount(after, "a count of log entries")
				if err != nil {
					return nil, err
				}
				return c.Anchors(cmd.Context(), args[0], a, limit)
			}),
		}),
		&cobra.Command{
			Use: "block [HEIGHT]", Short: "A block and its transactions (default: the latest)", Example: "  cityid query block 12",
			Args: cobra.MaximumNArgs(1),
			RunE: run(func(cmd *cobra.Command, args []string) (any, error) {
				var h int64
				if len(args) == 1 {
					var err error
					if h, err = strconv.ParseInt(args[0], 10, 64); err != nil || h < 1 {
						return nil, usageError{fmt.Errorf("height %q is not a positive number", args[0])}
					}
				}
				c, err := g.client()
				if err != nil {
					return nil, err
				}
				return c.Block(cmd.Context(), h)
			}),
		},
		&cobra.Command{
			Use: "status", Short: "The node's chain ID, height, app hash and sync state",
			Long: `The node's status: its chain ID (what every transaction for this network
signs), height, app hash, peers and whether it is catching up.`,
			Example: "  cityid query status", Args: exactArgs(0, "no arguments"),
			RunE: run(func(cmd *cobra.Command, _ []string) (any, error) {
				c, err := g.client()
				if err != nil {
					return nil, err
				}
				return c.Status(cmd.Context())
			}),
		},
		&cobra.Command{
			Use: "validators", Short: "The validator set", Example: "  cityid query validators",
			Args: exactArgs(0, "no arguments"),
			RunE: run(func(cmd *cobra.Command, _ []string) (any, error) {
				c, err := g.client()
				if err != nil {
					return nil, err
				}
				return c.Validators(cmd.Context())
			}),
		},
		&cobra.Command{
			Use: "proposals", Short: "Governance proposals waiting for approvals", Example: "  cityid query proposals",
			Args: exactArgs(0, "no arguments"),
			RunE: run(func(cmd *cobra.Command, _ []string) (any, error) {
				c, err := g.client()
				if err != nil {
					return nil, err
				}
				return c.Proposals(cmd.Context())
			}),
		},
		&cobra.Command{
			Use: "upgrade", Short: "The application version, the pending upgrade plan and the upgrades that ran", Example: "  cityid query upgrade",
			Args: exactArgs(0, "no arguments"),
			RunE: run(func(cmd *cobra.Command, _ []string) (any, error) {
				c, err := g.client()
				if err != nil {
					return nil, err
				}
				return c.Upgrade(cmd.Context())
			}),
		},
		&cobra.Command{
			Use: "handle PREFIX/SUFFIX", Short: "Resolve through the Handle-compatible REST API, as a Handle client would",
			Example: "  cityid query handle 1561301001.85.1/school-0042\n  cityid query handle 0.NA/1561301001",
			Args:    exactArgs(1, "one handle"),
			RunE: run(func(cmd *cobra.Command, args []string) (any, error) {
				c, err := g.client()
				if err != nil {
					return nil, err
				}
				return c.Handle(cmd.Context(), args[0], nil, nil)
			}),
		},
		&cobra.Command{
			Use: "tx HASH", Short: "A committed transaction, decoded, with its result", Example: "  cityid query tx 8941C3B2...2E34",
			Args: exactArgs(1, "one transaction hash"),
			RunE: run(func(cmd *cobra.Command, args []string) (any, error) {
				c, err := g.client()
				if err != nil {
					return nil, err
				}
				return c.Tx(cmd.Context(), args[0])
			}),
		},
	)
	return cmd
}

// afterCount reads an --after cursor that is a number (what names it), 0
// when none is given.
func afterCount(after, what string) (uint64, error) {
	if after == "" {
		return 0, nil
	}
	a, err := strconv.ParseUint(after, 10, 64)
	if err != nil {
		return 0, usageError{fmt.Errorf("--after %q is not %s", after, what)}
	}
	return a, nil
}
