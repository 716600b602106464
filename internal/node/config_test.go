package node

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cometbft/cometbft/types"

	"github.com/cityid/cityid/internal/keyring"
	"github.com/cityid/cityid/internal/registry"
)

func TestInit(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	res, err := Init(home, InitOptions{HTTP: "127.0.0.1:9999", RPC: "tcp://127.0.0.1:9998"})
	if err != nil {
		t.Fatal(err)
	}
	op, err := keyring.Load(home, OperatorKey)
	if err != nil {
		t.Fatal(err)
	}
	if res.Operator != op.Public() || res.ChainID != DefaultChainID {
		t.Fatalf("init result %+v", res)
	}
	gen, err := types.GenesisDocFromFile(filepath.Join(home, "config", "genesis.json"))
	if err != nil {
		t.Fatal(err)
	}
	var app registry.Genesis
	if err := json.Unmarshal(gen.AppState, &app); err != nil {
		t.Fatal(err)
	}
	if gen.ChainID != "cityid-local" || len(gen.Validators) != 1 ||
		len(app.Authority.Members) != 1 || app.Authority.Members[0] != op.Public() || app.Authority.Threshold != 1 {
		t.Fatalf("genesis: chain %s, %d validators, authority %+v", gen.ChainID, len(gen.Validators), app.Authority)
	}
	c, err := Load(home)
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.Listen != "127.0.0.1:9999" || c.Comet.RPC.ListenAddress != "tcp://127.0.0.1:9998" || c.Comet.P2P.ListenAddress != DefaultP2PAddr {
		t.Fatalf("loaded http %s rpc %s p2p %s", c.HTTP.Listen, c.Comet.RPC.ListenAddress, c.Comet.P2P.ListenAddress)
	}
	// A home is never initialised twice.
	if _, err := Init(home, InitOptions{}); err == nil || !strings.Contains(err.Error(), "already holds a CityID node") {
		t.Fatalf("second init: %v", err)
	}
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "notes.txt"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Init(other, InitOptions{}); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("init over a non-empty folder: %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	if _, err := Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "cityid init") {
		t.Fatalf("load of an empty home: %v", err)
	}
	home := filepath.Join(t.TempDir(), "h")
	if _, err := Init(home, InitOptions{}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(home, "config", "cityid.toml")
	for _, c := range []struct{ body, want string }{
		{"[log]\nlevel = \"loud\"\n", `log.level "loud"`},
		{"[http]\nlisten = \"\"\n", "http.listen is empty"},
		{"[http\n", "cityid.toml"},
	} {
		if err := os.WriteFile(file, []byte(c.body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(home); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("config %q: %v, want an error mentioning %q", c.body, err, c.want)
		}
	}
}
