//go:build unix

package datastore

import "syscall"

// FreeBytes is the space left for an unprivileged writer on the store's
// file system; ok is false where it cannot be read.
func (s *Store) FreeBytes() (free int64, ok bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(s.root, &st); err != nil {
		return 0, false
	}
	return int64(st.Bavail) * int64(st.Bsize), true
}
