package datastore

import (
	"context"
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
	"time"

	"github.com/cityid/cityid/internal/fsx"
)

// Errors a caller maps to answers. Each is wrapped with context; test with
// errors.Is. The text before the colon of each is a stable code.
var (
	// ErrInvalidName: the name is not a SHA-256 in 64 lowercase hex.
	ErrInvalidName = errors.New("invalid_name: not a sha256 in 64 lowercase hex characters")
	// ErrNotFound: no complete blob with this hash (a quarantined one is not found).
	ErrNotFound = errors.New("not_found: no such blob")
	// ErrExists: the complete blob is already stored; there is nothing to upload.
	ErrExists = errors.New("exists: blob already stored")
	// ErrUploadInProgress: another upload of the same hash holds it; the
	// second one is refused at once rather than made to wait, so a client
	// never hangs behind a stalled connection. Retry later.
	ErrUploadInProgress = errors.New("upload_in_progress: another upload of this blob is in progress")
	// ErrBusy is ErrUploadInProgress by its shorter name.
	ErrBusy = ErrUploadInProgress
	// ErrWrongOffset: a write did not start where the upload stands. The
	// error is an *OffsetError that says the current offset.
	ErrWrongOffset = errors.New("wrong_offset: write does not start at the upload's offset")
	// ErrSizeOverflow: more bytes were sent than the declared size.
	ErrSizeOverflow = errors.New("size_overflow: more bytes than the declared size")
	// ErrIncomplete: Complete was called before all the bytes arrived.
	ErrIncomplete = errors.New("incomplete: upload has fewer bytes than its size")
	// ErrDigestMismatch: the bytes do not hash to the name.
	ErrDigestMismatch = errors.New("digest_mismatch: bytes do not hash to the expected sha256")
	// ErrClosed: the upload was closed or completed.
	ErrClosed = errors.New("closed: upload is closed")
)

// OffsetError says where an upload stands when a write asked for another
// offset, so the client can resume from Current.
type OffsetError struct {
	Current int64 // bytes already received
	Asked   int64 // offset the write asked for
}

func (e *OffsetError) Error() string {
	return fmt.Sprintf("%v: asked %d, current offset is %d", ErrWrongOffset, e.Asked, e.Current)
}

// Unwrap makes errors.Is(err, ErrWrongOffset) true.
func (e *OffsetError) Unwrap() error { return ErrWrongOffset }

// bufSize is the one buffer size for every copy and hash: large enough that
// syscalls and fsyncs are amortised, small enough that memory stays flat
// whatever the file size.
const bufSize = 1 << 20

// Store is the content-addressed store under one root. Safe for concurrent
// use; its shared mutable state is the set of hashes being uploaded, the
// blobs trusted and the refs read.
type Store struct {
	root string

	now func() time.Time // when a blob is opened; a test may move it

	mu        sync.Mutex
	uploading map[string]bool  // hashes with an open Upload
	trusted   map[string]trust // blobs verified whole and unchanged since (trust.go)

	refs refCache // refs read, while their files are unchanged (refs.go)
}

// Open opens (creating if needed) the store under root.
func Open(root string) (*Store, error) {
	for _, dir := range []string{
		filepath.Join(root, "blobs", "sha256"),
		filepath.Join(root, "uploads"),
		filepath.Join(root, "quarantine"),
		filepath.Join(root, "refs"),
	} {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("datastore: create %s: %w", dir, err)
		}
	}
	// Leftover temporary state files are from a crash between write and
	// rename: the previous .state (if any) is still the acknowledged one.
	// fsx names them .<name>.state.<random>.tmp (<name>.state.tmp before).
	tmps, err := filepath.Glob(filepath.Join(root, "uploads", "*.tmp"))
	if err != nil {
		return nil, fmt.Errorf("datastore: list temporary files: %w", err)
	}
	for _, t := range tmps {
		if err := os.Remove(t); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("datastore: remove leftover %s: %w", t, err)
		}
	}
	s := &Store{root: root, now: time.Now, uploading: map[string]bool{}, trusted: map[string]trust{}}
	// A crash between moving a blob into blobs/ and removing its upload's
	// state leaves that state behind: the blob is complete, drop it.
	states, err := filepath.Glob(filepath.Join(root, "uploads", "*.state"))
	if err != nil {
		return nil, fmt.Errorf("datastore: list upload states: %w", err)
	}
	for _, st := range states {
		name := strings.TrimSuffix(filepath.Base(st), ".state")
		if !ValidName(name) {
			continue
		}
		if ok, err := s.Has(name); err != nil {
			return nil, err
		} else if ok {
			for _, p := range []string{st, s.partPath(name)} {
				if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return nil, fmt.Errorf("datastore: remove stale %s: %w", p, err)
				}
			}
		}
	}
	return s, nil
}

