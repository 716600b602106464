// Package keyring keeps a node's and a user's Ed25519 signing keys as files
// in the home folder (keys/<name>.json), readable by the owner only, each
// seed encrypted at rest with the keyring's passphrase (age, scrypt: see
// file.go) and its name and public key in clear beside it. It owns key
// generation, naming, the key files' format and permissions, where a
// passphrase comes from (passphrase.go) and the portal's backups
// (backup.go). It does not sign transactions (package registry does),
// never sends a key anywhere, and never reads the node's configuration:
// its caller says where the passphrase comes from (node.OpenKeyring).
package keyring

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/cityid/cityid/internal/fsx"
)

// Dir is the keyring's folder under a home folder.
func Dir(home string) string { return filepath.Join(home, "keys") }

// Key is a named key pair.
type Key struct {
	Name    string
	Private ed25519.PrivateKey
}

// Public is the key's public half in its text form (hex), as records list
// admins.
func (k Key) Public() string { return hex.EncodeToString(k.Private.Public().(ed25519.PublicKey)) }

// Entry is a key as the keyring shows it without its passphrase: the name
// and public half a key file keeps in clear. Load checks both against the
// ciphertext; List and Show only read them.
type Entry struct {
	Name   string
	PubKey string
	// Plain is a key file of an older cityid, its seed in clear: Load
	// encrypts it on first use.
	Plain bool
}

// ErrNotFound is returned for a key name that is not in the keyring.
var ErrNotFound = errors.New("no such key")

// ErrExists is returned when adding a name already taken.
var ErrExists = errors.New("key already exists")

// ValidName reports whether name can name a key: 1-64 letters, digits, '-',
// '_' or '.', not starting with '.'.
func ValidName(name string) error {
	if name == "" || len(name) > 64 || strings.HasPrefix(name, ".") {
		return fmt.Errorf("key name %q: use 1 to 64 letters, digits, '-', '_' or '.', not starting with '.'", name)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("key name %q: character %q is not a letter, digit, '-', '_' or '.'", name, c)
		}
	}
	return nil
}

// Options say how a Keyring gets its passphrase and how hard it makes
// each file to guess.
type Options struct {
	// Passphrase gives the keyring's passphrase; fresh is true when the
	// keyring holds no encrypted key yet, so that a prompt asks for a new
	// one twice. It is called at most once per Keyring, the first time a
	// secret is read or written: listing and showing keys never call it.
	// Sources.Passphrase is the usual one. nil: no passphrase anywhere.
	Passphrase func(fresh bool) (string, error)
	// WorkFactor is scrypt's log2(N) for the files this keyring writes
	// under a passphrase a person chose; 0 is DefaultWorkFactor. Only
	// tests lower it: age reads the factor from each file, so a file
	// written at any factor opens everywhere.
	WorkFactor int
	// Warn receives one line per key file migrated from clear text; nil
	// writes it to standard error, so that it is never silent.
	Warn func(msg string)
}

// Keyring is the keyring of one home, with its passphrase once asked. It
// is meant for one command or one node start: not for use by several
// goroutines at once.
type Keyring struct {
	home string
	o    Options
	pass string
	err  error
	done bool
	// locked: this Keyring holds keys/.lock (a change in progress that
	// loads keys, which may migrate them, under the same lock).
	locked bool
}

// Open is home's keyring; nothing is read until a method is called.
func Open(home string, o Options) *Keyring { return &Keyring{home: home, o: o} }

// Home is the home folder the keyring is in.
func (r *Keyring) Home() string { return r.home }

// File is the path of the key file named name.
func (r *Keyring) File(name string) string { return filepath.Join(Dir(r.home), name+".json") }

// passphrase asks Options.Passphrase once and keeps its answer, a
// refusal included: a prompt is never repeated within one command.
func (r *Keyring) passphrase() (string, error) {
	if r.done {
		return r.pass, r.err
	}
	r.done = true
	if r.o.Passphrase == nil {
		r.err = NoPassphraseError("")
		return "", r.err
	}
	fresh, err := r.fresh()
	if err != nil {
		r.err = err
		return "", err
	}
	r.pass, r.err = r.o.Passphrase(fresh)
	if r.err == nil && r.pass == "" {
		r.err = &Error{Code: CodeNoPassphrase, Message: "the keyring's passphrase is empty"}
	}
	return r.pass, r.err
}

// fresh reports whether the keyring holds no encrypted key: a passphrase
// given now is a new one.
func (r *Keyring) fresh() (bool, error) {
	entries, err := r.List()
	if err != nil {
		return false, err
	}
	for _, e := range entries {
		if !e.Plain {
			return false, nil
		}
	}
	return true, nil
}

func (r *Keyring) warn(msg string) {
	if r.o.Warn != nil {
		r.o.Warn(msg)
		return
	}
	fmt.Fprintln(os.Stderr, "warning:", msg)
}

