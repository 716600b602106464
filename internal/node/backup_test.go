package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cityid/cityid/internal/backup"
	"github.com/cityid/cityid/internal/backup/backuptest"
	"github.com/cityid/cityid/internal/chain"
	"github.com/cityid/cityid/internal/store"
)

// fixture is an archive a real node wrote (internal/backup/testdata).
const fixture = "../backup/testdata/archive.tar"

// damaged copies the fixture with one byte of its state flipped.
func damaged(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "damaged.tar")
	backuptest.Rewrite(t, fixture, path, func(name string, data []byte) []byte {
		if strings.HasPrefix(name, backup.StatePrefix) {
			data[len(data)/2] ^= 0x01
		}
		return data
	})
	return path
}

// names lists a folder's entries but the home's lock file.
func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.Name() != LockFileName {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestRestoreHome: a restore makes a new home whose store holds the
// archive's state at its height; a refused archive leaves a new home as
// empty as it was (but for keys the user put there) and an existing one as
// it was; a home that holds a node needs --force, and a home of another
// network is refused even with it.
func TestRestoreHome(t *testing.T) {
	ctx := context.Background()
	t.Run("new home", func(t *testing.T) {
		home := filepath.Join(t.TempDir(), "home")
		res, err := Restore(ctx, home, fixture, RestoreOptions{Peers: "0123456789abcdef0123456789abcdef01234567@127.0.0.1:26656"})
		if err != nil {
			t.Fatal(err)
		}
		if !res.NewHome || res.Height != 3 || !strings.Contains(res.Peers, "@127.0.0.1:26656") {
			t.Fatalf("restore answered %+v", res)
		}
		c, err := Load(home)
		if err != nil {
			t.Fatal(err)
		}
		if c.Comet.P2P.PersistentPeers != res.Peers {
			t.Errorf("persistent peers %q, want %q", c.Comet.P2P.PersistentPeers, res.Peers)
		}
		st, err := store.Open(chain.StateDir(c.Comet), store.Options{ValueCacheBytes: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if st.Version() != 3 || res.AppHash != fmt.Sprintf("%X", st.Hash()) {
			t.Fatalf("the restored store is at %d with root %X; the archive is at 3 with %s", st.Version(), st.Hash(), res.AppHash)
		}
		for _, leftover := range names(t, home) {
			if strings.HasPrefix(leftover, ".restore-") || strings.HasSuffix(leftover, ".before-restore") {
				t.Errorf("the restore left %s behind", leftover)
			}
		}
		// Again, without --force: refused.
		if _, err := Restore(ctx, home, fixture, RestoreOptions{}); err == nil || !strings.Contains(err.Error(), "--force") {
			t.Errorf("restore over a node without --force: %v", err)
		}
		// With --force: the data replaced, the keys kept.
		key, _ := os.ReadFile(filepath.Join(home, "config", "node_key.json"))
		if _, err := Restore(ctx, home, fixture, RestoreOptions{Force: true}); err != nil {
			t.Fatal(err)
		}
		if again, _ := os.ReadFile(filepath.Join(home, "config", "node_key.json")); !bytes.Equal(again, key) || len(key) == 0 {
			t.Error("restore --force changed the node key")
		}
		// A restore that stopped between its renames left the data in
		// data.before-restore: the next one keeps it and says so.
		left := filepath.Join(home, "data.before-restore")
		if err := os.MkdirAll(filepath.Join(left, "cityid"), 0o700); err != nil {
			t.Fatal(err)
		}
		if _, err := Restore(ctx, home, fixture, RestoreOptions{Force: true}); err == nil || !strings.Contains(err.Error(), "did not finish") {
			t.Errorf("restore beside a data.before-restore: %v, want a refusal", err)
		}
		if _, err := os.Stat(filepath.Join(left, "cityid")); err != nil {
			t.Errorf("the refused restore touched %s: %v", left, err)
		}
	})

	t.Run("refused into a new home", func(t *testing.T) {
		home := filepath.Join(t.TempDir(), "home")
		if err := os.MkdirAll(filepath.Join(home, "keys"), 0o700); err != nil {
			t.Fatal(err)
		}
		_, err := Restore(ctx, home, damaged(t), RestoreOptions{})
		if !errors.Is(err, backup.ErrCorrupt) {
			t.Fatalf("restore of a damaged archive: %v", err)
		}
		if got := names(t, home); len(got) != 1 || got[0] != "keys" {
			t.Errorf("a refused restore left %v in a new home, want only the keys/ that was there", got)
		}
	})

	t.Run("refused over a home", func(t *testing.T) {
		home := filepath.Join(t.TempDir(), "home")
		if _, err := Restore(ctx, home, fixture, RestoreOptions{}); err != nil {
			t.Fatal(err)
		}
		before := names(t, filepath.Join(home, "data"))
		_, err := Restore(ctx, home, damaged(t), RestoreOptions{Force: true})
		if !errors.Is(err, backup.ErrCorrupt) {
			t.Fatalf("restore of a damaged archive: %v", err)
		}
		if got := names(t, filepath.Join(home, "data")); strings.Join(got, ",") != strings.Join(before, ",") {
			t.Errorf("data %v after a refused restore, was %v", got, before)
		}
		if got := names(t, home); strings.Join(got, ",") != "config,data,keys" { // nothing staged left
			t.Errorf("the home holds %v after a refused restore", got)
		}
	})

	t.Run("another network's home", func(t *testing.T) {
		home := filepath.Join(t.TempDir(), "home")
		if _, err := Init(home, InitOptions{}); err != nil {
			t.Fatal(err)
		}
		_, err := Restore(ctx, home, fixture, RestoreOptions{Force: true})
		if err == nil || !strings.Contains(err.Error(), "another genesis") {
			t.Fatalf("restore into another network's home: %v", err)
		}
	})
}

// TestRestoreNewHome: a restore into a new home writes the listen
// addresses it is given, so the first start and every command given the
// home use them (a second node on one machine), and encrypts its keys with
// the passphrase given, as init does, rather than a generated one; a home
// that holds a node keeps its configuration, and addresses given for it
// are refused, not ignored.
func TestRestoreNewHome(t *testing.T) {
	ctx := context.Background()
	home := filepath.Join(t.TempDir(), "home")
	passFile := generatedPassphraseFile(t)
	listen := InitOptions{HTTP: "127.0.0.1:18681", RPC: "tcp://127.0.0.1:18757", P2P: "tcp://127.0.0.1:18756", DNS: "off",
		Keyring: KeyringOptions{PassphraseFile: passFile}}
	if _, err := Restore(ctx, home, fixture, RestoreOptions{NewHome: listen}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(home, GeneratedPassphraseFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a restore given a passphrase made one of its own: %v", err)
	}
	kr, err := OpenKeyring(home, KeyringOptions{PassphraseFile: passFile})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kr.Load(OperatorKey); err != nil {
		t.Errorf("the restored home's operator key under the passphrase given: %v", err)
	}
	c, err := Load(home)
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.Listen != listen.HTTP || c.Comet.RPC.ListenAddress != listen.RPC || c.Comet.P2P.ListenAddress != listen.P2P || c.DNS.Listen != "" {
		t.Fatalf("restored home listens on HTTP %q, RPC %q, P2P %q, DNS %q; want %+v", c.HTTP.Listen, c.Comet.RPC.ListenAddress, c.Comet.P2P.ListenAddress, c.DNS.Listen, listen)
	}
	_, err = Restore(ctx, home, fixture, RestoreOptions{Force: true, NewHome: InitOptions{HTTP: "127.0.0.1:18682"}})
	if err == nil || !strings.Contains(err.Error(), "config/cityid.toml") {
		t.Fatalf("restore --force with an address: %v", err)
	}
	if again, err := Load(home); err != nil || again.HTTP.Listen != listen.HTTP {
		t.Fatalf("a refused restore changed the home's HTTP address: %v, %+v", err, again)
	}
}
