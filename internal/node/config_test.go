package node

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cometbft/cometbft/types"

	"github.com/cityid/cityid/client"
	"github.com/cityid/cityid/internal/dnsfront"
	"github.com/cityid/cityid/internal/keyring"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/wire"
)

func TestInit(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	res, err := Init(home, InitOptions{HTTP: "127.0.0.1:9999", RPC: "tcp://127.0.0.1:9998"})
	if err != nil {
		t.Fatal(err)
	}
	op, err := LoadKey(home, OperatorKey)
	if err != nil {
		t.Fatal(err)
	}
	// The keys' generated passphrase is beside them, owner-only, and
	// named in [keys] (relative, so that a moved home keeps working).
	if res.PassphraseFile != filepath.Join(home, "config", "passphrase") {
		t.Fatalf("passphrase file %q", res.PassphraseFile)
	}
	if fi, err := os.Stat(res.PassphraseFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("passphrase file: %v %v", fi, err)
	}
	if p, err := keyring.ReadPassphraseFile(res.PassphraseFile); err != nil || !keyring.IsGenerated(p) {
		t.Fatalf("passphrase %q: %v", p, err)
	}
	if c, err := Load(home); err != nil || c.Keys.PassphraseFile != "config/passphrase" || c.Keys.PassphraseEnv != "" {
		t.Fatalf("[keys] %+v: %v", c.Keys, err)
	}
	if _, err := keyring.Open(home, keyring.Options{}).Load(OperatorKey); !errors.Is(err, keyring.ErrNoPassphrase) {
		t.Fatalf("the operator key opened with no passphrase: %v", err)
	}
	if res.Operator != op.Public() || res.OperatorKept || !localChainID.MatchString(res.ChainID) {
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
	if gen.ChainID != res.ChainID || len(gen.Validators) != 1 ||
		len(app.Authority.Members) != 1 || app.Authority.Members[0] != op.Public() || app.Authority.Threshold != 1 {
		t.Fatalf("genesis: chain %s, %d validators, authority %+v", gen.ChainID, len(gen.Validators), app.Authority)
	}
	c, err := Load(home)
	if err != nil {
		t.Fatal(err)
	}
	if c.State != DefaultConfig(home).State {
		t.Fatalf("state settings read back as %+v, want the defaults %+v", c.State, DefaultConfig(home).State)
	}
	// Every setting the file documents is read back from it.
	file := filepath.Join(home, "config", "cityid.toml")
	body, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.NewReplacer("\ncache_mb = 256", "\ncache_mb = 32", "tree_cache_nodes = 200000", "tree_cache_nodes = 5000",
		"value_cache_mb = 1024", "value_cache_mb = 0").Replace(string(body))
	if edited == string(body) {
		t.Fatalf("cityid.toml does not document the state defaults:\n%s", body)
	}
	if err := os.WriteFile(file, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	if c2, err := Load(home); err != nil || c2.State != (StateConfig{CacheMB: 32, TreeCacheNodes: 5000, WriteBufferMB: 64, ValueCacheMB: 0}) {
		t.Fatalf("edited state settings: %+v, %v", c2.State, err)
	}
	if c.DNS.RateLimit() != dnsfront.DefaultRateLimit() {
		t.Fatalf("dns rate limit read back as %+v, want the defaults %+v", c.DNS.RateLimit(), dnsfront.DefaultRateLimit())
	}
	dnsEdited := strings.NewReplacer("responses_per_second = 20", "responses_per_second = 0", "slip = 2", "slip = 0",
		"window = 15", "window = 60", "ipv4_prefix = 24", "ipv4_prefix = 32", "ipv6_prefix = 56", "ipv6_prefix = 64").Replace(edited)
	if dnsEdited == edited {
		t.Fatalf("cityid.toml does not document the dns rate limit's defaults:\n%s", body)
	}
	if err := os.WriteFile(file, []byte(dnsEdited), 0o600); err != nil {
		t.Fatal(err)
	}
	if c2, err := Load(home); err != nil || c2.DNS.RateLimit() != (dnsfront.RateLimit{Window: time.Minute, IPv4Prefix: 32, IPv6Prefix: 64}) {
		t.Fatalf("edited dns settings: %+v, %v", c2.DNS, err)
	}
	if c.HTTP.Listen != "127.0.0.1:9999" || c.Comet.RPC.ListenAddress != "tcp://127.0.0.1:9998" || c.Comet.P2P.ListenAddress != wire.DefaultP2PAddr {
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
		{"[state]\ncache_mb = 0\n", "state.cache_mb 0 is not between 1 and 65536"},
		{"[state]\nwrite_buffer_mb = 4096\n", "state.write_buffer_mb 4096"},
		{"[state]\ntree_cache_nodes = -1\n", "state.tree_cache_nodes -1"},
		{"[state]\nvalue_cache_mb = -1\n", "state.value_cache_mb -1 is not 0 (off) or between 32 and 65536"},
		{"[state]\nvalue_cache_mb = 8\n", "state.value_cache_mb 8 is not 0 (off) or between 32 and 65536"},
		{"[dns]\nresponses_per_second = -1\n", "dns.responses_per_second -1 is not 0 (off) or between 1 and 1000"},
		{"[dns]\nslip = 11\n", "dns.slip 11 is not between 0 and 10"},
		{"[dns]\nwindow = 0\n", "dns.window 0 is not between 1 and 3600 seconds"},
		{"[dns]\nipv4_prefix = 33\n", "dns.ipv4_prefix 33"},
		{"[dns]\nipv6_prefix = 0\n", "dns.ipv6_prefix 0"},
	} {
		if err := os.WriteFile(file, []byte(c.body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(home); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("config %q: %v, want an error mentioning %q", c.body, err, c.want)
		}
	}
}

func TestTestnet(t *testing.T) {
	dir := t.TempDir()
	nodes, err := Testnet(TestnetOptions{Validators: 4, FullNodes: 1, Output: dir, BasePort: 41000})
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != 5 || !nodes[3].Validator || nodes[4].Validator {
		t.Fatalf("nodes: %+v", nodes)
	}
	var genesis []byte
	seen := map[string]bool{}
	for i, n := range nodes {
		c, err := Load(n.Home)
		if err != nil {
			t.Fatal(err)
		}
		for _, addr := range []string{c.HTTP.Listen, c.Comet.RPC.ListenAddress, c.Comet.P2P.ListenAddress} {
			if seen[addr] {
				t.Errorf("node%d reuses address %s", i, addr)
			}
			seen[addr] = true
		}
		if got := strings.Count(c.Comet.P2P.PersistentPeers, "@"); got != 4 {
			t.Errorf("node%d has %d persistent peers, want 4", i, got)
		}
		b, err := os.ReadFile(c.Comet.GenesisFile())
		if err != nil {
			t.Fatal(err)
		}
		if genesis == nil {
			genesis = b
		} else if string(b) != string(genesis) {
			t.Errorf("node%d has another genesis", i)
		}
	}
	gen, _ := types.GenesisDocFromJSON(genesis)
	var app registry.Genesis
	if err := json.Unmarshal(gen.AppState, &app); err != nil {
		t.Fatal(err)
	}
	if len(gen.Validators) != 4 || len(app.Authority.Members) != 4 || app.Authority.Threshold != 3 {
		t.Fatalf("genesis: %d validators, authority %d members threshold %d; want 4, 4, 3", len(gen.Validators), len(app.Authority.Members), app.Authority.Threshold)
	}
	for i, m := range app.Authority.Members {
		if m != nodes[i].Operator {
			t.Errorf("authority member %d is %s, want node%d's operator %s", i, m, i, nodes[i].Operator)
		}
	}
	if !testnetChainID.MatchString(gen.ChainID) {
		t.Errorf("testnet chain ID %q, want %s", gen.ChainID, testnetChainID)
	}
	for i, n := range nodes {
		if n.ChainID != gen.ChainID {
			t.Errorf("node%d printed chain ID %q, genesis has %q", i, n.ChainID, gen.ChainID)
		}
	}
	if again, err := Testnet(TestnetOptions{Validators: 1, Output: t.TempDir(), BasePort: 41000}); err != nil {
		t.Error(err)
	} else if again[0].ChainID == gen.ChainID {
		t.Errorf("a second testnet has the first one's chain ID %q", gen.ChainID)
	}
	if named, err := Testnet(TestnetOptions{Validators: 1, Output: t.TempDir(), BasePort: 41000, ChainID: "city-net"}); err != nil || named[0].ChainID != "city-net" {
		t.Errorf("testnet --chain-id city-net: %v, %+v", err, named)
	}
	if _, err := Testnet(TestnetOptions{Validators: 1, Output: dir}); err == nil {
		t.Fatal("testnet over a non-empty folder")
	}

	// A passphrase given (--passphrase-file) encrypts every home's keys, as
	// init's does: no home gets one of its own.
	passFile := generatedPassphraseFile(t)
	given, err := Testnet(TestnetOptions{Validators: 2, Output: t.TempDir(), BasePort: 41000, Keyring: KeyringOptions{PassphraseFile: passFile}})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range given {
		if _, err := os.Stat(filepath.Join(n.Home, GeneratedPassphraseFile)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: a testnet given a passphrase made one of its own: %v", n.Home, err)
		}
		kr, err := OpenKeyring(n.Home, KeyringOptions{PassphraseFile: passFile})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kr.Load(OperatorKey); err != nil {
			t.Errorf("%s: the operator key under the passphrase given: %v", n.Home, err)
		}
	}
}

func TestReset(t *testing.T) {
	home := filepath.Join(t.TempDir(), "h")
	if _, err := Init(home, InitOptions{}); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(home, "data")
	for _, d := range []string{"cityid/state.db", "blockstore.db", "cs.wal"} {
		if err := os.MkdirAll(filepath.Join(data, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	pvState := filepath.Join(data, "priv_validator_state.json")
	before, err := os.ReadFile(pvState)
	if err != nil {
		t.Fatal(err)
	}
	removed, err := Reset(home)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 3 {
		t.Errorf("removed %v, want the three data folders", removed)
	}
	entries, _ := os.ReadDir(data)
	if len(entries) != 1 || entries[0].Name() != "priv_validator_state.json" {
		t.Errorf("left in data: %v", entries)
	}
	if after, _ := os.ReadFile(pvState); string(after) != string(before) {
		t.Error("the validator's last-signed state changed")
	}
	for _, f := range []string{"config/genesis.json", "config/priv_validator_key.json", "config/node_key.json", "keys/operator.json"} {
		if _, err := os.Stat(filepath.Join(home, f)); err != nil {
			t.Errorf("reset removed %s", f)
		}
	}
}

// TestDefaultsFromOnePlace: a new home's settings are the shared defaults
// of internal/wire, which the client and the command line use too, and
// the DNS front end's own default zone agrees with them.
func TestDefaultsFromOnePlace(t *testing.T) {
	c := DefaultConfig(t.TempDir())
	if c.HTTP.Listen != wire.DefaultHTTPAddr || c.DNS.Listen != wire.DefaultDNSAddr || c.DNS.Zone != wire.DefaultZone ||
		c.Comet.RPC.ListenAddress != wire.DefaultRPCAddr || c.Comet.P2P.ListenAddress != wire.DefaultP2PAddr {
		t.Errorf("defaults %q %q %q %q %q are not wire's", c.HTTP.Listen, c.DNS.Listen, c.DNS.Zone, c.Comet.RPC.ListenAddress, c.Comet.P2P.ListenAddress)
	}
	if dnsfront.DefaultZone != wire.DefaultZone {
		t.Errorf("dnsfront's default zone %q, wire's %q", dnsfront.DefaultZone, wire.DefaultZone)
	}
	if client.DefaultNode != "http://"+c.HTTP.Listen {
		t.Errorf("the client looks for a node at %s, which listens on %s", client.DefaultNode, c.HTTP.Listen)
	}
	// The default glue goes to the name server dnsfront names by
	// default, in its canonical form, whatever the zone's spelling.
	for zone, ns := range map[string]string{"": "ns1.cityid.internal.", "Cities.Example": "ns1.cities.example."} {
		glue, err := DNSConfig{Listen: "192.0.2.53:53", Zone: zone}.GlueAddrs()
		if _, ok := glue[ns]; err != nil || len(glue) != 1 || !ok || ns != dnsfront.DefaultNameServer(zone) {
			t.Errorf("zone %q: default glue %v (%v), dnsfront's default name server %s; want %s", zone, glue, err, dnsfront.DefaultNameServer(zone), ns)
		}
	}
	// ns, glue and the trusted proxies are written as the lists they are.
	home := filepath.Join(t.TempDir(), "home")
	if _, err := Init(home, InitOptions{}); err != nil {
		t.Fatal(err)
	}
	c, err := Load(home)
	if err != nil {
		t.Fatal(err)
	}
	c.DNS.NS = []string{"ns1.cities.example.", "ns2.cities.example."}
	c.DNS.Glue = []string{"ns1.cities.example. 192.0.2.53"}
	c.HTTP.Limits.TrustedProxies = []string{"10.0.0.0/8", "192.0.2.1"}
	if err := c.write(); err != nil {
		t.Fatal(err)
	}
	back, err := Load(c.Home)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.DNS.NS, c.DNS.NS) || !slices.Equal(back.DNS.Glue, c.DNS.Glue) || !slices.Equal(back.HTTP.Limits.TrustedProxies, c.HTTP.Limits.TrustedProxies) {
		t.Errorf("written and read back: ns %q glue %q proxies %q", back.DNS.NS, back.DNS.Glue, back.HTTP.Limits.TrustedProxies)
	}
}

// generatedPassphraseFile is a file holding a passphrase of the form
// cityid generates, outside any home: a keyring's --passphrase-file.
func generatedPassphraseFile(t *testing.T) string {
	t.Helper()
	pass, err := keyring.GeneratePassphrase()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "passphrase")
	if err := keyring.WritePassphraseFile(path, pass); err != nil {
		t.Fatal(err)
	}
	return path
}
