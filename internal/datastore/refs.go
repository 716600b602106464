package datastore

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

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
	s.refs.forget(id)
	if err := fsx.WriteFile(s.refPath(id), []byte(id+" "+sha256hex+"\n"), 0o640); err != nil {
		return fmt.Errorf("datastore: bind %s: %w", id, err)
	}
	return nil
}

// Bound returns the blob id's ref names; ok is false when it has none.
// Every data request asks, so the ref read is kept (refCache): while the
// ref file is the one read (the same file, size and modification time,
// by one stat), its name is answered without reading it. A ref changes
// only by Bind, which replaces the file by a new one (a rename), and
// Unbind, which removes it, here or in another process (cityid data
// mirror binds into a running node's store), so the stat sees every
// change.
func (s *Store) Bound(id string) (sha256hex string, ok bool, err error) {
	path := s.refPath(id)
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		s.refs.forget(id)
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("datastore: stat the ref of %s: %w", id, err)
	}
	if name, hit := s.refs.get(id, fi); hit {
		return name, true, nil
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		s.refs.forget(id)
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("datastore: read the ref of %s: %w", id, err)
	}
	defer f.Close()
	// The file opened, as it is: a Bind between the stat and the open
	// is then read again at the next request.
	if fi, err = f.Stat(); err != nil {
		return "", false, fmt.Errorf("datastore: stat the ref of %s: %w", id, err)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxRefBytes))
	if err != nil {
		return "", false, fmt.Errorf("datastore: read the ref of %s: %w", id, err)
	}
	s.refs.reads.Add(1)
	got, name, found := strings.Cut(strings.TrimSuffix(string(b), "\n"), " ")
	if !found || got != id || !ValidName(name) {
		return "", false, fmt.Errorf("datastore: the ref of %s is damaged (%q)", id, b)
	}
	s.refs.put(id, name, fi)
	return name, true, nil
}

// maxRefBytes bounds what a ref file read takes: an identifier (at most 85
// bytes), a space, a hash and a newline fit; a longer file is damaged.
const maxRefBytes = 512

// refCache keeps the refs read, each with the stat of the file it was
// read from. It holds one entry per ref on disk at most (an identifier
// with none is forgotten), so it is bounded by the datasets this node
// keeps.
type refCache struct {
	mu    sync.Mutex
	refs  map[string]cachedRef
	reads atomic.Int64 // ref files read, for tests
}

type cachedRef struct {
	name string
	file os.FileInfo
}

func (c *refCache) get(id string, fi os.FileInfo) (string, bool) {
	c.mu.Lock()
	r, ok := c.refs[id]
	c.mu.Unlock()
	if !ok || !os.SameFile(r.file, fi) || r.file.Size() != fi.Size() || !r.file.ModTime().Equal(fi.ModTime()) {
		return "", false
	}
	return r.name, true
}

func (c *refCache) put(id, name string, fi os.FileInfo) {
	c.mu.Lock()
	if c.refs == nil {
		c.refs = make(map[string]cachedRef)
	}
	c.refs[id] = cachedRef{name: name, file: fi}
	c.mu.Unlock()
}

func (c *refCache) forget(id string) {
	c.mu.Lock()
	delete(c.refs, id)
	c.mu.Unlock()
}

// Unbind removes id's ref (none is no error).
func (s *Store) Unbind(id string) error {
	s.refs.forget(id)
	if err := os.Remove(s.refPath(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("datastore: unbind %s: %w", id, err)
	}
	return nil
}
