package node

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// TestnetOptions describe a local network of several nodes on one machine.
type TestnetOptions struct {
	ChainID    string // "": a new one, cityid-testnet-<random>
	Validators int
	FullNodes  int
	Output     string // one home per node: <output>/node0, node1, …
	// BasePort is the first of three loopback ports per node: node i
	// listens for P2P on BasePort+3i, CometBFT RPC on BasePort+3i+1 and
	// the HTTP API on BasePort+3i+2.
	BasePort int
	// Host is the address the nodes listen on and dial each other at.
	Host string
	// Import is the path of an export the network starts from (see
	// InitOptions.Import).
	Import string
	// Keyring is where the homes' keyring passphrase comes from, as
	// InitOptions.Keyring: one given (--passphrase-file) encrypts every
	// home's keys; none, each home gets a random one of its own.
	Keyring KeyringOptions
}

// DefaultTestnetBasePort keeps a testnet's ports clear of a local node
// started with the defaults (26656, 26657, 8680).
const DefaultTestnetBasePort = 26700

// TestnetNode is one node of a testnet.
type TestnetNode struct {
	InitResult
	Validator bool `json:"validator"`
}

// Testnet writes the homes of a local network: one genesis whose validators
// are the first opts.Validators nodes and whose registry authority is their
// operator keys with a majority threshold; every node keeps its own key as
// `operator` and names every other node as a persistent peer. An empty
// opts.ChainID gets a chain ID of its own (NewChainID(TestnetChainIDPrefix)).
func Testnet(opts TestnetOptions) ([]TestnetNode, error) {
	if opts.Validators < 1 {
		return nil, fmt.Errorf("testnet needs at least one validator, not %d", opts.Validators)
	}
	if opts.FullNodes < 0 {
		return nil, fmt.Errorf("full nodes %d is negative", opts.FullNodes)
	}
	n := opts.Validators + opts.FullNodes
	if opts.ChainID == "" {
		var err error
		if opts.ChainID, err = NewChainID(TestnetChainIDPrefix); err != nil {
			return nil, fmt.Errorf("testnet: %w", err)
		}
	}
	if opts.BasePort == 0 {
		opts.BasePort = DefaultTestnetBasePort
	}
	if opts.BasePort < 1024 || opts.BasePort+3*n > 65535 {
		return nil, fmt.Errorf("base port %d leaves no room for %d nodes of 3 ports each below 65536", opts.BasePort, n)
	}
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	if entries, err := os.ReadDir(opts.Output); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("%s is not empty: choose a new folder for --out", opts.Output)
	}
	imp, err := checkImport(opts.Import, opts.ChainID)
	if err != nil {
		return nil, err
	}
	members := make([]member, n)
	for i := range members {
		p := opts.BasePort + 3*i
		m, err := prepareHome(filepath.Join(opts.Output, fmt.Sprintf("node%d", i)), InitOptions{
			Moniker: fmt.Sprintf("node%d", i),
			P2P:     fmt.Sprintf("tcp://%s:%d", opts.Host, p),
			RPC:     fmt.Sprintf("tcp://%s:%d", opts.Host, p+1),
			HTTP:    fmt.Sprintf("%s:%d", opts.Host, p+2),
			// One DNS front end per machine is enough to try; node i
			// could take base+3i+2 over UDP, but keep the ports simple.
			DNS:     "off",
			Keyring: opts.Keyring,
		})
		if err != nil {
			return nil, err
		}
		members[i] = m
	}
	gen, err := genesis(opts.ChainID, members[:opts.Validators], opts.Validators/2+1, imp)
	if err != nil {
		return nil, err
	}
	out := make([]TestnetNode, n)
	for i, m := range members {
		var peers []string
		for j, o := range members {
			if j != i {
				peers = append(peers, fmt.Sprintf("%s@%s:%d", o.nodeID, opts.Host, opts.BasePort+3*j))
			}
		}
		m.config.Comet.P2P.PersistentPeers = strings.Join(peers, ",")
		// Several validators on one machine: give consensus messages a
		// little more time than a single validator needs.
		m.config.Comet.Consensus.TimeoutCommit = 500e6
		// Snapshots often enough that a node joining a young testnet finds
		// one to state sync from.
		m.config.Snapshots.Interval = 100
		if err := m.config.write(); err != nil {
			return nil, err
		}
		if imp != nil {
			if err := copyImport(opts.Import, imp, filepath.Dir(m.config.Comet.GenesisFile())); err != nil {
				return nil, fmt.Errorf("node%d: %w", i, err)
			}
		}
		if err := gen.SaveAs(m.config.Comet.GenesisFile()); err != nil {
			return nil, fmt.Errorf("write genesis of node%d: %w", i, err)
		}
		out[i] = TestnetNode{InitResult: m.result(opts.ChainID), Validator: i < opts.Validators}
		if imp != nil {
			out[i].Imported = &imp.Header
		}
	}
	return out, nil
}
