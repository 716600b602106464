package node

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	cmtproto "github.com/cometbft/cometbft/api/cometbft/types/v1"
	cmtcrypto "github.com/cometbft/cometbft/crypto"
	cmted25519 "github.com/cometbft/cometbft/crypto/ed25519"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	"github.com/cometbft/cometbft/privval"

	"github.com/cityid/cityid/client"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/testnode"
)

// TestRemoteSigner: a validator whose key lives only with a separate
// signer (priv_validator_laddr on the node, RunSigner beside it) commits
// blocks with the signer's signatures; the signer's state file records
// what it signed and it refuses to sign again, differently, for a height
// it already signed (no double sign).
func TestRemoteSigner(t *testing.T) {
	laddr := "tcp://" + testnode.FreeAddr(t)
	var keyFile, stateFile string
	signerDir := t.TempDir()
	var stopSigner func()
	_, cl, home := startNode(t, func(c *Config) {
		// The validator's key moves to the signer: the node keeps none.
		keyFile, stateFile = filepath.Join(signerDir, "priv_validator_key.json"), filepath.Join(signerDir, "priv_validator_state.json")
		for from, to := range map[string]string{c.Comet.PrivValidatorKeyFile(): keyFile, c.Comet.PrivValidatorStateFile(): stateFile} {
			if err := os.Rename(from, to); err != nil {
				t.Fatal(err)
			}
		}
		c.Comet.PrivValidatorListenAddr = laddr
		gen, err := os.ReadFile(c.Comet.GenesisFile())
		if err != nil {
			t.Fatal(err)
		}
		stopSigner = startSigner(t, SignerOptions{KeyFile: keyFile, StateFile: stateFile, ChainID: chainIDOf(t, gen), Node: laddr}, nil)
	})
	defer stopSigner()
	// Blocks come once the signer has connected and signs.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if st, err := cl.Status(context.Background()); err == nil && st.Height >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no block in 30 s with the remote signer")
		}
	}
	// The node commits a write, with the signer's votes.
	op, err := LoadKey(home, OperatorKey)
	if err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer wcancel()
	ans, err := cl.Send(wctx, op.Private, client.KindApplyCity, registry.ApplyCity{Country: "156", CityNumber: "130100", Name: "石家庄市"})
	if err != nil || ans.Height < 1 {
		t.Fatalf("a write through a node whose key is with its signer: %+v %v", ans, err)
	}
	if _, err := os.Stat(filepath.Join(home, "config", "priv_validator_key.json")); err == nil {
		t.Error("the node's home holds the validator key")
	}
	// The signer's state says what it signed; a conflicting vote at or
	// below it is refused.
	pv := privval.LoadFilePV(keyFile, stateFile)
	last := pv.LastSignState.Height
	if last < ans.Height {
		t.Fatalf("the signer's state is at height %d, the write committed at %d", last, ans.Height)
	}
	chainID := chainIDOf(t, mustRead(t, filepath.Join(home, "config", "genesis.json")))
	for _, h := range []int64{last, last - 1} {
		vote := &cmtproto.Vote{Type: cmtproto.PrevoteType, Height: h, Round: 0,
			BlockID: cmtproto.BlockID{Hash: make([]byte, 32), PartSetHeader: cmtproto.PartSetHeader{Total: 1, Hash: make([]byte, 32)}}}
		if err := pv.SignVote(chainID, vote, false); err == nil {
			t.Errorf("the signer signed another vote for height %d, at or below the %d it had signed", h, last)
		}
	}
}

