// Package fsx owns what makes a change to a folder durable: after a file
// is created, renamed or removed in a folder, the folder itself is synced,
// or a crash may forget the change while the file's own bytes survive. It
// imports the standard library only, so that the leaves that must
// (internal/accesslog, internal/datastore) may use it.
package fsx

import (
	"fmt"
	"os"
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