// ValidName reports whether name is a SHA-256 in 64 lowercase hex
// characters, the only names the store accepts.
func ValidName(name string) bool {
	if len(name) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func checkName(name string) error {
	if !ValidName(name) {
		return fmt.Errorf("datastore: %q: %w", truncate(name, 80), ErrInvalidName)
	}
	return nil
}

// truncate keeps an error message bounded when the name came from input.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func (s *Store) blobPath(name string) string {
	return filepath.Join(s.root, "blobs", "sha256", name)
}
func (s *Store) partPath(name string) string {
	return filepath.Join(s.root, "uploads", name+".part")
}
func (s *Store) statePath(name string) string {
	return filepath.Join(s.root, "uploads", name+".state")
}
func (s *Store) quarantinePath(name string) string {
	return filepath.Join(s.root, "quarantine", name)
}

// Has reports whether the complete blob is stored.
func (s *Store) Has(sha256hex string) (bool, error) {
	if err := checkName(sha256hex); err != nil {
		return false, err
	}
	fi, err := os.Stat(s.blobPath(sha256hex))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("datastore: stat blob %s: %w", sha256hex, err)
	}
	return fi.Mode().IsRegular(), nil
}

// Blob is a complete blob open for reading: an *os.File (so it is an
// io.ReadSeekCloser, enough for http.ServeContent) with its name, size and
// modification time as opened. Reading it directly does not check its
// bytes: serve it so only when Trusted, else through VerifyingReader.
type Blob struct {
	*os.File
	SHA256 string

	size    int64
	modTime time.Time

	store    *Store
	stamp    stamp     // the file as opened
	stamped  bool      // stamp is known (Linux)
	openedAt time.Time // taken before the stat that made stamp
}

