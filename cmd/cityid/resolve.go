package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	dbm "github.com/cometbft/cometbft-db"
	"github.com/spf13/cobra"

	"github.com/cityid/cityid/client"
)

func newResolve(g *globals) *cobra.Command {
	var height int64
	var prove, verify bool
	var trust trustFlags
	cmd := &cobra.Command{
		Use:   "resolve ID",
		Short: "Resolve an identifier to its record, optionally verified against signed headers",
		Long: `Resolve an identifier to its record from the node's committed state.

--height H      the record as it was at height H
--proof         include the ICS23 proof and the app hash it proves to
--verify        check the proof against a block header signed by the
                validators, through CometBFT's light client; prints
                "verified at height H" on stderr (the proof itself only with
                --json), or exits 1 saying what failed. An identifier that
                is not registered, with its proof of absence verified,
                prints one line "verified at height H: ID is not
                registered" on stderr and exits 1.
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
				v, closeDB, err := g.verifier(cmd, c, trust)
				if err != nil {
					return err
				}
				defer closeDB()
				ans, ver, err := v.ResolveVerified(ctx, args[0])
				asJSON, _ := cmd.Flags().GetBool("json")
				var e *client.Error
				if client.Code(err) == client.CodeNotFound && errors.As(err, &e) && e.Problem.Proof != nil {
					// A verified absence is an answer, not a failure: one
					// verdict line (and with --json the problem with its
					// proof, for cityid verify), exit 1 as for any
					// identifier that is not registered.
					if asJSON {
						if perr := printOut(cmd, e.Problem); perr != nil {
							return perr
						}
					}
					fmt.Fprintf(cmd.ErrOrStderr(), "verified at height %d: %s is not registered (a proof of absence, under header %d, app hash %s)\n", ver.Height, args[0], ver.HeaderHeight, ver.AppHash)
					return reportedError{err}
				}
				if err != nil {
					return fmt.Errorf("verification failed: %w", err)
				}
				if !asJSON {
					// People read the verdict below; the proof is for
					// programs (--json), which can check it again.
					ans.Proof = nil
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
			var e *client.Error
			if prove && errors.As(err, &e) && e.Problem.Proof != nil {
				// Not registered, with the proof of it: printed like a
				// record's proof, so it can be kept and checked later with
				// cityid verify; the exit status still says not found.
				if perr := printOut(cmd, e.Problem); perr != nil {
					return perr
				}
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
	trust.add(cmd, "first --verify")
	return cmd
}

// trustFlags are the light client's root of trust and witnesses, for
// resolve --verify and verify.
type trustFlags struct {
	height    int64
	hash      string
	witnesses []string
}

func (f *trustFlags) add(cmd *cobra.Command, when string) {
	cmd.Flags().Int64Var(&f.height, "trust-height", 0, "height of a header you trust ("+when+")")
	cmd.Flags().StringVar(&f.hash, "trust-hash", "", "hash (hex) of that header")
	cmd.Flags().StringArrayVar(&f.witnesses, "witness", nil, "another node's API to cross-check headers with (repeatable)")
}

// verifier opens the light client store in the home folder.
func (g *globals) verifier(cmd *cobra.Command, c *client.Client, f trustFlags) (*client.Verifier, func(), error) {
	trustHeight, trustHash, witnesses := f.height, f.hash, f.witnesses
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

func newVerify(g *globals) *cobra.Command {
	var trust trustFlags
	cmd := &cobra.Command{
		Use:   "verify FILE [ID]",
		Short: "Verify a saved answer (a record with its proof, or a proof that an identifier is not registered)",
		Long: `Verify an answer someone saved — the body of GET /v1/ids/{id}?proof=true
from any node, a record with its ICS23 proof, or the 404 problem of the same
request, which proves the identifier is not registered — against block
headers signed by the validators, through CometBFT's light client. The
headers come from --node and are checked forward from your root of trust
(--trust-height and --trust-hash the first time, then <home>/light), so the
node that gave the answer and the node that gives the headers need not be
trusted. FILE "-" reads standard input.

A genuine answer proves what it is about, at its height: give ID to refuse
an answer about another identifier, and read the header time printed to
see how old it is.

Prints the record (or that the identifier is not registered) and "verified
at height H" with the header's time on stderr; exits 1 saying what failed.`,
		Example: `  curl -s 'http://127.0.0.1:8680/v1/ids/1561301001.85.1/school-0042?proof=true' > answer.json
  cityid verify answer.json --trust-height 1 --trust-hash 6A1F...C3
  cityid verify answer.json 1561301001.85.1/school-0042
  cityid resolve 1561301001.85.1/school-0042 --proof --json | cityid verify - 1561301001.85.1/school-0042
  cityid resolve 1561301001.85.1/nobody --proof --json | cityid verify -    # proof that it is not registered`,
		Args: rangeArgs(1, 2, "a file (or - for standard input), and optionally the identifier it must be about"),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := readAnswer(cmd, args[0])
			if err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			v, closeDB, err := g.verifier(cmd, c, trust)
			if err != nil {
				return err
			}
			defer closeDB()
			want := ""
			if len(args) == 2 {
				want = args[1]
			}
			id, rec, ver, err := v.VerifyAnswer(cmd.Context(), b, want)
			if err != nil {
				return fmt.Errorf("verification failed: %w", err)
			}
			if rec == nil {
				out := struct {
					ID         string    `json:"id"`
					Registered bool      `json:"registered"`
					Height     int64     `json:"height"`
					HeaderTime time.Time `json:"header_time"`
				}{id, false, ver.Height, ver.HeaderTime}
				if err := printOut(cmd, out); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "verified at height %d: %s is not registered (header %d of %s, app hash %s)\n",
					ver.Height, id, ver.HeaderHeight, ver.HeaderTime.UTC().Format(time.RFC3339), ver.AppHash)
				return nil
			}
			if err := printOut(cmd, client.RecordAnswer{Height: ver.Height, Record: *rec}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "verified at height %d (header %d of %s, app hash %s)\n",
				ver.Height, ver.HeaderHeight, ver.HeaderTime.UTC().Format(time.RFC3339), ver.AppHash)
			return nil
		},
	}
	trust.add(cmd, "the first time")
	return cmd
}

// maxAnswerBytes bounds what verify reads: an answer with its proof is a
// few KB; a record at its largest with proof stays far below this.
const maxAnswerBytes = 1 << 20

// readAnswer reads the answer to verify from a file, or standard input for
// "-", refusing more than maxAnswerBytes.
func readAnswer(cmd *cobra.Command, name string) ([]byte, error) {
	in := cmd.InOrStdin()
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		in = f
	}
	b, err := io.ReadAll(io.LimitReader(in, maxAnswerBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(b) > maxAnswerBytes {
		return nil, fmt.Errorf("%s: more than %d bytes, not an answer of /v1/ids", name, maxAnswerBytes)
	}
	return b, nil
}
