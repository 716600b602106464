// Package backuptest is what tests of backup archives share outside
// package backup: a copy of an archive with its entries changed, to show
// that a damaged or forged archive is refused. It owns no production
// behaviour.
package backuptest

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"testing"
)

// Rewrite copies the archive src to dst, passing each entry's bytes
// through change (which may return them as they are).
func Rewrite(t testing.TB, src, dst string, change func(name string, data []byte) []byte) {
	t.Helper()
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	tr, tw := tar.NewReader(f), tar.NewWriter(out)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		data = change(hdr.Name, data)
		hdr.Size = int64(len(data))
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
}