// Open returns the blob for reading. ErrNotFound if it is not stored.
func (s *Store) Open(sha256hex string) (*Blob, error) {
	if err := checkName(sha256hex); err != nil {
		return nil, err
	}
	openedAt := s.now()
	f, err := os.Open(s.blobPath(sha256hex))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("datastore: open blob %s: %w", sha256hex, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("datastore: open blob %s: %w", sha256hex, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("datastore: stat blob %s: %w", sha256hex, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("datastore: blob %s is not a regular file: %w", sha256hex, ErrNotFound)
	}
	st, stamped := fileStamp(fi)
	return &Blob{File: f, SHA256: sha256hex, size: fi.Size(), modTime: fi.ModTime(),
		store: s, stamp: st, stamped: stamped, openedAt: openedAt}, nil
}

// Size is the blob's size in bytes when it was opened.
func (b *Blob) Size() int64 { return b.size }

// ModTime is the blob file's modification time when it was opened (for
// http.ServeContent's Last-Modified).
func (b *Blob) ModTime() time.Time { return b.modTime }

// Verify reads the whole blob from its start and checks that it hashes to
// its name; on a mismatch it quarantines the blob and returns
// ErrDigestMismatch. It leaves the read offset at the end.
func (b *Blob) Verify(ctx context.Context) error {
	if _, err := b.File.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("datastore: verify blob %s: seek: %w", b.SHA256, err)
	}
	h := sha256.New()
	if _, err := copyCtx(ctx, h, b.File); err != nil {
		return fmt.Errorf("datastore: verify blob %s: %w", b.SHA256, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != b.SHA256 {
		return b.mismatch(got)
	}
	b.verifiedWhole()
	return nil
}

// mismatch quarantines the blob and returns the error that says so.
func (b *Blob) mismatch(got string) error {
	err := fmt.Errorf("datastore: blob %s hashes to %s: %w", b.SHA256, got, ErrDigestMismatch)
	// Quarantine only the file that was read: if it was replaced since
	// (removed and uploaded again), the new one is not the bad one.
	if b.store != nil && b.stillStored() {
		if qerr := b.store.Quarantine(b.SHA256, "bytes hash to "+got); qerr != nil && !errors.Is(qerr, ErrNotFound) {
			return errors.Join(err, qerr)
		}
	}
	return err
}

// stillStored reports whether the blob's path still names the open file.
func (b *Blob) stillStored() bool {
	open, err := b.File.Stat()
	if err != nil {
		return false
	}
	onDisk, err := os.Stat(b.store.blobPath(b.SHA256))
	return err == nil && os.SameFile(open, onDisk)
}

// Quarantine moves a complete blob out of blobs/ (so it is not served again
// until re-uploaded) into quarantine/, with a file that says why and when.
// A blob already in quarantine is replaced by the newer one.
func (s *Store) Quarantine(sha256hex string, reason string) error {
	if err := checkName(sha256hex); err != nil {
		return err
	}
	s.distrust(sha256hex)
	err := os.Rename(s.blobPath(sha256hex), s.quarantinePath(sha256hex))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("datastore: quarantine %s: %w", sha256hex, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("datastore: quarantine %s: %w", sha256hex, err)
	}
	if err := fsx.SyncDir(filepath.Join(s.root, "blobs", "sha256")); err != nil {
		return fmt.Errorf("datastore: quarantine %s: %w", sha256hex, err)
	}
	// The reason file (written and fsynced with the directory) also makes
	// the rename into quarantine/ durable.
	note := fmt.Sprintf("%s %s\n", time.Now().UTC().Format(time.RFC3339Nano), truncate(reason, 1024))
	if err := fsx.WriteFile(s.quarantinePath(sha256hex)+".reason", []byte(note), 0o640); err != nil {
		return fmt.Errorf("datastore: quarantine %s: blob moved, reason not recorded: %w", sha256hex, err)
	}
	return nil
}

// Remove deletes a complete blob. ErrNotFound if it is not stored.
func (s *Store) Remove(sha256hex string) error {
	if err := checkName(sha256hex); err != nil {
		return err
	}
	s.distrust(sha256hex)
	err := os.Remove(s.blobPath(sha256hex))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("datastore: remove %s: %w", sha256hex, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("datastore: remove %s: %w", sha256hex, err)
	}
	if err := fsx.SyncDir(filepath.Join(s.root, "blobs", "sha256")); err != nil {
		return fmt.Errorf("datastore: remove %s: %w", sha256hex, err)
	}
	return nil
}

// copyCtx copies src to dst through one fixed buffer, checking ctx between
// chunks so a cancelled request stops a long copy.
func copyCtx(ctx context.Context, dst io.Writer, src io.Reader) (int64, error) {
	buf := make([]byte, bufSize)
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		m, rerr := src.Read(buf)
		if m > 0 {
			w, werr := dst.Write(buf[:m])
			n += int64(w)
			if werr != nil {
				return n, werr
			}
		}
		if rerr == io.EOF {
			return n, nil
		}
		if rerr != nil {
			return n, rerr
		}
	}
}

// parseState reads "<offset> <size>\n" from a state file.
func parseState(b []byte) (offset, size int64, err error) {
	fields := strings.Fields(string(b))
	if len(fields) != 2 {
		return 0, 0, fmt.Errorf("want 2 fields, got %d", len(fields))
	}
	if _, err := fmt.Sscan(fields[0], &offset); err != nil {
		return 0, 0, fmt.Errorf("offset: %w", err)
	}
	if _, err := fmt.Sscan(fields[1], &size); err != nil {
		return 0, 0, fmt.Errorf("size: %w", err)
	}
	if offset < 0 || size < 0 || offset > size {
		return 0, 0, fmt.Errorf("offset %d and size %d out of range", offset, size)
	}
	return offset, size, nil
}
