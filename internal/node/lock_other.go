//go:build !unix

package node

import "os"

// tryLock does not lock on systems without flock: there the home is not
// guarded against a second node, and the stores' own locks are the only
// guard.
func tryLock(*os.File) (held bool, err error) { return false, nil }

// isLockedStore cannot tell a store in use from a damaged one here.
func isLockedStore(error) bool { return false }
