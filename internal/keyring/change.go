package keyring

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/cityid/cityid/internal/fsx"
)

// A change of passphrase touches every key file, and a crash between two
// of them would leave keys under both passphrases. It is made all or
// nothing by a journal of folders beside the keys, under keys/.lock:
//
//  1. stage: every key is sealed under the new passphrase into
//     keys/.change.new/<name>.json, each file synced, then the folder;
//  2. commit: keys/.change.new is renamed keys/.change and keys/ synced.
//     This rename is the moment the change happens: before it, the old
//     files are the keyring and the staging folder is debris; after it,
//     the change is decided;
//  3. finish: each file of keys/.change is renamed over its key, keys/
//     synced, and the empty keys/.change removed.
//
// Whoever next takes the lock (every command that changes the keyring) or
// reads a key while keys/.change exists calls recoverChange: it removes a
// staging folder (the change never happened) and finishes a committed
// one. Neither needs a passphrase: the files are sealed already. Both
// names start with '.', which no key name may, so a key is never one.
const (
	stagingDir = ".change.new"
	changeDir  = ".change"
)

// stageChange is step 1: every key of entries sealed under newPass in a
// fresh staging folder.
func (r *Keyring) stageChange(ctx context.Context, entries []Entry, newPass string) (err error) {
	dir := filepath.Join(Dir(r.home), stagingDir)
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("change passphrase: %w", err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return fmt.Errorf("change passphrase: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir) // nothing is decided yet: undo
		}
	}()
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return cancelledChange(err)
		}
		k, err := r.Load(e.Name)
		if err != nil {
			return err
		}
		b, err := seal(k, newPass, r.workFactor(newPass))
		if err != nil {
			return fmt.Errorf("encrypt key %s: %w", k.Name, err)
		}
		if err := createFile(filepath.Join(dir, k.Name+".json"), b); err != nil {
			return fmt.Errorf("encrypt key %s: %w", k.Name, err)
		}
	}
	return nil
}

// cancelledChange is the error of a change cancelled before its commit.
func cancelledChange(err error) error {
	return fmt.Errorf("change passphrase cancelled (%w): every key is still under the old passphrase", err)
}

// abortChange removes the staging folder of a change not committed.
func (r *Keyring) abortChange() {
	os.RemoveAll(filepath.Join(Dir(r.home), stagingDir))
}

// commitChange is step 2, the change's one atomic step.
func (r *Keyring) commitChange() error {
	keys := Dir(r.home)
	if err := os.Rename(filepath.Join(keys, stagingDir), filepath.Join(keys, changeDir)); err != nil {
		return fmt.Errorf("change passphrase: %w", err)
	}
	return fsx.SyncDir(keys)
}

// finishChange is step 3: the committed files replace the keys. It may
// run again after a crash in the middle: a file already moved is no
// longer in keys/.change.
func (r *Keyring) finishChange() error {
	keys := Dir(r.home)
	dir := filepath.Join(keys, changeDir)
	files, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("finish the change of passphrase: %w", err)
	}
	for _, f := range files {
		name, ok := strings.CutSuffix(f.Name(), ".json")
		if !ok || ValidName(name) != nil {
			continue // a temporary file of a write the crash cut: not staged
		}
		if err := os.Rename(filepath.Join(dir, f.Name()), r.File(name)); err != nil {
			return fmt.Errorf("finish the change of passphrase: %w", err)
		}
	}
	if err := fsx.SyncDir(keys); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("finish the change of passphrase: %w", err)
	}
	return fsx.SyncDir(keys)
}

// recoverChange brings a change of passphrase cut short to one end, with
// the lock held: a committed one finished, a staged one removed.
func (r *Keyring) recoverChange() error {
	keys := Dir(r.home)
	if _, err := os.Lstat(filepath.Join(keys, changeDir)); err == nil {
		if err := r.finishChange(); err != nil {
			return err
		}
		r.warn(fmt.Sprintf("a change of the passphrase of the keyring in %s was cut short after it was decided; it is now finished: every key opens with the new passphrase", keys))
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("keyring %s: %w", keys, err)
	}
	staging := filepath.Join(keys, stagingDir)
	if _, err := os.Lstat(staging); err == nil {
		if err := os.RemoveAll(staging); err != nil {
			return fmt.Errorf("undo a change of passphrase cut short: %w", err)
		}
		return fsx.SyncDir(keys)
	}
	return nil
}

// settle finishes a committed change of passphrase before a key is read,
// so that a reader never sees some keys under each passphrase. A reader
// that holds the lock has settled already; one that does not takes it,
// which also waits for a change under way.
func (r *Keyring) settle() error {
	if r.locked {
		return nil
	}
	if _, err := os.Lstat(filepath.Join(Dir(r.home), changeDir)); err != nil {
		return nil // none (or the folder is unreadable, which the read says)
	}
	unlock, err := r.lock()
	if err != nil {
		return err
	}
	return unlock()
}
