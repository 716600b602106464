package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cityid/cityid/client"
)

func txRegisterBatch(g *globals) *cobra.Command {
	var f txFlags
	var file string
	var resume bool
	cmd := &cobra.Command{
		Use:   "register-batch --file FILE",
		Short: "Register many identifiers from a CSV or JSON file, up to " + strconv.Itoa(client.MaxBatch) + " per transaction",
		Long: `Register many identifiers at once. The file is either
  - CSV (name ending .csv): a header "id,TYPE,TYPE,..." naming a value type
    per column (URL, TEXT, EMAIL, GEO, ALIAS or ns:name), then one identifier
    a row; an empty cell adds no value;
  - JSON: an array of {"id": ..., "values": [{"type": ..., "data": ...}], "admins": [...]}.
The whole file is read and checked before anything is sent: every
identifier parses, names an object (<node>/<local-id>) and is given once;
what is wrong is named by its line, and nothing is sent (exit 2).

What is atomic is one transaction: it holds up to ` + strconv.Itoa(client.MaxBatch) + ` rows, and
either all of them are registered or none. A file of more rows is sent as
several transactions in order, each committed on its own; the command stops
at the first refused one, saying which rows it held, and the transactions
before it stay committed. Within a transaction the identifiers travel
grouped by node, the body compressed (raw DEFLATE: about an eighth of its
bytes, signed as they travel), and a refusal names the first bad one by its
identifier and its position as sent.

--resume, to finish a file that stopped half way (or to send it again),
first reads every row's identifier from the node: a row already registered
with the same values is skipped, one registered with other values is
refused (not sent, listed with its row), and only the rest is sent.

Prints what happened to the file's rows: skipped (already registered, with
--resume), sent (registered now, transaction by transaction) and refused;
exits 1 if any row was refused or a transaction failed.`,
		Example: `  cityid tx register-batch --file meters.csv --from alice
  cityid tx register-batch --file meters.csv --from alice --resume   # after a stop: send only what is missing
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
			return sendBatches(cmd, g, f.from, entries, resume)
		},
	}
	cmd.Flags().StringVar(&file, "file", "", "CSV or JSON file of identifiers (required)")
	cmd.Flags().BoolVar(&resume, "resume", false, "skip the rows already registered with the same values, send the rest")
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

// batchRefusal is a row --resume did not send.
type batchRefusal struct {
	Row    int    `json:"row"`
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// batchReport is what register-batch prints: every row of the file is
// skipped, sent, refused or (after a failed transaction) not sent.
type batchReport struct {
	Rows         int            `json:"rows"`
	Skipped      int            `json:"skipped"`
	Sent         int            `json:"sent"`
	Refused      []batchRefusal `json:"refused"`
	NotSent      int            `json:"not_sent"`
	Transactions []batchResult  `json:"transactions"`
}

func sendBatches(cmd *cobra.Command, g *globals, from string, entries []client.BatchEntry, resume bool) error {
	c, key, err := signingClient(cmd, g, from)
	if err != nil {
		return err
	}
	rep := batchReport{Rows: len(entries), Refused: []batchRefusal{}, Transactions: []batchResult{}}
	// rows[i] is the file row (1-based) of the i-th entry sent.
	rows := make([]int, 0, len(entries))
	send := entries
	if resume {
		send = send[:0:0]
		for i, e := range entries {
			skip, reason, err := alreadyThere(cmd, c, e)
			if err != nil {
				return fmt.Errorf("--resume: read row %d (%s): %w", i+1, e.ID, err)
			}
			switch {
			case skip:
				rep.Skipped++
			case reason != "":
				rep.Refused = append(rep.Refused, batchRefusal{Row: i + 1, ID: e.ID, Reason: reason})
			default:
				send = append(send, e)
				rows = append(rows, i+1)
			}
		}
	} else {
		for i := range entries {
			rows = append(rows, i+1)
		}
	}
	if resume {
		// --resume read every row from the node, which may take longer
		// than a transaction stays valid past the height read at the
		// start: the signer counts from the height of now.
		g.st = nil
	}
	s, err := g.signerFor(cmd, c, key)
	if err != nil {
		return err
	}
	for start := 0; start < len(send); start += client.MaxBatch {
		end := min(start+client.MaxBatch, len(send))
		span := rowSpan(rows[start:end])
		ans, err := s.Send(cmd.Context(), client.KindRegisterBatch, client.RegisterBatch{Entries: send[start:end]})
		if err != nil {
			rep.NotSent = len(send) - start
			if perr := printOut(cmd, rep); perr != nil {
				return perr
			}
			done := "nothing of this run is committed"
			if len(rep.Transactions) > 0 {
				done = fmt.Sprintf("the %d transactions above are committed", len(rep.Transactions))
			}
			return fmt.Errorf("rows %s, one transaction, refused: none of them written (%d rows not sent; %s): %w; "+
				"fix what is refused and run the same command with --resume, which skips the rows already registered", span, rep.NotSent, done, err)
		}
		rep.Sent += end - start
		rep.Transactions = append(rep.Transactions, batchResult{Rows: span, Hash: ans.Hash, Height: ans.Height, Count: ans.Result.Count})
	}
	if err := printOut(cmd, rep); err != nil {
		return err
	}
	if len(rep.Refused) > 0 {
		return fmt.Errorf("%d rows refused: registered already with other values (listed above by row); the other rows are registered", len(rep.Refused))
	}
	return nil
}

// rowSpan names the file rows of one transaction: "1-5000", or the first
// and last with how many when --resume left gaps.
func rowSpan(rows []int) string {
	first, last := rows[0], rows[len(rows)-1]
	if last-first+1 == len(rows) {
		return fmt.Sprintf("%d-%d", first, last)
	}
	return fmt.Sprintf("%d-%d (%d of them)", first, last, len(rows))
}

// alreadyThere reads a row's identifier: skip when it is registered with
// the row's values, a reason when it is registered otherwise, neither when
// it is not registered.
func alreadyThere(cmd *cobra.Command, c *client.Client, e client.BatchEntry) (skip bool, reason string, err error) {
	ans, err := c.Resolve(cmd.Context(), e.ID)
	switch {
	case client.Code(err) == client.CodeNotFound:
		return false, "", nil
	case err != nil:
		return false, "", err
	}
	if !sameValues(e.Values, ans.Record.Values) {
		return false, fmt.Sprintf("registered at version %d with other values (cityid resolve %s shows them)", ans.Record.Version, ans.Record.ID), nil
	}
	return true, "", nil
}

// sameValues compares a row's values with a record's, in order. An index
// or TTL the row leaves at 0 is the registry's to choose, so only those
// the row gives are compared.
func sameValues(row, rec []client.Value) bool {
	if len(row) != len(rec) {
		return false
	}
	for i, v := range row {
		r := rec[i]
		if v.Type != r.Type || v.Data != r.Data || (v.Index != 0 && v.Index != r.Index) || (v.TTL != 0 && v.TTL != r.TTL) {
			return false
		}
		if (v.Dataset == nil) != (r.Dataset == nil) || (v.Dataset != nil && *v.Dataset != *r.Dataset) {
			return false
		}
	}
	return true
}

// readBatchFile reads a register-batch file (see client.ParseBatchFile);
// what is wrong with the file is the user's to fix, a usage error.
func readBatchFile(path string) ([]client.BatchEntry, error) {
	entries, err := client.ReadBatchFile(path)
	var bad *client.BatchFileError
	if !errors.As(err, &bad) {
		return entries, err
	}
	// Every bad row at once (the first client.BatchBadRows), as the
	// portal's desk lists them: a clerk fixes the file once.
	var ids *client.BatchIDsError
	if errors.As(err, &ids) && ids.Count > 1 {
		var b strings.Builder
		fmt.Fprintf(&b, "%s has %d bad rows:", path, ids.Count)
		for _, r := range ids.Rows {
			fmt.Fprintf(&b, "\n  %v", r)
		}
		if more := ids.Count - len(ids.Rows); more > 0 {
			fmt.Fprintf(&b, "\n  and %d more", more)
		}
		return nil, usageError{errors.New(b.String())}
	}
	return nil, usageError{err}
}
