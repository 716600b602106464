package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

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
	}, keysRemove(g), &cobra.Command{
		Use:     "rename OLD NEW",
		Short:   "Give a key another name (its public half, and so its rights, stay)",
		Example: "  cityid keys rename alice water-bureau",
		Args:    exactArgs(2, "the key's name and its new name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := keyring.Rename(g.home, args[0], args[1])
			if err != nil {
				return err
			}
			return printOut(cmd, keyInfo{Name: k.Name, PubKey: k.Public(), File: keyring.Dir(g.home) + "/" + k.Name + ".json"})
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
	var passFile, out string
	imp := &cobra.Command{
		Use:   "import FILE [NAME]",
		Short: "Add a key from a key file or a passphrase-encrypted backup (the portal's)",
		Long: `Adds the key in FILE to the keyring under NAME (default: the name the file
gives). FILE is a key file of another home (keys/NAME.json) or a backup
that the portal or 'cityid keys export' wrote, opened with its passphrase:
asked on the terminal, or read from --passphrase-file.`,
		Example: "  cityid keys import ~/Downloads/alice.cityid-key.json\n  cityid keys import alice.backup.json alice --passphrase-file /run/secrets/pass",
		Args:    rangeArgs(1, 2, "a file and, optionally, a key name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			var k keyring.Key
			if keyring.IsBackup(b) {
				pass, err := passphrase(cmd, passFile, "Passphrase of "+args[0], false)
				if err != nil {
					return err
				}
				if k, err = keyring.OpenBackup(b, pass); err != nil {
					return fmt.Errorf("%s: %w", args[0], err)
				}
			} else if k, err = keyring.ParseKeyFile(b); err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			name := k.Name
			if len(args) == 2 {
				name = args[1]
			}
			if name == "" {
				return fmt.Errorf("%s names no key: give one (cityid keys import %s NAME)", args[0], args[0])
			}
			if k, err = keyring.Import(g.home, name, k.Private); err != nil {
				return err
			}
			return printOut(cmd, keyInfo{Name: k.Name, PubKey: k.Public(), File: keyring.Dir(g.home) + "/" + k.Name + ".json"})
		},
	}
	imp.Flags().StringVar(&passFile, "passphrase-file", "", "read the passphrase from this file's first line instead of the terminal")
	exp := &cobra.Command{
		Use:   "export NAME",
		Short: "Write a passphrase-encrypted backup of a key, which the portal imports",
		Long: `Writes a backup of key NAME, encrypted with a passphrase (PBKDF2-HMAC-SHA256,
600,000 rounds, and AES-256-GCM), to --out or standard output. The portal's
"import a backup" and 'cityid keys import' read it.`,
		Example: "  cityid keys export alice --out alice.cityid-key.json",
		Args:    exactArgs(1, "one key name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := keyring.Load(g.home, args[0])
			if err != nil {
				return err
			}
			pass, err := passphrase(cmd, passFile, "New passphrase for the backup of "+k.Name, true)
			if err != nil {
				return err
			}
			b, err := keyring.Backup(k, pass, 0)
			if err != nil {
				return err
			}
			if out == "" || out == "-" {
				_, err = cmd.OutOrStdout().Write(b)
				return err
			}
			// O_EXCL: a backup never overwrites a file.
			f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return err
			}
			if _, err := f.Write(b); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			return printOut(cmd, keyInfo{Name: k.Name, PubKey: k.Public(), File: out})
		},
	}
	exp.Flags().StringVar(&passFile, "passphrase-file", "", "read the passphrase from this file's first line instead of the terminal")
	exp.Flags().StringVarP(&out, "out", "o", "", "write the backup to this file (it must not exist) instead of standard output")
	cmd.AddCommand(imp, exp)
	return cmd
}

// passphrase reads a passphrase from file's first line, or else from the
// terminal without echo (twice when confirm, for a new one).
func passphrase(cmd *cobra.Command, file, prompt string, confirm bool) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", err
		}
		line, _, _ := strings.Cut(string(b), "\n")
		if line = strings.TrimSuffix(line, "\r"); line == "" {
			return "", fmt.Errorf("%s: the first line is empty", file)
		}
		return line, nil
	}
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		// A pipe: one line of standard input.
		line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
		if line = strings.TrimRight(line, "\r\n"); line == "" {
			return "", errors.Join(errors.New("no passphrase: give --passphrase-file, or run in a terminal"), err)
		}
		return line, nil
	}
	ask := func(p string) (string, error) {
		fmt.Fprint(cmd.ErrOrStderr(), p+": ")
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(cmd.ErrOrStderr())
		return string(b), err
	}
	pass, err := ask(prompt)
	if err != nil {
		return "", err
	}
	if pass == "" {
		return "", errors.New("the passphrase is empty")
	}
	if confirm {
		again, err := ask("Again")
		if err != nil {
			return "", err
		}
		if again != pass {
			return "", errors.New("the passphrases differ")
		}
	}
	return pass, nil
}

func keysRemove(g *globals) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "rm NAME --yes",
		Short: "Delete a key from the keyring (export a backup first: there is no other copy)",
		Long: `Deletes <home>/keys/NAME.json. The key is gone unless it was exported
(cityid keys export) or kept elsewhere: a record that lists only it as admin
can then never be changed again. --yes says you mean it.`,
		Example: `  cityid keys export alice -o alice.backup.json && cityid keys rm alice --yes`,
		Args:    exactArgs(1, "one key name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !yes {
				k, err := keyring.Load(g.home, args[0])
				if err != nil {
					return err
				}
				return usageError{fmt.Errorf("this deletes key %s (%s) and its only copy in this home; export a backup first (cityid keys export %s), then run again with --yes", k.Name, k.Public(), k.Name)}
			}
			k, err := keyring.Remove(g.home, args[0])
			if err != nil {
				return err
			}
			return printOut(cmd, keyInfo{Name: k.Name, PubKey: k.Public()})
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "delete the key")
	return cmd
}
