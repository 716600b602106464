package node

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	cmted25519 "github.com/cometbft/cometbft/crypto/ed25519"
	cmtjson "github.com/cometbft/cometbft/libs/json"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"

	"github.com/cityid/cityid/internal/keyring"
	"github.com/cityid/cityid/internal/registry"
)

// A network of several institutes, each on its own machine, is made the
// way Cosmos chains make theirs (init, gentx, collect-gentxs), with less to
// learn: every institute runs `cityid init` on its machine, so its keys
// never leave it; publishes its member file (GenesisMember: node ID,
// address, validator and operator public keys); and, with every member
// file in hand, runs the same `cityid genesis collect`. Collect is
// deterministic (members sorted, the genesis time given), so every machine
// writes the same genesis, and the institutes compare its hash out of band
// before they start. A city's full node runs the same collect to get the
// genesis and its peers.

// GenesisMember is what an institute publishes so that the others can
// include it in a new network's genesis: all public.
type GenesisMember struct {
	Moniker string `json:"moniker"`
	NodeID  string `json:"node_id"`
	// Address is host:port where the other nodes reach its P2P port: the
	// node's p2p.external_address.
	Address string `json:"address"`
	// ValidatorKey is the node's CometBFT consensus public key (Ed25519,
	// hex), the one `cityid tx set-validator` names.
	ValidatorKey string `json:"validator_key"`
	// Operator is the public key of the home's operator key: the
	// institute's seat in the registry authority.
	Operator string `json:"operator"`
}

// Member returns the member file of the node in home. A non-empty address
// (host:port) is written as the node's p2p.external_address first; an
// empty one takes the address already there.
func Member(home, address string) (GenesisMember, error) {
	c, err := Load(home)
	if err != nil {
		return GenesisMember{}, err
	}
	if address != "" {
		if err := checkHostPort(address); err != nil {
			return GenesisMember{}, err
		}
		c.Comet.P2P.ExternalAddress = address
		if err := c.write(); err != nil {
			return GenesisMember{}, fmt.Errorf("genesis member: %w", err)
		}
	}
	if c.Comet.P2P.ExternalAddress == "" {
		return GenesisMember{}, errors.New("genesis member: give --address HOST:PORT, where the other machines reach this node's P2P port (it is written as p2p.external_address)")
	}
	nodeKey, err := p2p.LoadNodeKey(c.Comet.NodeKeyFile())
	if err != nil {
		return GenesisMember{}, fmt.Errorf("genesis member: node key: %w", err)
	}
	valKey, err := readValidatorKey(c.Comet.PrivValidatorKeyFile())
	if err != nil {
		return GenesisMember{}, fmt.Errorf("genesis member: %w", err)
	}
	// The public half only, which the key file keeps in clear: no
	// passphrase is asked for what is published.
	op, err := keyring.Open(home, keyring.Options{}).Show(OperatorKey)
	if err != nil {
		return GenesisMember{}, fmt.Errorf("genesis member: operator key: %w", err)
	}
	return GenesisMember{
		Moniker: c.Comet.Moniker, NodeID: string(nodeKey.ID()), Address: c.Comet.P2P.ExternalAddress,
		ValidatorKey: hex.EncodeToString(valKey), Operator: op.PubKey,
	}, nil
}

// readValidatorKey reads the public half of a CometBFT key file without
// privval.LoadFilePV, which ends the process on a bad file.
func readValidatorKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("validator key: %w (a validator whose key is in a remote signer publishes the signer's public key instead)", err)
	}
	var k privval.FilePVKey
	if err := cmtjson.Unmarshal(b, &k); err != nil {
		return nil, fmt.Errorf("validator key %s: %w", path, err)
	}
	if k.PubKey == nil || k.PubKey.Type() != cmted25519.KeyType {
		return nil, fmt.Errorf("validator key %s: not an Ed25519 key", path)
	}
	return k.PubKey.Bytes(), nil
}

func checkHostPort(address string) error {
	host, port, err := net.SplitHostPort(address)
	if err != nil || host == "" || port == "" {
		return fmt.Errorf("address %q is not HOST:PORT", address)
	}
	return nil
}

// CollectOptions say which genesis to make. Every institute gives the
// same, so every machine writes the same genesis.
type CollectOptions struct {
	ChainID     string
	GenesisTime time.Time
	// Threshold is the registry authority's M of N; 0 is a majority of
	// the members.
	Threshold int
	Members   []GenesisMember
}

// CollectResult says what Collect wrote.
type CollectResult struct {
	Home    string `json:"home"`
	ChainID string `json:"chain_id"`
	// GenesisSHA256 is the hash of the genesis file's bytes: every
	// institute compares it with the others' before starting.
	GenesisSHA256 string   `json:"genesis_sha256"`
	Validators    int      `json:"validators"`
	Threshold     int      `json:"threshold"`
	Validator     bool     `json:"validator"` // this home is one of the members
	Peers         []string `json:"persistent_peers"`
}

