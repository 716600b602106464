//go:build !unix

package datastore

// FreeBytes cannot read the free space here.
func (s *Store) FreeBytes() (int64, bool) { return 0, false }
