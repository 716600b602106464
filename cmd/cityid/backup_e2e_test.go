package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dbm "github.com/cometbft/cometbft-db"

	"github.com/cityid/cityid/client"
	"github.com/cityid/cityid/internal/backup/backuptest"
	"github.com/cityid/cityid/internal/testnode"
)

// TestBackupRestore runs a network of two validators, backs up the first
// while identifiers are being registered, checks the archive and refuses
// damaged ones, then restores the archive into a third home that joins
// the network, catches up by block sync and resolves, with proofs that
// verify against the archive's header, identifiers written before the
// backup and after it.
func TestBackupRestore(t *testing.T) {
	bin := testnode.Build(t)
	nodes := testnode.Testnet(t, bin, 2, 1)
	v0, v1, fresh := nodes[0], nodes[1], nodes[2]
	testnode.StartAll(t, nodes[:2], 60*time.Second)

	// A city (the authority is both validators' operators, 2 of 2), a
	// unit, and an identifier registered before the backup.
	var ans client.TxAnswer
	cli(t, v0, &ans, "tx", "apply-city", "--country", "156", "--city-number", "130100", "--name", "石家庄市", "--name-en", "Shijiazhuang", "--from", "operator")
	cli(t, v0, &ans, "tx", "approve", "1", "--from", "operator")
	cli(t, v1, &ans, "tx", "approve", "1", "--from", "operator")
	if ans.Result.CityCode != "1561301001" {
		t.Fatalf("approval answered %+v", ans)
	}
	// Committed on the second validator: the first may see it a moment later.
	c0, err := client.New(v0.URL())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	waitFor(t, "the city on the first validator", func() bool {
		_, err := c0.Resolve(ctx, "1561301001")
		return err == nil
	})
	cli(t, v0, &ans, "tx", "register-sector", "1561301001.85", "--from", "operator")
	cli(t, v0, &ans, "tx", "register-unit", "1561301001.85", "--name", "Education Bureau", "--from", "operator")
	const before, after = "1561301001.85.1/before-backup", "1561301001.85.1/after-backup"
	cli(t, v0, &ans, "tx", "register", before, "--value", "TEXT=written before the backup", "--from", "operator")

	// Writes go on through the second validator while the first is
	// backed up: each registers an identifier of its own.
	cli(t, v1, nil, "keys", "add", "writer")
	var writer struct {
		PubKey string `json:"pub_key"`
	}
	cli(t, v1, &writer, "keys", "show", "writer")
	cli(t, v0, &ans, "tx", "transfer", "1561301001.85.1", "--admin", writer.PubKey, "--from", "operator")
	var written atomic.Int64
	var mu sync.Mutex
	var registered []string // by the writer, in order
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			// One may be refused (the second validator not yet at the
			// transfer's block): only those committed count.
			id := fmt.Sprintf("1561301001.85.1/during-%d", i)
			cmd := exec.Command(bin, "tx", "register", id, "--value", "TEXT=during",
				"--from", "writer", "--home", v1.Home, "--node", v1.URL(), "--json")
			if cmd.Run() == nil {
				mu.Lock()
				registered = append(registered, id)
				mu.Unlock()
				written.Add(1)
			}
		}
	}()
	waitFor(t, "writes before the backup", func() bool { return written.Load() >= 2 })
	dir := t.TempDir()
	archive := filepath.Join(dir, "v0.tar")
	var sum backupSummary
	cli(t, v0, &sum, "backup", "--out", archive, "--blocks")
	atBackup := written.Load()
	waitFor(t, "writes after the backup", func() bool { return written.Load() >= atBackup+2 })
	close(stop)
	wg.Wait()
	if sum.Height < 2 || sum.HeaderHeight != sum.Height+1 || sum.Blocks == nil || sum.Blocks.To != sum.Height || sum.ChainID == "" {
		t.Fatalf("backup printed %+v", sum)
	}
	t.Logf("backup at height %d, %d state bytes, %d identifiers written meanwhile", sum.Height, sum.StateBytes, written.Load())

	t.Run("refusals", func(t *testing.T) {
		if _, stderr, code := v0.CLI("backup", "--out", archive); code != exitRefused || !strings.Contains(stderr, "exists") {
			t.Errorf("backup over an existing file: exit %d, %s", code, stderr)
		}
		if _, stderr, code := v0.CLI("backup", "--out", filepath.Join(dir, "far.tar"), "--height", "100000"); code != exitRefused || !strings.Contains(stderr, "cannot back up height 100000") {
			t.Errorf("backup of a height not reached: exit %d, %s", code, stderr)
		}
		if _, stderr, code := fresh.CLI("backup", "--out", filepath.Join(dir, "none.tar")); code != exitUnavailable || !strings.Contains(stderr, "no node runs") {
			t.Errorf("backup of a home with no node running: exit %d, %s", code, stderr)
		}
		if _, err := os.Stat(filepath.Join(dir, "far.tar")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a refused backup left a file: %v", err)
		}
	})

	var verified backupSummary
	cli(t, v0, &verified, "backup", "verify", archive)
	if verified.AppHash != sum.AppHash || verified.Height != sum.Height || !strings.Contains(verified.Verified, "root") {
		t.Fatalf("verify printed %+v, backup %+v", verified, sum)
	}

	// Damaged archives are refused by verify and by restore, and a
	// refused restore leaves the home as it was.
	freshData := listTree(t, fresh.Home)
	for _, c := range []struct {
		name   string
		tamper func(name string, data []byte) []byte
	}{
		{"flipped byte in the state", func(name string, data []byte) []byte {
			if name == "state/00000" {
				data[len(data)/2] ^= 0x01
			}
			return data
		}},
		{"wrong header", func(name string, data []byte) []byte {
			if name == "light/signed.pb" {
				return rewriteEntry(t, archive, "light/last.pb")
			}
			return data
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			bad := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".tar")
			tamperArchive(t, archive, bad, c.tamper)
			if _, stderr, code := v0.CLI("backup", "verify", bad); code != exitRefused || !strings.Contains(stderr, "backup archive refused") {
				t.Errorf("verify: exit %d, %s", code, stderr)
			}
			if _, stderr, code := fresh.CLI("restore", bad, "--force"); code != exitRefused || !strings.Contains(stderr, "backup archive refused") {
				t.Errorf("restore: exit %d, %s", code, stderr)
			}
			if got := listTree(t, fresh.Home); got != freshData {
				t.Errorf("a refused restore changed the home:\n%s\nwas\n%s", got, freshData)
			}
		})
	}

	if _, stderr, code := fresh.CLI("restore", archive); code != exitRefused || !strings.Contains(stderr, "--force") {
		t.Fatalf("restore over a home with a node, without --force: exit %d, %s", code, stderr)
	}
	var res struct {
		Height  int64  `json:"height"`
		AppHash string `json:"app_hash"`
		NewHome bool   `json:"new_home"`
	}
	cli(t, fresh, &res, "restore", archive, "--force")
	if res.Height != sum.Height || res.AppHash != sum.AppHash || res.NewHome {
		t.Fatalf("restore printed %+v", res)
	}

	t.Run("into a new home", func(t *testing.T) {
		home := filepath.Join(t.TempDir(), "new")
		out, err := exec.Command(bin, "restore", archive, "--home", home, "--json").CombinedOutput()
		if err != nil {
			t.Fatalf("restore into a new home: %v\n%s", err, out)
		}
		var r struct {
			NewHome bool `json:"new_home"`
		}
		if json.Unmarshal(out, &r) != nil || !r.NewHome {
			t.Fatalf("restore into a new home printed %s", out)
		}
		want, _ := os.ReadFile(filepath.Join(v0.Home, "config", "genesis.json"))
		got, _ := os.ReadFile(filepath.Join(home, "config", "genesis.json"))
		if len(want) == 0 || !bytes.Equal(got, want) {
			t.Errorf("the new home's genesis is not the network's")
		}
	})

	// The restored node joins, catches up by block sync from the height
	// after the archive's, and keeps no block from before it.
	fresh.Launch()
	if err := fresh.WaitReady(60 * time.Second); err != nil {
		t.Fatalf("the restored node did not become ready: %v\n%s", err, fresh.Output())
	}
	cli(t, v1, &ans, "tx", "register", after, "--value", "TEXT=written after the backup", "--from", "writer")
	fc, err := client.New(fresh.URL())
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the restored node to catch up", func() bool {
		st, err := fc.Status(ctx)
		return err == nil && st.Height > ans.Height
	})
	if code, _ := get(t, fresh, "/v1/blocks/1"); code == http.StatusOK {
		t.Errorf("the restored node serves block 1: it synced from genesis, not from the archive")
	}
	trustHash, err := hex.DecodeString(sum.HeaderHash)
	if err != nil {
		t.Fatal(err)
	}
	v, err := client.NewVerifier(ctx, fc, nil, client.TrustOptions{Height: sum.HeaderHeight, Hash: trustHash}, dbm.NewMemDB())
	if err != nil {
		t.Fatalf("a light client trusting the archive's header: %v", err)
	}
	// Before the backup, after it, and the first and last the writer
	// registered (the first before the backup, the last after it).
	for _, id := range []string{before, after, registered[0], registered[len(registered)-1]} {
		rec, ver, err := v.ResolveVerified(ctx, id)
		if err != nil || !ver.Exists || rec.Record.ID != id {
			t.Errorf("verified resolve of %s on the restored node: %+v %+v %v", id, rec.Record.ID, ver, err)
		}
	}
	// And the same state as the validators at the same height: one below
	// the restored node's latest block, which its state may not have
	// committed yet.
	st, err := fc.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h := st.Height - 1
	a0, err := c0.ResolveProof(ctx, after, h)
	a2, err2 := fc.ResolveProof(ctx, after, h)
	if err != nil || err2 != nil || a0.Proof == nil || a2.Proof == nil || a0.Proof.AppHash != a2.Proof.AppHash {
		t.Errorf("%s at %d: validator %v (%v), restored %v (%v)", after, h, appHash(a0), err, appHash(a2), err2)
	}
}

func appHash(a client.RecordAnswer) string {
	if a.Proof == nil {
		return "no proof"
	}
	return a.Proof.AppHash
}

// waitFor polls cond for up to a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// tamperArchive copies the archive src to dst, passing each entry's
// bytes through tamper; the manifest is copied as it is.
func tamperArchive(t *testing.T, src, dst string, tamper func(name string, data []byte) []byte) {
	t.Helper()
	backuptest.Rewrite(t, src, dst, tamper)
}

// rewriteEntry is the bytes of entry name of the archive.
func rewriteEntry(t *testing.T, archive, name string) []byte {
	t.Helper()
	var found []byte
	tamperArchive(t, archive, filepath.Join(t.TempDir(), "copy.tar"), func(n string, data []byte) []byte {
		if n == name {
			found = bytes.Clone(data)
		}
		return data
	})
	if found == nil {
		t.Fatalf("no %s in %s", name, archive)
	}
	return found
}

// listTree lists the files under dir with their sizes, sorted, but for
// the home's lock file.
func listTree(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if rel == "cityid.lock" {
			return nil // any command that takes the home leaves it
		}
		lines = append(lines, fmt.Sprintf("%s %d", rel, info.Size()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
