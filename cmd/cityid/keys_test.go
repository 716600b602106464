package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cityid/cityid/internal/keyring"
)

// runIn runs the CLI in this process with stdin, and returns what it
// printed and its error.
func runIn(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

// A key goes from one home to another as a backup, with its passphrase
// from a file or a pipe, and as a plain key file; a wrong passphrase is
// refused and imports nothing.
func TestKeysExportImport(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	kp := keyringPass(t)
	var added keyInfo
	out, err := runIn(t, "", "--home", a, "--passphrase-file", kp, "--json", "keys", "add", "alice")
	if err != nil || json.Unmarshal([]byte(out), &added) != nil {
		t.Fatalf("keys add: %v\n%s", err, out)
	}
	pass := filepath.Join(t.TempDir(), "pass")
	if err := os.WriteFile(pass, []byte("s3cret phrase\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(t.TempDir(), "alice.cityid-key.json")
	if out, err := runIn(t, "", "--home", a, "--passphrase-file", kp, "keys", "export", "alice", "--backup-passphrase-file", pass, "--out", backup); err != nil {
		t.Fatalf("keys export: %v\n%s", err, out)
	}
	if out, err := runIn(t, "", "--home", a, "--passphrase-file", kp, "keys", "export", "alice", "--backup-passphrase-file", pass, "--out", backup); err == nil {
		t.Fatalf("keys export overwrote %s:\n%s", backup, out)
	}
	if out, err := runIn(t, "wrong\n", "--home", b, "--passphrase-file", kp, "keys", "import", backup); err == nil || !strings.Contains(err.Error(), "wrong passphrase") {
		t.Fatalf("keys import with a wrong passphrase: %v\n%s", err, out)
	}
	var got keyInfo
	out, err = runIn(t, "s3cret phrase\n", "--home", b, "--passphrase-file", kp, "--json", "keys", "import", backup, "alice2")
	if err != nil || json.Unmarshal([]byte(out), &got) != nil {
		t.Fatalf("keys import: %v\n%s", err, out)
	}
	if got.PubKey != added.PubKey || got.Name != "alice2" {
		t.Fatalf("imported %+v, exported %+v", got, added)
	}
	// Another home's key file keeps its name, opened with that home's
	// passphrase (here from a pipe).
	out, err = runIn(t, testKeyringPass+"\n", "--home", b, "--passphrase-file", kp, "--json", "keys", "import", filepath.Join(a, "keys", "alice.json"))
	if err != nil || json.Unmarshal([]byte(out), &got) != nil || got.Name != "alice" || got.PubKey != added.PubKey {
		t.Fatalf("keys import of a key file: %v %+v\n%s", err, got, out)
	}
	if _, err := runIn(t, testKeyringPass+"\n", "--home", b, "--passphrase-file", kp, "keys", "import", filepath.Join(a, "keys", "alice.json")); err == nil {
		t.Fatal("an import replaced a key of the same name")
	}
}

// A key is renamed with its public half (and so its rights) kept, never
// over a key that exists; it is removed only with --yes, which the
// refusal says, and then it is gone.
func TestKeysRenameRemove(t *testing.T) {
	home := t.TempDir()
	kp := keyringPass(t)
	var alice, bob keyInfo
	out, err := runIn(t, "", "--home", home, "--passphrase-file", kp, "--json", "keys", "add", "alice")
	if err != nil || json.Unmarshal([]byte(out), &alice) != nil {
		t.Fatalf("keys add: %v\n%s", err, out)
	}
	if out, err = runIn(t, "", "--home", home, "--passphrase-file", kp, "--json", "keys", "add", "bob"); err != nil || json.Unmarshal([]byte(out), &bob) != nil {
		t.Fatalf("keys add: %v\n%s", err, out)
	}
	if out, err := runIn(t, "", "--home", home, "--passphrase-file", kp, "keys", "rename", "alice", "bob"); err == nil {
		t.Fatalf("rename over an existing key was taken:\n%s", out)
	}
	var renamed keyInfo
	out, err = runIn(t, "", "--home", home, "--passphrase-file", kp, "--json", "keys", "rename", "alice", "water-bureau")
	if err != nil || json.Unmarshal([]byte(out), &renamed) != nil || renamed.PubKey != alice.PubKey || renamed.Name != "water-bureau" {
		t.Fatalf("keys rename: %v %+v\n%s", err, renamed, out)
	}
	if _, err := os.Stat(filepath.Join(home, "keys", "alice.json")); err == nil {
		t.Error("the old name is still a key")
	}
	out, err = runIn(t, "", "--home", home, "--passphrase-file", kp, "keys", "rm", "bob")
	if err == nil || !strings.Contains(err.Error(), "--yes") || !strings.Contains(err.Error(), bob.PubKey) {
		t.Fatalf("rm without --yes: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(home, "keys", "bob.json")); err != nil {
		t.Fatal("rm without --yes removed the key")
	}
	if out, err := runIn(t, "", "--home", home, "--passphrase-file", kp, "keys", "rm", "bob", "--yes"); err != nil || !strings.Contains(out, "removed: true") {
		t.Fatalf("rm --yes: %v\n%s", err, out)
	}
	var list []keyInfo
	out, err = runIn(t, "", "--home", home, "--passphrase-file", kp, "--json", "keys", "list")
	if err != nil || json.Unmarshal([]byte(out), &list) != nil || len(list) != 1 || list[0].Name != "water-bureau" {
		t.Fatalf("keys list after rename and rm: %v %+v\n%s", err, list, out)
	}
}

// testKeyringPass has the form of a passphrase cityid generates, so that
// its keys are sealed at scrypt's low work factor (a test's time).
const testKeyringPass = "cityid-generated-dGVzdCBrZXlyaW5nIHBhc3NwaHJhc2UgMzIgYnl0ZXM"

// keyringPass is a file holding the passphrase of a test's keyrings.
func keyringPass(t *testing.T) string {
	t.Helper()
	if !keyring.IsGenerated(testKeyringPass) {
		t.Fatal("testKeyringPass is not of the generated form")
	}
	p := filepath.Join(t.TempDir(), "keyring-pass")
	if err := os.WriteFile(p, []byte(testKeyringPass+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// --passphrase-file - reads the keyring's passphrase from standard input
// (a pipe from another user's process, as the README's service install
// does), once, however many keyrings the command opens.
func TestPassphraseFromStdin(t *testing.T) {
	home := t.TempDir()
	var added, shown keyInfo
	out, err := runIn(t, testKeyringPass+"\n", "--home", home, "--passphrase-file", "-", "--json", "keys", "add", "alice")
	if err != nil || json.Unmarshal([]byte(out), &added) != nil {
		t.Fatalf("keys add: %v\n%s", err, out)
	}
	// The same passphrase from a file opens it: the pipe gave the line.
	out, err = runIn(t, "", "--home", home, "--passphrase-file", keyringPass(t), "--json", "keys", "rename", "alice", "bob")
	if err != nil || json.Unmarshal([]byte(out), &shown) != nil || shown.PubKey != added.PubKey {
		t.Fatalf("keys rename with the passphrase from a file: %v\n%s", err, out)
	}
	if _, err := runIn(t, "", "--home", home, "--passphrase-file", "-", "keys", "rename", "bob", "carol"); !errors.Is(err, keyring.ErrNoPassphrase) || exitCode(err) != exitUsage {
		t.Fatalf("an empty standard input: %v (exit %d)", err, exitCode(err))
	}
	// Two passphrases on one pipe: the keyring's first, then the
	// backup's, whichever the command asks for first.
	backup := filepath.Join(t.TempDir(), "bob.backup")
	if out, err := runIn(t, testKeyringPass+"\nbackup passphrase\n", "--home", home, "--passphrase-file", "-", "keys", "export", "bob", "-o", backup); err != nil {
		t.Fatalf("keys export with both passphrases piped: %v\n%s", err, out)
	}
	var imported keyInfo
	out, err = runIn(t, testKeyringPass+"\nbackup passphrase\n", "--home", home, "--passphrase-file", "-", "--json", "keys", "import", backup, "dave")
	if err != nil || json.Unmarshal([]byte(out), &imported) != nil || imported.PubKey != added.PubKey {
		t.Fatalf("keys import with both passphrases piped: %v\n%s", err, out)
	}
}

// keys change-passphrase encrypts every key again: the old passphrase
// opens none, the new one all, and the public halves stay.
func TestKeysChangePassphrase(t *testing.T) {
	home := t.TempDir()
	kp := keyringPass(t)
	var alice keyInfo
	out, err := runIn(t, "", "--home", home, "--passphrase-file", kp, "--json", "keys", "add", "alice")
	if err != nil || json.Unmarshal([]byte(out), &alice) != nil {
		t.Fatalf("keys add: %v\n%s", err, out)
	}
	if _, err := runIn(t, "", "--home", home, "--passphrase-file", kp, "keys", "add", "bob"); err != nil {
		t.Fatal(err)
	}
	newPass := filepath.Join(t.TempDir(), "new")
	if err := os.WriteFile(newPass, []byte("cityid-generated-bmV3IGtleXJpbmcgcGFzc3BocmFzZSBvZiAzMiBieXRlcw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := runIn(t, "", "--home", home, "--passphrase-file", kp, "keys", "change-passphrase"); err == nil || exitCode(err) != exitUsage {
		t.Fatalf("change-passphrase with no new passphrase and no terminal: %v", err)
	}
	var changed []keyInfo
	out, err = runIn(t, "", "--home", home, "--passphrase-file", kp, "--json", "keys", "change-passphrase", "--new-passphrase-file", newPass)
	if err != nil || json.Unmarshal([]byte(out), &changed) != nil || len(changed) != 2 || changed[0].PubKey != alice.PubKey {
		t.Fatalf("change-passphrase: %v\n%s", err, out)
	}
	if _, err := runIn(t, "", "--home", home, "--passphrase-file", kp, "keys", "rename", "alice", "carol"); !errors.Is(err, keyring.ErrWrongPassphrase) || exitCode(err) != exitRefused {
		t.Fatalf("the old passphrase after the change: %v", err)
	}
	var renamed keyInfo
	out, err = runIn(t, "", "--home", home, "--passphrase-file", newPass, "--json", "keys", "rename", "alice", "carol")
	if err != nil || json.Unmarshal([]byte(out), &renamed) != nil || renamed.PubKey != alice.PubKey {
		t.Fatalf("the new passphrase: %v\n%s", err, out)
	}
}
