package main

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/cityid/cityid/client"
)

func txRegisterBatch(g *globals) *cobra.Command {
	var f txFlags
	var file string
	cmd := &cobra.Command{
		Use:   "register-batch --file FILE",
		Short: "Register many identifiers from a CSV or JSON file, up to " + strconv.Itoa(client.MaxBatch) + " per transaction",
		Long: `Register many identifiers at once. The file is either
  - CSV (name ending .csv): a header "id,TYPE,TYPE,..." naming a value type
    per column (URL, TEXT, EMAIL, GEO, ALIAS or ns:name), then one identifier
    a row; an empty cell adds no value;
  - JSON: an array of {"id": ..., "values": [{"type": ..., "data": ...}], "admins": [...]}.
Up to ` + strconv.Itoa(client.MaxBatch) + ` identifiers go in one signed transaction, all or nothing; a
larger file is sent as several transactions in order, and the command stops
at the first refused one, saying which rows it held. Within a transaction the
identifiers travel grouped by node, and a refusal names the first bad one by
its identifier and its position as sent.`,
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
	c, key, err := signingClient(cmd, g, from)
	if err != nil {
		return err
	}
	s, err := c.NewSigner(cmd.Context(), key)
	if err != nil {
		return err
	}
	var out []batchResult
	for start := 0; start < len(entries); start += client.MaxBatch {
		end := min(start+client.MaxBatch, len(entries))
		rows := fmt.Sprintf("%d-%d", start+1, end)
		ans, err := s.Send(cmd.Context(), client.KindRegisterBatch, client.RegisterBatch{Entries: entries[start:end]})
		if err != nil {
			if len(out) == 0 {
				return fmt.Errorf("rows %s of %d (none of them written): %w", rows, len(entries), err)
			}
			_ = printOut(cmd, out)
			return fmt.Errorf("rows %s of %d (none of them written; rows 1-%d are, above): %w", rows, len(entries), start, err)
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
