package node

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	cmtcrypto "github.com/cometbft/cometbft/crypto"
	cmted25519 "github.com/cometbft/cometbft/crypto/ed25519"
	cmtjson "github.com/cometbft/cometbft/libs/json"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/types"
	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/cityid/cityid/internal/chain"
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
//
// A member file is signed twice over the same message: by the validator's
// private key (Signature) and by the node's P2P key (NodeSignature), whose
// public half it names (NodeKey) and whose ID must be its NodeID. A file
// naming a validator key or a node ID its sender does not hold, or one
// changed on the way, is refused by collect, naming the file. A validator
// whose key is in a remote signer (priv_validator_laddr) gets the
// validator signature from `cityid signer`, which signs nothing else
// outside consensus (signer.go).

// GenesisMember is what an institute publishes so that the others can
// include it in a new network's genesis: all public.
type GenesisMember struct {
	// ChainID is the network the file is for: a file made for one
	// network (a testnet, an earlier attempt) cannot be put into the
	// genesis of another without its institute signing again, as a Cosmos
	// gentx names its chain.
	ChainID string `json:"chain_id"`
	Moniker string `json:"moniker"`
	// NodeID is the node's P2P ID, which its peers dial it by: the
	// address of NodeKey, so collect checks that they agree.
	NodeID string `json:"node_id"`
	// NodeKey is the node's P2P public key (node_key.json, Ed25519, hex).
	NodeKey string `json:"node_key"`
	// Address is host:port where the other nodes reach its P2P port: the
	// node's p2p.external_address.
	Address string `json:"address"`
	// ValidatorKey is the node's CometBFT consensus public key (Ed25519,
	// hex), the one `cityid tx set-validator` names.
	ValidatorKey string `json:"validator_key"`
	// Operator is the public key of the home's operator key: the
	// institute's seat in the registry authority.
	Operator string `json:"operator"`
	// Signature is the validator key's Ed25519 signature (hex) over
	// memberMessage of the fields above: the proof that whoever made the
	// file holds the validator key it names, and binds the node ID,
	// address and operator key to it.
	Signature string `json:"signature"`
	// NodeSignature is the node key's Ed25519 signature (hex) over the
	// same message: the proof that whoever made the file holds the node
	// key, so that the node ID the others will dial as a persistent peer
	// is this institute's node and not anyone's.
	NodeSignature string `json:"node_signature"`
}

// memberDomain separates a member file's signatures from anything else a
// validator or node key signs. CometBFT's sign bytes of votes, proposals
// and vote extensions are length-delimited protobuf: a varint length, then
// the tag of a field of the canonical message (fields 1 to 7: 0x08 to
// 0x3a). This domain's first byte, 'c' (0x63), is a whole one-byte
// length, and its second, 'i' (0x69, field 13), is no such tag, so no
// member message is a consensus message. v2 files carried the validator's
// signature alone, v1 files no chain ID.
const memberDomain = "cityid genesis member v3\n"

// memberFieldCount is how many fields memberMessage covers.
const memberFieldCount = 7

// memberMessage is what a member file's signatures cover: the domain, then
// each field in its order, as a 4-byte big-endian length and its bytes,
// so that no two files share a message.
func memberMessage(m GenesisMember) []byte {
	b := []byte(memberDomain)
	for _, f := range [memberFieldCount]string{m.ChainID, m.Moniker, m.NodeID, m.NodeKey, m.Address, m.ValidatorKey, m.Operator} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	return b
}

// memberMessageChain returns the chain ID of msg if msg is a member
// message as memberMessage makes it (the domain, then exactly its fields,
// nothing after), and ok false for any other bytes. The remote signer
// signs only these, and only for its own chain.
func memberMessageChain(msg []byte) (chainID string, ok bool) {
	rest, found := bytes.CutPrefix(msg, []byte(memberDomain))
	if !found {
		return "", false
	}
	var fields [memberFieldCount]string
	for i := range fields {
		if len(rest) < 4 {
			return "", false
		}
		n := binary.BigEndian.Uint32(rest)
		rest = rest[4:]
		if uint64(n) > uint64(len(rest)) {
			return "", false
		}
		fields[i], rest = string(rest[:n]), rest[n:]
	}
	if len(rest) != 0 {
		return "", false
	}
	return fields[0], true
}

