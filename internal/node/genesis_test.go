package node

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cometbft/cometbft/types"

	"github.com/cityid/cityid/internal/registry"
)

// Four institutes, each with its own home, exchange member files and run
// the same collect in whatever order they list the files: every home gets
// the same genesis (the four validators, the authority of their operator
// keys, 3 of 4) and the other three as persistent peers; a city's full
// node, not a member, gets the same genesis and all four as peers.
func TestGenesisCollect(t *testing.T) {
	dir := t.TempDir()
	var homes []string
	var members []GenesisMember
	for i := range 5 {
		home := filepath.Join(dir, fmt.Sprintf("h%d", i))
		if _, err := Init(home, InitOptions{Moniker: fmt.Sprintf("inst%d", i)}); err != nil {
			t.Fatal(err)
		}
		homes = append(homes, home)
		if i == 4 {
			break // the city's full node publishes nothing
		}
		if _, err := Member(home, ""); err == nil {
			t.Fatal("a member file with no address was made")
		}
		m, err := Member(home, fmt.Sprintf("10.9.0.%d:26656", 10+i))
		if err != nil {
			t.Fatal(err)
		}
		// Asked again, the address is the one written in the config.
		if again, err := Member(home, ""); err != nil || again != m {
			t.Fatalf("member file again: %+v, %v; want %+v", again, err, m)
		}
		members = append(members, m)
	}
	at := time.Date(2027, 1, 4, 8, 0, 0, 0, time.UTC)
	var sums []string
	for i, home := range homes {
		order := slices.Clone(members)
		if i%2 == 1 {
			slices.Reverse(order)
		}
		res, err := Collect(home, CollectOptions{ChainID: "cityid-pilot", GenesisTime: at, Members: order})
		if err != nil {
			t.Fatal(err)
		}
		sums = append(sums, res.GenesisSHA256)
		wantPeers := 3
		if i == 4 {
			wantPeers = 4
		}
		if res.Validator != (i < 4) || len(res.Peers) != wantPeers || res.Validators != 4 || res.Threshold != 3 {
			t.Errorf("home %d: %+v; want validator %v, %d peers, 4 validators, threshold 3", i, res, i < 4, wantPeers)
		}
		c, err := Load(home)
		if err != nil {
			t.Fatal(err)
		}
		for j, m := range members {
			peer := m.NodeID + "@" + m.Address
			if in := strings.Contains(c.Comet.P2P.PersistentPeers, peer); in == (i == j) {
				t.Errorf("home %d: persistent_peers %q, peer %s in it: %v", i, c.Comet.P2P.PersistentPeers, peer, in)
			}
		}
		if len(c.Data.Cities) != 0 {
			t.Errorf("home %d keeps the datasets of cities %v, want only those naming it", i, c.Data.Cities)
		}
	}
	for i, s := range sums {
		if s != sums[0] {
			t.Fatalf("home %d's genesis hash %s differs from home 0's %s", i, s, sums[0])
		}
	}
	gen, err := types.GenesisDocFromFile(filepath.Join(homes[0], "config", "genesis.json"))
	if err != nil {
		t.Fatal(err)
	}
	var app registry.Genesis
	if err := json.Unmarshal(gen.AppState, &app); err != nil {
		t.Fatal(err)
	}
	if gen.ChainID != "cityid-pilot" || !gen.GenesisTime.Equal(at) || len(gen.Validators) != 4 || len(app.Authority.Members) != 4 || app.Authority.Threshold != 3 {
		t.Fatalf("genesis: chain %s, time %s, %d validators, authority %+v", gen.ChainID, gen.GenesisTime, len(gen.Validators), app.Authority)
	}
	for _, m := range members {
		if !slices.Contains(app.Authority.Members, m.Operator) {
			t.Errorf("operator %s of %s is not in the authority", m.Operator, m.Moniker)
		}
	}
}

// Collect refuses what would make a network no one meant: a member file
// given twice, a bad key, a missing chain ID or time, and a home that has
// run a chain already.
func TestGenesisCollectRefuses(t *testing.T) {
	dir := t.TempDir()
	home := filepath.Join(dir, "h")
	if _, err := Init(home, InitOptions{}); err != nil {
		t.Fatal(err)
	}
	m, err := Member(home, "10.9.0.10:26656")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2027, 1, 4, 8, 0, 0, 0, time.UTC)
	bad := m
	bad.ValidatorKey = "00"
	noAddr := m
	noAddr.Address = "nowhere"
	longName, escName := m, m
	longName.Moniker = strings.Repeat("n", 71)
	escName.Moniker = "node\x1b[31m"
	for _, tc := range []struct {
		name string
		opts CollectOptions
		want string
	}{
		{"twice", CollectOptions{ChainID: "c", GenesisTime: at, Members: []GenesisMember{m, m}}, "the same node ID"},
		{"bad_key", CollectOptions{ChainID: "c", GenesisTime: at, Members: []GenesisMember{bad}}, "validator key"},
		{"bad_address", CollectOptions{ChainID: "c", GenesisTime: at, Members: []GenesisMember{noAddr}}, "address"},
		{"long_moniker", CollectOptions{ChainID: "c", GenesisTime: at, Members: []GenesisMember{longName}}, "more than 70"},
		{"moniker_escape", CollectOptions{ChainID: "c", GenesisTime: at, Members: []GenesisMember{escName}}, "control"},
		{"no_chain_id", CollectOptions{GenesisTime: at, Members: []GenesisMember{m}}, "chain ID"},
		{"no_time", CollectOptions{ChainID: "c", Members: []GenesisMember{m}}, "genesis time"},
		{"none", CollectOptions{ChainID: "c", GenesisTime: at}, "member files"},
	} {
		if _, err := Collect(home, tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.want)
		}
	}
	// What a started node leaves in data/.
	if err := os.Mkdir(filepath.Join(home, "data", "blockstore.db"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := Collect(home, CollectOptions{ChainID: "c", GenesisTime: at, Members: []GenesisMember{m}}); err == nil || !strings.Contains(err.Error(), "has run a chain already") {
		t.Errorf("collect into a started home: %v", err)
	}
}
