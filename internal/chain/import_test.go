package chain

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/store"
)

// importFixture is an export of a committed chain, and the genesis of a
// new chain that imports it from registry.GenesisImportFile.
func importFixture(t *testing.T) ([]byte, []byte) {
	t.Helper()
	st, err := store.OpenMemory(store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	app := newApp(t, st)
	block(t, app, 1)
	commit(t, app)
	return exportOf(t, st)
}

// exportOf is an export of st's committed state, and the genesis of a
// new chain that imports it from registry.GenesisImportFile.
func exportOf(t *testing.T, st *store.Store) ([]byte, []byte) {
	t.Helper()
	var exp bytes.Buffer
	v := st.Latest()
	if _, err := registry.Export(&exp, v, testChain, v.Version(), v.Hash()); err != nil {
		t.Fatal(err)
	}
	sum, err := registry.ReadExport(bytes.NewReader(exp.Bytes()), nil)
	if err != nil {
		t.Fatal(err)
	}
	gen, err := json.Marshal(registry.Genesis{Authority: sum.Authority, Params: sum.Params, Import: &registry.GenesisImport{
		File: registry.GenesisImportFile, SHA256: sum.SHA256, Header: sum.Header,
	}})
	if err != nil {
		t.Fatal(err)
	}
	return exp.Bytes(), gen
}

func initImport(t *testing.T, dir string, gen []byte) (*store.Store, []byte, error) {
	t.Helper()
	st, err := store.OpenMemory(store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	app := NewApp("cityid-next", st, nil, AppOptions{GenesisDir: dir})
	resp, err := app.InitChain(context.Background(), &abci.InitChainRequest{ChainId: "cityid-next", InitialHeight: 1, AppStateBytes: gen})
	if err != nil {
		return st, nil, err
	}
	return st, resp.AppHash, nil
}

// TestInitChainImport starts a chain from an export in its genesis folder,
// reading the file once, and checks that an export refused while it is
// being written (a line after entries already written is wrong) leaves
// nothing behind.
func TestInitChainImport(t *testing.T) {
	exp, gen := importFixture(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, registry.GenesisImportFile), exp, 0o600); err != nil {
		t.Fatal(err)
	}
	_, want, err := initImport(t, dir, gen)
	if err != nil || len(want) == 0 {
		t.Fatalf("InitChain from an export: %v", err)
	}
	if _, again, err := initImport(t, dir, gen); err != nil || !bytes.Equal(again, want) {
		t.Fatalf("InitChain from the same export again: app hash %X, then %X (%v)", want, again, err)
	}

	// No genesis folder: refused, as is a file that is not there.
	if _, _, err := initImport(t, "", gen); err == nil || !strings.Contains(err.Error(), "no genesis folder") {
		t.Fatalf("InitChain with no genesis folder: %v", err)
	}
	if _, _, err := initImport(t, t.TempDir(), gen); err == nil || !strings.Contains(err.Error(), registry.GenesisImportFile) {
		t.Fatalf("InitChain without the file: %v", err)
	}

	// A file whose params' line is wrong: the write fails after it has
	// written the authority, on the line before it.
	tampered := bytes.Replace(exp, []byte(`"iac":"MA"`), []byte(`"iac":"ma"`), 1)
	if bytes.Equal(tampered, exp) {
		t.Fatal("the fixture has no iac to tamper with")
	}
	st, err := store.OpenMemory(store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	app := NewApp("cityid-next", st, nil)
	opens := 0
	app.openFile = func(name string) (io.ReadCloser, error) {
		opens++
		return io.NopCloser(bytes.NewReader(tampered)), nil
	}
	_, err = app.InitChain(context.Background(), &abci.InitChainRequest{ChainId: "cityid-next", InitialHeight: 1, AppStateBytes: gen})
	if err == nil || !strings.Contains(err.Error(), "line 3: params") || opens != 1 {
		t.Fatalf("InitChain of a file with a bad line 3: %v after %d opens", err, opens)
	}
	empty, err := store.OpenMemory(store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer empty.Close()
	if !bytes.Equal(st.WorkingHash(), empty.WorkingHash()) {
		t.Fatalf("a refused import left state behind: working hash %X, empty %X", st.WorkingHash(), empty.WorkingHash())
	}
}

// TestInitChainImportKeepsAppVersion: an export of a chain that ran an
// upgrade carries its application version (upgrade/version), and the new
// chain starts at it: InitChain returns it as the consensus parameters'
// version, which headers then carry from the first block. A binary whose
// handlers reach no such version refuses the import, writing nothing; a
// chain that ran none gets no parameters back.
func TestInitChainImportKeepsAppVersion(t *testing.T) {
	src, err := store.OpenMemory(store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	app := newApp(t, src)
	block(t, app, 1)
	next := AppVersion + 1
	if err := src.Set(registry.UpgradeVersionKey(), []byte(strconv.FormatUint(next, 10))); err != nil {
		t.Fatal(err)
	}
	commit(t, app)
	exp, gen := exportOf(t, src)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, registry.GenesisImportFile), exp, 0o600); err != nil {
		t.Fatal(err)
	}
	initWith := func(o AppOptions) (*abci.InitChainResponse, *store.Store, error) {
		st, err := store.OpenMemory(store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		o.GenesisDir = dir
		resp, err := NewApp("cityid-next", st, nil, o).InitChain(context.Background(),
			&abci.InitChainRequest{ChainId: "cityid-next", InitialHeight: 1, AppStateBytes: gen})
		return resp, st, err
	}
	runs := 0
	resp, _, err := initWith(AppOptions{Upgrades: []Upgrade{countingUpgrade("v-next", next, &runs)}})
	if err != nil {
		t.Fatalf("InitChain from an export at version %d, by a binary that reaches it: %v", next, err)
	}
	if p := resp.ConsensusParams; p == nil || p.Version == nil || p.Version.App != next {
		t.Errorf("InitChain's consensus parameters %v, want version.app %d", resp.ConsensusParams, next)
	}
	if runs != 0 {
		t.Errorf("the import ran the upgrade's migration %d times: it carries a state the migration already made", runs)
	}
	_, st, err := initWith(AppOptions{})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("runs versions up to %d", AppVersion)) {
		t.Errorf("InitChain from an export at version %d by a binary of version %d: %v, want a refusal", next, AppVersion, err)
	}
	if h := st.WorkingHash(); !bytes.Equal(h, emptyHash(t)) {
		t.Errorf("the refused import left state behind: working hash %X", h)
	}

	plain, plainGen := importFixture(t)
	pdir := t.TempDir()
	if err := os.WriteFile(filepath.Join(pdir, registry.GenesisImportFile), plain, 0o600); err != nil {
		t.Fatal(err)
	}
	st2, err := store.OpenMemory(store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	resp, err = NewApp("cityid-next", st2, nil, AppOptions{GenesisDir: pdir}).InitChain(context.Background(),
		&abci.InitChainRequest{ChainId: "cityid-next", InitialHeight: 1, AppStateBytes: plainGen})
	if err != nil || resp.ConsensusParams != nil {
		t.Errorf("InitChain from an export of a chain that ran no upgrade: parameters %v (%v), want none", resp.GetConsensusParams(), err)
	}
}

// emptyHash is the working hash of an empty store.
func emptyHash(t *testing.T) []byte {
	t.Helper()
	st, err := store.OpenMemory(store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	return st.WorkingHash()
}
