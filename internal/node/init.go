package node

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cometbft/cometbft/crypto"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/types"

	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/internal/chain"
	"github.com/cityid/cityid/internal/keyring"
	"github.com/cityid/cityid/internal/registry"
)

// OperatorKey is the name of the key that `init` creates in a new home: the
// node operator's signing key, and on a local network the registry
// authority.
const OperatorKey = "operator"

// InitOptions say how to initialise a local network's home. Empty fields
// take the defaults.
type InitOptions struct {
	ChainID string // "": a new one, cityid-local-<random>
	// Import is the path of an export the new network starts from
	// (docs/export.md): its authority and state, with this home's
	// validator. "": a new, empty registry.
	Import  string
	Moniker string
	HTTP    string // host:port
	RPC     string // tcp://host:port
	P2P     string // tcp://host:port
	DNS     string // host:port, or "off"
	// Keyring says where the keyring's passphrase comes from when the
	// home has none yet (homeKeys); empty, a random one is made.
	Keyring KeyringOptions
}

// InitResult says what Init made.
type InitResult struct {
	Home     string `json:"home"`
	ChainID  string `json:"chain_id"`
	Operator string `json:"operator"` // public key of the operator key, the sole authority member unless the network imports an export
	// Imported is the header of the export the network starts from.
	Imported *registry.ExportHeader `json:"imported,omitempty"`
	// OperatorKept says the operator key was already in the home's
	// keyring (the user added it) and was kept, not made.
	OperatorKept bool   `json:"operator_kept,omitempty"`
	NodeID       string `json:"node_id"`
	HTTP         string `json:"http"`
	RPC          string `json:"rpc"`
	P2P          string `json:"p2p"`
	ConfigFile   string `json:"config_file"`
	// PassphraseFile is the generated passphrase init wrote beside the
	// keys ("" when the passphrase was given).
	PassphraseFile string `json:"passphrase_file,omitempty"`
}

// Init initialises home as a local network of one validator whose operator
// key is the whole registry authority (1 of 1). home must be missing,
// empty, or hold only what a user keeps there before a node (keys, the
// light client's trust): see checkEmpty. An empty opts.ChainID gets a new
// chain ID of its own (NewChainID(LocalChainIDPrefix)).
//
// Init holds the home while it writes, so that it never writes under a
// running node or beside another init.
func Init(home string, opts InitOptions) (_ InitResult, err error) {
	if opts.ChainID == "" {
		if opts.ChainID, err = NewChainID(LocalChainIDPrefix); err != nil {
			return InitResult{}, fmt.Errorf("init %s: %w", home, err)
		}
	}
	// Refuse a folder that is not ours before leaving a lock file in it.
	if err := checkEmpty(home); err != nil {
		return InitResult{}, err
	}
	imp, err := checkImport(opts.Import, opts.ChainID)
	if err != nil {
		return InitResult{}, err
	}
	lock, err := lockHome(home)
	if err != nil {
		return InitResult{}, fmt.Errorf("init: %w", err)
	}
	defer func() { err = errors.Join(err, lock.release()) }()
	h, err := prepareHome(home, opts)
	if err != nil {
		return InitResult{}, err
	}
	// A network of one node keeps every city's datasets: there is no
	// other node for them.
	h.config.Data.Cities = []string{"*"}
	if err := h.config.write(); err != nil {
		return InitResult{}, fmt.Errorf("init %s: %w", home, err)
	}
	gen, err := genesis(opts.ChainID, []member{h}, 1, imp)
	if err != nil {
		return InitResult{}, fmt.Errorf("init %s: %w", home, err)
	}
	if imp != nil {
		if err := copyImport(opts.Import, imp, filepath.Dir(h.config.Comet.GenesisFile())); err != nil {
			return InitResult{}, fmt.Errorf("init %s: %w", home, err)
		}
	}
	if err := gen.SaveAs(h.config.Comet.GenesisFile()); err != nil {
		return InitResult{}, fmt.Errorf("init %s: write genesis: %w", home, err)
	}
	res := h.result(opts.ChainID)
	if imp != nil {
		res.Imported = &imp.Header
	}
	return res, nil
}

// Apply sets the names and listen addresses that opts gives, leaving the
// rest: init writes them into a new home, start applies them for one run.
func (c *Config) Apply(opts InitOptions) {
	if opts.Moniker != "" {
		c.Comet.Moniker = opts.Moniker
	}
	if opts.HTTP != "" {
		c.HTTP.Listen = opts.HTTP
	}
	if opts.RPC != "" {
		c.Comet.RPC.ListenAddress = opts.RPC
	}
	if opts.P2P != "" {
		c.Comet.P2P.ListenAddress = opts.P2P
	}
	switch opts.DNS {
	case "":
	case "off":
		c.DNS.Listen = ""
	default:
		c.DNS.Listen = opts.DNS
	}
}

