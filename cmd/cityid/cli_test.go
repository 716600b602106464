package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/cityid/cityid/client"
)

// Every command a user runs has --help with an example, and every command
// that prints an answer can print it as JSON.
func TestEveryCommandHasAnExample(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" || sub.Name() == "completion" {
				continue
			}
			if len(sub.Commands()) == 0 {
				if strings.TrimSpace(sub.Example) == "" {
					t.Errorf("%s has no example in its --help", sub.CommandPath())
				}
				if sub.Short == "" {
					t.Errorf("%s has no short description", sub.CommandPath())
				}
				if sub.Flags().Lookup("json") == nil && sub.InheritedFlags().Lookup("json") == nil {
					t.Errorf("%s has no --json", sub.CommandPath())
				}
			}
			walk(sub)
		}
	}
	walk(newRoot())
}

// A script tells a missing file (1) from a node it cannot reach (3): both
// come from the operating system, but only one is the network's.
func TestExitCodes(t *testing.T) {
	_, fileErr := os.Open(filepath.Join(t.TempDir(), "missing.json"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	c, err := client.New("http://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	_, netErr := c.Status(context.Background())
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"a missing file", fmt.Errorf("read answer: %w", fileErr), exitRefused},
		{"a node that is not there", netErr, exitUnavailable},
		{"a usage mistake", usageError{errors.New("no such flag")}, exitUsage},
	} {
		if tc.err == nil {
			t.Fatalf("%s: no error to classify", tc.name)
		}
		if got := exitCode(tc.err); got != tc.want {
			t.Errorf("%s (%v): exit %d, want %d", tc.name, tc.err, got, tc.want)
		}
	}
}
