package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/cityid/cityid/internal/keyring"
	"github.com/cityid/cityid/internal/node"
	"github.com/cityid/cityid/internal/wire"
)

type addrFlags struct {
	http, rpc, p2p, dns string
}

func (a *addrFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&a.http, "http", "", "listen address of the HTTP API (default "+wire.DefaultHTTPAddr+")")
	cmd.Flags().StringVar(&a.rpc, "rpc", "", "listen address of CometBFT's RPC (default "+wire.DefaultRPCAddr+")")
	cmd.Flags().StringVar(&a.p2p, "p2p", "", "listen address of CometBFT's P2P (default "+wire.DefaultP2PAddr+")")
	cmd.Flags().StringVar(&a.dns, "dns", "", "listen address of the DNS front end, UDP and TCP (default "+wire.DefaultDNSAddr+"; \"off\" for none)")
}

// check refuses an address given that no listener could take, before it
// is written to a new home's configuration, where it would stop every
// later start: HOST:PORT with a port 1-65535 (CometBFT's tcp://HOST:PORT
// too, or its unix://PATH for the RPC), or "off" for --dns.
func (a *addrFlags) check() error {
	for _, f := range []struct{ name, v string }{{"http", a.http}, {"rpc", a.rpc}, {"p2p", a.p2p}, {"dns", a.dns}} {
		v := f.v
		if v == "" || f.name == "dns" && v == "off" || f.name == "rpc" && strings.HasPrefix(v, "unix://") {
			continue
		}
		if f.name == "rpc" || f.name == "p2p" {
			v = strings.TrimPrefix(v, "tcp://")
		}
		_, port, err := net.SplitHostPort(v)
		if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 1 || n > 65535 {
			return usageError{fmt.Errorf("--%s %q is not HOST:PORT with a port from 1 to 65535", f.name, f.v)}
		}
	}
	return nil
}

func (a *addrFlags) initOptions() node.InitOptions {
	return node.InitOptions{HTTP: a.http, RPC: cometAddr(a.rpc), P2P: cometAddr(a.p2p), DNS: a.dns}
}

// cometAddr accepts host:port as well as CometBFT's tcp://host:port.
func cometAddr(s string) string {
	if s == "" || strings.Contains(s, "://") {
		return s
	}
	return "tcp://" + s
}

func newInit(g *globals) *cobra.Command {
	var a addrFlags
	var chainID, moniker, imp string
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Initialise a home folder as a local network of one validator",
		Long: `Initialise a home folder as a local network: a chain ID of its own
(cityid-local- and 6 random characters, printed here and kept in the genesis;
--chain-id sets it exactly), one validator, and an 'operator' key in the
home's keyring that is the whole registry authority (1 of 1). An 'operator'
key already in the keyring is kept and becomes that authority.

The home must be new or empty, or hold only keys (keys/) and light client
trust (light/); they are kept. 'cityid start' does this by itself on such a
home.

With --import FILE the network starts from an export of another network
(cityid export; docs/export.md): the file is checked whole first, and a bad
one refused naming its line; it is copied beside the genesis, which names it
by its SHA-256 and takes its authority and params; the first start writes
its entries. The network needs a chain ID other than the exported one's.`,
		Example: `  cityid init --home /tmp/city-a --http 127.0.0.1:8681
  cityid init --home /tmp/new --import registry-1200.jsonl`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.check(); err != nil {
				return err
			}
			opts := a.initOptions()
			opts.Import = imp
			opts.ChainID, opts.Moniker = chainID, moniker
			opts.Keyring = g.keyringOptions(cmd)
			res, err := node.Init(g.home, opts)
			if err != nil {
				return err
			}
			if asJSON, _ := cmd.Flags().GetBool("json"); !asJSON && res.PassphraseFile != "" {
				fmt.Fprintln(cmd.ErrOrStderr(), node.PassphraseNote(res.PassphraseFile))
			}
			return printOut(cmd, res)
		},
	}
	a.register(cmd)
	cmd.Flags().StringVar(&chainID, "chain-id", "", "chain ID of the new network (default "+node.LocalChainIDPrefix+"-<6 random characters>)")
	cmd.Flags().StringVar(&moniker, "moniker", "", "the node's name among its peers")
	cmd.Flags().StringVar(&imp, "import", "", "start the network from this export (cityid export)")
	return cmd
}