// member is a prepared home: its configuration and keys, before genesis.
type member struct {
	config       *Config
	nodeID       string
	valPub       crypto.PubKey
	operator     keyring.Key
	operatorKept bool
	passFile     string
}

func (m member) result(chainID string) InitResult {
	c := m.config
	return InitResult{
		Home: c.Home, ChainID: chainID, Operator: m.operator.Public(), OperatorKept: m.operatorKept, NodeID: m.nodeID,
		HTTP: c.HTTP.Listen, RPC: c.Comet.RPC.ListenAddress, P2P: c.Comet.P2P.ListenAddress,
		ConfigFile: cityidFile(c.Home), PassphraseFile: m.passFile,
	}
}

// prepareHome creates a home's folders, configuration and keys (node key,
// validator key, operator key), everything but the genesis.
//
// An operator key the user already put in the keyring is kept and becomes
// the operator: a key named `operator` in a home is the node's operator
// key by this package's own convention, so a user who added one (or
// restored one) meant it, and replacing or refusing it would only lose
// it. It may sign for other networks too; it is safe to, since every
// network has a chain ID of its own and signatures cover it.
func prepareHome(home string, opts InitOptions) (member, error) {
	if err := checkEmpty(home); err != nil {
		return member{}, err
	}
	c := DefaultConfig(home)
	c.Apply(opts)
	kr, kc, passFile, err := homeKeys(home, opts.Keyring)
	if err != nil {
		return member{}, fmt.Errorf("init %s: %w", home, err)
	}
	c.Keys = kc
	for _, d := range []string{home, filepath.Join(home, "config"), filepath.Join(home, "data")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return member{}, fmt.Errorf("init %s: %w", home, err)
		}
	}
	if err := c.write(); err != nil {
		return member{}, fmt.Errorf("init %s: %w", home, err)
	}
	nodeKey, err := p2p.LoadOrGenNodeKey(c.Comet.NodeKeyFile())
	if err != nil {
		return member{}, fmt.Errorf("init %s: node key: %w", home, err)
	}
	valPub, err := chain.GenValidatorKey(c.Comet)
	if err != nil {
		return member{}, fmt.Errorf("init %s: %w", home, err)
	}
	op, err := kr.Load(OperatorKey)
	kept := err == nil
	if errors.Is(err, keyring.ErrNotFound) {
		op, err = kr.Add(OperatorKey)
	}
	if err != nil {
		return member{}, fmt.Errorf("init %s: operator key: %w", home, err)
	}
	return member{config: c, nodeID: string(nodeKey.ID()), valPub: valPub, operator: op, operatorKept: kept, passFile: passFile}, nil
}

// checkImport checks the export a new network is to start from (none when
// path is ""), before anything of the network is made. The network must
// have a chain ID other than the exported one's (registry's checkImport
// says why).
func checkImport(path, chainID string) (*registry.ExportSummary, error) {
	if path == "" {
		return nil, nil
	}
	sum, err := CheckExport(path)
	if err != nil {
		return nil, err
	}
	if sum.Header.ChainID == chainID {
		return nil, fmt.Errorf("import %s: it is an export of chain %s: a network started from it needs a chain ID of its own (leave out --chain-id for a new one)", path, chainID)
	}
	return &sum, nil
}

// genesis is the genesis of a network whose validators are vals (power 10
// each) and whose authority is their operator keys with the threshold,
// or, when imp is set, the authority of the export it starts from.
func genesis(chainID string, vals []member, threshold int, imp *registry.ExportSummary) (*types.GenesisDoc, error) {
	gv := make([]genesisValidator, len(vals))
	for i, v := range vals {
		gv[i] = genesisValidator{name: v.config.Comet.Moniker, key: v.valPub, operator: v.operator.Public()}
	}
	// Genesis time is the one wall-clock reading of a chain: it is
	// written once, here, and every node reads it from the file.
	return genesisDoc(chainID, time.Now().UTC().Truncate(time.Millisecond), gv, threshold, imp)
}

// genesisValidator is a validator of a new chain, and its operator key's
// seat in the registry authority.
type genesisValidator struct {
	name     string
	key      crypto.PubKey
	operator string // hex public key
}

