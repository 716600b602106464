package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// printOut prints a command's answer: as JSON with --json (what scripts
// read), else as indented "key: value" lines in the JSON's own order (what
// people read).
func printOut(cmd *cobra.Command, v any) error {
	w := cmd.OutOrStdout()
	if asJSON, _ := cmd.Flags().GetBool("json"); asJSON {
		return printJSON(w, v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	root, err := readNode(dec)
	if err != nil {
		return err
	}
	var out strings.Builder
	writeNode(&out, root, 0, false)
	_, err = io.WriteString(w, out.String())
	return err
}

// jnode is a JSON value with its object keys in order.
type jnode struct {
	kind   byte // 'o' object, 'a' array, 's' scalar
	keys   []string
	vals   []jnode
	scalar string
}

func readNode(dec *json.Decoder) (jnode, error) {
	tok, err := dec.Token()
	if err != nil {
		return jnode{}, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			n := jnode{kind: 'o'}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return n, err
				}
				v, err := readNode(dec)
				if err != nil {
					return n, err
				}
				n.keys, n.vals = append(n.keys, k.(string)), append(n.vals, v)
			}
			_, err := dec.Token()
			return n, err
		}
		n := jnode{kind: 'a'}
		for dec.More() {
			v, err := readNode(dec)
			if err != nil {
				return n, err
			}
			n.vals = append(n.vals, v)
		}
		_, err := dec.Token()
		return n, err
	case nil:
		return jnode{kind: 's', scalar: "-"}, nil
	case string:
		if t == "" {
			return jnode{kind: 's', scalar: `""`}, nil
		}
		return jnode{kind: 's', scalar: t}, nil
	default:
		return jnode{kind: 's', scalar: fmt.Sprint(t)}, nil
	}
}

func (n jnode) empty() bool { return n.kind != 's' && len(n.vals) == 0 }

func writeNode(b *strings.Builder, n jnode, indent int, inList bool) {
	pad := strings.Repeat("  ", indent)
	switch n.kind {
	case 's':
		b.WriteString(n.scalar + "\n")
	case 'o':
		for i, k := range n.keys {
			v := n.vals[i]
			if i > 0 || !inList {
				b.WriteString(pad)
			}
			b.WriteString(k + ":")
			switch {
			case v.kind == 's':
				b.WriteString(" " + v.scalar + "\n")
			case v.empty():
				b.WriteString(" (none)\n")
			case v.kind == 'a' && allScalars(v):
				b.WriteString(" " + joinScalars(v) + "\n")
			default:
				b.WriteString("\n")
				writeNode(b, v, indent+1, false)
			}
		}
	case 'a':
		if n.empty() {
			b.WriteString(pad + "(none)\n")
			return
		}
		for i, v := range n.vals {
			// The first item of a list inside a list continues the
			// line its parent's "- " began.
			if i > 0 || !inList {
				b.WriteString(pad)
			}
			b.WriteString("- ")
			switch {
			case v.kind == 's':
				b.WriteString(v.scalar + "\n")
			case v.empty():
				b.WriteString("(none)\n")
			case v.kind == 'a' && allScalars(v):
				b.WriteString(joinScalars(v) + "\n")
			default:
				writeNode(b, v, indent+1, true)
			}
		}
	}
}

func allScalars(n jnode) bool {
	for _, v := range n.vals {
		if v.kind != 's' {
			return false
		}
	}
	return true
}

func joinScalars(n jnode) string {
	var parts []string
	for _, v := range n.vals {
		parts = append(parts, v.scalar)
	}
	return strings.Join(parts, ", ")
}

// outFlag gives cmd the flag every command that writes a file or folder
// has, --out (-o), and --output, the name data get, qr and testnet used
// for it before: still taken, hidden, with a warning (TestOutFlags).
func outFlag(cmd *cobra.Command, p *string, usage string) {
	cmd.Flags().StringVarP(p, "out", "o", "", usage)
	cmd.Flags().StringVar(p, "output", "", usage)
	_ = cmd.Flags().MarkDeprecated("output", "use --out (or -o), as every command that writes a file does")
}
