package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cityid/cityid/client"
	"github.com/cityid/cityid/internal/keyring"
)

// txFlags are the flags of every transaction command.
type txFlags struct {
	from   string
	admins []string
	values []string
}

func (f *txFlags) registerFrom(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.from, "from", "", "name of the signing key in the keyring (required)")
}

func (f *txFlags) registerAdmins(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&f.admins, "admin", nil, "admin key: a key name from the keyring or 64 hex digits (repeatable; default: the signer)")
}

func (f *txFlags) registerValues(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&f.values, "value", nil, `a value TYPE=DATA, e.g. URL=https://…, TEXT="…", EMAIL=…, GEO=38.04,114.51, ALIAS=<identifier>, DATA={"uri":…,"sha256":…,"size":…,"media_type":…}, ns:type=… (repeatable)`)
}

// adminKeys resolves --admin flags to public keys.
func adminKeys(home string, names []string) ([]string, error) {
	var out []string
	for _, n := range names {
		if _, err := client.ParsePubKey(n); err == nil {
			out = append(out, n)
			continue
		}
		k, err := keyring.Load(home, n)
		if err != nil {
			return nil, usageError{fmt.Errorf("--admin %s: neither 64 hex digits nor a key in the keyring: %w", n, err)}
		}
		out = append(out, k.Public())
	}
	return out, nil
}

// parseValues turns --value TYPE=DATA flags into values.
func parseValues(flags []string) ([]client.Value, error) {
	out := []client.Value{}
	for i, f := range flags {
		typ, data, ok := strings.Cut(f, "=")
		if !ok || typ == "" {
			return nil, usageError{fmt.Errorf("--value %q (value %d): write TYPE=DATA, e.g. URL=https://example.org", f, i+1)}
		}
		if up := strings.ToUpper(typ); !strings.Contains(typ, ":") {
			typ = up // the registry's types are upper case; user types keep theirs
		}
		v := client.Value{Type: typ, Data: data}
		if typ == client.TypeData {
			var d client.Dataset
			if err := json.Unmarshal([]byte(data), &d); err != nil {
				return nil, usageError{fmt.Errorf(`--value DATA=… (value %d): give the dataset as JSON {"uri":…,"sha256":…,"size":…,"media_type":…}: %v`, i+1, err)}
			}
			v.Data, v.Dataset = "", &d
		}
		out = append(out, v)
	}
	return out, nil
}

func newTx(g *globals) *cobra.Command {
	cmd := group(&cobra.Command{
		Use:   "tx",
		Short: "Sign and submit transactions; each waits for its block to commit",
		Long: `Each transaction command signs with --from (a key in the home's keyring),
submits to --node, waits until the transaction's block is committed and prints
the result as JSON. A refused transaction prints its error code and message on
stderr and exits 1; a node that cannot be reached exits 3.`,
	})
	cmd.AddCommand(
		txApplyCity(g), txDecide(g, true), txDecide(g, false), txWithdrawVote(g), txRegisterSector(g),
		txRegisterUnit(g), txRegister(g), txUpdate(g), txSetStatus(g, false), txSetStatus(g, true),
		txRegisterBatch(g), txTransfer(g), txGrant(g, true), txGrant(g, false), txSetAuthority(g), txSetValidator(g), txSetCity(g),
	)
	return cmd
}

// send signs msg with the --from key and submits it.
func send(cmd *cobra.Command, g *globals, from, kind string, msg any) error {
	if from == "" {
		return usageError{fmt.Errorf("%s needs --from KEY, the key that signs", cmd.CommandPath())}
	}
	k, err := keyring.Load(g.home, from)
	if err != nil {
		return err
	}
	c, err := g.client()
	if err != nil {
		return err
	}
	ans, err := c.Send(cmd.Context(), k.Private, kind, msg)
	if err != nil {
		return err
	}
	return printOut(cmd, ans)
}

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
	app, err := c.Application(cmd.Context(), n)
	if err != nil {
		return 0, "", fmt.Errorf("read application %d for its content hash: %w", n, err)
	}
	return n, app.Hash, nil
}

