package datastore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"runtime"
	"testing"
)

// patternReader yields n deterministic bytes without holding them, so a
// test can stream a large file through the store with nothing in memory.
type patternReader struct{ off, n int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	if int64(len(b)) > p.n-p.off {
		b = b[:p.n-p.off]
	}
	for i := range b {
		x := p.off + int64(i)
		b[i] = byte(x*7 + x/251)
	}
	p.off += int64(len(b))
	return len(b), nil
}

func patternSum(n int64) string {
	h := sha256.New()
	io.CopyBuffer(h, &patternReader{n: n}, make([]byte, 64<<10))
	return hex.EncodeToString(h.Sum(nil))
}

// Uploading, completing and reading back 64 MiB allocates a few buffers,
// not the file: what the store allocates is bounded whatever the size.
func TestStreaming64MiBInBoundedMemory(t *testing.T) {
	const size = 64 << 20
	name := patternSum(size)
	s, _ := openStore(t)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	u, err := s.Upload(name, size)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.WriteAt(context.Background(), &patternReader{n: size}, 0); err != nil {
		t.Fatal(err)
	}
	if err := u.Complete(); err != nil {
		t.Fatal(err)
	}
	b, err := s.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	v := b.VerifyingReader()
	n, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{v}, make([]byte, 256<<10))
	if err != nil || n != size || !v.Verified() {
		t.Fatalf("read back %d bytes, err %v, verified %v", n, err, v.Verified())
	}
	if err := b.Verify(context.Background()); err != nil {
		t.Fatal(err)
	}
	b.Close()

	runtime.ReadMemStats(&after)
	// Three 1 MiB buffers, the 256 KiB copy buffer, and small change; the
	// file is 64 MiB, so holding it (or a quarter of it) would fail this.
	const bound = 12 << 20
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > bound {
		t.Fatalf("allocated %d bytes to stream %d (bound %d)", alloc, size, bound)
	}
}

const benchSize = 32 << 20

// The benchmarks below measure, on one 32 MiB file, Complete (re-read and
// hash the part file, rename) and a verified full read, against a plain
// io.Copy of the same file to io.Discard. Compare their MB/s in one run:
//
//	go test -run '^$' -bench . -benchtime 20x ./internal/datastore/
func BenchmarkPlainCopy(b *testing.B) {
	s, _ := openStore(b)
	name := putPattern(b, s)
	b.SetBytes(benchSize)
	b.ResetTimer()
	for b.Loop() {
		f, err := os.Open(s.blobPath(name))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, f); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}

func BenchmarkVerifiedRead(b *testing.B) {
	s, _ := openStore(b)
	name := putPattern(b, s)
	b.SetBytes(benchSize)
	b.ResetTimer()
	for b.Loop() {
		bl, err := s.Open(name)
		if err != nil {
			b.Fatal(err)
		}
		v := bl.VerifyingReader()
		if _, err := io.Copy(io.Discard, v); err != nil || !v.Verified() {
			b.Fatal(err)
		}
		bl.Close()
	}
}

func BenchmarkComplete(b *testing.B) {
	s, _ := openStore(b)
	name := patternSum(benchSize)
	b.SetBytes(benchSize)
	for b.Loop() {
		b.StopTimer()
		u, err := s.Upload(name, benchSize)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := u.WriteAt(context.Background(), &patternReader{n: benchSize}, 0); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := u.Complete(); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := s.Remove(name); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

func putPattern(b *testing.B, s *Store) string {
	name := patternSum(benchSize)
	u, err := s.Upload(name, benchSize)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := u.WriteAt(context.Background(), &patternReader{n: benchSize}, 0); err != nil {
		b.Fatal(err)
	}
	if err := u.Complete(); err != nil {
		b.Fatal(err)
	}
	return name
}