func newStart(g *globals) *cobra.Command {
	var a addrFlags
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Run a node (initialising a local network first if the home is empty)",
		Long: `Run a CityID node from its home folder. If the home folder is empty or
missing, or holds only keys, it is first initialised as a local network of
one validator whose 'operator' key is the registry authority, ready to use
(see cityid init; the new chain ID is printed).

A node listens on four ports: the HTTP API (--http), CometBFT's RPC (--rpc)
and P2P (--p2p), and the DNS front end (--dns, UDP and TCP; --dns off runs
none). A second node on one machine needs its own home and all four. When
start initialises the home (an empty one), the addresses given are written to
its configuration, so later starts and commands given that --home use them by
themselves; for a home made by init or restore, give them to that command
(it takes the same flags), or edit config/cityid.toml and config/config.toml:
given to start on a made home, they hold for that run only.

The node holds the home (<home>/cityid.lock) while it runs: a second start,
or a reset, on the same home is refused, naming the process. The node runs
until interrupted (Ctrl-C or SIGTERM).`,
		Example: `  cityid start
  # a second node on the same machine: every port it listens on differs
  # from the first node's (HTTP 8680, RPC 26657, P2P 26656, DNS 8653)
  cityid start --home /tmp/city-b --http 127.0.0.1:8681 --rpc 127.0.0.1:26757 --p2p 127.0.0.1:26756 --dns 127.0.0.1:8654
  cityid start --home /tmp/city-c --http 127.0.0.1:8682 --rpc 127.0.0.1:26857 --p2p 127.0.0.1:26856 --dns off`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.check(); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			asJSON, _ := cmd.Flags().GetBool("json")
			fresh := !node.Initialized(g.home)
			if fresh {
				opts := a.initOptions()
				opts.Keyring = g.keyringOptions(cmd)
				res, err := node.Init(g.home, opts)
				if err != nil {
					return err
				}
				kept := ""
				if res.OperatorKept {
					kept = ", the one already in the keyring"
				}
				if !asJSON {
					fmt.Fprintf(out, "Initialised a local network in %s (chain %s, operator key %s%s).\n", res.Home, res.ChainID, res.Operator, kept)
					if res.PassphraseFile != "" {
						fmt.Fprintln(out, node.PassphraseNote(res.PassphraseFile))
					}
				}
			}
			c, err := node.Load(g.home)
			if err != nil {
				return err
			}
			c.Apply(a.initOptions())
			log := node.NewLogger(c.Log, os.Stderr)
			ko := g.keyringOptions(cmd)
			ko.Warn = nil // the node's log says it
			run, err := node.Start(cmd.Context(), c, log, node.Options{Keyring: ko, Upgrades: upgradeHandlers()})
			if err != nil {
				if upgradeStop(err) {
					return err // exit code 4, not 1 (main.go)
				}
				// A port taken or a store that cannot be read: this node
				// failed (1), not a node that could not be reached (3).
				return startError{err}
			}
			if asJSON {
				// --json is always JSON: what the banner says, for a
				// script that starts nodes.
				if err := printJSON(out, started(g.home, run, c, fresh)); err != nil {
					return err
				}
			} else {
				printNext(out, g.home, run, c, fresh)
			}
			// SIGHUP reloads what a running node may take without a
			// restart (systemctl reload cityid): the HTTPS certificate.
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			go func() {
				for range hup {
					_ = run.Reload() // logged by the node
				}
			}()
			return run.Wait(cmd.Context())
		},
	}
	a.register(cmd)
	return cmd
}

// startError is a node that failed to start.
type startError struct{ error }

// startedNode is what start --json prints once the node runs.
type startedNode struct {
	ChainID     string `json:"chain_id"`
	Initialised bool   `json:"initialised"` // the home was made by this start
	HTTP        string `json:"http"`
	DNS         string `json:"dns"` // "" when off
	DNSZone     string `json:"dns_zone,omitempty"`
	RPC         string `json:"rpc"`
	P2P         string `json:"p2p"`
	Home        string `json:"home"`
	Operator    string `json:"operator,omitempty"`
}

