package node

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// LockFileName is the file in a home that a process holds locked while it
// uses the home: a running node, and init and reset while they write. It
// holds the process's ID, so that a refusal can say who holds the home.
// The lock itself is the kernel's (flock on Unix): it goes with the
// process, however the process ends, so a node that was killed leaves no
// stale lock behind; the file stays, and its old PID means nothing until
// the next holder writes its own.
const LockFileName = "cityid.lock"

// InUseError is the refusal to use a home that another process holds: a
// node runs on it, or init or reset is writing it.
type InUseError struct {
	Home string
	PID  int // 0 when the holder had not written its ID yet
}

func (e *InUseError) Error() string {
	if e.PID == 0 {
		return fmt.Sprintf("%s is in use by another process", e.Home)
	}
	return fmt.Sprintf("%s is in use by process %d", e.Home, e.PID)
}

// homeLock is a home held by this process until release.
type homeLock struct {
	f *os.File
}

// pidWait bounds how long a refusal waits for the holder to write its
// PID: a holder writes it right after it takes the lock.
const (
	pidTries = 20
	pidPause = 10 * time.Millisecond
)

// lockHome takes home's lock, creating the home if it is missing, or
// returns an *InUseError naming the process that holds it. It never
// waits for the holder: a second node on a home is a mistake to report at
// once, not a queue.
func lockHome(home string) (*homeLock, error) {
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, fmt.Errorf("lock %s: %w", home, err)
	}
	path := filepath.Join(home, LockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", home, err)
	}
	held, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if held {
		pid := holderPID(f)
		f.Close()
		return nil, &InUseError{Home: home, PID: pid}
	}
	pid := []byte(strconv.Itoa(os.Getpid()) + "\n")
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt(pid, 0)
	}
	if err != nil {
		f.Close() // releases the lock
		return nil, fmt.Errorf("lock %s: write the process ID: %w", path, err)
	}
	return &homeLock{f: f}, nil
}

// holderPID reads the ID the lock's holder wrote, waiting briefly for a
// holder that has just taken the lock; 0 if it does not come.
func holderPID(f *os.File) int {
	buf := make([]byte, 32)
	for range pidTries {
		n, _ := f.ReadAt(buf, 0)
		if pid, err := strconv.Atoi(strings.TrimSpace(string(buf[:n]))); err == nil && pid > 0 {
			return pid
		}
		time.Sleep(pidPause)
	}
	return 0
}

// release gives the home up. Closing the file drops the lock; the file
// stays, so that no process ever locks a file another has just removed.
func (l *homeLock) release() error {
	if l == nil || l.f == nil {
		return nil
	}
	name := l.f.Name()
	err := l.f.Close()
	l.f = nil
	if err != nil {
		return fmt.Errorf("release the lock %s: %w", name, err)
	}
	return nil
}
