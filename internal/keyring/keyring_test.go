package keyring

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"filippo.io/age/armor"
)

// testWorkFactor keeps scrypt cheap in tests of a chosen passphrase; the
// cost is the file's, so it changes nothing else.
const testWorkFactor = 10

// open is home's keyring with passphrase pass and a low work factor,
// counting the times it asks and keeping its warnings.
func open(home, pass string, asked *int, warnings *[]string) *Keyring {
	return Open(home, Options{
		Passphrase: func(bool) (string, error) {
			if asked != nil {
				*asked++
			}
			return pass, nil
		},
		WorkFactor: testWorkFactor,
		Warn: func(m string) {
			if warnings != nil {
				*warnings = append(*warnings, m)
			}
		},
	})
}

func TestRoundTrip(t *testing.T) {
	home := t.TempDir()
	asked := 0
	r := open(home, "correct horse", &asked, nil)
	k, err := r.Add("alice")
	if err != nil {
		t.Fatal(err)
	}
	got, err := open(home, "correct horse", nil, nil).Load("alice")
	if err != nil {
		t.Fatal(err)
	}
	if !got.Private.Equal(k.Private) || got.Name != "alice" || len(k.Public()) != 64 {
		t.Fatalf("loaded %s %q, added %s", got.Public(), got.Name, k.Public())
	}
	// Private keys are readable by the owner only.
	for path, want := range map[string]os.FileMode{Dir(home): 0o700, r.File("alice"): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s has mode %o, want %o", path, fi.Mode().Perm(), want)
		}
	}
	// The seed is not in the file, in any form; the public key and name are.
	b, _ := os.ReadFile(r.File("alice"))
	for _, secret := range []string{hex.EncodeToString(k.Private.Seed()), hex.EncodeToString(k.Private)} {
		if strings.Contains(string(b), secret) {
			t.Fatalf("the seed shows in the key file:\n%s", b)
		}
	}
	if !strings.Contains(string(b), k.Public()) || !strings.Contains(string(b), "-----BEGIN AGE ENCRYPTED FILE-----") {
		t.Fatalf("the key file lacks its public key or its age armor:\n%s", b)
	}
	if _, err := r.Add("alice"); !errors.Is(err, ErrExists) {
		t.Fatalf("second add: %v, want ErrExists", err)
	}
	if again, _ := r.Load("alice"); !again.Private.Equal(k.Private) {
		t.Fatal("a refused add changed the key")
	}
	if _, err := r.Add("bob"); err != nil {
		t.Fatal(err)
	}
	if asked != 1 {
		t.Errorf("the passphrase was asked %d times in one keyring, want once", asked)
	}
	// Listing and showing need no passphrase.
	bare := Open(home, Options{})
	keys, err := bare.List()
	if err != nil || len(keys) != 2 || keys[0].Name != "alice" || keys[1].Name != "bob" || keys[0].PubKey != k.Public() {
		t.Fatalf("list: %v %v", keys, err)
	}
	if e, err := bare.Show("alice"); err != nil || e.PubKey != k.Public() || e.Plain {
		t.Fatalf("show: %+v %v", e, err)
	}
	if _, err := bare.Load("alice"); !errors.Is(err, ErrNoPassphrase) {
		t.Fatalf("load with no passphrase: %v, want no_passphrase", err)
	}
	if _, err := r.Load("carol"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("load missing: %v", err)
	}
}

func TestNames(t *testing.T) {
	for _, bad := range []string{"", ".hidden", "a/b", "../x", "with space", string(make([]byte, 65))} {
		if _, err := open(t.TempDir(), "p", nil, nil).Add(bad); err == nil {
			t.Errorf("name %q accepted", bad)
		}
	}
}

func TestWrongPassphrase(t *testing.T) {
	home := t.TempDir()
	if _, err := open(home, "right", nil, nil).Add("alice"); err != nil {
		t.Fatal(err)
	}
	_, err := open(home, "wrong", nil, nil).Load("alice")
	var ke *Error
	if !errors.As(err, &ke) || ke.Code != CodeWrongPassphrase || !strings.Contains(err.Error(), "wrong passphrase") {
		t.Fatalf("a wrong passphrase: %v, want code %s", err, CodeWrongPassphrase)
	}
}