// read is the key file of name, parsed but not opened.
func (r *Keyring) read(name string) (keyFile, error) {
	if err := ValidName(name); err != nil {
		return keyFile{}, err
	}
	if err := r.settle(); err != nil {
		return keyFile{}, err
	}
	b, err := os.ReadFile(r.File(name))
	if errors.Is(err, fs.ErrNotExist) {
		return keyFile{}, fmt.Errorf("key %q in %s: %w (create it with: cityid keys add %s)", name, Dir(r.home), ErrNotFound, name)
	}
	if err != nil {
		return keyFile{}, fmt.Errorf("read key %s: %w", name, err)
	}
	f, err := parseKeyFile(b)
	if err != nil {
		return keyFile{}, fmt.Errorf("key file %s: %w", r.File(name), err)
	}
	return f, nil
}

// Load reads and decrypts the key named name. A key file in clear (an
// older cityid's) is encrypted in place first, atomically, with a warning:
// the key is the same, and an interruption leaves the old file or the
// new one, never neither.
func (r *Keyring) Load(name string) (Key, error) {
	f, err := r.read(name)
	if err != nil {
		return Key{}, err
	}
	if f.Age == "" {
		k, err := f.plainKey()
		if err != nil {
			return Key{}, fmt.Errorf("key file %s: %w", r.File(name), err)
		}
		k.Name = name
		if err := r.migrate(k); err != nil {
			return Key{}, err
		}
		return k, nil
	}
	pass, err := r.passphrase()
	if err != nil {
		return Key{}, fmt.Errorf("open key %s: %w", name, err)
	}
	k, err := f.open(name, pass)
	if err != nil {
		return Key{}, fmt.Errorf("key file %s: %w", r.File(name), err)
	}
	return k, nil
}

// migrate replaces k's clear key file with an encrypted one, under the
// keyring's lock, and only if the file is still that clear key: another
// command may have removed it, renamed it or encrypted it since it was
// read.
func (r *Keyring) migrate(k Key) (err error) {
	unlock, err := r.lock()
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, unlock()) }()
	if f, err := r.read(k.Name); err != nil || f.Age != "" {
		return nil // gone, or encrypted by another: nothing to migrate
	} else if now, err := f.plainKey(); err != nil || !now.Private.Equal(k.Private) {
		return nil // another key under that name now: not ours to touch
	}
	pass, err := r.passphrase()
	if err != nil {
		return fmt.Errorf("key %s is stored in clear and is encrypted on first use: %w", k.Name, err)
	}
	b, err := seal(k, pass, r.workFactor(pass))
	if err != nil {
		return fmt.Errorf("encrypt key %s: %w", k.Name, err)
	}
	if err := replaceFile(r.File(k.Name), b); err != nil {
		return fmt.Errorf("encrypt key %s: %w", k.Name, err)
	}
	r.warn(fmt.Sprintf("key %s was stored in clear in %s; it is now encrypted with the keyring's passphrase (the key is the same: %s)", k.Name, r.File(k.Name), k.Public()))
	return nil
}

// workFactor is scrypt's cost for a file sealed with pass: a passphrase
// cityid generated has 256 bits, which no work factor makes harder to
// guess, so it gets the least that age's format recommends and a load
// costs milliseconds; a person's passphrase gets the full cost.
func (r *Keyring) workFactor(pass string) int {
	if IsGenerated(pass) {
		return GeneratedWorkFactor
	}
	if r.o.WorkFactor != 0 {
		return r.o.WorkFactor
	}
	return DefaultWorkFactor
}

// Add creates a new key named name.
func (r *Keyring) Add(name string) (Key, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return Key{}, fmt.Errorf("generate key: %w", err)
	}
	return r.Import(name, priv)
}

// lock serialises the changes of the keyring's files between commands
// run at once (keys/.lock): without it a key added while another command
// changes the passphrase would be written between its replacements. Reads
// take no lock (every file is written whole and renamed into place), but
// for the migration of a key in clear, which writes.
func (r *Keyring) lock() (func() error, error) {
	if r.locked {
		return func() error { return nil }, nil // held by the change calling
	}
	dir := Dir(r.home)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create keyring: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create keyring: %w", err)
	}
	unlock, err := fsx.Lock(filepath.Join(dir, lockFile))
	if err != nil {
		return nil, err
	}
	// A change of passphrase cut short is finished or undone before
	// anything else changes the keyring.
	if err := r.recoverChange(); err != nil {
		unlock()
		return nil, err
	}
	r.locked = true
	return func() error {
		r.locked = false
		return unlock()
	}, nil
}

// lockFile is the keyring's lock, beside its keys (never a key: not .json).
const lockFile = ".lock"

// Import stores priv under name, never over a key that exists.
func (r *Keyring) Import(name string, priv ed25519.PrivateKey) (_ Key, err error) {
	if err := ValidName(name); err != nil {
		return Key{}, err
	}
	unlock, err := r.lock()
	if err != nil {
		return Key{}, err
	}
	defer func() { err = errors.Join(err, unlock()) }()
	return r.importLocked(name, priv)
}

