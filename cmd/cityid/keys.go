package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/cityid/cityid/internal/keyring"
	"github.com/cityid/cityid/internal/node"
)

type keyInfo struct {
	Name   string `json:"name"`
	PubKey string `json:"pub_key"`
	File   string `json:"file,omitempty"`
	// Plain: the file is an older cityid's, its seed in clear; the
	// key's next use encrypts it.
	Plain bool `json:"plain,omitempty"`
	// Removed: keys rm deleted it (its answer would read as keys show's
	// without it).
	Removed bool `json:"removed,omitempty"`
}

// keyringOptions is how every command gets the keyring's passphrase:
// --passphrase-file, then [keys] in the home's configuration, then the
// terminal (node.OpenKeyring).
func (g *globals) keyringOptions(cmd *cobra.Command) node.KeyringOptions {
	o := node.KeyringOptions{
		PassphraseFile: g.passFile,
		Warn:           func(msg string) { fmt.Fprintln(cmd.ErrOrStderr(), "warning:", msg) },
	}
	if g.passFile == "-" {
		// Standard input, read once for every keyring the command opens.
		o.PassphraseFile = ""
		o.Pipe = func() (string, error) {
			g.readKeyringLine(cmd)
			return g.stdinPass, g.stdinErr
		}
	}
	if term.IsTerminal(int(os.Stdin.Fd())) {
		o.Prompt = func(fresh bool) (string, error) {
			if fresh {
				return g.passphrase(cmd, "", "New passphrase for the keyring in "+keyring.Dir(g.home), true)
			}
			return g.passphrase(cmd, "", "Passphrase of the keyring in "+keyring.Dir(g.home), false)
		}
	}
	return o
}

// keyring is --home's keyring.
func (g *globals) keyring(cmd *cobra.Command) (*keyring.Keyring, error) {
	return node.OpenKeyring(g.home, g.keyringOptions(cmd))
}

// loadKey is --home's key named name, decrypted.
func (g *globals) loadKey(cmd *cobra.Command, name string) (keyring.Key, error) {
	kr, err := g.keyring(cmd)
	if err != nil {
		return keyring.Key{}, err
	}
	return kr.Load(name)
}

