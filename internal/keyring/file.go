package keyring

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"filippo.io/age"
	"filippo.io/age/armor"
)

// A key file is JSON: the key's name, type and public key in clear (so
// that `keys list` needs no passphrase), and the seed encrypted to the
// keyring's passphrase with age's scrypt recipient (age-encryption.org/v1),
// armored. The encrypted payload repeats the name and public key: Load
// compares them with the clear ones, so a file copied over another key's
// name, or a public key edited in clear, is refused as tampered.
//
// Armor rather than binary: the file stays text, and the seed can be
// recovered without cityid by the age tool itself:
//
//	jq -r .age keys/alice.json | age -d
//
// An older cityid's key file has "seed" (hex) instead of "age"; Load
// encrypts it on first use.
type keyFile struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	PubKey  string `json:"pub_key"`
	Age     string `json:"age,omitempty"`
	Seed    string `json:"seed,omitempty"`
	Comment string `json:"comment,omitempty"`
}

// sealed is the age payload.
type sealed struct {
	Name   string `json:"name"`
	PubKey string `json:"pub_key"`
	Seed   string `json:"seed"`
}

const (
	// DefaultWorkFactor is scrypt's log2(N) for a passphrase a person
	// chose: age's own default (`age -p`), about 1 s and 256 MiB on a
	// server core, so that each guess at a stolen file costs as much.
	DefaultWorkFactor = 18
	// GeneratedWorkFactor is scrypt's log2(N) under a passphrase cityid
	// generated (GeneratePassphrase): its 256 random bits are past any
	// guessing already, and a key then opens in milliseconds.
	GeneratedWorkFactor = 10
	// maxWorkFactor bounds the cost a key file can ask of Load (age's
	// own bound): a file is input, and one with 2^30 would take hours.
	maxWorkFactor = 22
	keyComment    = "CityID signing key, its seed encrypted with the keyring's passphrase (age, scrypt). Keep the file and the passphrase apart."
)

func seal(k Key, pass string, workFactor int) ([]byte, error) {
	if workFactor < 1 || workFactor > maxWorkFactor {
		return nil, fmt.Errorf("scrypt work factor %d is not between 1 and %d", workFactor, maxWorkFactor)
	}
	rcpt, err := age.NewScryptRecipient(pass)
	if err != nil {
		return nil, err
	}
	rcpt.SetWorkFactor(workFactor)
	payload, err := json.Marshal(sealed{Name: k.Name, PubKey: k.Public(), Seed: hex.EncodeToString(k.Private.Seed())})
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	aw := armor.NewWriter(&buf)
	w, err := age.Encrypt(aw, rcpt)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(payload); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	if err := aw.Close(); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(keyFile{Name: k.Name, Type: "ed25519", PubKey: k.Public(), Age: buf.String(), Comment: keyComment}, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func parseKeyFile(b []byte) (keyFile, error) {
	var f keyFile
	if err := json.Unmarshal(b, &f); err != nil {
		return keyFile{}, fmt.Errorf("not a key file: %w", err)
	}
	if f.Type != "" && f.Type != "ed25519" {
		return keyFile{}, fmt.Errorf("key type %q is not ed25519", f.Type)
	}
	if f.Age != "" && f.Seed != "" {
		return keyFile{}, errors.New("the file has both a seed in clear and an encrypted one")
	}
	if f.Age == "" && f.Seed == "" {
		return keyFile{}, errors.New("the file has no seed, in clear or encrypted")
	}
	if f.Age != "" {
		if pub, err := hex.DecodeString(f.PubKey); err != nil || len(pub) != ed25519.PublicKeySize {
			return keyFile{}, tampered("its pub_key is not 32 bytes of hex")
		}
	}
	return f, nil
}

// entry is the file's clear part as the key named name.
func (f keyFile) entry(name string) (Entry, error) {
	if f.Age == "" {
		k, err := f.plainKey()
		if err != nil {
			return Entry{}, err
		}
		return Entry{Name: name, PubKey: k.Public(), Plain: true}, nil
	}
	return Entry{Name: name, PubKey: f.PubKey}, nil
}

func (f keyFile) plainKey() (Key, error) {
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

// open decrypts the file as the key named name.
func (f keyFile) open(name, pass string) (Key, error) {
	id, err := age.NewScryptIdentity(pass)
	if err != nil {
		return Key{}, &Error{Code: CodeNoPassphrase, Message: err.Error()}
	}
	id.SetMaxWorkFactor(maxWorkFactor)
	r, err := age.Decrypt(armor.NewReader(strings.NewReader(f.Age)), id)
	var nomatch *age.NoIdentityMatchError
	if errors.As(err, &nomatch) {
		return Key{}, &Error{Code: CodeWrongPassphrase, Message: "wrong passphrase (or the file's header was altered)"}
	}
	if err != nil {
		return Key{}, tampered(err.Error())
	}
	payload, err := io.ReadAll(io.LimitReader(r, 4096))
	if err != nil {
		return Key{}, tampered(err.Error())
	}
	var s sealed
	if err := json.Unmarshal(payload, &s); err != nil {
		return Key{}, tampered("the encrypted part is not a key")
	}
	seed, err := hex.DecodeString(s.Seed)
	if err != nil || len(seed) != ed25519.SeedSize {
		return Key{}, tampered("the encrypted seed is not 32 bytes")
	}
	k := Key{Name: name, Private: ed25519.NewKeyFromSeed(seed)}
	switch {
	case k.Public() != s.PubKey:
		return Key{}, tampered("the encrypted public key does not match the seed")
	case s.PubKey != f.PubKey:
		return Key{}, tampered(fmt.Sprintf("its pub_key in clear is %s, the encrypted one %s", f.PubKey, s.PubKey))
	case s.Name != name || f.Name != name:
		return Key{}, tampered(fmt.Sprintf("it holds the key named %q, not %q: a key file was copied over another's name", s.Name, name))
	}
	return k, nil
}

func tampered(why string) error {
	return &Error{Code: CodeKeyTampered, Message: "the key file was altered: " + why}
}