// Every alteration of a key file is refused, each for its reason.
func TestTamperedFile(t *testing.T) {
	home := t.TempDir()
	r := open(home, "pass", nil, nil)
	a, err := r.Add("a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.Add("b")
	if err != nil {
		t.Fatal(err)
	}
	fileA, _ := os.ReadFile(r.File("a"))
	fileB, _ := os.ReadFile(r.File("b"))
	edit := func(f func(*keyFile)) []byte {
		var kf keyFile
		if err := json.Unmarshal(fileA, &kf); err != nil {
			t.Fatal(err)
		}
		f(&kf)
		out, _ := json.Marshal(kf)
		return out
	}
	flip := func(s string) string {
		// A character of the armored body, past the header lines.
		i := strings.Index(s, "\n") + 40
		c := byte('A')
		if s[i] == 'A' {
			c = 'B'
		}
		return s[:i] + string(c) + s[i+1:]
	}
	for _, tc := range []struct {
		name string
		file []byte
		code string
	}{
		{"b's file under a's name", fileB, CodeKeyTampered},
		{"b's file renamed in clear", edit(func(f *keyFile) { f.Age = mustAge(t, fileB); f.PubKey = b.Public() }), CodeKeyTampered},
		{"pub_key edited in clear", edit(func(f *keyFile) { f.PubKey = b.Public() }), CodeKeyTampered},
		{"name edited in clear", edit(func(f *keyFile) { f.Name = "b" }), CodeKeyTampered},
		{"ciphertext altered", edit(func(f *keyFile) { f.Age = flip(f.Age) }), ""},
		{"ciphertext cut", edit(func(f *keyFile) { f.Age = f.Age[:len(f.Age)/2] }), CodeKeyTampered},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(r.File("a"), tc.file, 0o600); err != nil {
				t.Fatal(err)
			}
			k, err := open(home, "pass", nil, nil).Load("a")
			if err == nil {
				t.Fatalf("loaded %s (a is %s)", k.Public(), a.Public())
			}
			var ke *Error
			if !errors.As(err, &ke) {
				t.Fatalf("%v: no stable code", err)
			}
			// An altered header is indistinguishable from a wrong
			// passphrase (age's header MAC), which the message says.
			if tc.code != "" && ke.Code != tc.code || tc.code == "" && ke.Code != CodeKeyTampered && ke.Code != CodeWrongPassphrase {
				t.Fatalf("%v: code %s, want %s", err, ke.Code, tc.code)
			}
		})
	}
}

func mustAge(t *testing.T, file []byte) string {
	t.Helper()
	var kf keyFile
	if err := json.Unmarshal(file, &kf); err != nil {
		t.Fatal(err)
	}
	return kf.Age
}

