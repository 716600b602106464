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

	"github.com/cityid/cityid/internal/fsx"
)

// checkpointEvery is how many bytes one WriteAt takes in before it fsyncs
// and records its offset, so a connection that carries a whole file of
// several GiB and then dies loses at most this much, and the page cache's
// dirty bytes stay bounded.
const checkpointEvery = 64 << 20

// Upload is one upload of a blob in progress: owned by one caller at a time
// (the store refuses a second Upload of the same hash until Close). Not safe
// for concurrent use by several goroutines.
type Upload struct {
	s      *Store
	name   string
	size   int64
	offset int64 // acknowledged: fsynced and recorded in the state file
	part   *os.File
	closed bool
}

// Upload begins or resumes an upload of the blob with this hash and size
// (from the ledger's DATA value). A part file left by an earlier upload with
// the same size resumes at its acknowledged offset; bytes past it (written
// but not acknowledged before a crash) are cut off. A part file recorded with
// another size is started again: one hash cannot have two sizes, and the
// ledger's is the one that counts. ErrExists if the blob is already stored,
// ErrUploadInProgress if another Upload of it is open.
func (s *Store) Upload(sha256hex string, size int64) (*Upload, error) {
	return s.upload(sha256hex, size, false)
}

// Reupload is Upload of a blob the store may hold already: the bytes are
// received and checked as any upload's, then the stored blob is replaced
// by the same bytes. It is how an identifier that names a stored blob's
// hash proves that its uploader has the bytes: the hash alone, public on
// the ledger, binds nothing (refs.go).
func (s *Store) Reupload(sha256hex string, size int64) (*Upload, error) {
	return s.upload(sha256hex, size, true)
}

func (s *Store) upload(sha256hex string, size int64, again bool) (*Upload, error) {
	if err := checkName(sha256hex); err != nil {
		return nil, err
	}
	if size < 0 {
		return nil, fmt.Errorf("datastore: upload %s: negative size %d", sha256hex, size)
	}
	if ok, err := s.Has(sha256hex); err != nil {
		return nil, err
	} else if ok && !again {
		return nil, fmt.Errorf("datastore: upload %s: %w", sha256hex, ErrExists)
	}
	s.mu.Lock()
	if s.uploading[sha256hex] {
		s.mu.Unlock()
		return nil, fmt.Errorf("datastore: upload %s: %w", sha256hex, ErrUploadInProgress)
	}
	s.uploading[sha256hex] = true
	s.mu.Unlock()
	// An upload that held the hash may have completed it since the check
	// above.
	if ok, err := s.Has(sha256hex); err != nil || ok && !again {
		s.release(sha256hex)
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("datastore: upload %s: %w", sha256hex, ErrExists)
	}

	u, err := s.resume(sha256hex, size)
	if err != nil {
		s.release(sha256hex)
		return nil, fmt.Errorf("datastore: upload %s: %w", sha256hex, err)
	}
	return u, nil
}

func (s *Store) release(name string) {
	s.mu.Lock()
	delete(s.uploading, name)
	s.mu.Unlock()
}

// resume opens the part file and brings it to its acknowledged offset.
func (s *Store) resume(name string, size int64) (*Upload, error) {
	var offset int64
	b, err := os.ReadFile(s.statePath(name))
	switch {
	case err == nil:
		off, sz, perr := parseState(b)
		// A state that does not parse cannot come from a torn write (it is
		// replaced by rename): treat it like another size and start again,
		// losing progress, never accepting bytes nobody acknowledged.
		if perr == nil && sz == size {
			offset = off
		}
	case errors.Is(err, fs.ErrNotExist):
	default:
		return nil, fmt.Errorf("read state: %w", err)
	}
	part, err := os.OpenFile(s.partPath(name), os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open part file: %w", err)
	}
	fi, err := part.Stat()
	if err != nil {
		part.Close()
		return nil, fmt.Errorf("stat part file: %w", err)
	}
	if fi.Size() < offset {
		// The part file lost acknowledged bytes (it was truncated or replaced
		// behind our back): nothing in it can be trusted.
		offset = 0
	}
	if fi.Size() != offset {
		if err := part.Truncate(offset); err != nil {
			part.Close()
			return nil, fmt.Errorf("cut part file to offset %d: %w", offset, err)
		}
		if err := part.Sync(); err != nil {
			part.Close()
			return nil, fmt.Errorf("fsync part file: %w", err)
		}
	}
	u := &Upload{s: s, name: name, size: size, offset: offset, part: part}
	if err := u.saveState(); err != nil {
		part.Close()
		return nil, err
	}
	return u, nil
}