func txRegisterSector(g *globals) *cobra.Command {
	var f txFlags
	var name string
	cmd := &cobra.Command{
		Use:     "register-sector SECTOR-ID",
		Short:   "Register a sector (an ISIC Rev.4 division) under a city",
		Example: "  cityid tx register-sector 1561301001.85 --from alice",
		Args:    exactArgs(1, "one sector identifier"),
		RunE: func(cmd *cobra.Command, args []string) error {
			admins, values, err := f.adminsValues(g)
			if err != nil {
				return err
			}
			return send(cmd, g, f.from, client.KindRegisterSector, client.RegisterSector{ID: args[0], Name: name, Admins: admins, Values: values})
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "the sector's name (default: the ISIC title)")
	f.registerFrom(cmd)
	f.registerAdmins(cmd)
	f.registerValues(cmd)
	return cmd
}

func (f *txFlags) adminsValues(g *globals) ([]string, []client.Value, error) {
	admins, err := adminKeys(g.home, f.admins)
	if err != nil {
		return nil, nil, err
	}
	values, err := parseValues(f.values)
	if err != nil {
		return nil, nil, err
	}
	return admins, values, nil
}

func txRegisterUnit(g *globals) *cobra.Command {
	var f txFlags
	var name string
	cmd := &cobra.Command{
		Use:     "register-unit SECTOR-ID",
		Short:   "Register a unit under a sector; the registry allocates its number",
		Example: `  cityid tx register-unit 1561301001.85 --name "Education Bureau" --from alice`,
		Args:    exactArgs(1, "one sector identifier"),
		RunE: func(cmd *cobra.Command, args []string) error {
			admins, values, err := f.adminsValues(g)
			if err != nil {
				return err
			}
			return send(cmd, g, f.from, client.KindRegisterUnit, client.RegisterUnit{Parent: args[0], Name: name, Admins: admins, Values: values})
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "the unit's name (required)")
	f.registerFrom(cmd)
	f.registerAdmins(cmd)
	f.registerValues(cmd)
	return cmd
}

func txRegister(g *globals) *cobra.Command {
	var f txFlags
	var allocate bool
	cmd := &cobra.Command{
		Use:   "register ID",
		Short: "Register an identifier with its values",
		Example: `  cityid tx register 1561301001.85.1/school-0042 --value URL=https://example.org/school-0042 --value TEXT="No. 42 Primary School" --from alice
  cityid tx register 1561301001.85.1 --allocate --value TEXT="a new meter" --from alice`,
		Args: exactArgs(1, "one identifier"),
		RunE: func(cmd *cobra.Command, args []string) error {
			admins, values, err := f.adminsValues(g)
			if err != nil {
				return err
			}
			return send(cmd, g, f.from, client.KindRegister, client.Register{ID: args[0], Allocate: allocate, Admins: admins, Values: values})
		},
	}
	cmd.Flags().BoolVar(&allocate, "allocate", false, "ID is a node code: allocate the next free local id under it")
	f.registerFrom(cmd)
	f.registerAdmins(cmd)
	f.registerValues(cmd)
	return cmd
}

func txUpdate(g *globals) *cobra.Command {
	var f txFlags
	var version uint64
	cmd := &cobra.Command{
		Use:   "update ID",
		Short: "Replace an identifier's values",
		Long: `Replace an identifier's values. --version is the version you last saw
(a record starts at version 1): if someone changed the record since, the
update is refused with version_mismatch instead of overwriting their change.`,
		Example: "  cityid tx update 1561301001.85.1/school-0042 --value URL=https://example.org/new --version 1 --from alice",
		Args:    exactArgs(1, "one identifier"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if version == 0 {
				return usageError{fmt.Errorf("update needs --version, the version you last saw (cityid resolve %s shows it)", args[0])}
			}
			values, err := parseValues(f.values)
			if err != nil {
				return err
			}
			return send(cmd, g, f.from, client.KindUpdate, client.Update{ID: args[0], Values: values, Version: version})
		},
	}
	cmd.Flags().Uint64Var(&version, "version", 0, "the version you last saw (required)")
	f.registerFrom(cmd)
	f.registerValues(cmd)
	return cmd
}

func txSetStatus(g *globals, active bool) *cobra.Command {
	var f txFlags
	var version uint64
	var reason string
	kind, use, short := client.KindDeactivate, "deactivate", "Deactivate an identifier (it still resolves, marked deactivated)"
	if active {
		kind, use, short = client.KindReactivate, "reactivate", "Reactivate a deactivated identifier"
	}
	cmd := &cobra.Command{
		Use:     use + " ID",
		Short:   short,
		Example: "  cityid tx " + use + " 1561301001.85.1/school-0042 --reason \"school merged\" --from alice",
		Args:    exactArgs(1, "one identifier"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return send(cmd, g, f.from, kind, client.SetStatus{ID: args[0], Version: version, Reason: reason})
		},
	}
	cmd.Flags().Uint64Var(&version, "version", 0, "the version you last saw (optional; refused if the record changed since)")
	cmd.Flags().StringVar(&reason, "reason", "", "why")
	f.registerFrom(cmd)
	return cmd
}