// A key file of an older cityid (seed in hex) is encrypted in place on
// first use, with a warning, and the key is the same.
func TestMigration(t *testing.T) {
	home := t.TempDir()
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	old := fmt.Sprintf(`{"name":"operator","type":"ed25519","pub_key":"%s","seed":"%s","comment":"CityID signing key."}`,
		hex.EncodeToString(priv.Public().(ed25519.PublicKey)), hex.EncodeToString(priv.Seed()))
	if err := os.MkdirAll(Dir(home), 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(Dir(home), "operator.json")
	if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	// A temporary file left by an interrupted write is never a key.
	if err := os.WriteFile(filepath.Join(Dir(home), ".operator.json.123.tmp"), []byte("half a fi"), 0o600); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(path)
	// Listed in clear, and said to be.
	if l, err := Open(home, Options{}).List(); err != nil || len(l) != 1 || !l[0].Plain {
		t.Fatalf("list of a plain key: %+v %v", l, err)
	}
	// With no passphrase, nothing is written and the error says why.
	if _, err := Open(home, Options{}).Load("operator"); !errors.Is(err, ErrNoPassphrase) || !strings.Contains(err.Error(), "in clear") {
		t.Fatalf("migration with no passphrase: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != old {
		t.Fatal("a failed migration changed the file")
	}
	var warnings []string
	k, err := open(home, "new pass", nil, &warnings).Load("operator")
	if err != nil {
		t.Fatal(err)
	}
	if !k.Private.Equal(priv) || k.Name != "operator" {
		t.Fatalf("migrated key %s is not the old one", k.Public())
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "operator") || !strings.Contains(warnings[0], "now encrypted") {
		t.Fatalf("warnings: %q", warnings)
	}
	after, err := os.Stat(path)
	if err != nil || os.SameFile(before, after) || after.Mode().Perm() != 0o600 {
		t.Fatalf("the old file was not replaced by a new owner-only one: %v %v", err, after.Mode())
	}
	b, _ := os.ReadFile(path)
	if strings.Contains(string(b), hex.EncodeToString(priv.Seed())) || !strings.Contains(string(b), `"age"`) {
		t.Fatalf("after migration the file is:\n%s", b)
	}
	// No temporary file of its own stays behind (the old one stays, and
	// the keyring's lock, which the migration took).
	if entries, _ := os.ReadDir(Dir(home)); len(entries) != 3 || !slices.ContainsFunc(entries, func(e os.DirEntry) bool { return e.Name() == lockFile }) {
		t.Fatalf("the keyring holds %d files after migration, want 3 (two keys and the lock)", len(entries))
	}
	// The next load opens it, with no warning.
	warnings = nil
	if again, err := open(home, "new pass", nil, &warnings).Load("operator"); err != nil || !again.Private.Equal(priv) || len(warnings) != 0 {
		t.Fatalf("load after migration: %v, warnings %q", err, warnings)
	}
}

func TestRenameRemoveChangePassphrase(t *testing.T) {
	home := t.TempDir()
	r := open(home, "old", nil, nil)
	alice, err := r.Add("alice")
	if err != nil {
		t.Fatal(err)
	}
	bob, err := r.Add("bob")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Rename("alice", "bob"); !errors.Is(err, ErrExists) {
		t.Fatalf("rename over bob: %v", err)
	}
	moved, err := r.Rename("alice", "water")
	if err != nil || !moved.Private.Equal(alice.Private) {
		t.Fatalf("rename: %v", err)
	}
	if _, err := os.Stat(r.File("alice")); err == nil {
		t.Fatal("the old name is still a key")
	}
	// The name is sealed anew: the renamed file opens under its name.
	if k, err := open(home, "old", nil, nil).Load("water"); err != nil || !k.Private.Equal(alice.Private) {
		t.Fatalf("load renamed: %v", err)
	}
	changed, err := r.ChangePassphrase(context.Background(), GeneratedForTest)
	if err != nil || len(changed) != 2 {
		t.Fatalf("change passphrase: %v %v", changed, err)
	}
	if _, err := open(home, "old", nil, nil).Load("bob"); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("old passphrase after change: %v", err)
	}
	for name, want := range map[string]Key{"bob": bob, "water": alice} {
		if k, err := open(home, GeneratedForTest, nil, nil).Load(name); err != nil || !k.Private.Equal(want.Private) {
			t.Fatalf("load %s with the new passphrase: %v", name, err)
		}
	}
	if entries, _ := os.ReadDir(Dir(home)); len(entries) != 3 || !slices.ContainsFunc(entries, func(e os.DirEntry) bool { return e.Name() == lockFile }) {
		t.Fatalf("the keyring holds %d files after the change, want the two keys and its lock: no temporary file left", len(entries))
	}
	if e, err := r.Remove("bob"); err != nil || e.PubKey != bob.Public() {
		t.Fatalf("remove: %+v %v", e, err)
	}
	if _, err := r.Show("bob"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("show after remove: %v", err)
	}
}

// GeneratedForTest has GeneratePassphrase's form.
const GeneratedForTest = "cityid-generated-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

// A passphrase cityid generated is sealed at the low work factor, a
// person's at the full one (or the test's), as the file itself records.
func TestWorkFactor(t *testing.T) {
	g, err := GeneratePassphrase()
	if err != nil || !IsGenerated(g) || !IsGenerated(GeneratedForTest) {
		t.Fatalf("generated %q: %v", g, err)
	}
	for _, p := range []string{"", "cityid-generated-", "cityid-generated-short", "correct horse battery staple", GeneratedForTest + "A"} {
		if IsGenerated(p) {
			t.Errorf("%q taken for a generated passphrase", p)
		}
	}
	for _, tc := range []struct {
		pass string
		opt  int
	}{
		{g, 0}, {g, 12}, {"a person's", 0}, {"a person's", 12},
	} {
		r := Open(t.TempDir(), Options{Passphrase: func(bool) (string, error) { return tc.pass, nil }, WorkFactor: tc.opt})
		want := r.workFactor(tc.pass)
		switch {
		case IsGenerated(tc.pass) && want != GeneratedWorkFactor,
			!IsGenerated(tc.pass) && tc.opt == 0 && want != DefaultWorkFactor,
			!IsGenerated(tc.pass) && tc.opt != 0 && want != tc.opt:
			t.Errorf("work factor for %q with option %d: %d", tc.pass, tc.opt, want)
		}
	}
	// The factor is in the file: age's scrypt stanza names it.
	for pass, want := range map[string]int{g: GeneratedWorkFactor, "a person's": 12} {
		r := Open(t.TempDir(), Options{Passphrase: func(bool) (string, error) { return pass, nil }, WorkFactor: 12})
		if _, err := r.Add("k"); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(r.File("k"))
		header, err := io.ReadAll(io.LimitReader(armor.NewReader(strings.NewReader(mustAge(t, b))), 100))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(header), "\n")
		if f := strings.Fields(lines[1]); len(f) != 4 || f[1] != "scrypt" || f[3] != fmt.Sprint(want) {
			t.Errorf("the file of %q says %q, want scrypt at %d", pass, lines[1], want)
		}
	}
	if _, err := seal(Key{Private: ed25519.NewKeyFromSeed(make([]byte, 32))}, "p", maxWorkFactor+1); err == nil {
		t.Fatal("a work factor past the bound was taken")
	}
}

