// Package keyring keeps a node's and a user's Ed25519 signing keys as files
// in the home folder (keys/<name>.json), readable by the owner only, in the
// manner of CometBFT's priv_validator_key.json. It owns key generation,
// naming and file permissions; it does not sign transactions (package
// registry does) and never sends a key anywhere.
package keyring

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
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

// file is the on-disk form: the 32-byte seed, hex, and the public key for
// reading by eye.
type file struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	PubKey  string `json:"pub_key"`
	Seed    string `json:"seed"`
	Comment string `json:"comment"`
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

// Add creates a new key named name in home's keyring.
func Add(home, name string) (Key, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return Key{}, fmt.Errorf("generate key: %w", err)
	}
	return Import(home, name, priv)
}

// Import stores priv under name in home's keyring.
func Import(home, name string, priv ed25519.PrivateKey) (Key, error) {
	if err := ValidName(name); err != nil {
		return Key{}, err
	}
	dir := Dir(home)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Key{}, fmt.Errorf("create keyring: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return Key{}, fmt.Errorf("create keyring: %w", err)
	}
	k := Key{Name: name, Private: priv}
	b, err := json.MarshalIndent(file{
		Name: name, Type: "ed25519", PubKey: k.Public(), Seed: hex.EncodeToString(priv.Seed()),
		Comment: "CityID signing key. Keep this file secret: anyone who reads it can sign as this key.",
	}, "", "  ")
	if err != nil {
		return Key{}, fmt.Errorf("encode key %s: %w", name, err)
	}
	path := filepath.Join(dir, name+".json")
	// O_EXCL: never overwrite a key, even when two commands race.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return Key{}, fmt.Errorf("key %q in %s: %w", name, dir, ErrExists)
	}
	if err != nil {
		return Key{}, fmt.Errorf("write key %s: %w", name, err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return Key{}, fmt.Errorf("write key %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return Key{}, fmt.Errorf("write key %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return Key{}, fmt.Errorf("write key %s: %w", name, err)
	}
	return k, nil
}

// Load reads the key named name from home's keyring.
func Load(home, name string) (Key, error) {
	if err := ValidName(name); err != nil {
		return Key{}, err
	}
	path := filepath.Join(Dir(home), name+".json")
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Key{}, fmt.Errorf("key %q in %s: %w (create it with: cityid keys add %s)", name, Dir(home), ErrNotFound, name)
	}
	if err != nil {
		return Key{}, fmt.Errorf("read key %s: %w", name, err)
	}
	k, err := ParseKeyFile(b)
	if err != nil {
		return Key{}, fmt.Errorf("key file %s: %w", path, err)
	}
	k.Name = name
	return k, nil
}

// ParseKeyFile reads a key file's bytes (keys/<name>.json); the key's
// name is the one the file gives.
func ParseKeyFile(b []byte) (Key, error) {
	var f file
	if err := json.Unmarshal(b, &f); err != nil {
		return Key{}, err
	}
	if f.Type != "" && f.Type != "ed25519" {
		return Key{}, fmt.Errorf("key type %q is not ed25519", f.Type)
	}
	seed, err := hex.DecodeString(f.Seed)
	if err != nil || len(seed) != ed25519.SeedSize {
		return Key{}, fmt.Errorf("seed is not %d bytes of hex", ed25519.SeedSize)
	}
	k := Key{Name: f.Name, Private: ed25519.NewKeyFromSeed(seed)}
	if f.PubKey != "" && f.PubKey != k.Public() {
		return Key{}, errors.New("pub_key does not match the seed")
	}
	return k, nil
}

// List returns the keys of home's keyring, sorted by name.
func List(home string) ([]Key, error) {
	entries, err := os.ReadDir(Dir(home))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	var keys []Key
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || e.IsDir() || ValidName(name) != nil {
			continue
		}
		k, err := Load(home, name)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].Name < keys[j].Name })
	return keys, nil
}

// Remove deletes the key named name from home's keyring and returns it (its
// public half, to say which was removed). There is no other copy unless one
// was exported: the caller asks the person first.
func Remove(home, name string) (Key, error) {
	k, err := Load(home, name)
	if err != nil {
		return Key{}, err
	}
	path := filepath.Join(Dir(home), name+".json")
	if err := os.Remove(path); err != nil {
		return Key{}, fmt.Errorf("remove key %s: %w", name, err)
	}
	if err := syncDir(Dir(home)); err != nil {
		return Key{}, err
	}
	return k, nil
}

// Rename gives the key named from the name to: a new file written first
// (never over a key that exists), then the old one removed, so a crash
// leaves the key under one name or both, never under none.
func Rename(home, from, to string) (Key, error) {
	k, err := Load(home, from)
	if err != nil {
		return Key{}, err
	}
	if from == to {
		return k, nil
	}
	nk, err := Import(home, to, k.Private)
	if err != nil {
		return Key{}, err
	}
	if err := os.Remove(filepath.Join(Dir(home), from+".json")); err != nil {
		return nk, fmt.Errorf("rename key %s: the key is now %s too; remove %s by hand: %w", from, to, from, err)
	}
	return nk, syncDir(Dir(home))
}

// syncDir makes a removal in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return nil
}
