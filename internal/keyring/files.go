package keyring

import (
	"github.com/cityid/cityid/internal/fsx"
)

// Key files are written as a whole or not at all (internal/fsx): the
// bytes go to a temporary file in the same folder, synced, and only then
// take the key's name (a link for a new key, so that one never replaces
// another; a rename for a key encrypted anew), and the folder is synced so
// that the name survives a power cut. A crash at any point leaves the old
// file or the new one, and at worst a stray temporary file.

// createFile makes path hold b, failing with fs.ErrExist when it exists.
func createFile(path string, b []byte) error { return fsx.WriteNew(path, b, 0o600) }

// replaceFile makes path hold b in place of what it held.
func replaceFile(path string, b []byte) error {
	p, err := fsx.Create(path, 0o600, fsx.Replace)
	if err != nil {
		return err
	}
	if _, err := p.Write(b); err != nil {
		p.Abort()
		return err
	}
	return p.Commit()
}
