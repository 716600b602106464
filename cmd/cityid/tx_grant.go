package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/cityid/cityid/client"
	"github.com/spf13/cobra"
)

func txGrant(g *globals, grant bool) *cobra.Command {
	var f txFlags
	var grantee, scope, expires string
	var dur time.Duration
	use, short := "revoke DATASET --to NODE", "Revoke a node's access to a dataset; it takes effect with the block"
	example := "  cityid tx revoke 1561301001.36.1/flow-2026 --to 1561302004 --from alice"
	if grant {
		use, short = "grant DATASET --to NODE (--expires TIME | --for DURATION)", "Grant a node (city, sector or unit) read access to a dataset until a time"
		example = `  cityid tx grant 1561301001.36.1/flow-2026 --to 1561302004 --for 720h --from alice
  cityid tx grant 1561301001.36.1/flow-2026 --to 1561302004.36 --expires 2027-06-30T00:00:00Z --scope read --from alice`
	}
	cmd := &cobra.Command{
		Use: use, Short: short, Example: example,
		Args: exactArgs(1, "one dataset identifier"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if grantee == "" {
				return usageError{errors.New("--to NODE is required: the city, sector or unit receiving access")}
			}
			if !grant {
				return send(cmd, g, f.from, client.KindRevokeAccess, client.RevokeAccess{Dataset: args[0], Grantee: grantee})
			}
			var until time.Time
			switch {
			case expires != "" && dur != 0:
				return usageError{errors.New("give --expires or --for, not both")}
			case expires != "":
				t, err := time.Parse(time.RFC3339, expires)
				if err != nil {
					return usageError{fmt.Errorf("--expires %q: not an RFC 3339 time such as 2027-06-30T00:00:00Z", expires)}
				}
				until = t
			case dur > 0:
				// The clock is read here, in the client, to fill in the
				// request; the ledger compares it with block time.
				until = time.Now().Add(dur).UTC().Truncate(time.Second)
			default:
				return usageError{errors.New("a grant needs --expires TIME or --for DURATION")}
			}
			return send(cmd, g, f.from, client.KindGrantAccess, client.GrantAccess{Dataset: args[0], Grantee: grantee, Scope: scope, Expires: until})
		},
	}
	cmd.Flags().StringVar(&grantee, "to", "", "the node (city, sector or unit) whose admins may read")
	if grant {
		cmd.Flags().StringVar(&scope, "scope", "", `what the grant allows (default "read")`)
		cmd.Flags().StringVar(&expires, "expires", "", "when the grant ends, RFC 3339, compared with block time")
		cmd.Flags().DurationVar(&dur, "for", 0, "how long the grant lasts from now, e.g. 720h")
	}
	f.registerFrom(cmd)
	return cmd
}
