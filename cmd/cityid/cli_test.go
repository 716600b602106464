package main

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
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
