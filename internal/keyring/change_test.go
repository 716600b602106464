package keyring

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A change of passphrase interrupted between any two of its steps leaves
// every key under one passphrase: before the commit the old one (the
// staging folder is removed by the next command), after it the new one
// (the next command, even one that only reads, finishes the change).
// Each case stops the steps where a crash would, then opens the keyring
// afresh as the next process would.
func TestChangePassphraseInterrupted(t *testing.T) {
	for _, tc := range []struct {
		name string
		// run does the steps a crash let happen, with the lock held.
		run  func(t *testing.T, r *Keyring, entries []Entry)
		want string // the passphrase every key opens with afterwards
		// change: the next command warns that it finished a change.
		finished bool
	}{
		{"staged in part", func(t *testing.T, r *Keyring, entries []Entry) {
			if err := r.stageChange(context.Background(), entries, "new"); err != nil {
				t.Fatal(err)
			}
			// A crash in the middle of staging: one file short.
			os.Remove(filepath.Join(Dir(r.home), stagingDir, entries[0].Name+".json"))
		}, "old", false},
		{"staged", func(t *testing.T, r *Keyring, entries []Entry) {
			if err := r.stageChange(context.Background(), entries, "new"); err != nil {
				t.Fatal(err)
			}
		}, "old", false},
		{"committed", func(t *testing.T, r *Keyring, entries []Entry) {
			if err := r.stageChange(context.Background(), entries, "new"); err != nil {
				t.Fatal(err)
			}
			if err := r.commitChange(); err != nil {
				t.Fatal(err)
			}
		}, "new", true},
		{"finished in part", func(t *testing.T, r *Keyring, entries []Entry) {
			if err := r.stageChange(context.Background(), entries, "new"); err != nil {
				t.Fatal(err)
			}
			if err := r.commitChange(); err != nil {
				t.Fatal(err)
			}
			// The first key moved into place, then the crash.
			name := entries[0].Name + ".json"
			if err := os.Rename(filepath.Join(Dir(r.home), changeDir, name), filepath.Join(Dir(r.home), name)); err != nil {
				t.Fatal(err)
			}
		}, "new", true},
	} {
		for _, next := range []string{"read", "change"} {
			t.Run(tc.name+", then a "+next, func(t *testing.T) {
				home := t.TempDir()
				r := open(home, "old", nil, nil)
				want := map[string]Key{}
				for _, name := range []string{"alice", "bob", "carol"} {
					k, err := r.Add(name)
					if err != nil {
						t.Fatal(err)
					}
					want[name] = k
				}
				entries, err := r.List()
				if err != nil {
					t.Fatal(err)
				}
				unlock, err := r.lock()
				if err != nil {
					t.Fatal(err)
				}
				tc.run(t, r, entries)
				if err := unlock(); err != nil { // the process is gone: so is its lock
					t.Fatal(err)
				}

				var warnings []string
				after := open(home, tc.want, nil, &warnings)
				switch next {
				case "read": // a signing command: it only loads a key
					k, err := after.Load("bob")
					if err != nil || !k.Private.Equal(want["bob"].Private) {
						t.Fatalf("load bob with %q: %v", tc.want, err)
					}
				case "change": // a command that changes the keyring
					if _, err := after.Add("dave"); err != nil {
						t.Fatal(err)
					}
				}
				if got := len(warnings) > 0; got != tc.finished {
					t.Errorf("warnings %q; want one saying the change was finished: %v", warnings, tc.finished)
				}
				for name, k := range want {
					got, err := open(home, tc.want, nil, nil).Load(name)
					if err != nil || !got.Private.Equal(k.Private) {
						t.Errorf("load %s with %q: %v", name, tc.want, err)
					}
					other := map[string]string{"old": "new", "new": "old"}[tc.want]
					if _, err := open(home, other, nil, nil).Load(name); !errors.Is(err, ErrWrongPassphrase) {
						t.Errorf("load %s with %q: %v, want wrong_passphrase: keys under both", name, other, err)
					}
				}
				left := []string{changeDir}
				if next == "change" {
					// A read leaves a staging folder, which changes
					// nothing, to the next command that takes the lock.
					left = append(left, stagingDir)
				}
				for _, d := range left {
					if _, err := os.Lstat(filepath.Join(Dir(home), d)); !errors.Is(err, os.ErrNotExist) {
						t.Errorf("%s is still there (%v)", d, err)
					}
				}
			})
		}
	}
}

// A change cancelled before its commit (Ctrl-C: the command's context)
// stops, says so, and leaves every key under the old passphrase, with no
// staging folder behind.
func TestChangePassphraseCancelled(t *testing.T) {
	home := t.TempDir()
	r := open(home, "old", nil, nil)
	for _, name := range []string{"alice", "bob"} {
		if _, err := r.Add(name); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.ChangePassphrase(ctx, "new"); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "still under the old passphrase") {
		t.Fatalf("a cancelled change: %v, want a cancellation that says the keys are unchanged", err)
	}
	for _, name := range []string{"alice", "bob"} {
		if _, err := open(home, "old", nil, nil).Load(name); err != nil {
			t.Fatalf("%s with the old passphrase after a cancelled change: %v", name, err)
		}
	}
	for _, dir := range []string{stagingDir, changeDir} {
		if _, err := os.Stat(filepath.Join(Dir(home), dir)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("keys/%s after a cancelled change: %v", dir, err)
		}
	}
}
