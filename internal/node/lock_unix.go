//go:build unix

package node

import (
	"errors"
	"os"
	"syscall"
)

// tryLock takes an exclusive flock on f without waiting; held reports that
// another open file holds it (another process, or this one through another
// descriptor).
func tryLock(f *os.File) (held bool, err error) {
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return true, nil
	}
	return false, err
}

// isLockedStore reports whether err is a store's own lock held by another
// process (goleveldb's LOCK file): the data is fine, only in use.
func isLockedStore(err error) bool { return errors.Is(err, syscall.EWOULDBLOCK) }
