package node

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cityid/cityid/client"
	"github.com/cityid/cityid/internal/registry"
)

// A node that keeps the last few blocks and state versions serves what it
// keeps, refuses older heights on every read that takes one with 410
// height_pruned naming the oldest height kept, keeps every identifier's
// history, and still proves its latest state.
func TestRetention(t *testing.T) {
	const keep = 4
	r, cl, home := startNode(t, func(c *Config) {
		c.Storage = StorageConfig{KeepBlocks: keep, KeepVersions: keep}
		// CometBFT prunes blocks in the background, every 10s by
		// default.
		c.Comet.Storage.Pruning.Interval = 200 * time.Millisecond
	})
	ctx := context.Background()
	settle(t, cl, time.Second, 30*time.Second)
	issued := issueCity(t, cl, home)
	// More blocks than are kept: each write is a block, and one more
	// that signs its state.
	for i := range 2 * keep {
		_, key, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cl.Send(ctx, key, registry.KindApplyCity, registry.ApplyCity{Country: "156", CityNumber: "allocate", Name: fmt.Sprintf("城市%d", i), NameEn: fmt.Sprintf("City %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	latest := settle(t, cl, time.Second, 30*time.Second)
	if latest-issued < 2*keep {
		t.Fatalf("latest %d, city issued at %d: too few blocks to prune", latest, issued)
	}

	// pruned checks that err is 410 height_pruned naming the oldest height
	// kept, and returns it.
	pruned := func(what string, err error) int64 {
		t.Helper()
		var e *client.Error
		if !errors.As(err, &e) || e.Status != http.StatusGone || e.Problem.Code != client.CodeHeightPruned {
			t.Fatalf("%s: %v, want 410 %s", what, err, client.CodeHeightPruned)
		}
		var oldest int64
		if _, err := fmt.Sscanf(e.Problem.Detail[strings.Index(e.Problem.Detail, "keeps heights from "):], "keeps heights from %d", &oldest); err != nil {
			t.Fatalf("%s: %q names no oldest height: %v", what, e.Problem.Detail, err)
		}
		return oldest
	}

	// State versions: the last few, pruned as each block commits.
	_, err := cl.ResolveAt(ctx, "1561301001", issued)
	oldest := pruned("record at the height the city was issued", err)
	if oldest <= issued || oldest > latest-keep+1 {
		t.Fatalf("state kept from %d; want after %d and by %d (latest %d, keeping %d)", oldest, issued, latest-keep+1, latest, keep)
	}
	for h := oldest; h <= latest; h++ {
		if ans, err := cl.ResolveAt(ctx, "1561301001", h); err != nil || ans.Height != h || ans.Record.ID != "1561301001" {
			t.Fatalf("record at kept height %d: %+v, %v", h, ans, err)
		}
	}
	_, err = cl.ResolveProof(ctx, "1561301001", oldest-1)
	if got := pruned("proof just below the oldest kept", err); got != oldest {
		t.Errorf("a proof at %d names %d as the oldest, a record %d", oldest-1, got, oldest)
	}

	// Blocks: CometBFT prunes them in the background.
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := cl.Block(ctx, 1)
		if err != nil {
			first := pruned("block 1", err)
			if first <= 1 || first > latest-keep+1 {
				t.Fatalf("blocks kept from %d; want after 1 and by %d", first, latest-keep+1)
			}
			for h := first; h <= latest; h++ {
				if b, err := cl.Block(ctx, h); err != nil || b.Height != h {
					t.Fatalf("kept block %d: %+v, %v", h, b, err)
				}
			}
			_, err := cl.Block(ctx, first-1)
			pruned("the block before the first kept", err)
			var raw []byte
			if raw, err = lightBlock(ctx, r.HTTPAddr, first-1); err == nil {
				t.Fatalf("light block %d below the first kept, %d: %s", first-1, first, raw)
			}
			pruned("light block below the first kept", err)
			if _, err := lightBlock(ctx, r.HTTPAddr, latest); err != nil {
				t.Fatalf("light block %d: %v", latest, err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("block 1 still served 30s after the node reached height %d keeping %d blocks", latest, keep)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// History is in the state: every version, however old.
	hist, err := cl.History(ctx, "1561301001", 0, 10)
	if err != nil || len(hist.Versions) != 1 || hist.Versions[0].Height != issued {
		t.Fatalf("history: %+v, %v; want the version issued at %d", hist, err, issued)
	}
	// The latest state still verifies, from a header the node keeps.
	v := newVerifier(t, cl, latest)
	if _, ver, err := v.ResolveVerified(ctx, "1561301001"); err != nil || !ver.Exists {
		t.Fatalf("verified resolve on a pruning node: %+v, %v", ver, err)
	}
}

// lightBlock asks for /v1/light/{h}, the light client's read; a problem
// comes back as a *client.Error.
func lightBlock(ctx context.Context, addr string, h int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/v1/light/%d", addr, h), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		e := &client.Error{Status: resp.StatusCode}
		if err := json.Unmarshal(body, &e.Problem); err != nil {
			return nil, fmt.Errorf("status %d: %s", resp.StatusCode, body)
		}
		return nil, e
	}
	return body, nil
}

// [storage] is written keeping everything, with CometBFT's config making
// no empty blocks; edits are read back and nonsense refused.
func TestStorageConfig(t *testing.T) {
	home := filepath.Join(t.TempDir(), "h")
	if _, err := Init(home, InitOptions{}); err != nil {
		t.Fatal(err)
	}
	c, err := Load(home)
	if err != nil {
		t.Fatal(err)
	}
	if c.Storage != (StorageConfig{}) || c.Comet.Consensus.CreateEmptyBlocks {
		t.Fatalf("a new home keeps %+v and creates empty blocks: %v; want everything kept and no empty blocks", c.Storage, c.Comet.Consensus.CreateEmptyBlocks)
	}
	comet, err := os.ReadFile(filepath.Join(home, "config", "config.toml"))
	if err != nil || !strings.Contains(string(comet), "create_empty_blocks = false") {
		t.Fatalf("config.toml does not say create_empty_blocks = false (%v)", err)
	}
	file := filepath.Join(home, "config", "cityid.toml")
	body, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range []string{"[storage]", "keep_blocks = 0", "keep_versions = 0", "height_pruned"} {
		if !strings.Contains(string(body), doc) {
			t.Errorf("cityid.toml does not say %q", doc)
		}
	}
	edited := strings.NewReplacer("keep_blocks = 0", "keep_blocks = 1000", "keep_versions = 0", "keep_versions = 50").Replace(string(body))
	if err := os.WriteFile(file, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err = Load(home); err != nil || c.Storage != (StorageConfig{KeepBlocks: 1000, KeepVersions: 50}) {
		t.Fatalf("edited: %+v, %v", c.Storage, err)
	}
	for _, bad := range []struct{ body, want string }{
		{"[storage]\nkeep_blocks = 1\n", "storage.keep_blocks 1 is not 0 (keep every block) or at least 2"},
		{"[storage]\nkeep_versions = -3\n", "storage.keep_versions -3 is not 0 (keep every version) or at least 2"},
	} {
		if err := os.WriteFile(file, []byte(bad.body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(home); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("config %q: %v, want an error mentioning %q", bad.body, err, bad.want)
		}
	}
}
