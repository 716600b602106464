package node

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cityid/cityid/internal/keyring"
)

// A node's home made by an older cityid (no [keys] in cityid.toml, keys in
// clear) keeps running unattended: the first key used gets the home a
// generated passphrase and [keys], as init would, and is encrypted with
// it; the key is the same.
//
// A first use cut short is retried: after the passphrase file was written
// (before [keys] named it), the next use takes that passphrase again; a
// crash while [keys] is added leaves cityid.toml whole without it (it is
// written anew, not appended to), which is the first case.
func TestOlderHome(t *testing.T) {
	t.Run("first use", func(t *testing.T) { olderHome(t, "") })
	pass, err := keyring.GeneratePassphrase()
	if err != nil {
		t.Fatal(err)
	}
	t.Run("first use cut short after the passphrase file", func(t *testing.T) { olderHome(t, pass) })
}

// olderHome makes an older home and uses it; left, when not "", is a
// generated passphrase that a first use cut short left in config/passphrase.
func olderHome(t *testing.T, left string) {
	home := filepath.Join(t.TempDir(), "home")
	if _, err := Init(home, InitOptions{}); err != nil {
		t.Fatal(err)
	}
	op, err := LoadKey(home, OperatorKey)
	if err != nil {
		t.Fatal(err)
	}
	// Make it as an older cityid left it.
	toml, err := os.ReadFile(cityidFile(home))
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(toml), "\n[keys]\n")
	if i < 0 {
		t.Fatalf("cityid.toml has no [keys]:\n%s", toml)
	}
	if err := os.WriteFile(cityidFile(home), toml[:i+1], 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(home, "config", "passphrase")); err != nil {
		t.Fatal(err)
	}
	plain := fmt.Sprintf(`{"name":"operator","type":"ed25519","pub_key":"%s","seed":"%s"}`, op.Public(), hex.EncodeToString(op.Private.Seed()))
	if err := os.WriteFile(filepath.Join(keyring.Dir(home), "operator.json"), []byte(plain), 0o600); err != nil {
		t.Fatal(err)
	}

	if left != "" {
		if err := keyring.WritePassphraseFile(filepath.Join(home, GeneratedPassphraseFile), left); err != nil {
			t.Fatal(err)
		}
	}

	var warnings []string
	kr, err := OpenKeyring(home, KeyringOptions{Warn: func(m string) { warnings = append(warnings, m) }})
	if err != nil {
		t.Fatal(err)
	}
	got, err := kr.Load(OperatorKey)
	if err != nil || !got.Private.Equal(op.Private) {
		t.Fatalf("the older home's operator key: %v", err)
	}
	if len(warnings) != 2 || !strings.Contains(strings.Join(warnings, "\n"), "now encrypted") {
		t.Fatalf("warnings %q", warnings)
	}
	c, err := Load(home)
	if err != nil || c.Keys.PassphraseFile != GeneratedPassphraseFile {
		t.Fatalf("[keys] after the migration: %+v %v", c.Keys, err)
	}
	if e, err := kr.Show(OperatorKey); err != nil || e.Plain {
		t.Fatalf("the key file after the migration: %+v %v", e, err)
	}
	if left != "" {
		if _, err := keyring.Open(home, keyring.Options{Passphrase: func(bool) (string, error) { return left, nil }}).Load(OperatorKey); err != nil {
			t.Fatalf("the key is not sealed with the passphrase the first use left: %v", err)
		}
	}
	if n := strings.Count(readFile(t, cityidFile(home)), "\n[keys]\n"); n != 1 {
		t.Fatalf("cityid.toml has [keys] %d times", n)
	}
	// From now on the home's configuration opens it, as a new home's.
	if again, err := LoadKey(home, OperatorKey); err != nil || !again.Private.Equal(op.Private) {
		t.Fatalf("load after the migration: %v", err)
	}
}

// After a change of passphrase, [keys] that still names the old one is
// pointed out (the node would not start on it); one that gives the new
// passphrase, or no [keys] source at all, is not.
func TestStaleKeysNote(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	if _, err := Init(home, InitOptions{}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(home, GeneratedPassphraseFile)
	if note := StaleKeysNote(home, "a new passphrase of my own"); !strings.Contains(note, "passphrase_file") || !strings.Contains(note, file) {
		t.Fatalf("[keys] names the old passphrase's file, the note: %q", note)
	}
	current, err := keyring.ReadPassphraseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if note := StaleKeysNote(home, current); note != "" {
		t.Fatalf("[keys] names the new passphrase's file, yet: %q", note)
	}
	// [keys] through an environment variable.
	writeKeys := func(k KeysConfig) {
		t.Helper()
		b, err := os.ReadFile(cityidFile(home))
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		i := strings.Index(s, "\n[keys]")
		if i < 0 {
			t.Fatalf("no [keys] in %s", cityidFile(home))
		}
		if err := os.WriteFile(cityidFile(home), []byte(s[:i]+keysSection(k)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeKeys(KeysConfig{PassphraseEnv: "CITYID_TEST_STALE_PASS"})
	t.Setenv("CITYID_TEST_STALE_PASS", "the old one")
	if note := StaleKeysNote(home, "the new one"); !strings.Contains(note, "$CITYID_TEST_STALE_PASS") {
		t.Fatalf("[keys] names a variable with the old passphrase, the note: %q", note)
	}
	t.Setenv("CITYID_TEST_STALE_PASS", "the new one")
	if note := StaleKeysNote(home, "the new one"); note != "" {
		t.Fatalf("[keys] names a variable with the new passphrase, yet: %q", note)
	}
	writeKeys(KeysConfig{})
	if note := StaleKeysNote(home, "the new one"); note != "" {
		t.Fatalf("[keys] names nothing (asked on a terminal), yet: %q", note)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
