package main

import (
	"github.com/spf13/cobra"

	"github.com/cityid/cityid/internal/keyring"
)

type keyInfo struct {
	Name   string `json:"name"`
	PubKey string `json:"pub_key"`
	File   string `json:"file,omitempty"`
}

func newKeys(g *globals) *cobra.Command {
	cmd := group(&cobra.Command{
		Use:   "keys",
		Short: "Manage the signing keys in the home folder's keyring",
		Long: `Signing keys live in <home>/keys/<name>.json, readable by their owner only.
A key's public half (64 hex digits) is what records list as admins.`,
	})
	cmd.AddCommand(&cobra.Command{
		Use:     "add NAME",
		Short:   "Create a new key",
		Example: "  cityid keys add alice",
		Args:    exactArgs(1, "one key name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := keyring.Add(g.home, args[0])
			if err != nil {
				return err
			}
			return printOut(cmd, keyInfo{Name: k.Name, PubKey: k.Public(), File: keyring.Dir(g.home) + "/" + k.Name + ".json"})
		},
	}, &cobra.Command{
		Use:     "list",
		Short:   "List the keys",
		Example: "  cityid keys list",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			keys, err := keyring.List(g.home)
			if err != nil {
				return err
			}
			out := []keyInfo{}
			for _, k := range keys {
				out = append(out, keyInfo{Name: k.Name, PubKey: k.Public()})
			}
			return printOut(cmd, out)
		},
	}, &cobra.Command{
		Use:     "show NAME",
		Short:   "Show a key's public half",
		Example: "  cityid keys show alice",
		Args:    exactArgs(1, "one key name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := keyring.Load(g.home, args[0])
			if err != nil {
				return err
			}
			return printOut(cmd, keyInfo{Name: k.Name, PubKey: k.Public()})
		},
	})
	return cmd
}
