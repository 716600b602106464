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
		if _, err := Member(home, MemberOptions{ChainID: "cityid-pilot"}); err == nil {
			t.Fatal("a member file with no address was made")
		}
		if _, err := Member(home, MemberOptions{Address: "10.9.0.1:26656"}); err == nil || !strings.Contains(err.Error(), "--chain-id") {
			t.Fatalf("a member file with no chain ID: %v", err)
		}
		if _, err := Member(home, MemberOptions{ChainID: strings.Repeat("c", 51), Address: "10.9.0.1:26656"}); err == nil || !strings.Contains(err.Error(), "more than CometBFT's 50") {
			t.Fatalf("a member file for a chain ID CometBFT refuses: %v", err)
		}
		m, err := Member(home, MemberOptions{ChainID: "cityid-pilot", Address: fmt.Sprintf("10.9.0.%d:26656", 10+i)})
		if err != nil {
			t.Fatal(err)
		}
		// Asked again, the address is the one written in the config.
		if again, err := Member(home, MemberOptions{ChainID: "cityid-pilot"}); err != nil || again != m {
			t.Fatalf("member file again: %+v, %v; want %+v", again, err, m)
		}
		members = append(members, m)
	}
	files := writeMembers(t, dir, members...)
	at := time.Date(2027, 1, 4, 8, 0, 0, 0, time.UTC)
	var sums []string
	for i, home := range homes {
		order := slices.Clone(files)
		if i%2 == 1 {
			slices.Reverse(order)
		}
		res, err := Collect(home, CollectOptions{ChainID: "cityid-pilot", GenesisTime: at, MemberFiles: order})
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

// writeMembers writes each member's file into dir as member-<i>.json, as
// `genesis member` prints it, and returns their paths.
func writeMembers(t *testing.T, dir string, members ...GenesisMember) []string {
	t.Helper()
	var paths []string
	for _, m := range members {
		b, err := json.MarshalIndent(m, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, writeMemberText(t, dir, string(b)))
	}
	return paths
}

// writeMemberText writes text as the next member file in dir.
func writeMemberText(t *testing.T, dir, text string) string {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(dir, "member-*.json"))
	path := filepath.Join(dir, fmt.Sprintf("member-%d.json", len(names)))
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Collect refuses what would make a network no one meant: a member file
// given twice, a bad key, a missing chain ID or time, and a home that has
// run a chain already. Each refusal of a member names its file.
func TestGenesisCollectRefuses(t *testing.T) {
	dir := t.TempDir()
	home := filepath.Join(dir, "h")
	if _, err := Init(home, InitOptions{}); err != nil {
		t.Fatal(err)
	}
	m, err := Member(home, MemberOptions{ChainID: "c", Address: "10.9.0.10:26656"})
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
	files := writeMembers(t, dir, m, bad, noAddr, longName, escName)
	for _, tc := range []struct {
		name  string
		opts  CollectOptions
		wants []string
	}{
		{"twice", CollectOptions{ChainID: "c", GenesisTime: at, MemberFiles: []string{files[0], files[0]}}, []string{"the same node ID", files[0] + " (moniker cityid-node) and member file " + files[0]}},
		{"bad_key", CollectOptions{ChainID: "c", GenesisTime: at, MemberFiles: files[1:2]}, []string{"member file " + files[1] + " (moniker cityid-node): validator key"}},
		{"bad_address", CollectOptions{ChainID: "c", GenesisTime: at, MemberFiles: files[2:3]}, []string{files[2], "address"}},
		{"long_moniker", CollectOptions{ChainID: "c", GenesisTime: at, MemberFiles: files[3:4]}, []string{"member file " + files[3] + ": moniker is 71 bytes, more than 70"}},
		{"moniker_escape", CollectOptions{ChainID: "c", GenesisTime: at, MemberFiles: files[4:5]}, []string{files[4], "control"}},
		{"no_file", CollectOptions{ChainID: "c", GenesisTime: at, MemberFiles: []string{filepath.Join(dir, "none.json")}}, []string{"member file " + filepath.Join(dir, "none.json")}},
		{"no_chain_id", CollectOptions{GenesisTime: at, MemberFiles: files[:1]}, []string{"chain ID"}},
		{"no_time", CollectOptions{ChainID: "c", MemberFiles: files[:1]}, []string{"genesis time"}},
		{"none", CollectOptions{ChainID: "c", GenesisTime: at}, []string{"member files"}},
	} {
		_, err := Collect(home, tc.opts)
		for _, want := range tc.wants {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %v, want an error saying %q", tc.name, err, want)
			}
		}
	}
	// What a started node leaves in data/.
	if err := os.Mkdir(filepath.Join(home, "data", "blockstore.db"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := Collect(home, CollectOptions{ChainID: "c", GenesisTime: at, MemberFiles: files[:1]}); err == nil || !strings.Contains(err.Error(), "has run a chain already") {
		t.Errorf("collect into a started home: %v", err)
	}
}

// A member file is signed with the validator key it names: a file naming
// another institute's validator key (to take its seat, or to send its
// peers to another address), or one changed on the way, is refused,
// naming the file; the file as made passes.
func TestGenesisCollectRefusesForgedMember(t *testing.T) {
	dir := t.TempDir()
	var members []GenesisMember
	for i := range 2 {
		home := filepath.Join(dir, fmt.Sprintf("h%d", i))
		if _, err := Init(home, InitOptions{}); err != nil {
			t.Fatal(err)
		}
		m, err := Member(home, MemberOptions{ChainID: "c", Address: fmt.Sprintf("10.9.0.%d:26656", 10+i)})
		if err != nil {
			t.Fatal(err)
		}
		members = append(members, m)
	}
	victim, forger := members[0], members[1]
	// The forger's own file, with the victim's validator key in it.
	stolen := forger
	stolen.ValidatorKey = victim.ValidatorKey
	// The victim's file, sent on with the forger's address.
	moved := victim
	moved.Address = forger.Address
	// The victim's file with the forger's operator key: a seat in the
	// authority for the forger.
	seat := victim
	seat.Operator = forger.Operator
	unsigned := victim
	unsigned.Signature = ""
	short := victim
	short.Signature = victim.Signature[:64]
	// Signed for another chain, then given to this one's collect as it
	// is, and with the chain changed.
	elsewhere, err := Member(filepath.Join(dir, "h0"), MemberOptions{ChainID: "cityid-testnet"})
	if err != nil {
		t.Fatal(err)
	}
	relabelled := elsewhere
	relabelled.ChainID = "c"
	// A file of an older cityid names no chain.
	older := victim
	older.ChainID = ""
	olderFile := writeMembers(t, dir, older)[0]
	forged := writeMembers(t, dir, stolen, moved, seat, unsigned, short, relabelled)
	old := writeMembers(t, dir, elsewhere)[0]
	good := writeMembers(t, dir, victim, forger)
	at := time.Date(2027, 1, 4, 8, 0, 0, 0, time.UTC)
	for _, f := range forged {
		collector := filepath.Join(t.TempDir(), "c")
		if _, err := Init(collector, InitOptions{}); err != nil {
			t.Fatal(err)
		}
		_, err := Collect(collector, CollectOptions{ChainID: "c", GenesisTime: at, MemberFiles: []string{good[1], f}})
		if err == nil || !strings.Contains(err.Error(), "member file "+f+" (moniker cityid-node): the signature is not the validator key's") {
			t.Errorf("forged member file %s: %v, want a refusal naming it", f, err)
		}
	}
	collector := filepath.Join(t.TempDir(), "c")
	if _, err := Init(collector, InitOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := Collect(collector, CollectOptions{ChainID: "c", GenesisTime: at, MemberFiles: []string{good[1], old}}); err == nil ||
		!strings.Contains(err.Error(), "member file "+old+` (moniker cityid-node) was made for chain "cityid-testnet", not "c"`) {
		t.Errorf("a member file made for another chain: %v, want a refusal naming it and both chains", err)
	}
	if _, err := Collect(collector, CollectOptions{ChainID: "c", GenesisTime: at, MemberFiles: []string{good[1], olderFile}}); err == nil ||
		!strings.Contains(err.Error(), "member file "+olderFile+" (moniker cityid-node) names no chain: it was made by an older cityid") {
		t.Errorf("a member file that names no chain: %v", err)
	}
	if _, err := Collect(collector, CollectOptions{ChainID: "c", GenesisTime: at, MemberFiles: good}); err != nil {
		t.Fatalf("the members' own files: %v", err)
	}
}

// A member file is read as genesis member wrote it: a misspelt field, a
// field in another case, a field given twice, or something after the
// object is refused, naming the file, never ignored.
func TestReadMemberFileIsStrict(t *testing.T) {
	dir := t.TempDir()
	home := filepath.Join(dir, "h")
	if _, err := Init(home, InitOptions{}); err != nil {
		t.Fatal(err)
	}
	m, err := Member(home, MemberOptions{ChainID: "c", Address: "10.9.0.10:26656"})
	if err != nil {
		t.Fatal(err)
	}
	file := writeMembers(t, dir, m)[0]
	if got, err := ReadMemberFile(file); err != nil || got != m {
		t.Fatalf("ReadMemberFile of genesis member's file: %+v, %v; want %+v", got, err, m)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, tc := range []struct{ name, text, want string }{
		{"misspelt", strings.Replace(text, `"operator"`, `"operater"`, 1), `"operater" is not a field of a member file (chain_id, moniker`},
		{"other case", strings.Replace(text, `"address"`, `"Address"`, 1), `"Address" is not a field of a member file`},
		{"twice", strings.Replace(text, `"moniker": "cityid-node"`, `"moniker": "cityid-node", "moniker": "other"`, 1), `field "moniker" is given twice`},
		{"not text", strings.Replace(text, `"moniker": "cityid-node"`, `"moniker": 7`, 1), `field "moniker" is not text`},
		{"trailing", text + "{}", "after top-level value"},
		{"not json", "moniker=cityid-node", "invalid character"},
		{"large", `{"moniker":"` + strings.Repeat("x", 5000) + `"}`, "larger than 4096 bytes"},
	} {
		path := writeMemberText(t, dir, tc.text)
		if _, err := ReadMemberFile(path); err == nil || !strings.Contains(err.Error(), "member file "+path) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error naming %s and saying %q", tc.name, err, path, tc.want)
		}
	}
}
