package main

import (
	"github.com/spf13/cobra"
)

func newResolve(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "resolve ID",
		Short: "Resolve an identifier to its record",
		Example: `  cityid resolve 1561301001.85.1/school-0042
  cityid resolve 1561301001 --node http://127.0.0.1:8681`,
		Args: exactArgs(1, "one identifier"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			ans, err := c.Resolve(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), ans)
		},
	}
}
