package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/cityid/cityid/client"
	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/internal/keyring"
	"github.com/cityid/cityid/internal/wire"
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
	_, badID := code.Parse("1561301002")
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"a missing file", fmt.Errorf("read answer: %w", fileErr), exitRefused},
		{"a node that is not there", netErr, exitUnavailable},
		{"a usage mistake", usageError{errors.New("no such flag")}, exitUsage},
		{"an identifier that does not parse, found by the command line", fmt.Errorf("verification failed: %w", badID), exitUsage},
		{"an identifier that does not parse, found by the node", &client.Error{Status: 400, Problem: client.Problem{Code: client.CodeInvalidID}}, exitUsage},
		{"an identifier not registered", &client.Error{Status: 404, Problem: client.Problem{Code: client.CodeNotFound}}, exitRefused},
		{"a node that could not start: its port taken", startError{fmt.Errorf("http api: %w", &net.OpError{Op: "listen", Err: errors.New("address already in use")})}, exitRefused},
		{"a verified absence, already said", reportedError{&client.Error{Status: 404, Problem: client.Problem{Code: client.CodeNotFound}}}, exitRefused},
	} {
		if tc.err == nil {
			t.Fatalf("%s: no error to classify", tc.name)
		}
		if got := exitCode(tc.err); got != tc.want {
			t.Errorf("%s (%v): exit %d, want %d", tc.name, tc.err, got, tc.want)
		}
	}
}

// start --help's example of a second node on one machine works beside a
// first node on the defaults: it gives every port a node listens on, each
// other than the first node's (issue 13: it once left out the DNS port).
func TestStartExampleGivesEveryPort(t *testing.T) {
	var start *cobra.Command
	for _, c := range newRoot().Commands() {
		if c.Name() == "start" {
			start = c
		}
	}
	defaults := []string{wire.DefaultHTTPAddr, wire.DefaultRPCAddr, wire.DefaultP2PAddr, wire.DefaultDNSAddr}
	seen := 0
	for _, line := range strings.Split(start.Example, "\n") {
		if !strings.Contains(line, "--home") {
			continue
		}
		seen++
		fields := strings.Fields(line)
		for _, flag := range []string{"--http", "--rpc", "--p2p", "--dns"} {
			i := slices.Index(fields, flag)
			if i < 0 || i+1 >= len(fields) {
				t.Errorf("start's example %q does not give %s", line, flag)
				continue
			}
			for _, d := range defaults {
				if _, port, _ := net.SplitHostPort(d); strings.HasSuffix(fields[i+1], ":"+port) {
					t.Errorf("start's example %q gives %s %s, a first node's default port", line, flag, fields[i+1])
				}
			}
		}
	}
	if seen == 0 {
		t.Fatal("start's --help has no example of a second node (--home)")
	}
}

// TestAddressesChecked: an address no listener could take is refused as
// a usage error naming its flag, before init or a first start writes it
// into a home where it would stop every later start.
func TestAddressesChecked(t *testing.T) {
	for _, tc := range []struct {
		a    addrFlags
		flag string // "" when valid
	}{
		{addrFlags{}, ""},
		{addrFlags{http: "127.0.0.1:8681", rpc: "tcp://127.0.0.1:26757", p2p: "0.0.0.0:26756", dns: "off"}, ""},
		{addrFlags{rpc: "unix:///run/cityid/rpc.sock", dns: "[::1]:8653"}, ""},
		{addrFlags{http: "bogus"}, "--http"},
		{addrFlags{p2p: "tcp://127.0.0.1:abc"}, "--p2p"},
		{addrFlags{rpc: "127.0.0.1:70000"}, "--rpc"},
		{addrFlags{dns: "127.0.0.1:0"}, "--dns"},
	} {
		err := tc.a.check()
		var ue usageError
		switch {
		case tc.flag == "" && err != nil:
			t.Errorf("%+v: %v, want it taken", tc.a, err)
		case tc.flag != "" && (!errors.As(err, &ue) || !strings.Contains(err.Error(), tc.flag)):
			t.Errorf("%+v: %v, want a usage error naming %s", tc.a, err, tc.flag)
		}
	}
}