// startSigner runs RunSigner with o, logging to log (nil: nowhere), until
// the stop it returns, which fails the test if the signer ends with an
// error or does not end.
func startSigner(t *testing.T, o SignerOptions, log *slog.Logger) (stop func()) {
	t.Helper()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- RunSigner(ctx, o, log) }()
	return func() {
		t.Helper()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("signer: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("the signer did not stop")
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// chainIDOf reads a genesis file's chain ID.
func chainIDOf(t *testing.T, genesis []byte) string {
	t.Helper()
	var g struct {
		ChainID string `json:"chain_id"`
	}
	if err := json.Unmarshal(genesis, &g); err != nil || g.ChainID == "" {
		t.Fatalf("genesis: %v", err)
	}
	return g.ChainID
}

// TestSignerRedialsARestartedNode: when the node's end of the connection
// closes (the node stopped, or restarted for an upgrade), the signer dials
// again, without spinning on the dead connection meanwhile, and signs for
// the node that listens next at the same address.
func TestSignerRedialsARestartedNode(t *testing.T) {
	dir := t.TempDir()
	keyFile, stateFile := filepath.Join(dir, "key.json"), filepath.Join(dir, "state.json")
	pv, err := privval.GenFilePV(keyFile, stateFile, func() (cmtcrypto.PrivKey, error) { return cmted25519.GenPrivKey(), nil })
	if err != nil {
		t.Fatal(err)
	}
	pv.Save()
	laddr := "tcp://" + testnode.FreeAddr(t)
	const chainID = "redial"
	defer startSigner(t, SignerOptions{KeyFile: keyFile, StateFile: stateFile, ChainID: chainID, Node: laddr}, nil)()
	node := func(round int) {
		endpoint, err := privval.NewSignerListener(laddr, cmtlog.NewNopLogger())
		if err != nil {
			t.Fatal(err)
		}
		defer endpoint.Stop()
		cl, err := privval.NewSignerClient(endpoint, chainID)
		if err != nil {
			t.Fatal(err)
		}
		if err := cl.WaitForConnection(10 * time.Second); err != nil {
			t.Fatalf("node %d: no signer connected: %v", round, err)
		}
		if _, err := cl.GetPubKey(); err != nil {
			t.Fatalf("node %d: the signer's key: %v", round, err)
		}
	}
	node(0)
	// The node is gone: the signer redials every tenth of a second, and
	// does nothing else.
	cpu0 := processCPUTime(t)
	time.Sleep(time.Second)
	if used := processCPUTime(t) - cpu0; used > 300*time.Millisecond {
		t.Errorf("with no node to sign for, the process used %s of CPU in a second", used)
	}
	node(1)
}

// processCPUTime is the CPU time this process has used.
func processCPUTime(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestNodeWaitsForItsSigner: a validator node started before its remote
// signer waits for it, as the docs say, rather than giving up after
// CometBFT's 3 s, and makes blocks once the signer connects.
func TestNodeWaitsForItsSigner(t *testing.T) {
	laddr := "tcp://" + testnode.FreeAddr(t)
	signerDir := t.TempDir()
	stops := make(chan func(), 1)
	late := 4 * time.Second
	r, cl, _ := startNode(t, func(c *Config) {
		keyFile, stateFile := filepath.Join(signerDir, "priv_validator_key.json"), filepath.Join(signerDir, "priv_validator_state.json")
		for from, to := range map[string]string{c.Comet.PrivValidatorKeyFile(): keyFile, c.Comet.PrivValidatorStateFile(): stateFile} {
			if err := os.Rename(from, to); err != nil {
				t.Fatal(err)
			}
		}
		c.Comet.PrivValidatorListenAddr = laddr
		o := SignerOptions{KeyFile: keyFile, StateFile: stateFile, ChainID: chainIDOf(t, mustRead(t, c.Comet.GenesisFile())), Node: laddr}
		go func() {
			time.Sleep(late)
			stops <- startSigner(t, o, nil)
		}()
	})
	defer func() { (<-stops)() }()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if st, err := cl.Status(context.Background()); err == nil && st.Height >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no block in 30 s with a remote signer started %s after the node", late)
		}
	}
	// A stopped node no longer listens for its signer.
	if err := r.Stop(); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", strings.TrimPrefix(laddr, "tcp://"))
	if err != nil {
		t.Fatalf("the stopped node still holds priv_validator_laddr: %v", err)
	}
	ln.Close()
}
