package main

import (
	"github.com/spf13/cobra"

	"github.com/cityid/cityid/code"
)

func newID() *cobra.Command {
	cmd := group(&cobra.Command{
		Use:   "id",
		Short: "Parse identifiers and compute city codes (offline)",
	})
	var opts = code.DefaultFormOptions()
	parse := &cobra.Command{
		Use:   "parse TEXT",
		Short: "Parse an identifier and print its parts and every form",
		Example: `  cityid id parse 1561301001.85.3/school-0042
  cityid id parse urn:cityid:1561301001`,
		Args: exactArgs(1, "one identifier"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseAnyForm(args[0])
			if err != nil {
				return err
			}
			return printOut(cmd, code.Describe(id, opts))
		},
	}
	parse.Flags().StringVar(&opts.Zone, "zone", opts.Zone, "DNS zone of the DNS form")
	parse.Flags().StringVar(&opts.OIDArc, "oid-arc", opts.OIDArc, "registry OID arc of the OID form")
	parse.Flags().StringVar(&opts.IAC, "iac", opts.IAC, "issuing agency code of the ISO/IEC 15459 form")
	parse.Flags().StringVar(&opts.ResolverBase, "resolver", opts.ResolverBase, "base URL of the resolver URL form")
	cmd.AddCommand(parse, &cobra.Command{
		Use:     "city-code COUNTRY CITY-NUMBER",
		Short:   "Print the city code of an ISO 3166-1 numeric country and a city number",
		Example: "  cityid id city-code 156 130100    # prints 1561301001",
		Args:    exactArgs(2, "a country and a city number"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := code.CityCode(args[0], args[1])
			if err != nil {
				return err
			}
			// printOut: with --json a JSON string, so that jq keeps the
			// code's leading digits as text ("0081..." is not a number).
			return printOut(cmd, c)
		},
	})
	return cmd
}

// parseAnyForm accepts the canonical text and the URN form, so that a user
// can paste either.
func parseAnyForm(s string) (code.ID, error) {
	if len(s) > 4 && (s[:4] == "urn:" || s[:4] == "URN:") {
		return code.ParseURN(s)
	}
	return code.Parse(s)
}
