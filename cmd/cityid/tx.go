package main

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cityid/cityid/client"
	"github.com/cityid/cityid/internal/node"
)

// txFlags are the flags of every transaction command.
type txFlags struct {
	from   string
	admins []string
	values []string
}

func (f *txFlags) registerFrom(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.from, "from", "", "name of the signing key in the keyring (required)")
}

func (f *txFlags) registerAdmins(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&f.admins, "admin", nil, "admin key: a key name from the keyring or 64 hex digits (repeatable; default: the signer)")
}

func (f *txFlags) registerValues(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&f.values, "value", nil, `a value TYPE=DATA, e.g. URL=https://…, TEXT="…", EMAIL=…, GEO=38.04,114.51, ALIAS=<identifier>, DATA={"uri":…,"sha256":…,"size":…,"media_type":…} (add "public":true to let anyone download it and any node mirror it), ns:type=… (repeatable)`)
}

// adminKeys resolves --admin flags to public keys: a key's public half is
// in clear in its file, so no passphrase is asked.
func adminKeys(home string, names []string) ([]string, error) {
	var out []string
	for _, n := range names {
		if _, err := client.ParsePubKey(n); err == nil {
			out = append(out, n)
			continue
		}
		kr, err := node.OpenKeyring(home, node.KeyringOptions{})
		if err != nil {
			return nil, err
		}
		k, err := kr.Show(n)
		if err != nil {
			return nil, usageError{fmt.Errorf("--admin %s: neither 64 hex digits nor a key in the keyring: %w", n, err)}
		}
		out = append(out, k.PubKey)
	}
	return out, nil
}

// parseValues turns --value TYPE=DATA flags into values.
func parseValues(flags []string) ([]client.Value, error) {
	out := []client.Value{}
	for i, f := range flags {
		typ, data, ok := strings.Cut(f, "=")
		if !ok || typ == "" {
			return nil, usageError{fmt.Errorf("--value %q (value %d): write TYPE=DATA, e.g. URL=https://example.org", f, i+1)}
		}
		if up := strings.ToUpper(typ); !strings.Contains(typ, ":") {
			typ = up // the registry's types are upper case; user types keep theirs
		}
		v := client.Value{Type: typ, Data: data}
		if typ == client.TypeData {
			var d client.Dataset
			if err := json.Unmarshal([]byte(data), &d); err != nil {
				return nil, usageError{fmt.Errorf(`--value DATA=… (value %d): give the dataset as JSON {"uri":…,"sha256":…,"size":…,"media_type":…}, and "public":true if anyone may download it: %v`, i+1, err)}
			}
			v.Data, v.Dataset = "", &d
		}
		out = append(out, v)
	}
	return out, nil
}

func newTx(g *globals) *cobra.Command {
	cmd := group(&cobra.Command{
		Use:   "tx",
		Short: "Sign and submit transactions; each waits for its block to commit",
		Long: `Each transaction command signs with --from (a key in the home's keyring),
submits to --node (by default the node of --home, when the home holds one),
waits until the transaction's block is committed and prints the transaction's
hash, height and result as "key: value" lines, or as JSON with --json. A
refused transaction prints its error code and message on stderr and exits 1;
a usage mistake (a missing flag, an identifier that does not parse) exits 2;
a node that cannot be reached exits 3. A key whose home is a node of one
chain is not used to sign for a node of another: the command says so
before signing.`,
	})
	cmd.AddCommand(
		txApplyCity(g), txDecide(g, true), txDecide(g, false), txWithdrawVote(g), txRegisterSector(g),
		txRegisterUnit(g), txRegister(g), txUpdate(g), txSetStatus(g, false), txSetStatus(g, true),
		txRegisterBatch(g), txTransfer(g), txGrant(g, true), txGrant(g, false), txSetAuthority(g), txSetValidator(g), txSetCity(g), txProposeUpgrade(g),
		txAnchorLog(g),
	)
	return cmd
}

// send signs msg with the --from key and submits it.
func send(cmd *cobra.Command, g *globals, from, kind string, msg any) error {
	c, key, err := signingClient(cmd, g, from)
	if err != nil {
		return err
	}
	ans, err := g.send(cmd, c, key, kind, msg)
	if err != nil {
		return err
	}
	return printOut(cmd, ans)
}

// signingClient is the node's client and the --from key that signs. The
// node is asked first (its status, read once, and its chain against the
// home's), so that a wrong --node fails before a passphrase is asked.
func signingClient(cmd *cobra.Command, g *globals, from string) (*client.Client, ed25519.PrivateKey, error) {
	if from == "" {
		return nil, nil, usageError{fmt.Errorf("%s needs --from KEY, the key that signs", cmd.CommandPath())}
	}
	c, err := g.client()
	if err != nil {
		return nil, nil, err
	}
	if _, err := g.status(cmd, c); err != nil {
		return nil, nil, err
	}
	if err := g.checkChain(cmd, c); err != nil {
		return nil, nil, err
	}
	k, err := g.loadKey(cmd, from)
	if err != nil {
		return nil, nil, err
	}
	return c, k.Private, nil
}

// signerFor is the command's signer of key: made once, from the status
// signingClient read, so that the node's status is not read again, and
// kept, so that a command's transactions count their nonces.
func (g *globals) signerFor(cmd *cobra.Command, c *client.Client, key ed25519.PrivateKey) (*client.Signer, error) {
	if g.signer != nil && g.signerKey.Equal(key) {
		return g.signer, nil
	}
	st, err := g.status(cmd, c)
	if err != nil {
		return nil, err
	}
	s, err := c.SignerAt(cmd.Context(), key, st)
	if err != nil {
		return nil, err
	}
	g.signer, g.signerKey = s, key
	return s, nil
}

// send signs msg with key and submits it, waiting for its commit.
func (g *globals) send(cmd *cobra.Command, c *client.Client, key ed25519.PrivateKey, kind string, msg any) (client.TxAnswer, error) {
	s, err := g.signerFor(cmd, c, key)
	if err != nil {
		return client.TxAnswer{}, err
	}
	return s.Send(cmd.Context(), kind, msg)
}
