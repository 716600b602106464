package node

import (
	"bytes"
	"encoding/hex"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cmtproto "github.com/cometbft/cometbft/api/cometbft/types/v1"
	cmtcrypto "github.com/cometbft/cometbft/crypto"
	cmted25519 "github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/types"

	"github.com/cityid/cityid/internal/testnode"
)

// resign signs m again with the validator key of home and the node key
// of nodeHome, as a forger who holds those keys would.
func resign(t *testing.T, home, nodeHome string, m GenesisMember) GenesisMember {
	t.Helper()
	val, err := readValidatorKey(filepath.Join(home, "config", "priv_validator_key.json"))
	if err != nil {
		t.Fatal(err)
	}
	nk, err := p2p.LoadNodeKey(filepath.Join(nodeHome, "config", "node_key.json"))
	if err != nil {
		t.Fatal(err)
	}
	msg := memberMessage(m)
	sig, err := val.PrivKey.Sign(msg)
	if err != nil {
		t.Fatal(err)
	}
	nodeSig, err := nk.PrivKey.Sign(msg)
	if err != nil {
		t.Fatal(err)
	}
	m.Signature, m.NodeSignature = hex.EncodeToString(sig), hex.EncodeToString(nodeSig)
	return m
}

// The node ID a member file names is proven by the node key: a forger
// who names another institute's node ID (so that the others dial that
// node as its peer, or refuse the real one as a duplicate), whether with
// its own node key or the other's public node key, is refused, naming
// the file, though its validator signature is good; so is a file of the
// previous cityid, which carries no node signature.
func TestGenesisCollectRefusesStolenNodeID(t *testing.T) {
	dir := t.TempDir()
	var homes []string
	var members []GenesisMember
	for i := range 2 {
		home := filepath.Join(dir, "h"+string(rune('0'+i)))
		if _, err := Init(home, InitOptions{}); err != nil {
			t.Fatal(err)
		}
		m, err := Member(home, MemberOptions{ChainID: "c", Address: "10.9.0." + string(rune('1'+i)) + ":26656"})
		if err != nil {
			t.Fatal(err)
		}
		homes, members = append(homes, home), append(members, m)
	}
	victim, forger := members[0], members[1]
	if forger.NodeKey == "" || forger.NodeSignature == "" {
		t.Fatalf("member file %+v has no node key or node signature", forger)
	}
	// The forger's file naming the victim's node ID, signed by all the
	// forger's own keys.
	idOnly := forger
	idOnly.NodeID = victim.NodeID
	idOnly = resign(t, homes[1], homes[1], idOnly)
	// The same with the victim's public node key too: the forger cannot
	// sign with it.
	idAndKey := forger
	idAndKey.NodeID, idAndKey.NodeKey = victim.NodeID, victim.NodeKey
	idAndKey = resign(t, homes[1], homes[1], idAndKey)
	// The node signature changed on the way.
	badNodeSig := forger
	badNodeSig.NodeSignature = victim.NodeSignature
	older := forger
	older.NodeKey, older.NodeSignature = "", ""
	files := writeMembers(t, dir, idOnly, idAndKey, badNodeSig, older)
	good := writeMembers(t, dir, victim, forger)
	at := time.Date(2027, 1, 4, 8, 0, 0, 0, time.UTC)
	for i, want := range []string{
		"node ID " + victim.NodeID + " is not node key " + forger.NodeKey + "'s (" + forger.NodeID + ")",
		"the node signature is not node key " + victim.NodeKey + "'s over this file",
		"the node signature is not node key " + forger.NodeKey + "'s over this file",
		"has no node key signature: it was made by an older cityid",
	} {
		collector := filepath.Join(t.TempDir(), "c")
		if _, err := Init(collector, InitOptions{}); err != nil {
			t.Fatal(err)
		}
		_, err := Collect(collector, CollectOptions{ChainID: "c", GenesisTime: at, MemberFiles: []string{good[0], files[i]}})
		if err == nil || !strings.Contains(err.Error(), "member file "+files[i]+" (moniker cityid-node)") || !strings.Contains(err.Error(), want) {
			t.Errorf("member file %d: %v, want a refusal naming %s and saying %q", i, err, files[i], want)
		}
	}
}

