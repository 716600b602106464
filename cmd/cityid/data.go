package main

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cityid/cityid/client"
	"github.com/cityid/cityid/internal/datastore"
	"github.com/cityid/cityid/internal/node"
)

func newData(g *globals) *cobra.Command {
	cmd := group(&cobra.Command{
		Use:   "data",
		Short: "Share datasets between cities: put, get, mirror, read and anchor access logs",
		Long: `A dataset is an identifier whose record holds a DATA value (URI, SHA-256,
size, media type, and whether it is public). Its bytes stay with its city's
node, which serves them to anyone when the value is public, and otherwise
only to requests signed (HTTP Message Signatures, RFC 9421, Ed25519) by an
admin key of the dataset, or of a node holding a live grant for it
(cityid tx grant). Every request is appended to the dataset's hash-chained
access log on that node, whose head is anchored on the ledger.

--node is your own node (for the ledger); the dataset's node is the
endpoint its city registered, or --owner.`,
	})
	cmd.AddCommand(dataPut(g), dataGet(g), dataMirror(g), dataLog(g), dataAnchor(g))
	return cmd
}

// ownerFlag is --owner: the node that keeps a dataset's bytes, when not
// the endpoint its city registered.
type ownerFlag struct{ url string }

func (o *ownerFlag) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.url, "owner", "", "API of the node that keeps the dataset's bytes (default: the endpoint its city registered)")
}

// ownerClient is the client of the node that keeps id's bytes: --owner,
// else the endpoint of id's city in city (its record), else the URI of ds.
func (o ownerFlag) client(city *client.Record, ds client.Dataset) (*client.Client, string, error) {
	u := o.url
	if u == "" {
		var err error
		if u, err = client.OwnerNode(city, ds); err != nil {
			return nil, "", fmt.Errorf("%w: name the dataset's node with --owner URL", err)
		}
	}
	c, err := client.New(u)
	if err != nil {
		return nil, "", usageError{fmt.Errorf("--owner: %w", err)}
	}
	return c, u, nil
}

// fileDigest is the size and SHA-256 of a file, read once.
func fileDigest(f *os.File) (int64, string, error) {
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", fmt.Errorf("read %s: %w", f.Name(), err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// firstData is the record's first DATA value, or nil.
func firstData(rec client.Record) *client.Value {
	for i := range rec.Values {
		if rec.Values[i].Type == client.TypeData && rec.Values[i].Dataset != nil {
			return &rec.Values[i]
		}
	}
	return nil
}

func dataPut(g *globals) *cobra.Command {
	var f txFlags
	var owner ownerFlag
	var media string
	var public bool
	cmd := &cobra.Command{
		Use:   "put FILE ID --from KEY",
		Short: "Register a file as dataset ID (its DATA value) and upload its bytes to the dataset's node",
		Long: `Computes the file's SHA-256 and size, registers ID with a DATA value naming
them (or updates ID's DATA value, keeping its other values), waits for the
commit, then uploads the bytes to the node of ID's city, which keeps them
only if they hash to what the ledger says. An interrupted upload resumes
where it stopped when the command is run again. --from must be an admin of
ID or of a node above it.`,
		Example: `  cityid data put flow-2026.csv 1561301001.36.1/flow-2026 --from alice
  cityid data put map.geojson 1561301001.36.1/pipes --type application/geo+json --public --from alice`,
		Args: exactArgs(2, "a file and a dataset identifier"),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, idText := args[0], args[1]
			c, key, err := signingClient(cmd, g, f.from)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			file, err := os.Open(path)
			if err != nil {
				return err
			}
			defer file.Close()
			size, sum, err := fileDigest(file)
			if err != nil {
				return err
			}
			if media == "" {
				media = mime.TypeByExtension(filepath.Ext(path))
				if media == "" {
					media = "application/octet-stream"
				}
				media, _, _ = strings.Cut(media, ";")
			}
			cityCode, err := client.CityOf(idText)
			if err != nil {
				return usageError{err}
			}
			city, err := c.Resolve(ctx, cityCode)
			if err != nil {
				return fmt.Errorf("resolve the dataset's city %s: %w", cityCode, err)
			}
			ownerURL := owner.url
			if ownerURL == "" {
				if ownerURL, err = client.OwnerNode(&city.Record, client.Dataset{}); err != nil {
					ownerURL = g.node // a city with no endpoint keeps its data on the node it uses
				}
			}
			ds := client.Dataset{URI: client.DataURL(ownerURL, idText), SHA256: sum, Size: size, MediaType: media, Public: public}
			tx, err := registerDataset(ctx, c, func(kind string, msg any) (client.TxAnswer, error) {
				return g.send(cmd, c, key, kind, msg)
			}, idText, ds)
			if err != nil {
				return err
			}
			oc, err := client.New(ownerURL)
			if err != nil {
				return usageError{fmt.Errorf("the dataset's node %q: %w", ownerURL, err)}
			}
			// The dataset's node takes the bytes against the DATA value it
			// has committed: when it is not the node the value was sent
			// to, wait until it has the block.
			if err := caughtUp(ctx, c, oc); err != nil {
				return err
			}
			errw := cmd.ErrOrStderr()
			ans, err := oc.UploadData(ctx, key, idText, file, size, func(held int64) {
				if size > client.UploadChunk {
					fmt.Fprintf(errw, "uploaded %d of %d bytes\n", held, size)
				}
			})
			if err != nil {
				return fmt.Errorf("upload to %s: %w", ownerURL, err)
			}
			return printOut(cmd, struct {
				ID       string         `json:"id"`
				Dataset  client.Dataset `json:"dataset"`
				Node     string         `json:"node"`
				Tx       string         `json:"tx,omitempty"`
				Uploaded bool           `json:"uploaded"`
			}{idText, ds, ownerURL, tx, ans.Complete})
		},
	}
	f.registerFrom(cmd)
	owner.add(cmd)
	cmd.Flags().StringVar(&media, "type", "", "media type of the file (default: from its extension)")
	cmd.Flags().BoolVar(&public, "public", false, "anyone may download it, and any node may mirror it")
	return cmd
}