// The sources are tried in order, the first set is used, and none is the
// error that names all three.
func TestSources(t *testing.T) {
	dir := t.TempDir()
	flag, file := filepath.Join(dir, "flag"), filepath.Join(dir, "file")
	os.WriteFile(flag, []byte("from flag\r\nsecond line\n"), 0o600)
	os.WriteFile(file, []byte("from file\n"), 0o600)
	t.Setenv("CITYID_TEST_PASS", "from env")
	prompt := func(bool) (string, error) { return "from prompt", nil }
	for _, tc := range []struct {
		s    Sources
		want string
	}{
		{Sources{Flag: flag, File: file, Env: "CITYID_TEST_PASS", Prompt: prompt}, "from flag"},
		{Sources{File: file, Env: "CITYID_TEST_PASS", Prompt: prompt}, "from file"},
		{Sources{Env: "CITYID_TEST_PASS", Prompt: prompt}, "from env"},
		{Sources{Prompt: prompt}, "from prompt"},
	} {
		if got, err := tc.s.Passphrase(false); err != nil || got != tc.want {
			t.Errorf("%+v: %q %v, want %q", tc.s, got, err, tc.want)
		}
	}
	_, err := Sources{}.Passphrase(false)
	var ke *Error
	if !errors.As(err, &ke) || ke.Code != CodeNoPassphrase {
		t.Fatalf("no source: %v", err)
	}
	for _, way := range []string{"--passphrase-file", "passphrase_file", "passphrase_env", "LoadCredential", "terminal"} {
		if !strings.Contains(err.Error(), way) {
			t.Errorf("the error does not name %s: %v", way, err)
		}
	}
	// A source named but empty is an error, not a fall to the next.
	if _, err := (Sources{Env: "CITYID_TEST_UNSET", Prompt: prompt}).Passphrase(false); !errors.Is(err, ErrNoPassphrase) || !strings.Contains(err.Error(), "CITYID_TEST_UNSET") {
		t.Fatalf("unset variable: %v", err)
	}
	if _, err := (Sources{File: filepath.Join(dir, "missing"), Prompt: prompt}).Passphrase(false); err == nil {
		t.Fatal("a missing passphrase_file fell through to the prompt")
	}
}