func newKeys(g *globals) *cobra.Command {
	cmd := group(&cobra.Command{
		Use:   "keys",
		Short: "Manage the signing keys in the home folder's keyring",
		Long: `Signing keys live in <home>/keys/<name>.json, readable by their owner only,
each seed encrypted with the keyring's passphrase (age, scrypt); the name and
the public half are in clear, so list and show ask no passphrase. A key's
public half (64 hex digits) is what records list as admins.

The passphrase comes from --passphrase-file, else [keys] passphrase_file or
passphrase_env in the home's config/cityid.toml (init writes a random one to
config/passphrase), else a prompt on a terminal. See docs/keys.md.`,
	})
	cmd.AddCommand(&cobra.Command{
		Use:     "add NAME",
		Short:   "Create a new key",
		Example: "  cityid keys add alice",
		Args:    exactArgs(1, "one key name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			kr, err := g.keyring(cmd)
			if err != nil {
				return err
			}
			k, err := kr.Add(args[0])
			if err != nil {
				return err
			}
			return printOut(cmd, keyInfo{Name: k.Name, PubKey: k.Public(), File: kr.File(k.Name)})
		},
	}, &cobra.Command{
		Use:     "list",
		Short:   "List the keys (no passphrase needed)",
		Example: "  cityid keys list",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			kr, err := g.keyring(cmd)
			if err != nil {
				return err
			}
			keys, err := kr.List()
			if err != nil {
				return err
			}
			out := []keyInfo{}
			for _, k := range keys {
				out = append(out, keyInfo{Name: k.Name, PubKey: k.PubKey, Plain: k.Plain})
			}
			return printOut(cmd, out)
		},
	}, keysRemove(g), &cobra.Command{
		Use:     "rename OLD NEW",
		Short:   "Give a key another name (its public half, and so its rights, stay)",
		Example: "  cityid keys rename alice water-bureau",
		Args:    exactArgs(2, "the key's name and its new name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			kr, err := g.keyring(cmd)
			if err != nil {
				return err
			}
			k, err := kr.Rename(args[0], args[1])
			if err != nil {
				return err
			}
			return printOut(cmd, keyInfo{Name: k.Name, PubKey: k.Public(), File: kr.File(k.Name)})
		},
	}, &cobra.Command{
		Use:     "show NAME",
		Short:   "Show a key's public half (never its secret; no passphrase needed)",
		Example: "  cityid keys show alice",
		Args:    exactArgs(1, "one key name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			kr, err := g.keyring(cmd)
			if err != nil {
				return err
			}
			k, err := kr.Show(args[0])
			if err != nil {
				return err
			}
			return printOut(cmd, keyInfo{Name: k.Name, PubKey: k.PubKey, Plain: k.Plain})
		},
	}, keysChangePassphrase(g))
	var backupPass, out string
	imp := &cobra.Command{
		Use:   "import FILE [NAME]",
		Short: "Add a key from a key file or a passphrase-encrypted backup (the portal's)",
		Long: `Adds the key in FILE to the keyring under NAME (default: the name the file
gives), encrypted with the keyring's passphrase. FILE is a backup that the
portal or 'cityid keys export' wrote, opened with its passphrase (asked on
the terminal or read from a pipe, or from --backup-passphrase-file), or a
key file of another home (keys/NAME.json): an encrypted one is opened with
that home's passphrase, asked the same way.`,
		Example: "  cityid keys import ~/Downloads/alice.cityid-key.json\n  cityid keys import alice.backup.json alice --backup-passphrase-file /run/secrets/pass",
		Args:    rangeArgs(1, 2, "a file and, optionally, a key name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			var k keyring.Key
			if keyring.IsBackup(b) {
				pass, err := g.passphrase(cmd, backupPass, "Passphrase of "+args[0], false)
				if err != nil {
					return err
				}
				if k, err = keyring.OpenBackup(b, pass); err != nil {
					return fmt.Errorf("%s: %w", args[0], err)
				}
			} else if k, err = keyring.ReadKeyFile(b, func() (string, error) {
				return g.passphrase(cmd, backupPass, "Passphrase of the keyring that "+args[0]+" comes from", false)
			}); err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			name := k.Name
			if len(args) == 2 {
				name = args[1]
			}
			if name == "" {
				return fmt.Errorf("%s names no key: give one (cityid keys import %s NAME)", args[0], args[0])
			}
			kr, err := g.keyring(cmd)
			if err != nil {
				return err
			}
			if k, err = kr.Import(name, k.Private); err != nil {
				return err
			}
			return printOut(cmd, keyInfo{Name: k.Name, PubKey: k.Public(), File: kr.File(k.Name)})
		},
	}
	imp.Flags().StringVar(&backupPass, "backup-passphrase-file", "", "read the passphrase of FILE from this file's first line instead of the terminal")
	exp := &cobra.Command{
		Use:   "export NAME",
		Short: "Write a passphrase-encrypted backup of a key, which the portal imports",
		Long: `Writes a backup of key NAME, encrypted with a passphrase of its own (PBKDF2-HMAC-SHA256,
600,000 rounds, and AES-256-GCM), to --out or standard output. The portal's
"import a backup" and 'cityid keys import' read it. The key is opened with
the keyring's passphrase first; the backup's is asked on the terminal (twice),
read from a pipe, or from --backup-passphrase-file.`,
		Example: "  cityid keys export alice --out alice.cityid-key.json",
		Args:    exactArgs(1, "one key name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := g.loadKey(cmd, args[0])
			if err != nil {
				return err
			}
			pass, err := g.passphrase(cmd, backupPass, "New passphrase for the backup of "+k.Name, true)
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
	exp.Flags().StringVar(&backupPass, "backup-passphrase-file", "", "read the backup's passphrase from this file's first line instead of the terminal")
	outFlag(exp, &out, "write the backup to this file (it must not exist) instead of standard output")
	cmd.AddCommand(imp, exp)
	return cmd
}

func keysChangePassphrase(g *globals) *cobra.Command {
	var newFile string
	cmd := &cobra.Command{
		Use:   "change-passphrase",
		Short: "Encrypt every key of the keyring again with a new passphrase",
		Long: `Opens every key with the keyring's passphrase (--passphrase-file, [keys], or
the terminal) and encrypts it again with a new one, from --new-passphrase-file
or asked twice on the terminal, all or nothing: Ctrl-C or a crash leaves
every key under the old passphrase, or, once every key is sealed anew and
the change decided, a change that finishes (docs/keys.md). Then point [keys] passphrase_file (or
passphrase_env) at the new passphrase, or give it with --passphrase-file:
the old one opens no key any more.`,
		Aliases: []string{"passphrase"},
		Example: "  cityid keys change-passphrase --new-passphrase-file /etc/cityid/passphrase.new",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			kr, err := g.keyring(cmd)
			if err != nil {
				return err
			}
			var pass string
			if newFile != "" {
				pass, err = keyring.ReadPassphraseFile(newFile)
			} else if term.IsTerminal(int(os.Stdin.Fd())) {
				pass, err = g.passphrase(cmd, "", "New passphrase for the keyring in "+keyring.Dir(g.home), true)
			} else {
				err = usageError{errors.New("give the new passphrase with --new-passphrase-file, or run in a terminal")}
			}
			if err != nil {
				return err
			}
			entries, err := kr.ChangePassphrase(cmd.Context(), pass)
			if err != nil {
				return err
			}
			if note := node.StaleKeysNote(g.home, pass); note != "" {
				fmt.Fprintln(cmd.ErrOrStderr(), note)
			}
			out := []keyInfo{}
			for _, e := range entries {
				out = append(out, keyInfo{Name: e.Name, PubKey: e.PubKey, File: kr.File(e.Name)})
			}
			return printOut(cmd, out)
		},
	}
	cmd.Flags().StringVar(&newFile, "new-passphrase-file", "", "read the new passphrase from this file's first line instead of the terminal")
	return cmd
}

// passphrase reads a passphrase from file's first line, or else from the
// terminal without echo (twice when confirm, for a new one), or else one
// line of a pipe.
func (g *globals) passphrase(cmd *cobra.Command, file, prompt string, confirm bool) (string, error) {
	if file != "" {
		return keyring.ReadPassphraseFile(file)
	}
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		// A pipe: its next line (after the keyring's, with
		// --passphrase-file -).
		line, err := g.stdinLine(cmd)
		if line == "" {
			return "", errors.Join(errors.New("no passphrase: give --backup-passphrase-file, or run in a terminal"), err)
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
			kr, err := g.keyring(cmd)
			if err != nil {
				return err
			}
			if !yes {
				k, err := kr.Show(args[0])
				if err != nil {
					return err
				}
				return usageError{fmt.Errorf("this deletes key %s (%s) and its only copy in this home; export a backup first (cityid keys export %s), then run again with --yes", k.Name, k.PubKey, k.Name)}
			}
			k, err := kr.Remove(args[0])
			if err != nil {
				return err
			}
			return printOut(cmd, keyInfo{Name: k.Name, PubKey: k.PubKey, Removed: true})
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "delete the key")
	return cmd
}
