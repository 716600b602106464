package node

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	dbm "github.com/cometbft/cometbft-db"

	"github.com/cityid/cityid/client"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/testnode"
)

// startNode initialises a home on free loopback ports, lets edit change
// its configuration, and starts the node in this process.
func startNode(t *testing.T, edit func(*Config)) (*Running, *client.Client, string) {
	t.Helper()
	home := filepath.Join(t.TempDir(), "home")
	if _, err := Init(home, InitOptions{HTTP: testnode.FreeAddr(t), RPC: "tcp://" + testnode.FreeAddr(t),
		P2P: "tcp://" + testnode.FreeAddr(t), DNS: "off"}); err != nil {
		t.Fatal(err)
	}
	c, err := Load(home)
	if err != nil {
		t.Fatal(err)
	}
	c.Log.Level = "error"
	// The tests read and write faster than the API's default rates let
	// one client; the limits have tests of their own.
	c.HTTP.Limits.WritesPerSecond, c.HTTP.Limits.ReadsPerSecond = 0, 0
	if edit != nil {
		edit(c)
	}
	r, err := Start(context.Background(), c, NewLogger(c.Log, testWriter{t}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Stop(); err != nil {
			t.Error(err)
		}
	})
	cl, err := client.New("http://" + r.HTTPAddr)
	if err != nil {
		t.Fatal(err)
	}
	return r, cl, home
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// settle waits until the node's height has not moved for quiet, and
// returns it.
func settle(t *testing.T, cl *client.Client, quiet, timeout time.Duration) int64 {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(timeout)
	last, since := int64(-1), time.Now()
	for {
		st, err := cl.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Height != last {
			last, since = st.Height, time.Now()
		} else if last > 0 && time.Since(since) >= quiet {
			return last
		}
		if time.Now().After(deadline) {
			t.Fatalf("the node's height still moves after %s (at %d)", timeout, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// dirBytes is the size of every file under dir.
func dirBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		n += info.Size()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// issueCity registers a city through cl, approved by the home's operator
// (the whole authority of a network made by Init), and returns the
// height of the approval that issued it.
func issueCity(t *testing.T, cl *client.Client, home string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ans, err := cl.Send(ctx, key, registry.KindApplyCity, registry.ApplyCity{Country: "156", CityNumber: "130100", Name: "石家庄市", NameEn: "Shijiazhuang"})
	if err != nil {
		t.Fatal(err)
	}
	op, err := LoadKey(home, OperatorKey)
	if err != nil {
		t.Fatal(err)
	}
	ans, err = cl.Send(ctx, op.Private, registry.KindApproveApplication, registry.Decision{Application: ans.Result.Application, Hash: ans.Result.Hash})
	if err != nil {
		t.Fatal(err)
	}
	if ans.Result.CityCode != "1561301001" {
		t.Fatalf("approval issued %q, want 1561301001", ans.Result.CityCode)
	}
	return ans.Height
}

// newVerifier is a light client of cl trusting its block h.
func newVerifier(t *testing.T, cl *client.Client, h int64) *client.Verifier {
	t.Helper()
	ctx := context.Background()
	b, err := cl.Block(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	hash, _ := hex.DecodeString(b.Hash)
	v, err := client.NewVerifier(ctx, cl, nil, client.TrustOptions{Height: h, Hash: hash}, dbm.NewMemDB())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// An idle node makes no blocks and writes (almost) nothing; a write makes
// its block and one more, whose header signs the new state, so its proof
// verifies at once and keeps verifying once the node is quiet again.
func TestIdleNodeIsQuiet(t *testing.T) {
	_, cl, home := startNode(t, nil)
	ctx := context.Background()
	const idle = 4 * time.Second
	// The genesis block and the one that signs its state, then nothing.
	h0 := settle(t, cl, 2*time.Second, 30*time.Second)
	bytes0 := dirBytes(t, filepath.Join(home, "data"))
	time.Sleep(idle)
	st, err := cl.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	grew := dirBytes(t, filepath.Join(home, "data")) - bytes0
	t.Logf("idle for %s at height %d: %d blocks, %d bytes written", idle, h0, st.Height-h0, grew)
	if st.Height != h0 {
		t.Errorf("an idle node went from height %d to %d in %s", h0, st.Height, idle)
	}
	// An empty block a second wrote about 3.6 KB a second; what is left
	// is no block at all, and nothing in the block or state stores.
	if grew > 1024 {
		t.Errorf("an idle node's data grew by %d bytes in %s", grew, idle)
	}

	wrote := issueCity(t, cl, home)
	v := newVerifier(t, cl, 1)
	began := time.Now()
	_, ver, err := v.ResolveVerified(ctx, "1561301001")
	if err != nil || !ver.Exists || ver.Height != wrote {
		t.Fatalf("resolve right after the write at %d: %+v, %v; want it verified at %d", wrote, ver, err, wrote)
	}
	t.Logf("proof of the write at height %d verified %s after its commit", wrote, time.Since(began).Round(time.Millisecond))

	// One more block carries the write's app hash, then the node is quiet
	// again; the proof is now read where that block's header signs it.
	quiet := settle(t, cl, 2*time.Second, 30*time.Second)
	if quiet != wrote+1 {
		t.Errorf("after a write at %d the node settled at %d, want %d (one block to sign the state)", wrote, quiet, wrote+1)
	}
	began = time.Now()
	ans, ver, err := v.ResolveVerified(ctx, "1561301001")
	if err != nil || !ver.Exists || ver.Height != wrote || ver.HeaderHeight != quiet {
		t.Fatalf("resolve on the quiet node: %+v, %v; want it verified at %d against header %d", ver, err, wrote, quiet)
	}
	if took := time.Since(began); took > 3*time.Second {
		t.Errorf("a verified resolve on a quiet node took %s: it waited for a header", took)
	}
	// A read without proof answers from the latest state.
	if ans, err = cl.Resolve(ctx, "1561301001"); err != nil || ans.Height != quiet {
		t.Errorf("resolve without proof: height %d, %v; want %d", ans.Height, err, quiet)
	}
}