// ReadKeyFile reads a plain key file as it is and an encrypted one with
// its passphrase, asked only then.
func TestReadKeyFile(t *testing.T) {
	home := t.TempDir()
	r := open(home, "pass", nil, nil)
	k, err := r.Add("alice")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(r.File("alice"))
	got, err := ReadKeyFile(b, func() (string, error) { return "pass", nil })
	if err != nil || got.Name != "alice" || !got.Private.Equal(k.Private) {
		t.Fatalf("read an encrypted file: %v", err)
	}
	plain := fmt.Sprintf(`{"name":"bob","seed":"%s"}`, hex.EncodeToString(k.Private.Seed()))
	got, err = ReadKeyFile([]byte(plain), func() (string, error) { t.Fatal("asked a passphrase for a plain file"); return "", nil })
	if err != nil || got.Name != "bob" || !got.Private.Equal(k.Private) {
		t.Fatalf("read a plain file: %v", err)
	}
}

// BenchmarkLoad is one key opened: at the generated passphrase's work
// factor and at a person's (age's default), which every signing command
// pays once.
func BenchmarkLoad(b *testing.B) {
	for _, tc := range []struct {
		name string
		pass string
	}{{"generated", GeneratedForTest}, {"chosen", "a person's passphrase"}} {
		home := b.TempDir()
		r := Open(home, Options{Passphrase: func(bool) (string, error) { return tc.pass, nil }, Warn: func(string) {}})
		if _, err := r.Add("k"); err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Open(home, Options{Passphrase: func(bool) (string, error) { return tc.pass, nil }}).Load("k"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestChangesWaitForTheLock: a command that changes the keyring waits
// while another holds its lock (keys/.lock), so that no key is written
// between a change of passphrase's replacements; reading takes no lock.
func TestChangesWaitForTheLock(t *testing.T) {
	home := t.TempDir()
	r := open(home, "correct horse", nil, nil)
	if _, err := r.Add("alice"); err != nil {
		t.Fatal(err)
	}
	unlock, err := open(home, "correct horse", nil, nil).lock()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := open(home, "correct horse", nil, nil).Add("bob")
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("keys add finished while another command held the lock: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	if l, err := open(home, "correct horse", nil, nil).List(); err != nil || len(l) != 1 {
		t.Errorf("list while the lock is held: %v (%v), want alice alone, read without waiting", l, err)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("keys add after the lock was released: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("keys add still waits after the lock was released")
	}
	if l, err := r.List(); err != nil || len(l) != 2 {
		t.Errorf("keys after: %v (%v), want alice and bob (the lock file is no key)", l, err)
	}
}

// TestMigrationUnderTheLock: a key in clear is encrypted under the
// keyring's lock, and not at all when, by then, another command has
// removed it: a removed key does not come back.
func TestMigrationUnderTheLock(t *testing.T) {
	home := t.TempDir()
	if err := os.MkdirAll(Dir(home), 0o700); err != nil {
		t.Fatal(err)
	}
	_, priv, _ := ed25519.GenerateKey(nil)
	plain := fmt.Sprintf(`{"name":"old","type":"ed25519","pub_key":%q,"seed":%q}`, hex.EncodeToString(priv.Public().(ed25519.PublicKey)), hex.EncodeToString(priv.Seed()))
	path := filepath.Join(Dir(home), "old.json")
	if err := os.WriteFile(path, []byte(plain), 0o600); err != nil {
		t.Fatal(err)
	}
	holder := open(home, "correct horse", nil, nil)
	unlock, err := holder.lock()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := open(home, "correct horse", nil, nil).Load("old")
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("a migrating load finished while another command held the lock: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	// The holder removes the key, then lets go.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the load, which read the key before it was removed: %v", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("the removed key came back: %v", err)
	}
}
