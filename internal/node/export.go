package node

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/cometbft/cometbft/types"

	"github.com/cityid/cityid/internal/chain"
	"github.com/cityid/cityid/internal/fsx"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/store"
)

// Export writes the registry state of the node in home at height (0: the
// last committed) as an export (docs/export.md) to w, and returns its
// header.
//
// It reads the node's store directly, so the node must be stopped: Export
// holds the home as a running node does, and refuses a home a node runs
// on. Any node of a network can export it (every node holds the whole
// state), so a network need not stop: one of its full nodes is stopped,
// exports and is started again, and catches up. Exports of one height by
// different nodes are byte-identical.
func Export(home string, height int64, w io.Writer) (_ registry.ExportHeader, err error) {
	c, err := Load(home)
	if err != nil {
		return registry.ExportHeader{}, err
	}
	lock, err := lockHome(home)
	if err != nil {
		var inUse *InUseError
		if errors.As(err, &inUse) {
			return registry.ExportHeader{}, fmt.Errorf("export: %w: export reads the store of a stopped node; stop it first, or export from another node of the network", err)
		}
		return registry.ExportHeader{}, fmt.Errorf("export: %w", err)
	}
	defer func() { err = errors.Join(err, lock.release()) }()
	gen, err := types.GenesisDocFromFile(c.Comet.GenesisFile())
	if err != nil {
		return registry.ExportHeader{}, fmt.Errorf("export: %w", err)
	}
	// No value cache: an export reads every value once.
	st, err := store.Open(chain.StateDir(c.Comet), store.Options{ValueCacheBytes: -1})
	if err != nil {
		return registry.ExportHeader{}, fmt.Errorf("export: %w", err)
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	view := st.Latest()
	if height != 0 {
		if view, err = st.At(height); err != nil {
			return registry.ExportHeader{}, fmt.Errorf("export: %w", err)
		}
	}
	if view == nil {
		return registry.ExportHeader{}, fmt.Errorf("export: %s has committed no block yet", home)
	}
	return registry.Export(w, view, gen.ChainID, view.Version(), view.Hash())
}

// ExportFile is Export to the file out, written whole or not at all, and
// never over a file: to a temporary file beside it, synced, then given
// its name by fsx's NoReplace write, the folder synced.
func ExportFile(home string, height int64, out string) (_ registry.ExportHeader, err error) {
	// Refused before the walk, which takes minutes on a large state; the
	// write's own check at the end is the one that holds.
	if _, err := os.Lstat(out); err == nil {
		return registry.ExportHeader{}, fmt.Errorf("export: %s exists: choose a new file for --out", out)
	}
	tmp, err := fsx.Create(out, 0o600, fsx.NoReplace)
	if err != nil {
		return registry.ExportHeader{}, fmt.Errorf("export: %w", err)
	}
	defer tmp.Abort() // after Commit: nothing to do
	h, err := Export(home, height, tmp)
	if err != nil {
		return h, err
	}
	if err := tmp.Commit(); errors.Is(err, fs.ErrExist) {
		return h, fmt.Errorf("export: %s was created while the export was written; it is left as it was: choose a new file for --out", out)
	} else if err != nil {
		return h, fmt.Errorf("export: %w", err)
	}
	return h, nil
}

// CheckExport checks the export in the file path, whole, as a new
// network's InitChain will: init and testnet refuse a bad one before they
// make anything, naming its line.
func CheckExport(path string) (registry.ExportSummary, error) {
	f, err := os.Open(path)
	if err != nil {
		return registry.ExportSummary{}, fmt.Errorf("import: %w", err)
	}
	defer f.Close()
	sum, err := registry.ReadExport(f, nil)
	if err != nil {
		return sum, fmt.Errorf("import %s: %w", path, err)
	}
	return sum, nil
}

// copyImport copies the checked export to the genesis folder of a new
// home, under the name its genesis gives it, and checks the copy is the
// file that was checked.
func copyImport(path string, sum *registry.ExportSummary, configDir string) error {
	src, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer src.Close()
	dst := filepath.Join(configDir, registry.GenesisImportFile)
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	if _, err := io.Copy(f, src); err != nil {
		f.Close()
		return fmt.Errorf("import: copy to %s: %w", dst, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	cp, err := os.Open(dst)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer cp.Close()
	got, err := registry.FileSHA256(cp)
	if err != nil {
		return fmt.Errorf("import: read %s: %w", dst, err)
	}
	if got != sum.SHA256 {
		return fmt.Errorf("import: %s changed while it was copied (SHA-256 %s, checked %s)", path, got, sum.SHA256)
	}
	return nil
}
