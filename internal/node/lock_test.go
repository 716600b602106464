//go:build unix

package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A home is held by one holder at a time, the refusal names the holder's
// process, and a released home can be taken again. Within one process
// the lock is per open file, as between processes (cmd/cityid's
// TestHomeInUse runs real processes).
func TestHomeLock(t *testing.T) {
	home := filepath.Join(t.TempDir(), "new", "home")
	first, err := lockHome(home) // creates the home
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(home, LockFileName))
	if err != nil || strings.TrimSpace(string(b)) != fmt.Sprint(os.Getpid()) {
		t.Fatalf("lock file holds %q (%v), want this process's ID %d", b, err, os.Getpid())
	}
	_, err = lockHome(home)
	var inUse *InUseError
	if !errors.As(err, &inUse) || inUse.PID != os.Getpid() || inUse.Home != home {
		t.Fatalf("second lock: %v, want an InUseError naming process %d", err, os.Getpid())
	}
	if want := fmt.Sprintf("%s is in use by process %d", home, os.Getpid()); err.Error() != want {
		t.Fatalf("second lock says %q, want %q", err, want)
	}
	// Init and Reset refuse a held home too, and say so the same way.
	if _, err := Init(home, InitOptions{}); !errors.As(err, &inUse) {
		t.Fatalf("init of a held home: %v", err)
	}
	if Initialized(home) {
		t.Fatal("init wrote a genesis into a held home")
	}
	if err := first.release(); err != nil {
		t.Fatal(err)
	}
	if _, err := Init(home, InitOptions{}); err != nil {
		t.Fatalf("init after the release: %v", err)
	}
	held, err := lockHome(home)
	if err != nil {
		t.Fatal(err)
	}
	removed, err := Reset(home)
	if !errors.As(err, &inUse) || len(removed) != 0 || !strings.Contains(err.Error(), inUse.Error()) {
		t.Fatalf("reset of a held home: removed %v, %v", removed, err)
	}
	c, err := Load(home)
	if err != nil {
		t.Fatal(err)
	}
	c.HTTP.Listen, c.DNS.Listen = "127.0.0.1:0", ""
	if run, err := Start(context.Background(), c, slog.New(slog.DiscardHandler)); !errors.As(err, &inUse) || strings.Contains(err.Error(), "reset") {
		if run != nil {
			_ = run.Stop()
		}
		t.Fatalf("start on a held home: %v; want %q, and no advice to reset", err, inUse)
	}
	if _, err := os.Stat(filepath.Join(home, "data", "priv_validator_state.json")); err != nil {
		t.Fatalf("refused reset touched the data: %v", err)
	}
	if err := held.release(); err != nil {
		t.Fatal(err)
	}
	if _, err := Reset(home); err != nil {
		t.Fatalf("reset after the release: %v", err)
	}
}

// A state store that another process holds (an older cityid without the
// home's lock, or a tool reading it) is not damaged data: start says who
// to stop, and never advises a reset that would delete it.
func TestStartOnAHeldStore(t *testing.T) {
	home := filepath.Join(t.TempDir(), "h")
	if _, err := Init(home, InitOptions{HTTP: "127.0.0.1:0", RPC: "tcp://127.0.0.1:0", P2P: "tcp://127.0.0.1:0", DNS: "off"}); err != nil {
		t.Fatal(err)
	}
	c, err := Load(home)
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(home, "data", "cityid", "state.db")
	if err := os.MkdirAll(db, 0o700); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(db, "LOCK"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	run, err := Start(context.Background(), c, slog.New(slog.DiscardHandler))
	if err == nil {
		_ = run.Stop()
		t.Fatal("started on a state store another process holds")
	}
	if !strings.Contains(err.Error(), "Another process holds") || strings.Contains(err.Error(), "reset") {
		t.Fatalf("start on a held store says:\n%v", err)
	}
	// The failed start gave the home back.
	l, err := lockHome(home)
	if err != nil {
		t.Fatalf("home still held after a failed start: %v", err)
	}
	if err := l.release(); err != nil {
		t.Fatal(err)
	}
}
