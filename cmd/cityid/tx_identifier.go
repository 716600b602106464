package main

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

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
	var keep bool
	var contact string
	cmd := &cobra.Command{
		Use:   "update ID",
		Short: "Replace an identifier's values (every value, or with --keep those of the types given)",
		Long: `Replace an identifier's values. The --value flags are the record's new
values, all of them: a value not given is removed. With --keep, the values
whose type no --value names are kept as they are (index and TTL included),
and each --value replaces the values of its type.

--version is the version you last saw (a record starts at version 1): if
someone changed the record since, the update is refused with
version_mismatch instead of overwriting their change.

A city's admins change its contact with --contact on the city's record (the
old one stays in the record's history). Its endpoint, the node that keeps its
datasets, the authority changes: cityid tx set-city CITY --endpoint URL.`,
		Example: `  cityid tx update 1561301001.85.1/school-0042 --value URL=https://example.org/new --version 1 --from alice
  cityid tx update 1561301001.85.1/school-0042 --keep --value TEXT="No. 42 School" --version 2 --from alice   # the URL stays
  cityid tx update 1561301001 --contact registry@sjz.example --version 3 --from alice   # the city's values stay`,
		Args: exactArgs(1, "one identifier"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if version == 0 {
				return usageError{fmt.Errorf("update needs --version, the version you last saw (cityid resolve %s shows it)", args[0])}
			}
			values, err := parseValues(f.values)
			if err != nil {
				return err
			}
			msg := client.Update{ID: args[0], Version: version}
			if cmd.Flags().Changed("contact") {
				msg.Contact = &contact
			}
			// A city changing its contact alone keeps its values: an
			// update without --value would clear them.
			if keep || (len(values) == 0 && msg.Contact != nil) {
				if values, err = keepOthers(cmd, g, args[0], version, values); err != nil {
					return err
				}
			}
			msg.Values = values
			return send(cmd, g, f.from, client.KindUpdate, msg)
		},
	}
	cmd.Flags().StringVar(&contact, "contact", "", "a city's record only: how to reach its registry office (\"\" clears it)")
	cmd.Flags().Uint64Var(&version, "version", 0, "the version you last saw (required)")
	cmd.Flags().BoolVar(&keep, "keep", false, "keep the values whose type no --value names (default: the values given replace them all)")
	f.registerFrom(cmd)
	f.registerValues(cmd)
	return cmd
}

// keepOthers reads the record at version and returns its values with
// those of the types given replaced by the given ones. A given value takes
// the index of a value of its type it replaces, else the next index free;
// a kept value keeps its own, so a Handle client reading index N still
// finds it there.
func keepOthers(cmd *cobra.Command, g *globals, id string, version uint64, given []client.Value) ([]client.Value, error) {
	c, err := g.client()
	if err != nil {
		return nil, err
	}
	ans, err := c.Resolve(cmd.Context(), id)
	if err != nil {
		return nil, fmt.Errorf("--keep: read %s's values: %w", id, err)
	}
	if ans.Record.Version != version {
		return nil, fmt.Errorf("--keep: %s is at version %d, not %d: resolve it again and retry (its values may have changed)", id, ans.Record.Version, version)
	}
	if slices.ContainsFunc(given, func(v client.Value) bool { return v.Index != 0 }) {
		return nil, usageError{errors.New("--keep chooses the indexes of the values given; give none")}
	}
	types := map[string]bool{}
	for _, v := range given {
		types[v.Type] = true
	}
	var out []client.Value
	freed := map[string][]uint32{} // indexes of the replaced values, by type, in order
	var top uint32
	for _, v := range ans.Record.Values {
		top = max(top, v.Index)
		if types[v.Type] {
			freed[v.Type] = append(freed[v.Type], v.Index)
			continue
		}
		out = append(out, v)
	}
	for _, v := range given {
		if q := freed[v.Type]; len(q) > 0 {
			v.Index, freed[v.Type] = q[0], q[1:]
		} else {
			top = nextFreeIndex(top)
			v.Index = top
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b client.Value) int { return cmp.Compare(a.Index, b.Index) })
	return out, nil
}

// nextFreeIndex is the first value index after i outside the ranges the
// Handle interface reserves for the admins.
func nextFreeIndex(i uint32) uint32 {
	i++
	for _, first := range []uint32{client.AdminIndex, client.PubKeyIndex} {
		if i >= first && i < first+client.MaxAdmins {
			i = first + client.MaxAdmins
		}
	}
	return i
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
		Use:   "transfer ID --admin KEY [--admin KEY]...",
		Short: "Give a city, sector, unit or identifier new admin keys (its own; those above keep control)",
		Long: `Replace the admin keys of one record with the --admin keys given: the old
ones lose their rights on it, the new ones can write it and everything under
it. What it does not hand over:
  - the admins of every node above it (the sector, the city) keep control:
    an admin of a node may write anything under it, so a unit transferred
    by its city stays in the city's hands too;
  - the records under it keep their own admins: an identifier registered
    by the old key still lists it (transfer each one, or register them
    again under the new admins, to change that).
The Handle answer of the record (HS_ADMIN, HS_PUBKEY at indexes 100 and 300
on) lists its own admins only, the new ones; the rights from above are the
lineage's, as 'cityid resolve' of each node above shows.`,
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
