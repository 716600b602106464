package node

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cometbft/cometbft/types"

	"github.com/cityid/cityid/internal/chain"
	"github.com/cityid/cityid/internal/testnode"
)

// setGenesisAppVersion rewrites the genesis of c with consensus_params
// version.app v, as a genesis of another cityid release has it (0: one
// made before genesis files carried the version).
func setGenesisAppVersion(t *testing.T, c *Config, v uint64) {
	t.Helper()
	gen, err := types.GenesisDocFromFile(c.Comet.GenesisFile())
	if err != nil {
		t.Fatal(err)
	}
	gen.ConsensusParams.Version.App = v
	if err := gen.SaveAs(c.Comet.GenesisFile()); err != nil {
		t.Fatal(err)
	}
}

// A new genesis carries the application version this cityid starts a
// chain at, whether init or collect wrote it.
func TestNewGenesisCarriesAppVersion(t *testing.T) {
	home := filepath.Join(t.TempDir(), "h")
	if _, err := Init(home, InitOptions{}); err != nil {
		t.Fatal(err)
	}
	m, err := Member(home, MemberOptions{ChainID: "c", Address: "10.9.0.1:26656"})
	if err != nil {
		t.Fatal(err)
	}
	collector := filepath.Join(t.TempDir(), "c")
	if _, err := Init(collector, InitOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := Collect(collector, CollectOptions{ChainID: "c", GenesisTime: time.Date(2027, 1, 4, 8, 0, 0, 0, time.UTC), MemberFiles: writeMembers(t, t.TempDir(), m)}); err != nil {
		t.Fatal(err)
	}
	for name, h := range map[string]string{"init": home, "collect": collector} {
		gen, err := types.GenesisDocFromFile(filepath.Join(h, "config", "genesis.json"))
		if err != nil {
			t.Fatal(err)
		}
		if got := gen.ConsensusParams.Version.App; got != chain.AppVersion {
			t.Errorf("%s's genesis has version.app %d, want %d", name, got, chain.AppVersion)
		}
	}
}

// A genesis made by a cityid of another application version is refused
// at start, naming both versions and what to run, before any block: a
// network whose nodes ran both would stall at height 1. A genesis made
// before genesis files carried the version (0) starts and makes blocks
// as it did.
func TestGenesisAppVersionAtStart(t *testing.T) {
	other := chain.AppVersion - 1
	home := filepath.Join(t.TempDir(), "home")
	if _, err := Init(home, InitOptions{HTTP: testnode.FreeAddr(t), RPC: "tcp://" + testnode.FreeAddr(t),
		P2P: "tcp://" + testnode.FreeAddr(t), DNS: "off"}); err != nil {
		t.Fatal(err)
	}
	c, err := Load(home)
	if err != nil {
		t.Fatal(err)
	}
	c.Log.Level = "error"
	setGenesisAppVersion(t, c, other)
	r, err := Start(context.Background(), c, NewLogger(c.Log, testWriter{t}))
	if err == nil {
		_ = r.Stop()
		t.Fatalf("a node started a genesis of application version %d", other)
	}
	for _, want := range []string{
		fmt.Sprintf("the genesis is for application version %d", other),
		fmt.Sprintf("starts chains at application version %d", chain.AppVersion),
		"run the cityid release that made the genesis",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("start of a version %d genesis: %v; want it to say %q", other, err, want)
		}
	}

	_, cl, _ := startNode(t, func(c *Config) { setGenesisAppVersion(t, c, 0) })
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := cl.Status(context.Background())
		if err == nil && st.Height >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a genesis without an application version made no blocks: %+v, %v", st, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