// genesisDoc is the genesis of a network whose validators are vals
// (power 10 each), in the order given, and whose authority is their
// operator keys with the threshold (or, when imp is set, the authority of
// the export it starts from), made at time at.
func genesisDoc(chainID string, at time.Time, vals []genesisValidator, threshold int, imp *registry.ExportSummary) (*types.GenesisDoc, error) {
	auth := registry.Authority{Threshold: threshold}
	gen := &types.GenesisDoc{
		GenesisTime:     at.UTC(),
		ChainID:         chainID,
		InitialHeight:   1,
		ConsensusParams: consensusParams(),
	}
	for _, v := range vals {
		auth.Members = append(auth.Members, v.operator)
		gen.Validators = append(gen.Validators, types.GenesisValidator{
			Address: v.key.Address(), PubKey: v.key, Power: 10, Name: v.name,
		})
	}
	g := registry.Genesis{Authority: auth, Params: DefaultParams()}
	if imp != nil {
		g = registry.Genesis{Authority: imp.Authority, Params: imp.Params, Import: &registry.GenesisImport{
			File: registry.GenesisImportFile, SHA256: imp.SHA256, Header: imp.Header,
		}}
	}
	appState, err := json.Marshal(g)
	if err != nil {
		return nil, fmt.Errorf("encode app state: %w", err)
	}
	gen.AppState = appState
	if err := gen.ValidateAndComplete(); err != nil {
		return nil, fmt.Errorf("genesis: %w", err)
	}
	return gen, nil
}

// MaxBlockBytes is a block's size bound in a new chain's genesis: a few
// of the largest transactions (register_batch, registry.MaxTxBytes) fit.
const MaxBlockBytes = 8 << 20

// consensusParams are a new chain's: CometBFT's defaults, with the block
// bound, and the application version this binary starts a chain at, so
// that a node of another release refuses the genesis at InitChain, naming
// both versions (chain.checkGenesisAppVersion), instead of stalling at
// height 1 on headers of another version.
func consensusParams() *types.ConsensusParams {
	p := types.DefaultConsensusParams()
	p.Block.MaxBytes = MaxBlockBytes
	p.Version.App = chain.AppVersion
	return p
}

// DefaultParams are the network parameters of a new chain.
func DefaultParams() registry.Params {
	f := code.DefaultFormOptions()
	return registry.Params{OIDArc: f.OIDArc, IAC: f.IAC}
}

// isUserDir reports whether name is a folder a home holds before it holds
// a node: what the command line keeps for its user, whichever network they
// talk to. A home with only these is initialised around them, and they are
// kept.
func isUserDir(name string) bool {
	switch name {
	case "keys": // keyring.Dir: `cityid keys add` before the first start
		return true
	case "light": // the light client's trust, by chain ID: `cityid resolve --verify` against another node
		return true
	}
	return false
}

// checkEmpty refuses to initialise over anything else: a home is never
// overwritten, and a folder that is not a home is not made one.
func checkEmpty(home string) error {
	entries, err := os.ReadDir(home)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("init %s: %w", home, err)
	}
	if Initialized(home) {
		return fmt.Errorf("%s already holds a CityID node; start it with `cityid start --home %s`, or choose another --home", home, home)
	}
	for _, e := range entries {
		if e.Name() == LockFileName || e.IsDir() && isUserDir(e.Name()) {
			continue
		}
		return fmt.Errorf("%s is not empty and holds no CityID node (it has %s, and a new home may hold only keys/ and light/); choose an empty or new folder for --home", home, e.Name())
	}
	return nil
}

// Chain ID prefixes of new networks; NewChainID adds a random suffix.
const (
	LocalChainIDPrefix   = "cityid-local"
	TestnetChainIDPrefix = "cityid-testnet"
)

// chainIDSuffixLen is the random suffix's length: 6 base32 characters, 30
// bits, enough that two networks made apart do not share an ID by chance.
const chainIDSuffixLen = 6

// NewChainID is prefix, a dash and a random suffix: every new network has
// a chain ID of its own, and since a transaction signs its chain ID, one
// signed for a network is refused by every other. Chosen once, when a
// network is made, and written in its genesis; no node chooses it again.
func NewChainID(prefix string) (string, error) {
	var b [4]byte // 32 bits, of which the suffix keeps 30
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("chain ID: read random bytes: %w", err)
	}
	suffix := strings.ToLower(base32.StdEncoding.EncodeToString(b[:]))[:chainIDSuffixLen]
	return prefix + "-" + suffix, nil
}