func (u *Upload) saveState() error {
	if err := fsx.WriteFile(u.s.statePath(u.name), fmt.Appendf(nil, "%d %d\n", u.offset, u.size), 0o640); err != nil {
		return fmt.Errorf("record offset: %w", err)
	}
	return nil
}

// Offset is the number of bytes already received and acknowledged: fsynced
// and recorded, so it survives a crash.
func (u *Upload) Offset() int64 { return u.offset }

// Size is the declared size of the blob.
func (u *Upload) Size() int64 { return u.size }

// Received reads the bytes acknowledged so far, from the part file: a
// caller resuming a download into the upload hashes them to check the
// whole as the rest streams in (cityid data mirror).
func (u *Upload) Received() io.Reader { return io.NewSectionReader(u.part, 0, u.offset) }

// Restart drops every byte received, durably: the upload starts again at
// offset 0 (its source sent the whole again, or what was held is not the
// blob's).
func (u *Upload) Restart() error {
	if u.closed {
		return fmt.Errorf("datastore: restart %s: %w", u.name, ErrClosed)
	}
	if err := u.part.Truncate(0); err != nil {
		return fmt.Errorf("datastore: restart %s: %w", u.name, err)
	}
	if err := u.part.Sync(); err != nil {
		return fmt.Errorf("datastore: restart %s: fsync part file: %w", u.name, err)
	}
	// The file holds nothing now, whatever the state file says: a state
	// not saved only makes a later Upload find the part file shorter than
	// recorded, and start again too.
	u.offset = 0
	if err := u.saveState(); err != nil {
		return fmt.Errorf("datastore: restart %s: %w", u.name, err)
	}
	return nil
}

// WriteAt appends r's bytes at offset at, which must equal Offset() (else an
// *OffsetError that says the current offset). It never writes past the
// declared size: a reader with more bytes gets ErrSizeOverflow after the
// bytes that fit are kept. It returns the bytes acknowledged by this call;
// on any error (the reader's, ctx's, the disk's) the bytes acknowledged
// before it are kept, so the client resumes at Offset(). Every byte it counts
// has been fsynced before it returns.
func (u *Upload) WriteAt(ctx context.Context, r io.Reader, at int64) (int64, error) {
	if u.closed {
		return 0, fmt.Errorf("datastore: write %s: %w", u.name, ErrClosed)
	}
	if at != u.offset {
		return 0, fmt.Errorf("datastore: write %s: %w", u.name, &OffsetError{Current: u.offset, Asked: at})
	}
	start := u.offset
	buf := make([]byte, bufSize)
	pending := u.offset // bytes written to the file, acknowledged or not
	var werr error
	for werr == nil {
		if err := ctx.Err(); err != nil {
			werr = err
			break
		}
		remaining := u.size - pending
		if remaining == 0 {
			// Only a probe for one more byte: anything past the size is an
			// overflow, not something to store.
			var probe [1]byte
			n, err := io.ReadFull(r, probe[:])
			if n > 0 {
				werr = ErrSizeOverflow
			} else if err != nil && err != io.EOF {
				werr = err
			}
			break
		}
		chunk := buf
		if int64(len(chunk)) > remaining {
			chunk = chunk[:remaining]
		}
		n, rerr := r.Read(chunk)
		if n > 0 {
			if _, err := u.part.WriteAt(chunk[:n], pending); err != nil {
				werr = fmt.Errorf("write part file: %w", err)
				break
			}
			pending += int64(n)
			if pending-u.offset >= checkpointEvery {
				if err := u.checkpoint(pending); err != nil {
					werr = err
					break
				}
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			werr = rerr
		}
	}
	if pending != u.offset {
		if err := u.checkpoint(pending); err != nil {
			werr = errors.Join(werr, err)
		}
	}
	n := u.offset - start
	if werr != nil {
		return n, fmt.Errorf("datastore: write %s at %d (now at %d of %d): %w", u.name, at, u.offset, u.size, werr)
	}
	return n, nil
}

// checkpoint makes the bytes up to pending durable and records the offset.
func (u *Upload) checkpoint(pending int64) error {
	if err := u.part.Sync(); err != nil {
		return fmt.Errorf("fsync part file: %w", err)
	}
	old := u.offset
	u.offset = pending
	if err := u.saveState(); err != nil {
		u.offset = old
		return err
	}
	return nil
}

// Complete checks the size and the SHA-256 of everything received, by
// re-reading the part file through one buffer (so what is moved is exactly
// what was hashed, whatever happened between writes), and moves it into
// blobs/ atomically (rename, then directory fsync). ErrIncomplete if bytes
// are missing (the upload stays open); on ErrDigestMismatch the part file is
// removed and the upload closed. The upload is closed after success too.
func (u *Upload) Complete() error {
	return u.CompleteContext(context.Background())
}

// CompleteContext is Complete with a context that can stop the re-read of
// a large file; the upload then stays open and resumable.
func (u *Upload) CompleteContext(ctx context.Context) error {
	if u.closed {
		return fmt.Errorf("datastore: complete %s: %w", u.name, ErrClosed)
	}
	if u.offset != u.size {
		return fmt.Errorf("datastore: complete %s: %d of %d bytes: %w", u.name, u.offset, u.size, ErrIncomplete)
	}
	h := sha256.New()
	n, err := copyCtx(ctx, h, io.NewSectionReader(u.part, 0, u.size+1))
	if err != nil {
		return fmt.Errorf("datastore: complete %s: re-read part file: %w", u.name, err)
	}
	got := hex.EncodeToString(h.Sum(nil))
	if n != u.size || got != u.name {
		derr := fmt.Errorf("datastore: complete %s: %d bytes hashing to %s: %w", u.name, n, got, ErrDigestMismatch)
		if err := u.discard(); err != nil {
			return errors.Join(derr, err)
		}
		return derr
	}
	if err := u.part.Close(); err != nil {
		return fmt.Errorf("datastore: complete %s: close part file: %w", u.name, err)
	}
	u.closed = true
	defer u.s.release(u.name)
	if err := os.Rename(u.s.partPath(u.name), u.s.blobPath(u.name)); err != nil {
		return fmt.Errorf("datastore: complete %s: move into blobs: %w", u.name, err)
	}
	if err := fsx.SyncDir(filepath.Join(u.s.root, "blobs", "sha256")); err != nil {
		return fmt.Errorf("datastore: complete %s: %w", u.name, err)
	}
	// The blob is durable; the state file only matters to an upload, and
	// Upload refuses a stored blob (a Reupload resumes from it), so a crash
	// before this removal is harmless.
	if err := os.Remove(u.s.statePath(u.name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("datastore: complete %s: remove state: %w", u.name, err)
	}
	if err := fsx.SyncDir(filepath.Join(u.s.root, "uploads")); err != nil {
		return fmt.Errorf("datastore: complete %s: %w", u.name, err)
	}
	return nil
}

// discard removes the part and state files and closes the upload.
func (u *Upload) discard() error {
	u.closed = true
	defer u.s.release(u.name)
	var errs []error
	if err := u.part.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close part file: %w", err))
	}
	for _, p := range []string{u.s.statePath(u.name), u.s.partPath(u.name)} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove %s: %w", filepath.Base(p), err))
		}
	}
	if err := fsx.SyncDir(filepath.Join(u.s.root, "uploads")); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Close ends this caller's hold on the upload, keeping what was received
