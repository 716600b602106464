package keyring

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAddLoadList(t *testing.T) {
	home := t.TempDir()
	k, err := Add(home, "alice")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Load(home, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if got.Public() != k.Public() || len(k.Public()) != 64 {
		t.Fatalf("loaded %s, added %s", got.Public(), k.Public())
	}
	// Private keys are readable by the owner only.
	for path, want := range map[string]os.FileMode{Dir(home): 0o700, filepath.Join(Dir(home), "alice.json"): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s has mode %o, want %o", path, fi.Mode().Perm(), want)
		}
	}
	if _, err := Add(home, "alice"); !errors.Is(err, ErrExists) {
		t.Fatalf("second add: %v, want ErrExists", err)
	}
	if again, _ := Load(home, "alice"); again.Public() != k.Public() {
		t.Fatal("a refused add changed the key")
	}
	if _, err := Add(home, "bob"); err != nil {
		t.Fatal(err)
	}
	keys, err := List(home)
	if err != nil || len(keys) != 2 || keys[0].Name != "alice" || keys[1].Name != "bob" {
		t.Fatalf("list: %v %v", keys, err)
	}
	if _, err := Load(home, "carol"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("load missing: %v", err)
	}
}

func TestNames(t *testing.T) {
	for _, bad := range []string{"", ".hidden", "a/b", "../x", "with space", string(make([]byte, 65))} {
		if _, err := Add(t.TempDir(), bad); err == nil {
			t.Errorf("name %q accepted", bad)
		}
	}
}

func TestTamperedFile(t *testing.T) {
	home := t.TempDir()
	if _, err := Add(home, "a"); err != nil {
		t.Fatal(err)
	}
	other, err := Add(home, "b")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(Dir(home), "a.json")
	b, _ := os.ReadFile(path)
	a, _ := Load(home, "a")
	b = []byte(strings.Replace(string(b), a.Public(), other.Public(), 1))
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(home, "a"); err == nil {
		t.Fatal("a key file whose pub_key does not match its seed loaded")
	}
}
