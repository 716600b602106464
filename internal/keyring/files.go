package keyring

import (
	"os"
	"path/filepath"

	"github.com/cityid/cityid/internal/fsx"
)

// Key files are written as a whole or not at all: the bytes go to a
// temporary file in the same folder, synced, and only then take the key's
// name (a link for a new key, so that one never replaces another; a
// rename for a key encrypted anew), and the folder is synced so that the
// name survives a power cut. A crash at any point leaves the old file or
// the new one, and at worst a stray temporary file.

// writeTemp writes b to a new temporary file in dir, synced.
func writeTemp(dir, name string, b []byte) (string, error) {
	f, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return "", err
	}
	tmp := f.Name()
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		os.Remove(tmp)
		return "", err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(tmp)
		return "", err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return "", err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return "", err
	}
	return tmp, nil
}

// createFile makes path hold b, failing with fs.ErrExist when it exists.
func createFile(path string, b []byte) error {
	dir := filepath.Dir(path)
	tmp, err := writeTemp(dir, filepath.Base(path), b)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		if le, ok := err.(*os.LinkError); ok {
			return le.Err
		}
		return err
	}
	return fsx.SyncDir(dir)
}

// replaceFile makes path hold b in place of what it held.
func replaceFile(path string, b []byte) error {
	dir := filepath.Dir(path)
	tmp, err := writeTemp(dir, filepath.Base(path), b)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return fsx.SyncDir(dir)
}
