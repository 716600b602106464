package fsx

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
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

// TestCreateNoReplace: a file that appears at the path while a write is
// under way (after any check its writer could make) is kept, the write is
// refused with fs.ErrExist, and no temporary file stays. Replace mode puts
// the new bytes in place of the old.
func TestCreateNoReplace(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.tar")
	p, err := Create(path, 0o640, NoReplace)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Write([]byte("new")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("someone else's"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.Commit(); !errors.Is(err, fs.ErrExist) || !strings.Contains(err.Error(), path) {
		t.Fatalf("commit over a file created meanwhile: %v, want fs.ErrExist naming %s", err, path)
	}
	p.Abort() // after Commit: nothing to do
	if got, _ := os.ReadFile(path); string(got) != "someone else's" {
		t.Fatalf("the file created meanwhile now holds %q", got)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("the folder holds %d files, want the other file alone", len(entries))
	}

	fresh := filepath.Join(dir, "fresh")
	if err := WriteNew(fresh, []byte("mine"), 0o640); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(fresh)
	if got, _ := os.ReadFile(fresh); err != nil || string(got) != "mine" || fi.Mode().Perm() != 0o640 {
		t.Fatalf("WriteNew: %q, mode %v (%v)", got, fi.Mode(), err)
	}
	if err := WriteNew(fresh, []byte("again"), 0o640); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("WriteNew over its own file: %v, want fs.ErrExist", err)
	}

	r, err := Create(fresh, 0o600, Replace)
	if err != nil {
		t.Fatal(err)
	}
	r.Write([]byte("replaced"))
	if err := r.Commit(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(fresh); string(got) != "replaced" {
		t.Fatalf("Replace: %q", got)
	}
	a, err := Create(filepath.Join(dir, "given-up"), 0o600, NoReplace)
	if err != nil {
		t.Fatal(err)
	}
	a.Write([]byte("x"))
	a.Abort()
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Fatalf("after an abort the folder holds %d files, want 2", len(entries))
	}
}

// On a file system without hard links (FAT, exFAT, many SMB and FUSE
// mounts refuse link(2) with EPERM), a NoReplace write still takes a free
// name, keeps its permissions, and still never replaces a file.
func TestCreateNoReplaceWithoutHardLinks(t *testing.T) {
	dir := t.TempDir()
	noLinks := func(oldname, newname string) error {
		return &os.LinkError{Op: "link", Old: oldname, New: newname, Err: syscall.EPERM}
	}
	write := func(path, data string) error {
		p, err := Create(path, 0o640, NoReplace)
		if err != nil {
			t.Fatal(err)
		}
		p.link = noLinks
		if _, err := p.Write([]byte(data)); err != nil {
			t.Fatal(err)
		}
		return p.Commit()
	}
	path := filepath.Join(dir, "backup.tar")
	if err := write(path, "archive"); err != nil {
		t.Fatalf("a new name without hard links: %v", err)
	}
	fi, err := os.Stat(path)
	if got, _ := os.ReadFile(path); err != nil || string(got) != "archive" || fi.Mode().Perm() != 0o640 {
		t.Fatalf("written %q, mode %v (%v)", got, fi.Mode(), err)
	}
	if err := write(path, "again"); !errors.Is(err, fs.ErrExist) || !strings.Contains(err.Error(), path) {
		t.Fatalf("over a file without hard links: %v, want fs.ErrExist naming %s", err, path)
	}
	if got, _ := os.ReadFile(path); string(got) != "archive" {
		t.Fatalf("the file there now holds %q", got)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("the folder holds %d files, want the archive alone", len(entries))
	}
}
