package backup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"testing"

	"github.com/cityid/cityid/internal/store"
)

// BenchmarkArchive measures what the archive adds to the store's own
// snapshot path, each beside its baseline in the same run: writing an
// archive (tar, parts, hashes, the headers' checks) beside store.Export
// alone, and reading one into a store (all the checks) beside
// store.Import alone. The state is 100,000 keys of 200-byte values on
// disk, values that do not compress. Run with:
//
//	go test ./internal/backup -run '^$' -bench Archive -benchtime 5x -count 3
func BenchmarkArchive(b *testing.B) {
	const keys = 100_000
	src, err := store.Open(b.TempDir(), store.Options{ValueCacheBytes: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	// Values that do not compress, as records' URLs, hashes and keys
	// mostly do not: the stream is then as long as the state.
	for i := range keys {
		val := make([]byte, 200) // IAVL keeps the slice until the commit
		for j := 0; j < len(val); j += 32 {
			sum := sha256.Sum256(fmt.Appendf(nil, "%d/%d", i, j))
			copy(val[j:], sum[:])
		}
		if err := src.Set(fmt.Appendf(nil, "id/1561301001.85.1/school-%07d", i), val); err != nil {
			b.Fatal(err)
		}
	}
	root, _, err := src.Commit()
	if err != nil {
		b.Fatal(err)
	}
	c := newFakeChain(b, root, src.Export)
	plan, err := Prepare(context.Background(), c, Options{})
	if err != nil {
		b.Fatal(err)
	}
	var snapshot, archive bytes.Buffer
	if err := src.Export(1, &snapshot); err != nil {
		b.Fatal(err)
	}
	if _, err := plan.WriteTo(context.Background(), &archive); err != nil {
		b.Fatal(err)
	}
	b.Logf("state of %d keys: snapshot stream %d bytes, archive %d bytes", keys, snapshot.Len(), archive.Len())

	b.Run("write/baseline-export", func(b *testing.B) {
		for b.Loop() {
			if err := src.Export(1, io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("write/archive", func(b *testing.B) {
		for b.Loop() {
			if _, err := plan.WriteTo(context.Background(), io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	})
	fresh := func(b *testing.B) *store.Store {
		b.StopTimer()
		defer b.StartTimer()
		st, err := store.Open(b.TempDir(), store.Options{ValueCacheBytes: -1})
		if err != nil {
			b.Fatal(err)
		}
		return st
	}
	b.Run("read/baseline-import", func(b *testing.B) {
		for b.Loop() {
			st := fresh(b)
			if _, err := st.Import(1, bytes.NewReader(snapshot.Bytes()), root); err != nil {
				b.Fatal(err)
			}
			st.Close()
		}
	})
	b.Run("read/archive", func(b *testing.B) {
		for b.Loop() {
			st := fresh(b)
			if _, err := Read(bytes.NewReader(archive.Bytes()), st); err != nil {
				b.Fatal(err)
			}
			st.Close()
		}
	})
}
