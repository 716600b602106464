package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cityid/cityid/client"
	"github.com/cityid/cityid/internal/apitest"
	"github.com/cityid/cityid/internal/datastore"
)

// TestMirrorStreamsIntoTheStore: cityid data mirror writes the bytes it
// downloads straight into the node's store, once, checked as they
// stream. A mirror cut short keeps what it received in the store's
// upload, and the next one asks only for the rest; bytes that do not
// hash to the ledger's SHA-256 are dropped and never bound; nothing is
// written anywhere else under the node's folder.
func TestMirrorStreamsIntoTheStore(t *testing.T) {
	content := bytes.Repeat([]byte("pipe,diameter,material\n"), 20000)
	sum := sha256.Sum256(content)
	ds := client.Dataset{URI: "x", SHA256: hex.EncodeToString(sum[:]), Size: int64(len(content)), MediaType: "text/csv", Public: true}
	const id = "1561301001.36.1/pipes"
	srv := apitest.NewRangeServer(t, content)
	srv.CutNext(len(content) / 3)
	oc, err := client.New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	st, err := datastore.Open(filepath.Join(root, "bytes"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	if err := mirrorInto(ctx, oc, st, id, 0, ds); err == nil {
		t.Fatal("a mirror cut short succeeded")
	}
	if p, err := st.Status(ds.SHA256); err != nil || p.Offset != int64(len(content)/3) {
		t.Fatalf("after the cut, the store holds %+v (%v), want the %d bytes received", p, err, len(content)/3)
	}
	if err := mirrorInto(ctx, oc, st, id, 0, ds); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(srv.Asked()); got != fmt.Sprintf(`[ bytes=%d- "sha256:%s"]`, len(content)/3, ds.SHA256) {
		t.Errorf("the node was asked %s, want the whole, then the rest only, of the same bytes", got)
	}
	if name, ok, err := st.Bound(id); err != nil || !ok || name != ds.SHA256 {
		t.Fatalf("bound %q %v %v, want %s", name, ok, err, ds.SHA256)
	}
	b, err := st.Open(ds.SHA256)
	if err != nil || b.Size() != ds.Size {
		t.Fatalf("stored blob: %v", err)
	}
	// Nothing but the store's own files was written under the folder.
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.Contains(p, "/bytes/") {
			t.Errorf("the mirror wrote %s", p)
		}
		return nil
	})

	// Altered bytes: refused as they do not hash right, never bound,
	// and not kept for a resume.
	other := "1561301001.36.1/altered"
	altered := bytes.Clone(content)
	altered[len(altered)-1] ^= 1
	srv.Serve(altered)
	ds2 := ds
	sum2 := sha256.Sum256(append(bytes.Clone(content), '!'))
	ds2.SHA256 = hex.EncodeToString(sum2[:]) // bytes the node does not hold
	ds2.Size = int64(len(altered))
	err = mirrorInto(ctx, oc, st, other, 0, ds2)
	if !errors.Is(err, client.ErrDataMismatch) {
		t.Fatalf("altered bytes: %v, want %v", err, client.ErrDataMismatch)
	}
	if _, ok, _ := st.Bound(other); ok {
		t.Fatal("altered bytes were bound")
	}
	if p, err := st.Status(ds2.SHA256); err != nil || p.Offset != 0 || p.Complete {
		t.Fatalf("altered bytes kept: %+v %v", p, err)
	}
}
