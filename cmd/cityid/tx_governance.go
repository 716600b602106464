package main

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cityid/cityid/client"
)

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
	var status, reason, endpoint string
	cmd := &cobra.Command{
		Use:   "set-city CITY-CODE [--status active|deactivated] [--admin KEY]... [--endpoint URL]",
		Short: "Propose or approve suspending, restoring, re-keying or moving a city (authority members)",
		Long: `The registry authority's hand on a city, M of N like every governance change:
--status deactivated suspends the city and everything under it, --status
active restores it (a city is reactivated only so), --admin gives it new
admin keys, the way out of a leaked city key, and --endpoint gives it a new
node URL when the city moves its node ("" clears it): a node keeps the
datasets of the cities that name it, so a city does not name one by itself.
The change is made when enough authority members have signed the same
proposal.`,
		Example: `  cityid tx set-city 1561301001 --status deactivated --reason "leaked key" --from operator
  cityid tx set-city 1561301001 --status active --admin newkey --from operator
  cityid tx set-city 1561301001 --endpoint https://node2.sjz.example --reason "the city moved its node" --from operator`,
		Args: exactArgs(1, "one city code"),
		RunE: func(cmd *cobra.Command, args []string) error {
			admins, err := adminKeys(g.home, f.admins)
			if err != nil {
				return err
			}
			msg := client.SetCity{City: args[0], Status: status, Admins: admins, Reason: reason}
			if cmd.Flags().Changed("endpoint") {
				msg.Endpoint = &endpoint
			}
			if status == "" && len(admins) == 0 && msg.Endpoint == nil {
				return usageError{errors.New("set-city needs --status, --admin or --endpoint")}
			}
			return send(cmd, g, f.from, client.KindSetCity, msg)
		},
	}
	cmd.Flags().StringVar(&status, "status", "", `"deactivated" to suspend the city, "active" to restore it`)
	cmd.Flags().StringVar(&endpoint, "endpoint", "", `the URL of the city's node, where others find it and its datasets ("" clears it)`)
	cmd.Flags().StringVar(&reason, "reason", "", "why")
	f.registerFrom(cmd)
	f.registerAdmins(cmd)
	return cmd
}
