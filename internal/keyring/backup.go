package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"golang.org/x/text/unicode/norm"
)

// A backup is one key's seed encrypted with a passphrase, in a file a
// person can move between the CLI and the portal (the browser reads and
// writes it with WebCrypto alone: internal/web/static/keys.js). The
// passphrase, in Unicode NFC, is stretched by PBKDF2-HMAC-SHA256 (NIST SP
// 800-132) into an AES-256-GCM key; the format, its version, the key's
// name and its public key are authenticated with the seed, so none of
// them can be changed without the passphrase.
const (
	BackupFormat = "cityid-key-backup"
	// BackupIterations is OWASP's 2023 figure for PBKDF2-HMAC-SHA256.
	BackupIterations = 600_000
	// A backup is input from anywhere: its iteration count is bounded
	// below so that it protects its key, and above so that opening it
	// cannot take hours.
	minBackupIterations = 100_000
	maxBackupIterations = 10_000_000
)

// ErrPassphrase is a backup that does not open: a wrong passphrase, or a
// file altered since it was made.
var ErrPassphrase = errors.New("wrong passphrase, or the backup was altered")

// backupFile is a backup's JSON.
type backupFile struct {
	Format     string `json:"format"`
	Version    int    `json:"version"`
	Name       string `json:"name"`
	PubKey     string `json:"pub_key"`
	KDF        string `json:"kdf"`
	Iterations int    `json:"iterations"`
	Salt       []byte `json:"salt"`
	Cipher     string `json:"cipher"`
	Nonce      []byte `json:"nonce"`
	Ciphertext []byte `json:"ciphertext"`
}

func (f *backupFile) additional() []byte {
	return []byte(f.Format + " " + strconv.Itoa(f.Version) + " " + f.Name + " " + f.PubKey)
}

func backupAEAD(passphrase string, salt []byte, iterations int) (cipher.AEAD, error) {
	if passphrase == "" {
		return nil, errors.New("the passphrase is empty")
	}
	k, err := pbkdf2.Key(sha256.New, norm.NFC.String(passphrase), salt, iterations, 32)
	if err != nil {
		return nil, fmt.Errorf("derive the backup's key: %w", err)
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Backup is k's backup file, encrypted with passphrase, with iterations
// rounds of PBKDF2 (0: BackupIterations).
func Backup(k Key, passphrase string, iterations int) ([]byte, error) {
	if iterations == 0 {
		iterations = BackupIterations
	}
	if iterations < minBackupIterations || iterations > maxBackupIterations {
		return nil, fmt.Errorf("iterations %d is not between %d and %d", iterations, minBackupIterations, maxBackupIterations)
	}
	f := backupFile{
		Format: BackupFormat, Version: 1, Name: k.Name, PubKey: k.Public(),
		KDF: "PBKDF2-HMAC-SHA256", Iterations: iterations, Salt: make([]byte, 16),
		Cipher: "AES-256-GCM", Nonce: make([]byte, 12),
	}
	if _, err := rand.Read(f.Salt); err != nil {
		return nil, err
	}
	if _, err := rand.Read(f.Nonce); err != nil {
		return nil, err
	}
	aead, err := backupAEAD(passphrase, f.Salt, iterations)
	if err != nil {
		return nil, err
	}
	f.Ciphertext = aead.Seal(nil, f.Nonce, k.Private.Seed(), f.additional())
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// IsBackup reports whether b looks like a backup file rather than a
// plain key file.
func IsBackup(b []byte) bool {
	var f struct {
		Format string `json:"format"`
	}
	return json.Unmarshal(b, &f) == nil && f.Format == BackupFormat
}

// OpenBackup opens backup file b with passphrase. The key's name is the
// one the backup gives, checked with ValidName.
func OpenBackup(b []byte, passphrase string) (Key, error) {
	var f backupFile
	if err := json.Unmarshal(b, &f); err != nil {
		return Key{}, fmt.Errorf("not a key backup: %w", err)
	}
	switch {
	case f.Format != BackupFormat:
		return Key{}, fmt.Errorf("not a CityID key backup (format %q)", f.Format)
	case f.Version != 1:
		return Key{}, fmt.Errorf("backup version %d is not 1: use a newer cityid", f.Version)
	case f.KDF != "PBKDF2-HMAC-SHA256" || f.Cipher != "AES-256-GCM":
		return Key{}, fmt.Errorf("unknown kdf %q or cipher %q", f.KDF, f.Cipher)
	case f.Iterations < minBackupIterations || f.Iterations > maxBackupIterations:
		return Key{}, fmt.Errorf("iterations %d is not between %d and %d", f.Iterations, minBackupIterations, maxBackupIterations)
	case len(f.Salt) < 16 || len(f.Nonce) != 12:
		return Key{}, errors.New("the backup's salt or nonce has the wrong size")
	}
	if pub, err := hex.DecodeString(f.PubKey); err != nil || len(pub) != ed25519.PublicKeySize || hex.EncodeToString(pub) != f.PubKey {
		return Key{}, errors.New("the backup's pub_key is not 32 bytes of lowercase hex")
	}
	aead, err := backupAEAD(passphrase, f.Salt, f.Iterations)
	if err != nil {
		return Key{}, err
	}
	seed, err := aead.Open(nil, f.Nonce, f.Ciphertext, f.additional())
	if err != nil {
		return Key{}, ErrPassphrase
	}
	if len(seed) != ed25519.SeedSize {
		return Key{}, errors.New("the backup holds no Ed25519 seed")
	}
	k := Key{Name: f.Name, Private: ed25519.NewKeyFromSeed(seed)}
	if k.Public() != f.PubKey {
		return Key{}, errors.New("the backup's pub_key does not match its seed")
	}
	return k, nil
}