// Collect writes into home (initialised, never started) the genesis whose
// validators are the members (power 10 each) and whose registry authority
// is their operator keys, and names every other member as a persistent
// peer. A home that is not a member is a full node of the network.
func Collect(home string, opts CollectOptions) (_ CollectResult, err error) {
	c, err := Load(home)
	if err != nil {
		return CollectResult{}, err
	}
	if opts.ChainID == "" {
		return CollectResult{}, errors.New("genesis collect needs a chain ID that every institute gives")
	}
	if opts.GenesisTime.IsZero() {
		return CollectResult{}, errors.New("genesis collect needs a genesis time that every institute gives (RFC 3339, e.g. 2027-01-04T08:00:00Z)")
	}
	if len(opts.Members) == 0 {
		return CollectResult{}, errors.New("genesis collect needs the member files of the validators")
	}
	members, err := sortMembers(opts.Members)
	if err != nil {
		return CollectResult{}, err
	}
	threshold := opts.Threshold
	if threshold == 0 {
		threshold = len(members)/2 + 1
	}
	lock, err := lockHome(home)
	if err != nil {
		return CollectResult{}, fmt.Errorf("genesis collect: %w", err)
	}
	defer func() { err = errors.Join(err, lock.release()) }()
	if err := checkNeverStarted(c); err != nil {
		return CollectResult{}, err
	}
	nodeKey, err := p2p.LoadNodeKey(c.Comet.NodeKeyFile())
	if err != nil {
		return CollectResult{}, fmt.Errorf("genesis collect: node key: %w", err)
	}
	vals := make([]genesisValidator, len(members))
	var peers []string
	self := false
	for i, m := range members {
		vals[i] = genesisValidator{name: m.Moniker, key: cmted25519.PubKey(m.key), operator: m.Operator}
		if m.NodeID == string(nodeKey.ID()) {
			self = true
			continue
		}
		peers = append(peers, m.NodeID+"@"+m.Address)
	}
	gen, err := genesisDoc(opts.ChainID, opts.GenesisTime, vals, threshold, nil)
	if err != nil {
		return CollectResult{}, fmt.Errorf("genesis collect: %w", err)
	}
	if err := gen.SaveAs(c.Comet.GenesisFile()); err != nil {
		return CollectResult{}, fmt.Errorf("genesis collect: write genesis: %w", err)
	}
	b, err := os.ReadFile(c.Comet.GenesisFile())
	if err != nil {
		return CollectResult{}, fmt.Errorf("genesis collect: %w", err)
	}
	c.Comet.P2P.PersistentPeers = strings.Join(peers, ",")
	// A node of a network keeps the datasets of the cities that name it
	// as their endpoint, not every city's as a network of one does.
	c.Data.Cities = []string{}
	if err := c.write(); err != nil {
		return CollectResult{}, fmt.Errorf("genesis collect: %w", err)
	}
	sum := sha256.Sum256(b)
	return CollectResult{
		Home: home, ChainID: opts.ChainID, GenesisSHA256: hex.EncodeToString(sum[:]),
		Validators: len(members), Threshold: threshold, Validator: self, Peers: peers,
	}, nil
}

// checkedMember is a member file with its validator key decoded.
type checkedMember struct {
	GenesisMember
	key []byte
}

// sortMembers checks the member files and orders them by validator key,
// so that the genesis does not depend on the order they were given in.
func sortMembers(in []GenesisMember) ([]checkedMember, error) {
	out := make([]checkedMember, 0, len(in))
	seen := map[string]string{}
	for _, m := range in {
		if err := checkMoniker(m.Moniker); err != nil {
			return nil, fmt.Errorf("member %.70q: %w", m.Moniker, err)
		}
		name := m.Moniker
		if name == "" {
			name = m.NodeID
		}
		key, err := registry.ParsePubKey(m.ValidatorKey)
		if err != nil {
			return nil, fmt.Errorf("member %s: validator key: %w", name, err)
		}
		if _, err := registry.ParsePubKey(m.Operator); err != nil {
			return nil, fmt.Errorf("member %s: operator key: %w", name, err)
		}
		if _, err := p2p.NewNetAddressString(m.NodeID + "@" + m.Address); err != nil {
			return nil, fmt.Errorf("member %s: node ID and address %s@%s: %w", name, m.NodeID, m.Address, err)
		}
		for _, f := range [...][2]string{{"node ID", m.NodeID}, {"validator key", m.ValidatorKey}, {"operator key", m.Operator}} {
			if other, dup := seen[f[0]+f[1]]; dup {
				return nil, fmt.Errorf("members %s and %s have the same %s %s", other, name, f[0], f[1])
			}
			seen[f[0]+f[1]] = name
		}
		out = append(out, checkedMember{GenesisMember: m, key: key})
	}
	slices.SortFunc(out, func(a, b checkedMember) int { return bytes.Compare(a.key, b.key) })
	return out, nil
}

// maxMoniker bounds a member's name, which every genesis, every node's
// validator list and every log line of it carry (CometBFT's own bound on
// a genesis validator's name is none).
const maxMoniker = 70

// checkMoniker refuses a member's name that is too long or holds what a
// terminal or a log would take for something else (controls, invalid
// UTF-8): a member file comes from another institute.
func checkMoniker(m string) error {
	if len(m) > maxMoniker {
		return fmt.Errorf("moniker is %d bytes, more than %d", len(m), maxMoniker)
	}
	if !utf8.ValidString(m) {
		return errors.New("moniker is not UTF-8")
	}
	for _, r := range m {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return fmt.Errorf("moniker holds the control or format character %U", r)
		}
	}
	return nil
}

// checkNeverStarted refuses a home that has run a chain: a new genesis
// under its blocks would be a node of no network.
func checkNeverStarted(c *Config) error {
	entries, err := os.ReadDir(c.Comet.DBDir())
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("genesis collect: %w", err)
	}
	keep := filepath.Base(c.Comet.PrivValidatorStateFile())
	for _, e := range entries {
		if e.Name() != keep {
			return fmt.Errorf("%s has run a chain already (it has %s): collect a new network's genesis into a new home (cityid init --home NEW)", c.Home, filepath.Join(c.Comet.DBDir(), e.Name()))
		}
	}
	return nil
}
