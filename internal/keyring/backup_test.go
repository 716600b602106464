package keyring

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestBackup(t *testing.T) {
	k := Key{Name: "alice", Private: ed25519.NewKeyFromSeed(make([]byte, 32))}
	b, err := Backup(k, "correct horse wörd", minBackupIterations)
	if err != nil {
		t.Fatal(err)
	}
	if !IsBackup(b) || IsBackup([]byte(`{"seed":"00"}`)) {
		t.Fatal("IsBackup does not tell a backup from a key file")
	}
	if strings.Contains(string(b), "0000000000000000") {
		t.Fatalf("the seed shows in the backup:\n%s", b)
	}
	// The same passphrase typed decomposed (o + U+0308) opens it.
	got, err := OpenBackup(b, "correct horse wo\u0308rd")
	if err != nil || !got.Private.Equal(k.Private) || got.Name != "alice" {
		t.Fatalf("opened %q %v: %v", got.Name, got.Private, err)
	}
	if _, err := OpenBackup(b, "correct horse word"); !errors.Is(err, ErrPassphrase) {
		t.Fatalf("a wrong passphrase: %v", err)
	}
	if _, err := Backup(k, "", 0); err == nil {
		t.Fatal("an empty passphrase was accepted")
	}
	change := func(field string, v any) []byte {
		var f map[string]any
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatal(err)
		}
		f[field] = v
		out, _ := json.Marshal(f)
		return out
	}
	for _, c := range []struct {
		field string
		v     any
		want  string
	}{
		{"name", "mallory", ErrPassphrase.Error()},
		{"pub_key", strings.Repeat("ab", 32), ErrPassphrase.Error()},
		{"pub_key", "AB", "lowercase hex"},
		{"iterations", 99_999, "not between"},
		{"iterations", 1 << 40, "not between"},
		{"version", 2, "version 2"},
		{"format", "other", "not a CityID key backup"},
		{"kdf", "scrypt", "unknown kdf"},
		{"nonce", "AAAA", "wrong size"},
		{"ciphertext", "AAAA", ErrPassphrase.Error()},
	} {
		if _, err := OpenBackup(change(c.field, c.v), "correct horse wörd"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s = %v: %v, want %q", c.field, c.v, err, c.want)
		}
	}
}
