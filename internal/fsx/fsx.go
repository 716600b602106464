// Package fsx owns what makes a change to files durable: after a file is
// created, renamed or removed in a folder, the folder itself is synced,
// or a crash may forget the change while the file's own bytes survive;
// a lock that serialises changes to a folder between processes; and a
// write that puts a file in place whole, over the old one or never over
// any (Create, Pending, WriteNew). It imports the standard library only,
// so that the leaves that must (internal/accesslog, internal/datastore)
// may use it.
package fsx

import (
	"errors"
	"fmt"
	"io/fs"
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

// WriteFile writes data to path durably, with permissions perm (umask
// aside), replacing what is there: a temporary file beside it, fsync,
// rename over path, fsync of the folder (Create, Commit). A crash leaves
// the old file or the new one, never half of one.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return write(path, data, perm, Replace)
}

// Mode says whether a Pending file may take the place of a file that
// exists at its path.
type Mode int

const (
	// Replace renames the new file over whatever is at the path.
	Replace Mode = iota
	// NoReplace never touches a file at the path, even one created
	// after the write began: the new file takes the name by a hard link,
	// which the kernel refuses (EEXIST) when the name is taken, so that
	// there is no window between a check and a rename.
	NoReplace
)

// Pending is a file being written in a temporary file beside the path it
// is meant for (the same folder, so the same file system), put in place
// whole by Commit: a crash or an error leaves no half-written file at the
// path, at worst a hidden temporary file beside it.
type Pending struct {
	f    *os.File
	path string
	mode Mode
	done bool
	// link is os.Link; a test gives a file system without hard links.
	link func(oldname, newname string) error
}

// Create begins a write of path with permissions perm (umask aside).
// The caller writes, then calls Commit, or Abort to give up; Abort after
// Commit does nothing, so it may be deferred.
func Create(path string, perm os.FileMode, mode Mode) (*Pending, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	return &Pending{f: f, path: path, mode: mode, link: os.Link}, nil
}

// Write writes to the temporary file.
func (p *Pending) Write(b []byte) (int, error) { return p.f.Write(b) }

// Commit syncs the file, gives it its path and syncs the folder, so that
// both the bytes and the name survive a power cut. In NoReplace mode a
// path that exists is an error that matches fs.ErrExist, and the file
// there is left as it was.
func (p *Pending) Commit() error {
	if p.done {
		return fmt.Errorf("write %s: committed or aborted already", p.path)
	}
	p.done = true
	tmp := p.f.Name()
	if err := p.f.Sync(); err != nil {
		p.f.Close()
		os.Remove(tmp)
		return fmt.Errorf("fsync %s: %w", tmp, err)
	}
	if err := p.f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	switch p.mode {
	case NoReplace:
		err := p.link(tmp, p.path)
		var le *os.LinkError
		if errors.As(err, &le) {
			err = le.Err // the path, not the temporary name, is what the caller knows
		}
		if err != nil && !errors.Is(err, fs.ErrExist) {
			// A file system without hard links (FAT and exFAT, as on a
			// USB drive; many SMB and FUSE mounts) refuses the link
			// with EPERM or ENOTSUP: the name is claimed instead by an
			// exclusive create, and the file renamed over that empty
			// claim, which only this write made.
			err = claimAndRename(tmp, p.path)
		}
		os.Remove(tmp) // the file lives on under its path, or not at all
		if err != nil {
			return fmt.Errorf("write %s: %w", p.path, err)
		}
	default:
		if err := os.Rename(tmp, p.path); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("rename %s: %w", tmp, err)
		}
	}
	return SyncDir(filepath.Dir(p.path))
}

// claimAndRename puts tmp at path where no hard link can: path is
// created, exclusively and empty, then tmp renamed over it. A path that
// exists is fs.ErrExist, and is left as it was.
func claimAndRename(tmp, path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return err
	}
	claim, err := f.Stat()
	f.Close()
	if err != nil {
		os.Remove(path)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		// Only the empty claim is taken back: a file another process
		// put there meanwhile is its own.
		if now, serr := os.Stat(path); serr == nil && os.SameFile(claim, now) {
			os.Remove(path)
		}
		return err
	}
	return nil
}

// Abort removes the temporary file of a write not committed.
func (p *Pending) Abort() {
	if p.done {
		return
	}
	p.done = true
	p.f.Close()
	os.Remove(p.f.Name())
}

// WriteNew writes data to a new file at path durably, never over a file
// that exists there (an error matching fs.ErrExist).
func WriteNew(path string, data []byte, perm os.FileMode) error {
	return write(path, data, perm, NoReplace)
}

// write is a Create of path in mode, data written, and its Commit.
func write(path string, data []byte, perm os.FileMode, mode Mode) error {
	p, err := Create(path, perm, mode)
	if err != nil {
		return err
	}
	if _, err := p.Write(data); err != nil {
		p.Abort()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return p.Commit()
}
