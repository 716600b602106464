package datastore

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// later makes the store open blobs as if d had passed since they were
// written, instead of sleeping past racyGuard.
func later(s *Store, d time.Duration) { s.now = func() time.Time { return time.Now().Add(d) } }

func readVerified(t *testing.T, s *Store, name string) (trustedBefore bool, err error) {
	t.Helper()
	b, err := s.Open(name)
	if err != nil {
		return false, err
	}
	defer b.Close()
	trustedBefore = b.Trusted()
	_, err = io.Copy(io.Discard, b.VerifyingReader())
	return trustedBefore, err
}

func TestTrustAfterAVerifiedReadEndsWithAWrite(t *testing.T) {
	s, _ := openStore(t)
	data := content(2<<20 + 3)
	name := put(t, s, data)
	later(s, racyGuard+time.Second)
	if trusted, err := readVerified(t, s, name); trusted || err != nil {
		t.Fatalf("trusted before any verified read: %v %v", trusted, err)
	}
	if trusted, err := readVerified(t, s, name); !trusted || err != nil {
		t.Fatalf("not trusted after a verified read: %v %v", trusted, err)
	}
	time.Sleep(50 * time.Millisecond) // past a clock tick, as any real write after racyGuard is
	tamper(t, s, name, 1<<20)
	if trusted, err := readVerified(t, s, name); trusted || !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("tampered blob: trusted %v, read %v", trusted, err)
	}
	if _, err := s.Open(name); !errors.Is(err, ErrNotFound) {
		t.Fatalf("tampered blob not quarantined: %v", err)
	}
}

// A file changed less than racyGuard before the read is not trusted: a
// write in the same clock tick could have left its ctime unchanged.
func TestNoTrustForARecentlyChangedFile(t *testing.T) {
	s, _ := openStore(t)
	name := put(t, s, content(1000))
	for range 2 {
		if trusted, err := readVerified(t, s, name); trusted || err != nil {
			t.Fatalf("trusted a file changed just now: %v %v", trusted, err)
		}
	}
	b, _ := s.Open(name)
	defer b.Close()
	if err := b.Verify(context.Background()); err != nil || b.Trusted() {
		t.Fatalf("verify: %v, trusted %v", err, b.Trusted())
	}
}

func TestTrustLapses(t *testing.T) {
	s, _ := openStore(t)
	name := put(t, s, content(1000))
	later(s, racyGuard+time.Second)
	b, _ := s.Open(name)
	if err := b.Verify(context.Background()); err != nil {
		t.Fatal(err)
	}
	b.Close()
	if trusted, _ := readVerified(t, s, name); !trusted {
		t.Fatal("Verify did not make the blob trusted")
	}
	later(s, trustFor+racyGuard+time.Second)
	if trusted, _ := readVerified(t, s, name); trusted {
		t.Fatal("trusted past trustFor")
	}
	if err := s.Remove(name); err != nil {
		t.Fatal(err)
	}
	later(s, racyGuard+time.Second)
	put(t, s, content(1000))
	if trusted, _ := readVerified(t, s, name); trusted {
		t.Fatal("a re-uploaded blob inherited the old one's trust")
	}
}

// serveBlob is the download path the API is meant to take: a trusted blob
// straight from its file, any other through the verifying reader.
func serveBlob(s *Store, name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := s.Open(name)
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		defer b.Close()
		if b.Trusted() {
			http.ServeContent(w, r, "", b.ModTime(), b.File)
			return
		}
		http.ServeContent(w, r, "", b.ModTime(), b.VerifyingReader())
	}
}

func TestServeTrustedThenTampered(t *testing.T) {
	s, _ := openStore(t)
	data := content(3 << 20)
	name := put(t, s, data)
	later(s, racyGuard+time.Second)
	srv := httptest.NewServer(serveBlob(s, name))
	defer srv.Close()
	get := func() ([]byte, error) {
		resp, err := http.Get(srv.URL)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		return io.ReadAll(resp.Body)
	}
	for range 2 { // verified, then trusted
		if body, err := get(); err != nil || !bytes.Equal(body, data) {
			t.Fatalf("%d bytes, %v", len(body), err)
		}
	}
	time.Sleep(50 * time.Millisecond)
	tamper(t, s, name, 3<<20-1)
	if body, err := get(); err == nil || len(body) >= len(data) {
		t.Fatalf("tampered blob delivered whole: %d bytes, %v", len(body), err)
	}
}
