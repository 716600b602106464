package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

func newQR(g *globals) *cobra.Command {
	var out, level string
	var size int
	cmd := &cobra.Command{
		Use:   "qr ID -o FILE",
		Short: "Save the QR code of an identifier's resolver URL as PNG or SVG",
		Long: `Save the QR code of an identifier's resolver URL (<node's public URL>/r/<ID>),
as the node draws it: PNG or SVG by the file's extension. A phone that scans
it is sent to the identifier's first URL value, or to its record's page.`,
		Example: `  cityid qr 1561301001.36.1/main-0001 -o main-0001.png
  cityid qr 1561301001.36.1/main-0001 -o main-0001.svg --size 512 --level H`,
		Args: exactArgs(1, "one identifier"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usageError{errors.New("qr needs -o FILE (.png or .svg)")}
			}
			format := strings.TrimPrefix(strings.ToLower(filepath.Ext(out)), ".")
			if format != "png" && format != "svg" {
				return usageError{fmt.Errorf("-o %s: the file must end in .png or .svg", out)}
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			b, err := c.QR(cmd.Context(), args[0], format, size, level)
			if err != nil {
				return err
			}
			if err := os.WriteFile(out, b, 0o644); err != nil {
				return err
			}
			return printOut(cmd, map[string]any{"id": args[0], "file": out, "bytes": len(b)})
		},
	}
	outFlag(cmd, &out, "file to write, .png or .svg, replaced if it exists")
	cmd.Flags().IntVar(&size, "size", 256, "size in pixels, 64 to 2048")
	cmd.Flags().StringVar(&level, "level", "M", "error correction: L, M, Q or H")
	return cmd
}
