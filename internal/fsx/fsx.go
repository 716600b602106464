// Package fsx owns what makes a change to files durable: after a file is
// created, renamed or removed in a folder, the folder itself is synced,
// or a crash may forget the change while the file's own bytes survive;
// and a lock that serialises changes to a folder between processes. It
// imports the standard library only, so that the leaves that must
// (internal/accesslog, internal/datastore) may use it.
package fsx

import (
	"fmt"
	"os"
	"path/filepath"
)

// SyncDir makes a new name, a rename or a removal in dir durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open dir %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync dir %s: %w", dir, err)
	}
	return nil
}

// WriteFile writes data to path durably, with permissions perm: a
// temporary file beside it, fsync, rename over path, fsync of the folder.
// A crash leaves the old file or the new one, never half of one.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return fmt.Errorf("create %s: %w", tmp, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("fsync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	return SyncDir(filepath.Dir(path))
}
