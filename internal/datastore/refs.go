package datastore

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/cityid/cityid/internal/fsx"
)

// A ref names the blob a dataset's bytes are: the node serves an
// identifier's bytes only through the ref its admins' upload (or the
// operator's mirror) made, never by the hash alone, so that another
// identifier whose DATA value names the same SHA-256 (the hash is public on
// the ledger) cannot read, quarantine or overwrite them. A ref is a file
// refs/<SHA-256 of the identifier>, holding "<identifier> <blob name>\n",
// written durably.

// refPath is the file of id's ref: named by a hash of it, so that no
// identifier text reaches the file system.
func (s *Store) refPath(id string) string {
	h := sha256.Sum256([]byte(id))
	return filepath.Join(s.root, "refs", hex.EncodeToString(h[:]))
}

// Bind makes id's ref name blob sha256hex.
func (s *Store) Bind(id, sha256hex string) error {
	if err := checkName(sha256hex); err != nil {
		return err
	}
	if id == "" || strings.ContainsAny(id, " \n") {
		return fmt.Errorf("datastore: bind %q: not an identifier", id)
	}
	if err := fsx.WriteFile(s.refPath(id), []byte(id+" "+sha256hex+"\n"), 0o640); err != nil {
		return fmt.Errorf("datastore: bind %s: %w", id, err)
	}
	return nil
}

// Bound returns the blob id's ref names; ok is false when it has none.
func (s *Store) Bound(id string) (sha256hex string, ok bool, err error) {
	b, err := os.ReadFile(s.refPath(id))
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("datastore: read the ref of %s: %w", id, err)
	}
	got, name, found := strings.Cut(strings.TrimSuffix(string(b), "\n"), " ")
	if !found || got != id || !ValidName(name) {
		return "", false, fmt.Errorf("datastore: the ref of %s is damaged (%q)", id, b)
	}
	return name, true, nil
}

// Unbind removes id's ref (none is no error).
func (s *Store) Unbind(id string) error {
	if err := os.Remove(s.refPath(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("datastore: unbind %s: %w", id, err)
	}
	return nil
}
