package main

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cityid/cityid/client"
	"github.com/cityid/cityid/internal/keyring"
)

func txRegisterBatch(g *globals) *cobra.Command {
	var f txFlags
	var file string
	cmd := &cobra.Command{
		Use:   "register-batch --file FILE",
		Short: "Register many identifiers from a CSV or JSON file, up to 5,000 per transaction",
		Long: `Register many identifiers at once. The file is either
  - CSV (name ending .csv): a header "id,TYPE,TYPE,..." naming a value type
    per column (URL, TEXT, EMAIL, GEO, ALIAS or ns:name), then one identifier
    a row; an empty cell adds no value;
  - JSON: an array of {"id": ..., "values": [{"type": ..., "data": ...}], "admins": [...]}.
Up to 5,000 identifiers go in one signed transaction, all or nothing; a
larger file is sent as several transactions in order, and the command stops
at the first refused one, saying which rows it held.`,
		Example: `  cityid tx register-batch --file meters.csv --from alice
  # meters.csv:
  #   id,TEXT,GEO
  #   1561301001.36.1/meter-000001,Meter 1,38.04,114.51   (quote cells with commas: "38.04,114.51")`,
		Args: exactArgs(0, "no arguments, only --file"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return usageError{errors.New("register-batch needs --file FILE (CSV or JSON)")}
			}
			entries, err := readBatchFile(file)
			if err != nil {
				return err
			}
			admins, err := adminKeys(g.home, f.admins)
			if err != nil {
				return err
			}
			for i := range entries {
				if len(entries[i].Admins) == 0 {
					entries[i].Admins = admins
				}
			}
			return sendBatches(cmd, g, f.from, entries)
		},
	}
	cmd.Flags().StringVar(&file, "file", "", "CSV or JSON file of identifiers (required)")
	f.registerFrom(cmd)
	f.registerAdmins(cmd)
	return cmd
}

// batchResult is what register-batch prints per transaction.
type batchResult struct {
	Rows   string `json:"rows"`
	Hash   string `json:"hash"`
	Height int64  `json:"height"`
	Count  int    `json:"count"`
}

func sendBatches(cmd *cobra.Command, g *globals, from string, entries []client.BatchEntry) error {
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
	s, err := c.NewSigner(cmd.Context(), k.Private)
	if err != nil {
		return err
	}
	var out []batchResult
	for start := 0; start < len(entries); start += client.MaxBatch {
		end := min(start+client.MaxBatch, len(entries))
		rows := fmt.Sprintf("%d-%d", start+1, end)
		ans, err := s.Send(cmd.Context(), client.KindRegisterBatch, client.RegisterBatch{Entries: entries[start:end]})
		if err != nil {
			_ = printOut(cmd, out)
			return fmt.Errorf("rows %s of %d (none of them written; rows before %d are): %w", rows, len(entries), start+1, err)
		}
		out = append(out, batchResult{Rows: rows, Hash: ans.Hash, Height: ans.Height, Count: ans.Result.Count})
	}
	return printOut(cmd, out)
}

// readBatchFile reads a register-batch file (see client.ParseBatchFile);
// what is wrong with the file is the user's to fix, a usage error.
func readBatchFile(path string) ([]client.BatchEntry, error) {
	entries, err := client.ReadBatchFile(path)
	var bad *client.BatchFileError
	if errors.As(err, &bad) {
		return nil, usageError{err}
	}
	return entries, err
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

func txSetAuthority(g *globals) *cobra.Command {
	var f txFlags
	var members []string
	var threshold int
	cmd := &cobra.Command{
		Use:   "set-authority --member KEY... --threshold M",
		Short: "Propose or approve a new registry authority (authority members)",
		Long: `Propose a new registry authority, or approve the same proposal: every
member who agrees signs the same members and threshold. The change is made
when approvals from current members reach the current threshold.`,
		Example: "  cityid tx set-authority --member operator --member 3b6a...e1 --member 9c1f...07 --threshold 2 --from operator",
		Args:    exactArgs(0, "no arguments, only flags"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			keys, err := adminKeys(g.home, members)
			if err != nil {
				return err
			}
			return send(cmd, g, f.from, client.KindSetAuthority, client.SetAuthority{Members: keys, Threshold: threshold})
		},
	}
	cmd.Flags().StringArrayVar(&members, "member", nil, "a member: key name or 64 hex digits (repeatable)")
	cmd.Flags().IntVar(&threshold, "threshold", 0, "approvals needed (M of N)")
	f.registerFrom(cmd)
	return cmd
}

func txSetValidator(g *globals) *cobra.Command {
	var f txFlags
	var power int64
	cmd := &cobra.Command{
		Use:   "set-validator PUBKEY --power N",
		Short: "Propose or approve adding, re-weighting (or, with --power 0, removing) a validator",
		Long: `PUBKEY is the validator's CometBFT Ed25519 public key: 64 hex digits, or
the base64 "value" of pub_key in its priv_validator_key.json. Like
set-authority, the change is made when enough authority members have signed
the same proposal; CometBFT applies it two blocks later.`,
		Example: "  cityid tx set-validator $(jq -r .pub_key.value node4/config/priv_validator_key.json) --power 10 --from operator",
		Args:    exactArgs(1, "one validator public key"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("power") {
				return usageError{errors.New("set-validator needs --power N (0 removes the validator)")}
			}
			pub, err := validatorKey(args[0])
			if err != nil {
				return err
			}
			return send(cmd, g, f.from, client.KindSetValidator, client.SetValidator{PubKey: pub, Power: power})
		},
	}
	cmd.Flags().Int64Var(&power, "power", 0, "voting power; 0 removes the validator (required)")
	f.registerFrom(cmd)
	return cmd
}

// validatorKey accepts an Ed25519 public key as hex or base64.
func validatorKey(s string) (string, error) {
	if _, err := client.ParsePubKey(strings.ToLower(s)); err == nil {
		return strings.ToLower(s), nil
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) == 32 {
		return hex.EncodeToString(b), nil
	}
	return "", usageError{fmt.Errorf("validator key %q is neither 64 hex digits nor the base64 of 32 bytes", s)}
}

func txSetCity(g *globals) *cobra.Command {
	var f txFlags
	var status, reason string
	cmd := &cobra.Command{
		Use:   "set-city CITY-CODE [--status active|deactivated] [--admin KEY]...",
		Short: "Propose or approve suspending, restoring or re-keying a city (authority members)",
		Long: `The registry authority's hand on a city, M of N like every governance change:
--status deactivated suspends the city and everything under it, --status
active restores it (a city is reactivated only so), and --admin gives it new
admin keys, the way out of a leaked city key. The change is made when enough
authority members have signed the same proposal.`,
		Example: `  cityid tx set-city 1561301001 --status deactivated --reason "leaked key" --from operator
  cityid tx set-city 1561301001 --status active --admin newkey --from operator`,
		Args: exactArgs(1, "one city code"),
		RunE: func(cmd *cobra.Command, args []string) error {
			admins, err := adminKeys(g.home, f.admins)
			if err != nil {
				return err
			}
			if status == "" && len(admins) == 0 {
				return usageError{errors.New("set-city needs --status, --admin, or both")}
			}
			return send(cmd, g, f.from, client.KindSetCity, client.SetCity{City: args[0], Status: status, Admins: admins, Reason: reason})
		},
	}
	cmd.Flags().StringVar(&status, "status", "", `"deactivated" to suspend the city, "active" to restore it`)
	cmd.Flags().StringVar(&reason, "reason", "", "why")
	f.registerFrom(cmd)
	f.registerAdmins(cmd)
	return cmd
}
