package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	dbm "github.com/cometbft/cometbft-db"
	"github.com/spf13/cobra"

	"github.com/cityid/cityid/client"
)

func newResolve(g *globals) *cobra.Command {
	var height int64
	var prove, verify bool
	var trustHeight int64
	var trustHash string
	var witnesses []string
	cmd := &cobra.Command{
		Use:   "resolve ID",
		Short: "Resolve an identifier to its record, optionally verified against signed headers",
		Long: `Resolve an identifier to its record from the node's committed state.

--height H      the record as it was at height H
--proof         include the ICS23 proof and the app hash it proves to
--verify        check the proof against a block header signed by the
                validators, through CometBFT's light client; prints
                "verified at height H" on stderr, or exits 1 saying what failed.
                The first --verify needs a root of trust, --trust-height and
                --trust-hash (a block's height and hash from a source you
                trust, e.g. your own node's /v1/blocks/1); it is kept in
                <home>/light and later headers are checked forward from it.`,
		Example: `  cityid resolve 1561301001.85.1/school-0042
  cityid resolve 1561301001.85.1/school-0042 --height 12
  cityid resolve 1561301001.85.1/school-0042 --verify --trust-height 1 --trust-hash 6A1F...C3
  cityid resolve 1561301001.85.1/school-0042 --verify --witness http://127.0.0.1:8681`,
		Args: exactArgs(1, "one identifier"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if verify {
				if height != 0 {
					return usageError{errors.New("--verify checks the latest state; drop --height")}
				}
				v, closeDB, err := g.verifier(cmd, c, trustHeight, trustHash, witnesses)
				if err != nil {
					return err
				}
				defer closeDB()
				ans, ver, err := v.ResolveVerified(ctx, args[0])
				if client.Code(err) == "not_found" {
					fmt.Fprintf(cmd.ErrOrStderr(), "verified at height %d: %s is not registered (header %d, app hash %s)\n", ver.Height, args[0], ver.HeaderHeight, ver.AppHash)
					return err
				}
				if err != nil {
					return fmt.Errorf("verification failed: %w", err)
				}
				if err := printOut(cmd, ans); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "verified at height %d (header %d, app hash %s)\n", ver.Height, ver.HeaderHeight, ver.AppHash)
				return nil
			}
			var ans client.RecordAnswer
			switch {
			case prove:
				ans, err = c.ResolveProof(ctx, args[0], height)
			case height != 0:
				ans, err = c.ResolveAt(ctx, args[0], height)
			default:
				ans, err = c.Resolve(ctx, args[0])
			}
			if err != nil {
				return err
			}
			return printOut(cmd, ans)
		},
	}
	cmd.Flags().Int64Var(&height, "height", 0, "resolve as of this height")
	cmd.Flags().BoolVar(&prove, "proof", false, "include the proof")
	cmd.Flags().BoolVar(&verify, "verify", false, "verify the answer against validator-signed headers")
	cmd.Flags().Int64Var(&trustHeight, "trust-height", 0, "height of a header you trust (first --verify)")
	cmd.Flags().StringVar(&trustHash, "trust-hash", "", "hash (hex) of that header")
	cmd.Flags().StringArrayVar(&witnesses, "witness", nil, "another node's API to cross-check headers with (repeatable)")
	return cmd
}

// verifier opens the light client store in the home folder.
func (g *globals) verifier(cmd *cobra.Command, c *client.Client, trustHeight int64, trustHash string, witnesses []string) (*client.Verifier, func(), error) {
	trust := client.TrustOptions{Height: trustHeight}
	if (trustHeight == 0) != (trustHash == "") {
		return nil, nil, usageError{errors.New("give --trust-height and --trust-hash together")}
	}
	if trustHash != "" {
		h, err := hex.DecodeString(trustHash)
		if err != nil || len(h) != 32 {
			return nil, nil, usageError{fmt.Errorf("--trust-hash %q is not 64 hex digits", trustHash)}
		}
		trust.Hash = h
	}
	var wits []*client.Client
	for _, w := range witnesses {
		wc, err := client.New(w)
		if err != nil {
			return nil, nil, usageError{err}
		}
		wits = append(wits, wc)
	}
	dir := filepath.Join(g.home, "light")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, err
	}
	db, err := dbm.NewGoLevelDB("trusted", dir)
	if err != nil {
		return nil, nil, fmt.Errorf("open light client store %s: %w", dir, err)
	}
	v, err := client.NewVerifier(cmd.Context(), c, wits, trust, db)
	if errors.Is(err, client.ErrNoTrust) {
		db.Close()
		return nil, nil, fmt.Errorf("%w: run once with --trust-height H --trust-hash HASH, taking them from a source you trust (e.g. your own node: curl %s/v1/blocks/1 | jq .height,.hash)", err, g.node)
	}
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return v, func() { db.Close() }, nil
}