func started(home string, run *node.Running, c *node.Config, fresh bool) startedNode {
	s := startedNode{ChainID: run.Chain.ChainID(), Initialised: fresh, HTTP: "http://" + run.HTTPAddr, DNS: run.DNSAddr,
		RPC: c.Comet.RPC.ListenAddress, P2P: c.Comet.P2P.ListenAddress, Home: home}
	if run.DNSAddr != "" {
		s.DNSZone = run.DNSZone
	}
	if k, err := operatorEntry(home); err == nil {
		s.Operator = k.PubKey
	}
	return s
}

// printNext tells a new user what the node is and, on the first start of
// a home only, what to do with it: a restart is not a new user's.
func printNext(w io.Writer, home string, run *node.Running, c *node.Config, first bool) {
	nodeURL := "http://" + run.HTTPAddr
	if c.HTTP.TLSCert != "" {
		nodeURL = "https://" + run.HTTPAddr
	}
	dnsLine := "off"
	if run.DNSAddr != "" {
		host, port, _ := net.SplitHostPort(run.DNSAddr)
		dnsLine = fmt.Sprintf("%s zone %s   (try: dig @%s -p %s 1561301001.%s TXT)", run.DNSAddr, run.DNSZone, host, port, run.DNSZone)
	}
	flags := ""
	if home != node.DefaultHome() {
		flags += " --home " + home
	}
	// Commands given --home talk to the address in the home's
	// configuration; --node only when this run overrides it (over HTTPS
	// they go to the public URL, which this address does not show).
	if local, ok, err := node.LocalNode(home); err != nil || !ok || (c.HTTP.TLSCert == "" && local.URL != nodeURL) {
		flags += " --node " + nodeURL
	}
	op := "(none in this home)"
	if k, err := operatorEntry(home); err == nil {
		op = k.PubKey
	}
	fmt.Fprintf(w, `
CityID node running.
  chain      %s
  HTTP API   %s   (try: curl %s/v1/status)
  portal     %[2]s/   (open it in a browser; the authority's desk signs with the
             operator's key: cityid keys export operator%[9]s -o operator.cityid-key.json,
             then import that file on the portal's Keys page with its passphrase)
  DNS        %[4]s
  CometBFT   RPC %s, P2P %s
  home       %s
  operator   %s
`, run.Chain.ChainID(), nodeURL, nodeURL, dnsLine, c.Comet.RPC.ListenAddress, c.Comet.P2P.ListenAddress, home, op,
		homeFlag(home))
	if !first {
		fmt.Fprintf(w, "\nStop with Ctrl-C.\n")
		return
	}
	fmt.Fprintf(w, `
Next, in another terminal, from the source folder (as in README.md):
  go build -o cityid ./cmd/cityid
  ./cityid keys add alice%[1]s
  ./cityid tx apply-city --country 156 --city-number 130100 --name 石家庄市 --name-en Shijiazhuang --from alice%[1]s
  ./cityid tx approve 1 --from operator%[1]s
  ./cityid tx register-sector 1561301001.85 --from alice%[1]s
  ./cityid tx register-unit 1561301001.85 --name "Education Bureau" --from alice%[1]s
  ./cityid tx register 1561301001.85.1/school-0042 --value URL=https://example.org/school-0042 --from alice%[1]s
  ./cityid resolve 1561301001.85.1/school-0042%[1]s

Stop with Ctrl-C.
`, flags)
}

// operatorEntry is the operator key's public half, read in clear: the
// banner asks no passphrase.
func operatorEntry(home string) (keyring.Entry, error) {
	kr, err := node.OpenKeyring(home, node.KeyringOptions{})
	if err != nil {
		return keyring.Entry{}, err
	}
	return kr.Show(node.OperatorKey)
}

// homeFlag is " --home HOME" unless home is the default one.
func homeFlag(home string) string {
	if home == node.DefaultHome() {
		return ""
	}
	return " --home " + home
}
