package main

import (
	"errors"
	"fmt"

	"github.com/cityid/cityid/client"
	"github.com/spf13/cobra"
)

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

func txTransfer(g *globals) *cobra.Command {
	var f txFlags
	var version uint64
	cmd := &cobra.Command{
		Use:     "transfer ID --admin KEY [--admin KEY]...",
		Short:   "Give a city, sector, unit or identifier new admin keys",
		Example: "  cityid tx transfer 1561301001.85.1 --admin bob --admin 3b6a...e1 --from alice",
		Args:    exactArgs(1, "one identifier"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(f.admins) == 0 {
				return usageError{errors.New("transfer needs at least one --admin KEY: the new admins")}
			}
			admins, err := adminKeys(g.home, f.admins)
			if err != nil {
				return err
			}
			return send(cmd, g, f.from, client.KindTransfer, client.Transfer{ID: args[0], Admins: admins, Version: version})
		},
	}
	cmd.Flags().Uint64Var(&version, "version", 0, "the version you last saw (optional; refused if the record changed since)")
	f.registerFrom(cmd)
	f.registerAdmins(cmd)
	return cmd
}