// MemberOptions say which member file Member makes.
type MemberOptions struct {
	// ChainID is the new network's, which every institute gives.
	ChainID string
	// Address (host:port), when set, is written as the node's
	// p2p.external_address first; empty takes the address already there.
	Address string
	// SignerWait bounds the wait for a remote signer to connect, when the
	// validator key is in one; 0 is DefaultSignerWait.
	SignerWait time.Duration
	// Waiting, when set, is told the address Member listens on for the
	// remote signer before it waits, so that the operator can start it.
	Waiting func(laddr string)
	// Connected, when set, is told the validator address and public key
	// (hex) of the remote signer that connected, before it signs: the
	// listener authenticates nobody, so whoever connects first supplies
	// the key, and the operator compares these with what `cityid signer`
	// logged at its start.
	Connected func(address, pubKey string)
	// ValidatorKey, when set, is the validator public key (hex, as a
	// member file's validator_key) the file must name: a key that is not
	// it, from whichever signer connected, is refused.
	ValidatorKey string
}

// DefaultSignerWait is how long `genesis member` waits for the remote
// signer to connect: time for an operator to start it on its machine.
const DefaultSignerWait = 2 * time.Minute

// Member returns the member file of the node in home for the network
// o.ChainID, signed with the node key and the validator key: the key file
// in the home, or, when the home's config names priv_validator_laddr, the
// remote signer that connects there (as it connects to the node).
func Member(home string, o MemberOptions) (GenesisMember, error) {
	chainID, address := o.ChainID, o.Address
	if chainID == "" {
		return GenesisMember{}, errors.New("genesis member: give --chain-id, the new network's chain ID, the same every institute gives genesis collect")
	}
	if len(chainID) > types.MaxChainIDLen {
		// Signed anyway, it would fail only at collect, once every
		// institute has made its file.
		return GenesisMember{}, fmt.Errorf("genesis member: chain ID %q is %d bytes, more than CometBFT's %d", chainID, len(chainID), types.MaxChainIDLen)
	}
	var pinned ed25519.PublicKey
	if o.ValidatorKey != "" {
		// In either case: the signer logs it in lower case, other
		// tools print upper case hex.
		k, err := registry.ParsePubKey(strings.ToLower(o.ValidatorKey))
		if err != nil {
			return GenesisMember{}, fmt.Errorf("genesis member: --validator-key: %w", err)
		}
		pinned = k
	}
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
	if nodeKey.PrivKey == nil || nodeKey.PrivKey.Type() != cmted25519.KeyType {
		return GenesisMember{}, fmt.Errorf("genesis member: node key %s is not an Ed25519 key", c.Comet.NodeKeyFile())
	}
	// The validator's key is where the node would take it from.
	var val memberSigner
	if laddr := c.Comet.PrivValidatorListenAddr; laddr != "" {
		val = &remoteMemberSigner{laddr: laddr, chainID: chainID, wait: o.SignerWait, waiting: o.Waiting, connected: o.Connected}
	} else {
		key, err := readValidatorKey(c.Comet.PrivValidatorKeyFile())
		if err != nil {
			return GenesisMember{}, fmt.Errorf("genesis member: %w", err)
		}
		if key.PrivKey == nil || key.PrivKey.Type() != cmted25519.KeyType {
			return GenesisMember{}, fmt.Errorf("genesis member: validator key %s holds no Ed25519 private key to sign the member file with", c.Comet.PrivValidatorKeyFile())
		}
		val = fileMemberSigner{key.PrivKey}
	}
	defer val.close()
	valPub, err := val.pubKey()
	if err != nil {
		return GenesisMember{}, fmt.Errorf("genesis member: %w", err)
	}
	if pinned != nil && !pinned.Equal(valPub) {
		from := "the key file " + c.Comet.PrivValidatorKeyFile()
		if laddr := c.Comet.PrivValidatorListenAddr; laddr != "" {
			from = "the remote signer that connected to " + laddr + " (another signer than yours?)"
		}
		return GenesisMember{}, fmt.Errorf("genesis member: the validator key of %s is %s (address %s), not %s (address %s) that --validator-key names; nothing was signed",
			from, hex.EncodeToString(valPub), cmted25519.PubKey(valPub).Address(), hex.EncodeToString(pinned), cmted25519.PubKey(pinned).Address())
	}
	// The public half only, which the key file keeps in clear: no
	// passphrase is asked for what is published.
	op, err := keyring.Open(home, keyring.Options{}).Show(OperatorKey)
	if err != nil {
		return GenesisMember{}, fmt.Errorf("genesis member: operator key: %w", err)
	}
	m := GenesisMember{
		ChainID: chainID, Moniker: c.Comet.Moniker, NodeID: string(nodeKey.ID()),
		NodeKey: hex.EncodeToString(nodeKey.PubKey().Bytes()), Address: c.Comet.P2P.ExternalAddress,
		ValidatorKey: hex.EncodeToString(valPub), Operator: op.PubKey,
	}
	msg := memberMessage(m)
	sig, err := val.sign(msg)
	if err != nil {
		return GenesisMember{}, fmt.Errorf("genesis member: sign with the validator key: %w", err)
	}
	// A signer that answers with a signature of another key, or of other
	// bytes, would make a file collect refuses at every institute.
	if len(sig) != ed25519.SignatureSize || !ed25519.Verify(valPub, msg, sig) {
		return GenesisMember{}, fmt.Errorf("genesis member: the validator key's signature does not verify against validator key %s", m.ValidatorKey)
	}
	nodeSig, err := nodeKey.PrivKey.Sign(msg)
	if err != nil {
		return GenesisMember{}, fmt.Errorf("genesis member: sign with the node key: %w", err)
	}
	m.Signature, m.NodeSignature = hex.EncodeToString(sig), hex.EncodeToString(nodeSig)
	return m, nil
}