// A validator whose key is in a remote signer makes its member file
// through the signer: genesis member listens on the node's
// priv_validator_laddr, `cityid signer` connects and signs, and collect
// takes the file. Without a signer, or with one for another chain, member
// fails saying what to run.
func TestMemberSignedByRemoteSigner(t *testing.T) {
	dir := t.TempDir()
	home := filepath.Join(dir, "h")
	if _, err := Init(home, InitOptions{}); err != nil {
		t.Fatal(err)
	}
	c, err := Load(home)
	if err != nil {
		t.Fatal(err)
	}
	want, err := readValidatorKey(c.Comet.PrivValidatorKeyFile())
	if err != nil {
		t.Fatal(err)
	}
	// The key moves to the signer's folder; the node's config names the
	// address the signer connects to.
	signerDir := t.TempDir()
	keyFile, stateFile := filepath.Join(signerDir, "key.json"), filepath.Join(signerDir, "state.json")
	for from, to := range map[string]string{c.Comet.PrivValidatorKeyFile(): keyFile, c.Comet.PrivValidatorStateFile(): stateFile} {
		if err := os.Rename(from, to); err != nil {
			t.Fatal(err)
		}
	}
	laddr := "tcp://" + testnode.FreeAddr(t)
	c.Comet.PrivValidatorListenAddr = laddr
	if err := c.write(); err != nil {
		t.Fatal(err)
	}
	opts := MemberOptions{ChainID: "c", Address: "10.9.0.1:26656", SignerWait: 500 * time.Millisecond}
	if _, err := Member(home, opts); err == nil || !strings.Contains(err.Error(), "none connected") || !strings.Contains(err.Error(), "cityid signer --chain-id c --node "+laddr) {
		t.Fatalf("member with no signer: %v, want an error naming the signer to start", err)
	}
	var signerLog lockedBuffer
	runSigner := func(chainID string) (stop func()) {
		return startSigner(t, SignerOptions{KeyFile: keyFile, StateFile: stateFile, ChainID: chainID, Node: laddr}, slog.New(slog.NewTextHandler(&signerLog, nil)))
	}
	stop := runSigner("another-chain")
	opts.SignerWait = 20 * time.Second
	_, err = Member(home, opts)
	stop()
	if err == nil {
		t.Fatal("a signer for another chain signed the member file")
	}
	stop = runSigner("c")
	var told, connected string
	opts.Waiting = func(a string) { told = a }
	opts.Connected = func(address, pubKey string) { connected = "address=" + address + " pub_key=" + pubKey }
	m, err := Member(home, opts)
	stop()
	if err != nil {
		t.Fatal(err)
	}
	if told != laddr {
		t.Errorf("member said it waits on %q, want %q", told, laddr)
	}
	if m.ValidatorKey != hex.EncodeToString(want.PubKey.Bytes()) {
		t.Errorf("member file's validator key %s, want the signer's %X", m.ValidatorKey, want.PubKey.Bytes())
	}
	// What member tells of the signer that connected is what the signer
	// logged at its start, in the same form, for the operator to compare.
	wantTold := "address=" + want.PubKey.Address().String() + " pub_key=" + m.ValidatorKey
	if connected != wantTold || !strings.Contains(signerLog.String(), `msg="signing for the validator"`) || !strings.Contains(signerLog.String(), wantTold) {
		t.Errorf("member told of the signer %q, and the signer logged %q; want both to hold %q", connected, signerLog.String(), wantTold)
	}

	// Pinned, the right key is taken, in upper case hex too; another
	// (the key of a signer that connected first) is refused, naming both,
	// before anything is signed.
	other := hex.EncodeToString(cmted25519.GenPrivKey().PubKey().Bytes())
	for _, pin := range []string{m.ValidatorKey, strings.ToUpper(m.ValidatorKey), other} {
		stop = runSigner("c")
		pinned := opts
		pinned.Waiting, pinned.Connected = nil, nil
		pinned.ValidatorKey = pin
		got, err := Member(home, pinned)
		stop()
		if pin == other {
			if err == nil || !strings.Contains(err.Error(), "the validator key of the remote signer that connected to "+laddr+" (another signer than yours?) is "+m.ValidatorKey) || !strings.Contains(err.Error(), "not "+other+" (address ") {
				t.Errorf("member pinned to another key: %+v, %v; want a refusal naming both keys", got, err)
			}
			continue
		}
		if err != nil || got != m {
			t.Errorf("member pinned to the signer's key %s: %+v, %v; want %+v", pin, got, err, m)
		}
	}
	if _, err := Member(home, MemberOptions{ChainID: "c", ValidatorKey: "not-a-key"}); err == nil || !strings.Contains(err.Error(), "--validator-key") {
		t.Errorf("member pinned to a malformed key: %v", err)
	}
	collector := filepath.Join(t.TempDir(), "c")
	if _, err := Init(collector, InitOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := Collect(collector, CollectOptions{ChainID: "c", GenesisTime: time.Date(2027, 1, 4, 8, 0, 0, 0, time.UTC), MemberFiles: writeMembers(t, dir, m)}); err != nil {
		t.Fatalf("collect of the file the remote signer signed: %v", err)
	}
}

// The signer signs, outside consensus, only a member message of its own
// chain: CometBFT's SignBytes request would otherwise sign anything, a
// vote or a proposal too, past the state file's double-sign checks.
func TestSignerSignsOnlyMemberFiles(t *testing.T) {
	dir := t.TempDir()
	pv, err := privval.GenFilePV(filepath.Join(dir, "key.json"), filepath.Join(dir, "state.json"), func() (cmtcrypto.PrivKey, error) { return cmted25519.GenPrivKey(), nil })
	if err != nil {
		t.Fatal(err)
	}
	guarded := memberOnlyPV{FilePV: pv, chainID: "c"}
	m := GenesisMember{ChainID: "c", Moniker: "a", NodeID: strings.Repeat("ab", 20), NodeKey: strings.Repeat("01", 32), Address: "10.9.0.1:26656", ValidatorKey: strings.Repeat("02", 32), Operator: strings.Repeat("03", 32)}
	msg := memberMessage(m)
	sig, err := guarded.SignBytes(msg)
	if err != nil || !pv.Key.PubKey.VerifySignature(msg, sig) {
		t.Fatalf("member message: %x, %v; want its signature", sig, err)
	}
	other := m
	other.ChainID = "d"
	vote := &cmtproto.Vote{Type: cmtproto.PrevoteType, Height: 7, BlockID: cmtproto.BlockID{Hash: make([]byte, 32), PartSetHeader: cmtproto.PartSetHeader{Total: 1, Hash: make([]byte, 32)}}}
	proposal := &cmtproto.Proposal{Type: cmtproto.ProposalType, Height: 7, PolRound: -1}
	for name, b := range map[string][]byte{
		"vote":              types.VoteSignBytes("c", vote),
		"proposal":          types.ProposalSignBytes("c", proposal),
		"vote extension":    types.VoteExtensionSignBytes("c", vote),
		"another chain":     memberMessage(other),
		"trailing bytes":    append(memberMessage(m), 0),
		"cut short":         msg[:len(msg)-1],
		"the domain alone":  []byte(memberDomain),
		"the older domain":  append([]byte("cityid genesis member v2\n"), msg[len(memberDomain):]...),
		"no bytes":          nil,
		"a length too long": append([]byte(memberDomain), 0xff, 0xff, 0xff, 0xff),
	} {
		if sig, err := guarded.SignBytes(b); err == nil {
			t.Errorf("%s: signed (%x)", name, sig)
		}
	}
}

// lockedBuffer is a log a signer's goroutines write while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A signer's command names the node's address as the signer's machine
// dials it: a priv_validator_laddr on every address is none, so it names
// NODE-HOST and says what to put there; with the key and state files.
func TestSignerCommand(t *testing.T) {
	for laddr, want := range map[string]string{
		"tcp://10.0.0.5:26659": "--node tcp://10.0.0.5:26659 ",
		"tcp://0.0.0.0:26659":  "--node tcp://NODE-HOST:26659 ",
		"tcp://[::]:26659":     "--node tcp://NODE-HOST:26659 ",
		"tcp://:26659":         "--node tcp://NODE-HOST:26659 ",
		"unix:///run/pv.sock":  "--node unix:///run/pv.sock ",
	} {
		cmd, note := SignerCommand("c", laddr)
		if !strings.HasPrefix(cmd, "cityid signer --chain-id c ") || !strings.Contains(cmd, want) || !strings.Contains(cmd, "--key ") || !strings.Contains(cmd, "--state ") {
			t.Errorf("%s: %q, want the whole command with %q", laddr, cmd, want)
		}
		if unspecified := strings.Contains(want, "NODE-HOST"); unspecified != strings.Contains(note, "NODE-HOST is this machine's address") {
			t.Errorf("%s: note %q", laddr, note)
		}
	}
}