// Every command that writes a file or folder takes --out (-o); --output,
// the name data get, qr and testnet used before, is still taken, hidden
// and with a warning.
func TestOutFlags(t *testing.T) {
	for _, path := range [][]string{{"data", "get"}, {"qr"}, {"testnet"}, {"export"}, {"backup"}, {"keys", "export"}} {
		name := strings.Join(path, " ")
		cmd, _, err := newRoot().Find(path)
		if err != nil {
			t.Fatal(err)
		}
		out := cmd.Flags().Lookup("out")
		if out == nil || out.Shorthand != "o" {
			t.Fatalf("%s has no --out with -o: %+v", name, out)
		}
		old := cmd.Flags().Lookup("output")
		if old == nil || old.Deprecated == "" || !old.Hidden {
			t.Fatalf("%s's --output is not a deprecated, hidden alias: %+v", name, old)
		}
		for _, args := range [][]string{{"--out", "a.csv"}, {"-o", "a.csv"}, {"--output", "a.csv"}} {
			cmd, _, _ := newRoot().Find(path)
			if err := cmd.ParseFlags(args); err != nil {
				t.Fatalf("%s %v: %v", name, args, err)
			}
			if got := cmd.Flags().Lookup("out").Value.String(); got != "a.csv" {
				t.Errorf("%s %v: the file is %q, want a.csv", name, args, got)
			}
		}
	}
}

// A signing command asks the node before the keyring: a --node where
// nothing listens fails as unreachable (exit 3) before any passphrase is
// read; were the key loaded first, the empty pipe given as the
// passphrase would fail as no_passphrase (exit 2).
func TestSigningAsksTheNodeFirst(t *testing.T) {
	home := t.TempDir()
	if out, err := runIn(t, "", "--home", home, "--passphrase-file", keyringPass(t), "keys", "add", "alice"); err != nil {
		t.Fatalf("keys add: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	for _, args := range [][]string{
		{"tx", "register", "1561301001.85.1/meter-1", "--from", "alice"},
		{"tx", "register-batch", "--file", writeBatch(t), "--from", "alice"},
	} {
		all := append([]string{"--home", home, "--node", "http://" + addr, "--passphrase-file", "-"}, args...)
		out, err := runIn(t, "", all...)
		if got := exitCode(err); got != exitUnavailable || errors.Is(err, keyring.ErrNoPassphrase) {
			t.Errorf("%s with no node: exit %d (%v), want %d before the passphrase is read\n%s", strings.Join(args[:2], " "), got, err, exitUnavailable, out)
		}
	}
}

func writeBatch(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "b.csv")
	if err := os.WriteFile(p, []byte("id,TEXT\n1561301001.85.1/meter-1,Meter 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// register-batch names every bad row of a file at once (the first
// client.BatchBadRows, and how many more), as the portal's desk lists
// them, so a clerk fixes the file once; a usage error, exit 2.
func TestReadBatchFileListsEveryBadRow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meters.csv")
	text := "id\n1561301001.85.1/m-1\n1561301002.85.1/m-2\n1561301001.85.1/m-3\n1561301001.85\n"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := readBatchFile(path)
	if exitCode(err) != exitUsage {
		t.Fatalf("exit %d (%v), want %d", exitCode(err), err, exitUsage)
	}
	for _, want := range []string{path + " has 2 bad rows:", "\n  " + path + ` line 3: identifier "1561301002.85.1/m-2": `, "\n  " + path + " line 5: 1561301001.85 is a sector, not an object"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v\nwant it to hold %q", err, want)
		}
	}
}

// The help of a command leaves out the global flags that mean nothing to
// it, or that it takes in another sense: the signer reads no keyring and
// its --node is the node's priv_validator_laddr; genesis member talks to
// no API and always prints JSON. Other commands still show them.
func TestHelpHidesGlobalsACommandDoesNotTake(t *testing.T) {
	help := func(args ...string) string {
		root := newRoot()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetErr(&out)
		root.SetArgs(append(args, "--help"))
		if err := root.Execute(); err != nil {
			t.Fatalf("%v --help: %v", args, err)
		}
		return out.String()
	}
	for _, c := range []struct {
		args    []string
		without []string
	}{
		{[]string{"signer"}, []string{"--passphrase-file", "--json", "home folder of the node"}},
		{[]string{"genesis", "member"}, []string{"HTTP API of the node", "--json"}},
	} {
		got := help(c.args...)
		for _, w := range c.without {
			if strings.Contains(got, w) {
				t.Errorf("%v --help shows %q:\n%s", c.args, w, got)
			}
		}
	}
	if got := help("tx"); !strings.Contains(got, "--passphrase-file") || !strings.Contains(got, "--json") {
		t.Errorf("tx --help lost the global flags:\n%s", got)
	}
}