// caughtUp waits, up to a minute, until node other has committed what
// node c has.
func caughtUp(ctx context.Context, c, other *client.Client) error {
	st, err := c.Status(ctx)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(time.Minute)
	for {
		ost, err := other.Status(ctx)
		if err == nil && ost.Height >= st.Height {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the dataset's node has not reached height %d in a minute (it is at %d): %v", st.Height, ost.Height, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// registerDataset makes ds the first DATA value of id: a new record, an
// update of the value in place, or nothing when the ledger already says
// it, signing with send. It returns the transaction's hash ("" when none
// was needed).
func registerDataset(ctx context.Context, c *client.Client, send func(kind string, msg any) (client.TxAnswer, error), id string, ds client.Dataset) (string, error) {
	ans, err := c.Resolve(ctx, id)
	switch {
	case client.Code(err) == client.CodeNotFound:
		val := client.Value{Type: client.TypeData, Dataset: &ds}
		res, err := send(client.KindRegister, client.Register{ID: id, Values: []client.Value{val}})
		if err != nil {
			return "", fmt.Errorf("register %s: %w", id, err)
		}
		return res.Hash, nil
	case err != nil:
		return "", fmt.Errorf("resolve %s: %w", id, err)
	}
	values := ans.Record.Values
	if v := firstData(ans.Record); v != nil {
		if *v.Dataset == ds {
			return "", nil
		}
		v.Dataset = &ds
	} else {
		values = append(values, client.Value{Type: client.TypeData, Dataset: &ds})
	}
	res, err := send(client.KindUpdate, client.Update{ID: id, Version: ans.Record.Version, Values: values})
	if err != nil {
		return "", fmt.Errorf("update the DATA value of %s: %w", id, err)
	}
	return res.Hash, nil
}

// refusalHelp says, for a refused data request, what the person can do.
func refusalHelp(err error) error {
	var e *client.Error
	if !errors.As(err, &e) {
		return err
	}
	why := map[string]string{
		client.CodeNoGrant:           "no grant: ask the dataset's city for one (cityid tx grant DATASET --to YOUR-NODE), and sign with an admin key of that node",
		client.CodeGrantRevoked:      "the grant was revoked",
		client.CodeGrantExpired:      "the grant has expired: ask for it to be renewed",
		client.CodeGrantInactive:     "the dataset, your node or a node above either is deactivated",
		client.CodeSignatureRequired: "the dataset is not public: sign with --from KEY",
		client.CodeBadSignature:      "the signature was refused",
		client.CodeRateLimited:       "the node is busy (too many requests, or too many keys signing at once): try again in a few minutes",
	}[e.Problem.Code]
	if why == "" {
		return err
	}
	if e.Problem.Reason == "signature_stale" || e.Problem.Reason == "signature_future" {
		why += " (clock skew: this computer's clock and the node's differ by more than allowed; check both are set by NTP)"
	}
	return fmt.Errorf("refused by the dataset's node: %s\n  %w", why, err)
}

func dataGet(g *globals) *cobra.Command {
	var from, out string
	var owner ownerFlag
	var trust trustFlags
	cmd := &cobra.Command{
		Use:   "get ID [--from KEY] [--out FILE]",
		Short: "Download a dataset from its city's node, checked against the SHA-256 on the ledger",
		Long: `Resolves ID with its proof, verified against validator-signed headers (as
resolve --verify: the first time needs --trust-height and --trust-hash),
finds the node of ID's city (the endpoint the city registered, verified
the same way), signs the request with --from (not needed for a public
dataset), downloads (resuming FILE.part when an earlier download was
interrupted), and writes FILE only when the bytes have the size and SHA-256
of the verified DATA value. A refusal says why: no grant, revoked,
expired, deactivated, a bad signature or clock skew.`,
		Example: `  cityid data get 1561301001.36.1/flow-2026 --from bob -o flow-2026.csv
  cityid data get 1561301001.36.1/pipes -o pipes.geojson   # a public dataset`,
		Args: exactArgs(1, "a dataset identifier"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := args[0]
			ctx := cmd.Context()
			var key ed25519.PrivateKey
			if from != "" {
				k, err := g.loadKey(cmd, from)
				if err != nil {
					return err
				}
				key = k.Private
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
			ans, ver, err := v.ResolveVerified(ctx, id)
			if err != nil {
				return fmt.Errorf("verify %s: %w", id, err)
			}
			val := firstData(ans.Record)
			if val == nil {
				return fmt.Errorf("%s has no DATA value: it is not a dataset", id)
			}
			cityCode, err := client.CityOf(id)
			if err != nil {
				return err
			}
			city, _, err := v.ResolveVerified(ctx, cityCode)
			if err != nil {
				return fmt.Errorf("verify the dataset's city %s: %w", cityCode, err)
			}
			oc, ownerURL, err := owner.client(&city.Record, *val.Dataset)
			if err != nil {
				return err
			}
			if out == "" {
				out = ans.Record.ID[strings.LastIndexByte(ans.Record.ID, '/')+1:]
			}
			d, err := oc.DownloadData(ctx, key, ans.Record.ID, val.Index, *val.Dataset, out)
			if err != nil {
				return refusalHelp(err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s: %d bytes from %s, SHA-256 %s as on the ledger (verified at height %d)\n",
				out, val.Dataset.Size, ownerURL, val.Dataset.SHA256, ver.Height)
			return printOut(cmd, struct {
				ID      string         `json:"id"`
				File    string         `json:"file"`
				Node    string         `json:"node"`
				Dataset client.Dataset `json:"dataset"`
				Resumed int64          `json:"resumed,omitempty"`
				Receipt string         `json:"receipt,omitempty"`
				Height  int64          `json:"verified_height"`
			}{ans.Record.ID, out, ownerURL, *val.Dataset, d.Resumed, d.Receipt, ver.Height})
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "name of the key that signs the request (an admin of the grantee node)")
	outFlag(cmd, &out, "file to write, replaced if it exists (default: the identifier's local part)")
	owner.add(cmd)
	trust.add(cmd, "first verified read")
	return cmd
}

// signedOwner is how the owner's admins' commands start: the client of
// --node, the --from key, and the client of the node that keeps dataset
// id, with id's record.
func signedOwner(cmd *cobra.Command, g *globals, from string, owner ownerFlag, id string) (*client.Client, ed25519.PrivateKey, *client.Client, client.Record, error) {
	c, key, err := signingClient(cmd, g, from)
	if err != nil {
		return nil, nil, nil, client.Record{}, err
	}
	oc, _, rec, err := ownerOf(cmd.Context(), c, owner, id)
	return c, key, oc, rec, err
}

// ownerOf resolves id and its city on the node and returns the dataset's
// node's client.
func ownerOf(ctx context.Context, c *client.Client, owner ownerFlag, id string) (*client.Client, string, client.Record, error) {
	ans, err := c.Resolve(ctx, id)
	if err != nil {
		return nil, "", client.Record{}, fmt.Errorf("resolve %s: %w", id, err)
	}
	val := firstData(ans.Record)
	if val == nil {
		return nil, "", ans.Record, fmt.Errorf("%s has no DATA value: it is not a dataset", id)
	}
	cityCode, err := client.CityOf(id)
	if err != nil {
		return nil, "", ans.Record, err
	}
	city, err := c.Resolve(ctx, cityCode)
	if err != nil {
		return nil, "", ans.Record, fmt.Errorf("resolve %s: %w", cityCode, err)
	}
	oc, u, err := owner.client(&city.Record, *val.Dataset)
	return oc, u, ans.Record, err
}

func dataLog(g *globals) *cobra.Command {
	var f txFlags
	var owner ownerFlag
	cmd := &cobra.Command{
		Use:   "log ID --from KEY",
		Short: "List a dataset's access log and verify its hash chain against the anchors on the ledger",
		Long: `Reads the whole access log of dataset ID from its node (--from must be an
admin of ID or of a node above it), checks that every entry's hash chains
to the one before, and that every head anchored on the ledger is the entry
it names. Exits 1 when the log was altered, cut or reordered.`,
		Example: `  cityid data log 1561301001.36.1/flow-2026 --from alice
  cityid data log 1561301001.36.1/flow-2026 --from alice --json | jq '.entries[] | select(.result != "served")'`,
		Args: exactArgs(1, "a dataset identifier"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, key, oc, rec, err := signedOwner(cmd, g, f.from, owner, args[0])
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			entries, err := oc.WholeAccessLog(ctx, key, rec.ID)
			if err != nil {
				return refusalHelp(err)
			}
			anchors, err := allAnchors(ctx, c, rec.ID)
			if err != nil {
				return err
			}
			report := client.VerifyAccessLog(rec.ID, entries, anchors)
			// Every request let in was signed by its key, once: an entry
			// the owner wrote for a request nobody made, or copied from
			// one it was sent, does not check.
			signed, at, err := client.CheckEntrySignatures(entries)
			if err != nil && report.OK {
				report.OK, report.Code, report.Problem, report.At = false, "bad_signature", err.Error(), at
			}
			if asJSON, _ := cmd.Flags().GetBool("json"); asJSON {
				if err := printJSON(cmd.OutOrStdout(), struct {
					ID      string               `json:"id"`
					Entries []client.AccessEntry `json:"entries"`
					Anchors []client.Anchor      `json:"anchors"`
					Report  any                  `json:"verification"`
				}{rec.ID, entries, anchors, report}); err != nil {
					return err
				}
			} else {
				printAccessLog(cmd.OutOrStdout(), entries, anchors)
			}
			if !report.OK {
				return fmt.Errorf("the access log of %s does not verify: %s (entry %d)", rec.ID, report.Problem, report.At)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "verified: %d entries chained, %d of them under anchors on the ledger, %d signed requests' signatures checked\n", report.Entries, report.Anchored, signed)
			return nil
		},
	}
	f.registerFrom(cmd)
	owner.add(cmd)
	return cmd
}

// allAnchors reads every anchor of a dataset's log from the ledger.
func allAnchors(ctx context.Context, c *client.Client, id string) ([]client.Anchor, error) {
	var out []client.Anchor
	var after uint64
	for {
		page, err := c.Anchors(ctx, id, after, 1000)
		if err != nil {
			return out, fmt.Errorf("read the anchors of %s: %w", id, err)
		}
		out = append(out, page.Anchors...)
		if len(page.Anchors) == 0 || page.Next == "" {
			return out, nil
		}
		after = page.Anchors[len(page.Anchors)-1].Entries
	}
}

func dataAnchor(g *globals) *cobra.Command {
	var f txFlags
	var owner ownerFlag
	cmd := &cobra.Command{
		Use:   "anchor ID --from KEY",
		Short: "Anchor the head of a dataset's access log on the ledger now",
		Long: `Reads the head of dataset ID's access log from its node and sends an
anchor_log transaction signed by --from (an admin of ID or of a node above
it): afterwards the node cannot rewrite the log up to that entry without it
showing. A node with [data] anchor_key set does this by itself every
anchor_every seconds.`,
		Example: `  cityid data anchor 1561301001.36.1/flow-2026 --from alice`,
		Args:    exactArgs(1, "a dataset identifier"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, key, oc, rec, err := signedOwner(cmd, g, f.from, owner, args[0])
			if err != nil {
				return err
			}
			page, err := oc.AccessLog(cmd.Context(), key, rec.ID, 0, 1)
			if err != nil {
				return refusalHelp(err)
			}
			if page.Entries == 0 {
				return fmt.Errorf("the access log of %s is empty: nothing to anchor", rec.ID)
			}
			ans, err := g.send(cmd, c, key, client.KindAnchorLog, client.AnchorLog{Dataset: rec.ID, Entries: page.Entries, Head: page.Head})
			if err != nil {
				return err
			}
			return printOut(cmd, ans)
		},
	}
	f.registerFrom(cmd)
	owner.add(cmd)
	return cmd
}

func dataMirror(g *globals) *cobra.Command {
	var owner ownerFlag
	cmd := &cobra.Command{
		Use:   "mirror ID",
		Short: "Keep a copy of a public dataset on this home's node, which then serves it too",
		Long: `Downloads public dataset ID from its city's node, checks the bytes against the
SHA-256 of its DATA value on the ledger (as read from --node, your own),
and stores them among the datasets of the node in --home, which serves them
to anyone from then on (GET /v1/data/ID). The bytes go straight into the
node's store, checked as they stream; a mirror cut short resumes where it
stopped when run again. Readers check the bytes against the ledger wherever
they come from.`,
		Example: `  cityid data mirror 1561301001.36.1/pipes`,
		Args:    exactArgs(1, "a public dataset identifier"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			oc, ownerURL, rec, err := ownerOf(ctx, c, owner, args[0])
			if err != nil {
				return err
			}
			val := firstData(rec)
			if !val.Dataset.Public {
				return fmt.Errorf("%s is not public: only public datasets are mirrored", rec.ID)
			}
			cfg, err := node.Load(g.home)
			if err != nil {
				return err
			}
			st, err := datastore.Open(filepath.Join(cfg.DataDir(), "bytes"))
			if err != nil {
				return err
			}
			if err := mirrorInto(ctx, oc, st, rec.ID, val.Index, *val.Dataset); err != nil {
				return refusalHelp(err)
			}
			return printOut(cmd, struct {
				ID      string         `json:"id"`
				From    string         `json:"from"`
				Dataset client.Dataset `json:"dataset"`
			}{rec.ID, ownerURL, *val.Dataset})
		},
	}
	owner.add(cmd)
	return cmd
}

// mirrorInto downloads dataset id's bytes from its node straight into a
// node's datastore, each byte written once, where the node keeps it, and
// hashed with those an interrupted mirror left as it streams in; then the
// store checks the whole again as it completes, and binds it to id, so
// that the node serves it as id's bytes. Bytes that do not match the
// ledger are dropped, never bound.
func mirrorInto(ctx context.Context, oc *client.Client, st *datastore.Store, id string, index uint32, ds client.Dataset) error {
	if has, err := st.Has(ds.SHA256); err != nil {
		return err
	} else if has {
		return st.Bind(id, ds.SHA256)
	}
	up, err := st.Upload(ds.SHA256, ds.Size)
	if err != nil {
		return err
	}
	defer up.Close()
	_, err = oc.DownloadDataTo(ctx, nil, id, index, ds, uploadSink{ctx, up})
	if errors.Is(err, client.ErrDataMismatch) {
		if rerr := up.Restart(); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	if err != nil && up.Offset() > 0 {
		return fmt.Errorf("%w (the %d bytes received are kept: run it again to resume)", err, up.Offset())
	}
	if err != nil {
		return err
	}
	if err := up.CompleteContext(ctx); err != nil {
		return fmt.Errorf("store the bytes of %s: %w", id, err)
	}
	return st.Bind(id, ds.SHA256)
}

// uploadSink is a datastore upload as a download's client.DataSink.
type uploadSink struct {
	ctx context.Context
	up  *datastore.Upload
}

func (s uploadSink) Held() (io.Reader, error) { return s.up.Received(), nil }
func (s uploadSink) Restart() error           { return s.up.Restart() }
func (s uploadSink) ReadFrom(r io.Reader) (int64, error) {
	return s.up.WriteAt(s.ctx, r, s.up.Offset())
}

// printAccessLog writes a log as a table for people: one line an entry,
// with where each anchor falls.
func printAccessLog(w io.Writer, entries []client.AccessEntry, anchors []client.Anchor) {
	anchoredAt := map[uint64]int64{}
	for _, a := range anchors {
		anchoredAt[a.Entries] = a.Anchored.Height
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tTIME\tKEY\tGRANTEE\tMETHOD\tBYTES\tSTATUS\tRESULT\tANCHORED")
	for _, e := range entries {
		key := e.Key
		if len(key) > 12 {
			key = key[:12] + "…"
		}
		if key == "" {
			key = "-"
		}
		grantee := e.Grantee
		if grantee == "" {
			grantee = "-"
		}
		anchored := ""
		if h, ok := anchoredAt[e.Seq]; ok {
			anchored = fmt.Sprintf("at height %d", h)
		}
		t := e.Time
		if len(t) > 19 {
			t = t[:19]
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", e.Seq, t, key, grantee, e.Method, e.Bytes, e.Status, e.Result, anchored)
	}
	_ = tw.Flush()
}