// memberSigner signs a member file with the validator key: the key file's,
// or a remote signer's.
type memberSigner interface {
	pubKey() (ed25519.PublicKey, error)
	sign(msg []byte) ([]byte, error)
	close()
}

type fileMemberSigner struct{ key cmtcrypto.PrivKey }

func (s fileMemberSigner) pubKey() (ed25519.PublicKey, error) {
	return ed25519.PublicKey(s.key.PubKey().Bytes()), nil
}
func (s fileMemberSigner) sign(msg []byte) ([]byte, error) { return s.key.Sign(msg) }
func (fileMemberSigner) close()                            {}

// remoteMemberSigner asks `cityid signer` for the validator key's
// signature. It listens on the node's priv_validator_laddr, as the node
// does, for the signer to connect (the signer dials, never the node), and
// sends it CometBFT's SignBytes request; the signer signs it only because
// it is a member message of its chain (signer.go).
type remoteMemberSigner struct {
	laddr, chainID string
	wait           time.Duration
	waiting        func(string)
	connected      func(address, pubKey string)
	endpoint       *privval.SignerListenerEndpoint
	client         *privval.SignerClient
}

func (s *remoteMemberSigner) connect() error {
	if s.client != nil {
		return nil
	}
	wait := s.wait
	if wait <= 0 {
		wait = DefaultSignerWait
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	told := false
	client, endpoint, err := chain.ListenForSigner(ctx, s.laddr, s.chainID, wait, cmtlog.NewNopLogger(), func() {
		if s.waiting != nil && !told {
			s.waiting(s.laddr)
		}
		told = true
	})
	if errors.Is(err, context.DeadlineExceeded) {
		cmd, note := SignerCommand(s.chainID, s.laddr)
		if note != "" {
			note = " (" + note + ")"
		}
		return fmt.Errorf("the validator key is in a remote signer (priv_validator_laddr %s), and none connected in %s: start `%s` on the signer's machine while this waits%s (%w)",
			s.laddr, wait, cmd, note, err)
	}
	if err != nil {
		return err
	}
	s.endpoint, s.client = endpoint, client
	return nil
}

func (s *remoteMemberSigner) pubKey() (ed25519.PublicKey, error) {
	if err := s.connect(); err != nil {
		return nil, err
	}
	pub, err := s.client.GetPubKey()
	if err != nil {
		return nil, fmt.Errorf("the remote signer's public key: %w (is the signer run with --chain-id %s?)", err, s.chainID)
	}
	if pub.Type() != cmted25519.KeyType {
		return nil, fmt.Errorf("the remote signer's key is %s, not Ed25519", pub.Type())
	}
	if s.connected != nil {
		s.connected(pub.Address().String(), hex.EncodeToString(pub.Bytes()))
	}
	return ed25519.PublicKey(pub.Bytes()), nil
}

func (s *remoteMemberSigner) sign(msg []byte) ([]byte, error) {
	sig, err := s.client.SignBytes(msg)
	if err != nil {
		return nil, fmt.Errorf("the remote signer refused to sign the member file: %w (`cityid signer` signs member files of its own --chain-id; another remote signer may sign no bytes outside consensus: then make the file where the key file is, before the key moves to the signer)", err)
	}
	return sig, nil
}

func (s *remoteMemberSigner) close() {
	if s.endpoint != nil {
		_ = s.endpoint.Stop()
	}
}

// readValidatorKey reads a CometBFT key file without privval.LoadFilePV,
// which ends the process on a bad file.
func readValidatorKey(path string) (privval.FilePVKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return privval.FilePVKey{}, fmt.Errorf("validator key: %w (a member file is signed with the validator key: make it where the key file is, or set priv_validator_laddr in config/config.toml to have it signed by the remote signer, `cityid signer`)", err)
	}
	var k privval.FilePVKey
	if err := cmtjson.Unmarshal(b, &k); err != nil {
		return privval.FilePVKey{}, fmt.Errorf("validator key %s: %w", path, err)
	}
	if k.PubKey == nil || k.PubKey.Type() != cmted25519.KeyType {
		return privval.FilePVKey{}, fmt.Errorf("validator key %s: not an Ed25519 key", path)
	}
	return k, nil
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
	// MemberFiles are the paths of the members' files, as `genesis
	// member` printed them; errors name a member by its file.
	MemberFiles []string
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
	if len(opts.MemberFiles) == 0 {
		return CollectResult{}, errors.New("genesis collect needs the member files of the validators")
	}
	read := make([]checkedMember, len(opts.MemberFiles))
	for i, path := range opts.MemberFiles {
		m, err := ReadMemberFile(path)
		if err != nil {
			return CollectResult{}, err
		}
		read[i] = checkedMember{GenesisMember: m, file: path}
	}
	members, err := sortMembers(read, opts.ChainID)
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

// maxMemberFile bounds a member file's size: a few hundred bytes of
// public keys and names, read from whoever sent it.
const maxMemberFile = 4 << 10

// ReadMemberFile reads a member file as `genesis member` wrote it: one
// JSON object of GenesisMember's fields, spelt exactly so (a misspelt or
// unknown field is refused, not ignored), and nothing after it. Its
// content and signature are checked by Collect.
func ReadMemberFile(path string) (GenesisMember, error) {
	f, err := os.Open(path)
	if err != nil {
		return GenesisMember{}, fmt.Errorf("member file %s: %w", path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxMemberFile+1))
	if err != nil {
		return GenesisMember{}, fmt.Errorf("member file %s: %w", path, err)
	}
	if len(b) > maxMemberFile {
		return GenesisMember{}, fmt.Errorf("member file %s is larger than %d bytes: it is not a member file", path, maxMemberFile)
	}
	var m GenesisMember
	// encoding/json v2's rules: keys matched case-sensitively, a key given
	// twice refused; and here, an unknown key refused.
	if err := jsonv2.Unmarshal(b, &m, jsonv2.RejectUnknownMembers(true)); err != nil {
		return GenesisMember{}, memberFileError(path, err)
	}
	return m, nil
}

// memberFields are the fields genesis member writes, in its order.
const memberFields = "chain_id, moniker, node_id, node_key, address, validator_key, operator, signature, node_signature"

// memberFileError says what is wrong with a member file in the words of
// its fields, where encoding/json's would name Go types.
func memberFileError(path string, err error) error {
	var se *jsonv2.SemanticError
	var sy *jsontext.SyntacticError
	switch {
	case errors.As(err, &se) && errors.Is(se.Err, jsonv2.ErrUnknownName):
		return fmt.Errorf("member file %s: %q is not a field of a member file (%s, each once and in lower case): was it changed by hand?", path, se.JSONPointer.LastToken(), memberFields)
	case errors.As(err, &sy) && errors.Is(sy.Err, jsontext.ErrDuplicateName):
		return fmt.Errorf("member file %s: field %q is given twice", path, sy.JSONPointer.LastToken())
	case errors.As(err, &se) && se.JSONPointer != "":
		// Every field of a member file is text.
		return fmt.Errorf("member file %s: field %q is not text (a JSON string), as genesis member writes it", path, se.JSONPointer.LastToken())
	}
	return fmt.Errorf("member file %s: not the JSON object genesis member writes: %w", path, err)
}

// checkedMember is a member file with its validator key decoded.
type checkedMember struct {
	GenesisMember
	file string // the path it was read from, which names it in errors
	key  []byte
}

// name names a member in errors: its file, and its moniker, which a
// default home has as cityid-node, like every other.
func (m checkedMember) name() string {
	if m.Moniker == "" || checkMoniker(m.Moniker) != nil {
		return "member file " + m.file
	}
	return fmt.Sprintf("member file %s (moniker %s)", m.file, m.Moniker)
}

// sortMembers checks the member files, their chain and signatures among
// them, and orders them by validator key, so that the genesis does not depend on
// the order they were given in.
func sortMembers(in []checkedMember, chainID string) ([]checkedMember, error) {
	out := make([]checkedMember, 0, len(in))
	seen := map[string]string{}
	for _, m := range in {
		name := m.name()
		if err := checkMoniker(m.Moniker); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		key, err := registry.ParsePubKey(m.ValidatorKey)
		if err != nil {
			return nil, fmt.Errorf("%s: validator key: %w", name, err)
		}
		if _, err := registry.ParsePubKey(m.Operator); err != nil {
			return nil, fmt.Errorf("%s: operator key: %w", name, err)
		}
		if _, err := p2p.NewNetAddressString(m.NodeID + "@" + m.Address); err != nil {
			return nil, fmt.Errorf("%s: node ID and address %s@%s: %w", name, m.NodeID, m.Address, err)
		}
		if m.ChainID == "" {
			return nil, fmt.Errorf("%s names no chain: it was made by an older cityid; ask its institute for a new one, made with --chain-id %s", name, chainID)
		}
		if m.ChainID != chainID {
			return nil, fmt.Errorf("%s was made for chain %q, not %q: ask its institute for a member file made with --chain-id %s", name, m.ChainID, chainID, chainID)
		}
		if m.NodeKey == "" && m.NodeSignature == "" {
			return nil, fmt.Errorf("%s has no node key signature: it was made by an older cityid, and its node ID is not proven; ask its institute for a new one, made with --chain-id %s", name, chainID)
		}
		nodeKey, err := registry.ParsePubKey(m.NodeKey)
		if err != nil {
			return nil, fmt.Errorf("%s: node key: %w", name, err)
		}
		if id := string(p2p.PubKeyToID(cmted25519.PubKey(nodeKey))); id != m.NodeID {
			return nil, fmt.Errorf("%s: node ID %s is not node key %s's (%s): the file names a node its sender does not hold; ask its institute for it again", name, m.NodeID, m.NodeKey, id)
		}
		msg := memberMessage(m.GenesisMember)
		sig, err := hex.DecodeString(m.Signature)
		if err != nil || len(sig) != ed25519.SignatureSize || !ed25519.Verify(key, msg, sig) {
			return nil, fmt.Errorf("%s: the signature is not the validator key's over this file: the file was changed, or made by someone who does not hold validator key %s; ask its institute for it again", name, m.ValidatorKey)
		}
		nodeSig, err := hex.DecodeString(m.NodeSignature)
		if err != nil || len(nodeSig) != ed25519.SignatureSize || !ed25519.Verify(nodeKey, msg, nodeSig) {
			return nil, fmt.Errorf("%s: the node signature is not node key %s's over this file: the file was changed, or made by someone who does not hold the key of node %s; ask its institute for it again", name, m.NodeKey, m.NodeID)
		}
		for _, f := range [...][2]string{{"node ID", m.NodeID}, {"validator key", m.ValidatorKey}, {"operator key", m.Operator}} {
			if other, dup := seen[f[0]+f[1]]; dup {
				return nil, fmt.Errorf("%s and %s have the same %s %s", other, name, f[0], f[1])
			}
			seen[f[0]+f[1]] = name
		}
		m.key = key
		out = append(out, m)
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
