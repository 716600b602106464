package main

import (
	"bufio"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cityid/cityid/client"
	"github.com/cityid/cityid/internal/keyring"
	"github.com/cityid/cityid/internal/node"
)

// globals are the flags every command shares.
type globals struct {
	home string
	node string
	// passFile is --passphrase-file: the keyring's passphrase ("-":
	// standard input's first line, kept once read).
	passFile  string
	stdinRead bool
	stdinPass string
	stdinErr  error
	// stdin reads standard input's lines for every passphrase a command
	// takes from a pipe, one after the other (a reader each would lose
	// the lines the first buffered).
	stdin *bufio.Reader
	// nodeGiven reports whether --node was on the command line.
	nodeGiven func() bool
	// local is the node of --home, when the home holds one: its API is
	// where commands go unless --node says otherwise, and its chain is the
	// one a signature is meant for.
	local    node.Local
	hasLocal bool
	localErr error
	// st is --node's /v1/status, read once by a command (status).
	st *client.Status
	// signer signs a command's transactions with signerKey, counting
	// its nonces (send).
	signer    *client.Signer
	signerKey ed25519.PrivateKey
}

func newRoot() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:   "cityid",
		Short: "CityID: global city identifiers on a CometBFT ledger",
		Long: `CityID issues city codes under one distribution rule, and identifiers under
them for a city's departments, industries and things. Every node keeps the
ledger and resolves any identifier locally.

Start a local registry with 'cityid start', then use the other commands
from a second terminal.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionLine(),
	}
	root.SetVersionTemplate("cityid {{.Version}}\n")
	root.PersistentFlags().StringVar(&g.home, "home", node.DefaultHome(), "home folder of the node and the keyring")
	root.PersistentFlags().StringVar(&g.node, "node", "", "HTTP API of the node to talk to (default: the API of --home's node, from its config's http.listen, when the home holds one; else "+client.DefaultNode+")")
	g.nodeGiven = func() bool { return root.PersistentFlags().Lookup("node").Changed }
	root.PersistentPreRun = func(*cobra.Command, []string) { g.findLocal() }
	root.PersistentFlags().Bool("json", false, "print answers as JSON (for scripts)")
	root.PersistentFlags().StringVar(&g.passFile, "passphrase-file", "", "read the keyring's passphrase from this file's first line, or standard input's for - (another passphrase the command asks for is then its next line; before [keys] in the home's config/cityid.toml, and a prompt on a terminal)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newInit(g), newStart(g), newKeys(g), newID(), newTx(g), newResolve(g), newVerify(g), newQuery(g), newData(g), newTestnet(g), newBench(), newQR(g), newReset(g), newExport(g), newBackup(g), newRestore(g), newVersion(), newSigner(), newGenesis(g))
	return root
}

// group makes cmd a group of subcommands that refuses an unknown one with
// a usage error (cobra would print the help and exit 0).
func group(cmd *cobra.Command) *cobra.Command {
	cmd.Args = cobra.ArbitraryArgs
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usageError{fmt.Errorf("unknown command %q for %s; see %s --help", args[0], cmd.CommandPath(), cmd.CommandPath())}
		}
		return cmd.Help()
	}
	return cmd
}

// findLocal reads the node of --home, if it holds one, and aims commands
// at it unless --node was given. A home whose configuration cannot be read
// is an error only for a command that talks to a node (client): start,
// reset and keys report it in their own way.
func (g *globals) findLocal() {
	g.local, g.hasLocal, g.localErr = node.LocalNode(g.home)
	switch {
	case g.nodeGiven():
	case g.hasLocal:
		g.node = g.local.URL
	default:
		g.node = client.DefaultNode
	}
}

func (g *globals) client() (*client.Client, error) {
	if g.localErr != nil && !g.nodeGiven() {
		return nil, fmt.Errorf("find the node of --home %s (or give --node URL): %w", g.home, g.localErr)
	}
	c, err := client.New(g.node)
	if err != nil {
		return nil, usageError{err}
	}
	return c, nil
}

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// isNetErr reports whether err is a failure to reach a node. It matches
// the network's own error types, not the net.Error interface: a
// syscall.Errno has Timeout and Temporary too, so a file that is not there
// would count as a node that cannot be reached.
func isNetErr(err error) bool {
	var oe *net.OpError
	var ue *url.Error
	var de *net.DNSError
	return errors.As(err, &oe) || errors.As(err, &ue) || errors.As(err, &de)
}

// exactArgs is cobra.ExactArgs with an error that says which arguments.
func exactArgs(n int, names string) cobra.PositionalArgs { return rangeArgs(n, n, names) }

// rangeArgs is cobra.RangeArgs with an error that says which arguments.
func rangeArgs(lo, hi int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < lo || len(args) > hi {
			return usageError{fmt.Errorf("%s takes %s (got %d arguments); see %s --help", cmd.CommandPath(), names, len(args), cmd.CommandPath())}
		}
		return nil
	}
}

// chainMismatchError is a key about to sign for a chain other than the one
// its home's node belongs to: said before signing, since the node would
// only answer that the signature does not verify (unauthorized).
type chainMismatchError struct {
	home, homeChain, node, nodeChain string
}

func (e chainMismatchError) Error() string {
	return fmt.Sprintf("chain ID mismatch: --home %s is a node of chain %s, but %s serves chain %s; "+
		"a transaction signed for one is refused by the other: give --node the API of a node of %s (or leave --node out to use the home's own node)",
		e.home, e.homeChain, e.node, e.nodeChain, e.homeChain)
}

// status is the /v1/status of --node, read once per command: the chain
// check and the signer's chain ID and height come from the same answer.
func (g *globals) status(cmd *cobra.Command, c *client.Client) (client.Status, error) {
	if g.st == nil {
		st, err := c.Status(cmd.Context())
		if err != nil {
			return client.Status{}, fmt.Errorf("read the status of %s: %w", g.node, err)
		}
		g.st = &st
	}
	return *g.st, nil
}

// checkChain refuses to sign for a node whose chain is not the home's.
func (g *globals) checkChain(cmd *cobra.Command, c *client.Client) error {
	if !g.hasLocal || g.local.ChainID == "" {
		return nil // a home of keys only: any chain may be meant
	}
	st, err := g.status(cmd, c)
	if err != nil {
		return err
	}
	if st.ChainID != g.local.ChainID {
		return usageError{chainMismatchError{g.home, g.local.ChainID, g.node, st.ChainID}}
	}
	return nil
}

// stdinLine is standard input's next line, without its line ending. With
// --passphrase-file - the first line is the keyring's, whichever
// passphrase the command asks for first.
func (g *globals) stdinLine(cmd *cobra.Command) (string, error) {
	if g.passFile == "-" {
		g.readKeyringLine(cmd)
	}
	return g.nextLine(cmd)
}

// readKeyringLine reads, once, the keyring's passphrase from standard
// input's first line (--passphrase-file -).
func (g *globals) readKeyringLine(cmd *cobra.Command) {
	if g.stdinRead {
		return
	}
	g.stdinRead = true
	line, err := g.nextLine(cmd)
	if g.stdinPass = line; line == "" {
		g.stdinErr = keyring.NoPassphraseError(fmt.Sprintf("--passphrase-file - found no line on standard input (%v)", err))
	}
}

func (g *globals) nextLine(cmd *cobra.Command) (string, error) {
	if g.stdin == nil {
		g.stdin = bufio.NewReader(cmd.InOrStdin())
	}
	line, err := g.stdin.ReadString('\n')
	return strings.TrimRight(line, "\r\n"), err
}

// hideGlobals leaves the root's flags named out of cmd's help: flags that
// mean nothing to a command (the keyring's passphrase for the signer) or
// that it takes in another sense (the signer's own --node) would mislead.
// The flags still parse; only the help is for cmd alone.
func hideGlobals(cmd *cobra.Command, names ...string) {
	cmd.SetHelpFunc(func(c *cobra.Command, args []string) {
		for _, n := range names {
			if f := c.Root().PersistentFlags().Lookup(n); f != nil {
				f.Hidden = true
			}
		}
		c.Root().HelpFunc()(c, args)
	})
}
