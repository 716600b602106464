package client_test

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
)

// TestDownloadData: a download cut short keeps its bytes in FILE.part and
// the next asks for the rest only (If-Range: the same bytes); the file is
// written only when the whole has the ledger's size and SHA-256; bytes
// that do not, or more bytes than the ledger says, are dropped and
// nothing is written.
func TestDownloadData(t *testing.T) {
	content := bytes.Repeat([]byte("2026-01-01,main-7,1200\n"), 10000)
	sum := sha256.Sum256(content)
	ds := client.Dataset{URI: "x", SHA256: hex.EncodeToString(sum[:]), Size: int64(len(content)), MediaType: "text/csv"}
	srv := apitest.NewRangeServer(t, content)
	c, err := client.New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dir := t.TempDir()
	file := filepath.Join(dir, "flow.csv")
	srv.CutNext(1000)
	if _, err := c.DownloadData(ctx, nil, "1561301001.36.1/flow", 0, ds, file); err == nil || !strings.Contains(err.Error(), "resume") {
		t.Fatalf("a download cut short: %v, want it kept to resume", err)
	}
	if fi, err := os.Stat(file + ".part"); err != nil || fi.Size() != 1000 {
		t.Fatalf("the part file after the cut: %v %v", fi, err)
	}
	srv.Serve(content)
	d, err := c.DownloadData(ctx, nil, "1561301001.36.1/flow", 0, ds, file)
	if err != nil || d.Resumed != 1000 || d.Bytes != ds.Size-1000 {
		t.Fatalf("resumed download: %+v %v", d, err)
	}
	if got := fmt.Sprint(srv.Asked()); got != `[bytes=1000- "sha256:`+ds.SHA256+`"]` {
		t.Errorf("asked %s, want the rest only", got)
	}
	if b, err := os.ReadFile(file); err != nil || !bytes.Equal(b, content) {
		t.Fatalf("the file: %d bytes, %v", len(b), err)
	}

	for name, body := range map[string][]byte{
		"altered": append(bytes.Clone(content[:len(content)-1]), '!'),
		"longer":  append(bytes.Clone(content), '!'),
		"shorter": content[:len(content)-1],
	} {
		file := filepath.Join(dir, name)
		srv.Serve(body)
		_, err := c.DownloadData(ctx, nil, "1561301001.36.1/flow", 0, ds, file)
		if !errors.Is(err, client.ErrDataMismatch) {
			t.Errorf("%s: %v, want %v", name, err, client.ErrDataMismatch)
		}
		for _, p := range []string{file, file + ".part"} {
			if _, err := os.Stat(p); err == nil {
				t.Errorf("%s: %s was written", name, p)
			}
		}
	}
}
