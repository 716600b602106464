package datastore

import (
	"os"
	"time"
)

// Verifying every full read costs a SHA-256 pass per download, a half or
// more of the throughput of serving the file with sendfile. So a blob that
// was read whole and matched is trusted — served without hashing — while
// its file is unchanged: same inode, size, mtime and ctime. Every write
// through the file system moves ctime, and an unprivileged program cannot
// set it back, so bytes altered on disk through it end the trust and the
// next full read is verified (and the blob quarantined).
//
// Two limits, with their reasons:
//   - racyGuard: timestamps are coarse (a clock tick), so a write in the
//     same tick as the last change could leave ctime as it was. A
//     verification counts only if the file's ctime is older than the start
//     of the read by racyGuard (git's "racy clean" problem): any later
//     write then has a newer ctime.
//   - trustFor: damage that does not go through the file system (a failing
//     disk, a raw write to the device) leaves ctime alone, so trust lapses
//     after trustFor and the next full read is verified again.
const (
	racyGuard = time.Second
	trustFor  = time.Hour
)

// stamp identifies one version of a file on disk.
type stamp struct {
	dev, ino     uint64
	size         int64
	mtime, ctime int64 // Unix nanoseconds
}

// trust is a stamp whose bytes were verified, and when the read began.
type trust struct {
	stamp stamp
	at    time.Time
}

// Trusted reports whether the blob, as opened, is a file whose bytes were
// verified within trustFor and not changed since: it may then be served
// straight from Blob.File (with sendfile), skipping the hash.
// Otherwise serve it through VerifyingReader, which verifies and, on a
// match, makes the file trusted for the next requests.
func (b *Blob) Trusted() bool {
	if b.store == nil || !b.stamped {
		return false
	}
	b.store.mu.Lock()
	t, ok := b.store.trusted[b.SHA256]
	b.store.mu.Unlock()
	return ok && t.stamp == b.stamp && b.openedAt.Sub(t.at) < trustFor
}

// verifiedWhole records that the bytes of the file as opened hashed to the
// name, if the file did not change during the read and its last change is
// old enough that a later one must move ctime.
func (b *Blob) verifiedWhole() {
	if b.store == nil || !b.stamped {
		return
	}
	fi, err := b.File.Stat()
	if err != nil {
		return
	}
	now, ok := fileStamp(fi)
	if !ok || now != b.stamp || !time.Unix(0, now.ctime).Before(b.openedAt.Add(-racyGuard)) {
		return
	}
	if onDisk, err := os.Stat(b.store.blobPath(b.SHA256)); err != nil || !os.SameFile(fi, onDisk) {
		return
	}
	b.store.mu.Lock()
	b.store.trusted[b.SHA256] = trust{stamp: now, at: b.openedAt}
	b.store.mu.Unlock()
}

// distrust forgets a blob's verification (it was removed or quarantined).
func (s *Store) distrust(name string) {
	s.mu.Lock()
	delete(s.trusted, name)
	s.mu.Unlock()
}
