package backup

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/cityid/cityid/internal/store"
)

// FuzzRead: whatever an archive holds, Read refuses it with a
// *CorruptError or takes it whole, and never panics, with a store (the
// state imported) and without. The seeds are the archives a real node
// wrote; a mutation of the state keeps the headers' signatures, so the
// import is reached.
//
//	go test -c -o backup.test ./internal/backup && (cd internal/backup &&
//	    ../../backup.test -test.run '^$' -test.fuzz FuzzRead -test.fuzztime 60s)
//
// (a binary built so runs it thousands of times a second without coverage
// guidance; under go test -fuzz's coverage instrumentation each run of
// CometBFT's signature checks takes seconds on this machine.)
func FuzzRead(f *testing.F) {
	for _, p := range []string{"testdata/archive.tar", "testdata/archive-h2.tar"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := store.OpenMemory(store.Options{ValueCacheBytes: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		for _, s := range []*store.Store{st, nil} {
			a, err := Read(bytes.NewReader(b), s)
			if err != nil && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("an error that is not a refusal: %v", err)
			}
			if err == nil && a.Manifest.Format != Format {
				t.Fatalf("taken with a manifest of format %q", a.Manifest.Format)
			}
		}
	})
}
