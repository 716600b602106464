package chain

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
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
// and checks that an export refused while it is being written (the file
// changed between InitChain's check and its write, here a FIFO that
// gives other bytes the second time it is opened) leaves nothing behind.
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

	// A file changed between the check and the write: the write fails
	// after it has written the authority (the params' line, after it, is
	// what changed).
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
		if opens == 1 {
			return io.NopCloser(bytes.NewReader(exp)), nil
		}
		return io.NopCloser(bytes.NewReader(tampered)), nil
	}
	_, err = app.InitChain(context.Background(), &abci.InitChainRequest{ChainId: "cityid-next", InitialHeight: 1, AppStateBytes: gen})
	if err == nil || !strings.Contains(err.Error(), "line 3: params") || opens != 2 {
		t.Fatalf("InitChain of a file changed between its passes: %v after %d opens", err, opens)
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