// for a later Upload to resume. Safe to call after Complete and more than once.
func (u *Upload) Close() error {
	if u.closed {
		return nil
	}
	u.closed = true
	defer u.s.release(u.name)
	if err := u.part.Close(); err != nil {
		return fmt.Errorf("datastore: close upload %s: %w", u.name, err)
	}
	return nil
}

// Progress is where an upload stands, for an upload-status answer.
type Progress struct {
	Complete bool  // the blob is stored
	Offset   int64 // bytes acknowledged so far (Size when complete)
	Size     int64 // declared size; 0 with Offset 0 when no upload began
}

// Status says where the upload of a blob stands without taking it over:
// complete, resumable at Offset, or not begun. It reads the recorded state,
// so it may lag an upload in progress by the bytes not yet checkpointed.
func (s *Store) Status(sha256hex string) (Progress, error) {
	if err := checkName(sha256hex); err != nil {
		return Progress{}, err
	}
	fi, err := os.Stat(s.blobPath(sha256hex))
	switch {
	case err == nil && fi.Mode().IsRegular():
		return Progress{Complete: true, Offset: fi.Size(), Size: fi.Size()}, nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return Progress{}, fmt.Errorf("datastore: status %s: %w", sha256hex, err)
	}
	b, err := os.ReadFile(s.statePath(sha256hex))
	if errors.Is(err, fs.ErrNotExist) {
		return Progress{}, nil
	}
	if err != nil {
		return Progress{}, fmt.Errorf("datastore: status %s: %w", sha256hex, err)
	}
	off, size, err := parseState(b)
	if err != nil {
		// Upload starts such a state again; say so.
		return Progress{}, nil
	}
	return Progress{Offset: off, Size: size}, nil
}
