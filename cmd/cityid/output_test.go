package main

import (
	"bytes"
	"testing"

	"github.com/spf13/cobra"
)

// TestPrintOutNested prints lists inside lists, as a register_batch
// message holds them ({"nodes":[{"entries":[["local",[["TYPE","data"]]]]}]}),
// each item on its own line under its parent, scalars of a list on one.
func TestPrintOutNested(t *testing.T) {
	cmd := &cobra.Command{}
	cmd.Flags().Bool("json", false, "")
	var out bytes.Buffer
	cmd.SetOut(&out)
	v := map[string]any{"nodes": []any{map[string]any{
		"node": "1561301001.85.1",
		"entries": []any{
			[]any{"meter-1", []any{[]any{"TEXT", "Meter 1"}, []any{"GEO", "38.04,114.51"}}},
			[]any{"meter-2", []any{}},
		},
	}}}
	if err := printOut(cmd, v); err != nil {
		t.Fatal(err)
	}
	want := `nodes:
  - entries:
      - - meter-1
        - - TEXT, Meter 1
          - GEO, 38.04,114.51
      - - meter-2
        - (none)
    node: 1561301001.85.1
`
	if got := out.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