// importLocked is Import with the keyring's lock held.
func (r *Keyring) importLocked(name string, priv ed25519.PrivateKey) (Key, error) {
	if err := ValidName(name); err != nil {
		return Key{}, err
	}
	dir := Dir(r.home)
	// Refused before the passphrase is asked: a prompt for nothing
	// would only confuse.
	if _, err := os.Stat(r.File(name)); err == nil {
		return Key{}, fmt.Errorf("key %q in %s: %w", name, dir, ErrExists)
	}
	k := Key{Name: name, Private: priv}
	pass, err := r.passphrase()
	if err != nil {
		return Key{}, fmt.Errorf("store key %s: %w", name, err)
	}
	b, err := seal(k, pass, r.workFactor(pass))
	if err != nil {
		return Key{}, fmt.Errorf("encrypt key %s: %w", name, err)
	}
	if err := createFile(r.File(name), b); errors.Is(err, fs.ErrExist) {
		return Key{}, fmt.Errorf("key %q in %s: %w", name, dir, ErrExists)
	} else if err != nil {
		return Key{}, fmt.Errorf("write key %s: %w", name, err)
	}
	return k, nil
}

// Show is the clear part of the key file named name: no passphrase.
func (r *Keyring) Show(name string) (Entry, error) {
	f, err := r.read(name)
	if err != nil {
		return Entry{}, err
	}
	return f.entry(name)
}

// List is the keyring's keys, sorted by name, as their files say in
// clear: no passphrase is asked.
func (r *Keyring) List() ([]Entry, error) {
	if err := r.settle(); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(Dir(r.home))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	var out []Entry
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || e.IsDir() || ValidName(name) != nil {
			continue
		}
		en, err := r.Show(name)
		if err != nil {
			return nil, err
		}
		out = append(out, en)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Remove deletes the key named name and returns what its file said (its
// public half, to say which was removed). There is no other copy unless
// one was exported: the caller asks the person first.
func (r *Keyring) Remove(name string) (_ Entry, err error) {
	unlock, err := r.lock()
	if err != nil {
		return Entry{}, err
	}
	defer func() { err = errors.Join(err, unlock()) }()
	e, err := r.Show(name)
	if err != nil {
		return Entry{}, err
	}
	if err := os.Remove(r.File(name)); err != nil {
		return Entry{}, fmt.Errorf("remove key %s: %w", name, err)
	}
	if err := fsx.SyncDir(Dir(r.home)); err != nil {
		return Entry{}, err
	}
	return e, nil
}

// Rename gives the key named from the name to. The name is sealed with
// the seed, so the key is decrypted and written anew under to (never over
// a key that exists), then the old file removed: a crash leaves the key
// under one name or both, never under none.
func (r *Keyring) Rename(from, to string) (_ Key, err error) {
	unlock, err := r.lock()
	if err != nil {
		return Key{}, err
	}
	defer func() { err = errors.Join(err, unlock()) }()
	k, err := r.Load(from)
	if err != nil {
		return Key{}, err
	}
	if from == to {
		return k, nil
	}
	nk, err := r.importLocked(to, k.Private)
	if err != nil {
		return Key{}, err
	}
	if err := os.Remove(r.File(from)); err != nil {
		return nk, fmt.Errorf("rename key %s: the key is now %s too; remove %s by hand: %w", from, to, from, err)
	}
	return nk, fsx.SyncDir(Dir(r.home))
}

// ChangePassphrase encrypts every key again with newPass and returns
// them, all or nothing (see change.go): a crash before the change is
// decided leaves every key under the old passphrase, one after it leaves
// a change that the keyring's next use finishes, with no passphrase.
func (r *Keyring) ChangePassphrase(ctx context.Context, newPass string) (_ []Entry, err error) {
	if newPass == "" {
		return nil, &Error{Code: CodeNoPassphrase, Message: "the new passphrase is empty"}
	}
	unlock, err := r.lock()
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, unlock()) }()
	entries, err := r.List()
	if err != nil {
		return nil, err
	}
	if err := r.stageChange(ctx, entries, newPass); err != nil {
		return nil, err
	}
	// Until the commit, a cancel (Ctrl-C) leaves every key under the old
	// passphrase; after it, the change is decided and is finished.
	if err := ctx.Err(); err != nil {
		r.abortChange()
		return nil, cancelledChange(err)
	}
	if err := r.commitChange(); err != nil {
		return nil, err
	}
	if err := r.finishChange(); err != nil {
		return nil, err
	}
	r.pass, r.err, r.done = newPass, nil, true
	return entries, nil
}

// ReadKeyFile opens a key file's bytes (keys/<name>.json of any home):
// one in clear as it is, an encrypted one with the passphrase pass gives
// (called only then). The key's name is the one the file gives.
func ReadKeyFile(b []byte, pass func() (string, error)) (Key, error) {
	f, err := parseKeyFile(b)
	if err != nil {
		return Key{}, err
	}
	if f.Age == "" {
		k, err := f.plainKey()
		k.Name = f.Name
		return k, err
	}
	p, err := pass()
	if err != nil {
		return Key{}, err
	}
	return f.open(f.Name, p)
}
