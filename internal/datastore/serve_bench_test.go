package datastore

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// Serving a 32 MiB blob over loopback with http.ServeContent, from the
// plain file (sendfile) and through a VerifyingReader, the client copying
// to io.Discard. Compare MB/s in one run:
//
//	go test -run '^$' -bench Serve -benchtime 20x ./internal/datastore/
func BenchmarkServePlainFile(b *testing.B) { benchServe(b, false) }

func BenchmarkServeVerified(b *testing.B) { benchServe(b, true) }

// The path the API takes (serveBlob): after a first verified read, a
// trusted blob is served from its file.
func BenchmarkServeTrusted(b *testing.B) {
	s, _ := openStore(b)
	name := putPattern(b, s)
	time.Sleep(racyGuard + 100*time.Millisecond) // so the first read can make it trusted
	srv := httptest.NewServer(serveBlob(s, name))
	defer srv.Close()
	fetch(b, srv.URL)
	if bl, _ := s.Open(name); !bl.Trusted() {
		b.Fatal("not trusted after a verified read")
	} else {
		bl.Close()
	}
	b.SetBytes(benchSize)
	b.ResetTimer()
	for b.Loop() {
		fetch(b, srv.URL)
	}
}

func fetch(b *testing.B, url string) {
	resp, err := http.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || n != benchSize {
		b.Fatalf("%d bytes, %v", n, err)
	}
}

func benchServe(b *testing.B, verified bool) {
	s, _ := openStore(b)
	name := putPattern(b, s)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bl, err := s.Open(name)
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		defer bl.Close()
		if verified {
			http.ServeContent(w, r, "", bl.ModTime(), bl.VerifyingReader())
		} else {
			http.ServeContent(w, r, "", bl.ModTime(), bl.File)
		}
	}))
	defer srv.Close()
	b.SetBytes(benchSize)
	b.ResetTimer()
	for b.Loop() {
		fetch(b, srv.URL)
	}
}
