package datastore

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
)

// VerifyingReader reads a blob and hashes what it reads in order from the
// first byte. When such a read reaches the blob's size it checks the hash
// before handing over the last bytes: on a mismatch it returns
// ErrDigestMismatch instead of them and quarantines the blob, so a response
// streamed through it is cut short (the HTTP server then closes the
// connection short of its Content-Length) and never arrives complete with
// bytes altered on disk. It is an io.ReadSeeker for http.ServeContent;
// reads that do not start at the byte after the last hashed one (a range
// request) are passed through unchecked: their reader checks the whole
// against the ledger's SHA-256. It reads with ReadAt, so it does not move
// the Blob's own offset.
type VerifyingReader struct {
	b      *Blob
	h      hash.Hash
	pos    int64 // next byte to read
	hashed int64 // bytes [0, hashed) went through h, in order
	err    error // sticky: once the blob is found bad, every read fails
	ok     bool  // the in-order hash of all Size bytes matched the name
}

// VerifyingReader returns a reader positioned at the blob's first byte.
func (b *Blob) VerifyingReader() *VerifyingReader {
	return &VerifyingReader{b: b, h: sha256.New()}
}

// Read implements io.Reader.
func (v *VerifyingReader) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	size := v.b.size
	if v.pos >= size {
		// An empty blob (or one cut to nothing on disk) is checked here, at
		// its only read.
		if v.pos == v.hashed && !v.ok {
			if err := v.check(); err != nil {
				return 0, err
			}
		}
		return 0, io.EOF
	}
	if int64(len(p)) > size-v.pos {
		p = p[:size-v.pos]
	}
	n, err := v.b.File.ReadAt(p, v.pos)
	if err == io.EOF && v.pos+int64(n) < size {
		// The file is shorter on disk than when it was opened.
		v.err = v.b.mismatch(fmt.Sprintf("a file cut short at %d of %d bytes", v.pos+int64(n), size))
		return 0, v.err
	}
	if err != nil && err != io.EOF {
		return 0, fmt.Errorf("datastore: read blob %s at %d: %w", v.b.SHA256, v.pos, err)
	}
	if v.pos == v.hashed {
		v.h.Write(p[:n])
		v.hashed += int64(n)
		if v.hashed == size {
			if err := v.check(); err != nil {
				return 0, err
			}
		}
	}
	v.pos += int64(n)
	return n, nil
}

// Seek implements io.Seeker, relative to the blob's size as opened.
func (v *VerifyingReader) Seek(offset int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = v.pos + offset
	case io.SeekEnd:
		abs = v.b.size + offset
	default:
		return 0, fmt.Errorf("datastore: seek blob %s: bad whence %d", v.b.SHA256, whence)
	}
	if abs < 0 {
		return 0, fmt.Errorf("datastore: seek blob %s: negative position %d", v.b.SHA256, abs)
	}
	v.pos = abs
	return abs, nil
}

// check compares the hash of all the bytes with the name.
func (v *VerifyingReader) check() error {
	if got := hex.EncodeToString(v.h.Sum(nil)); got != v.b.SHA256 {
		v.err = v.b.mismatch(got)
		return v.err
	}
	v.ok = true
	v.b.verifiedWhole()
	return nil
}

// Verified reports whether every byte of the blob has been read in order
// and hashed to its name.
func (v *VerifyingReader) Verified() bool { return v.ok }

// Err is the mismatch found, if any (errors.Is ErrDigestMismatch).
func (v *VerifyingReader) Err() error {
	if v.err != nil && errors.Is(v.err, ErrDigestMismatch) {
		return v.err
	}
	return nil
}
