package node

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cometbft/cometbft/types"

	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/store"
)

func memberKey(seed byte) string {
	return registry.KeyText(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32)).Public().(ed25519.PublicKey))
}

// writeExport writes an export of a chain fresh from its genesis (chain
// cityid-old) to a file and returns its path and bytes.
func writeExport(t *testing.T) (string, []byte) {
	t.Helper()
	st, err := store.OpenMemory(store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	gen, _ := json.Marshal(registry.Genesis{
		Authority: registry.Authority{Members: []string{memberKey(1), memberKey(2)}, Threshold: 2},
		Params:    DefaultParams(),
	})
	if err := registry.New("cityid-old").InitGenesis(st, gen, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Commit(); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	v := st.Latest()
	if _, err := registry.Export(&b, v, "cityid-old", v.Version(), v.Hash()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "old.jsonl")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, b.Bytes()
}

// A testnet from an export: every home holds the export beside its
// genesis, which names it by hash and takes the export's authority, with
// the testnet's own validators.
func TestTestnetImport(t *testing.T) {
	path, exp := writeExport(t)
	out := t.TempDir()
	nodes, err := Testnet(TestnetOptions{Validators: 2, FullNodes: 1, Output: out, Import: path, BasePort: 30000})
	if err != nil {
		t.Fatal(err)
	}
	var want []byte
	for i, n := range nodes {
		if n.Imported == nil || n.Imported.ChainID != "cityid-old" {
			t.Fatalf("node%d: imported %+v", i, n.Imported)
		}
		got, err := os.ReadFile(filepath.Join(n.Home, "config", registry.GenesisImportFile))
		if err != nil || !bytes.Equal(got, exp) {
			t.Fatalf("node%d's copy of the export: %v", i, err)
		}
		gen, err := types.GenesisDocFromFile(filepath.Join(n.Home, "config", "genesis.json"))
		if err != nil {
			t.Fatal(err)
		}
		var g registry.Genesis
		if err := json.Unmarshal(gen.AppState, &g); err != nil {
			t.Fatal(err)
		}
		if g.Import == nil || g.Import.File != registry.GenesisImportFile || g.Import.Header != *n.Imported ||
			g.Authority.Threshold != 2 || len(g.Authority.Members) != 2 || len(gen.Validators) != 2 {
			t.Fatalf("node%d's genesis: %s, %d validators", i, gen.AppState, len(gen.Validators))
		}
		if i > 0 && !bytes.Equal(gen.AppState, want) {
			t.Fatalf("node%d's app_state differs from node0's", i)
		}
		want = gen.AppState
	}
}

// An export is refused before a home is made: one that does not check,
// and one of the chain ID the new network would have.
func TestInitImportRefuses(t *testing.T) {
	path, exp := writeExport(t)
	home := filepath.Join(t.TempDir(), "h")
	if _, err := Init(home, InitOptions{ChainID: "cityid-old", Import: path}); err == nil || !strings.Contains(err.Error(), "chain ID of its own") {
		t.Fatalf("init with the export's chain ID: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	if err := os.WriteFile(bad, bytes.Replace(exp, []byte(`"kind":"params"`), []byte(`"kind":"param"`), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Init(home, InitOptions{Import: bad}); err == nil || !strings.Contains(err.Error(), "line 3: unknown kind") {
		t.Fatalf("init with a bad export: %v", err)
	}
	if Initialized(home) {
		t.Fatal("a refused import left a home")
	}
	if _, err := Testnet(TestnetOptions{Validators: 1, Output: t.TempDir(), Import: bad}); err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("testnet with a bad export: %v", err)
	}
}

// An export never replaces a file: --out that exists is refused before
// the walk, and left as it was. (A file created during the walk is kept
// by fsx's NoReplace write: TestCreateNoReplace.)
func TestExportFileNeverReplaces(t *testing.T) {
	out := filepath.Join(t.TempDir(), "registry.jsonl")
	if err := os.WriteFile(out, []byte("an older export\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := ExportFile(t.TempDir(), 0, out)
	if err == nil || !strings.Contains(err.Error(), out+" exists") {
		t.Fatalf("export over %s: %v, want it refused as existing", out, err)
	}
	if got, _ := os.ReadFile(out); string(got) != "an older export\n" {
		t.Fatalf("%s now holds %q", out, got)
	}
	if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 1 {
		t.Fatalf("%d files beside the export, want none", len(entries)-1)
	}
}
