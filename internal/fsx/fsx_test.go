package fsx

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSyncDir syncs a folder after a rename in it, and refuses a folder
// that is not there, naming it.
func TestSyncDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "a"), filepath.Join(dir, "b")); err != nil {
		t.Fatal(err)
	}
	if err := SyncDir(dir); err != nil {
		t.Fatalf("sync %s: %v", dir, err)
	}
	missing := filepath.Join(dir, "missing")
	if err := SyncDir(missing); err == nil || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Fatalf("sync of a missing folder: %v, want an error naming it", err)
	}
}

// TestWriteFile writes a file, then replaces it: the last bytes are there
// with the permissions asked, and no temporary file stays.
func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	for _, b := range []string{"first", "second"} {
		if err := WriteFile(path, []byte(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	fi, serr := os.Stat(path)
	if err != nil || serr != nil || string(got) != "second" || fi.Mode().Perm() != 0o600 {
		t.Fatalf("read %q (%v), mode %v (%v)", got, err, fi.Mode(), serr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the folder holds %d files, want the file alone", len(entries))
	}
}
