package datastore

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// Serving a 32 MiB blob over loopback with http.ServeContent, from the
// plain file (sendfile) and through a VerifyingReader, the client copying
// to io.Discard. Compare MB/s in one run:
//
//	go test -run '^$' -bench Serve -benchtime 20x ./internal/datastore/
func BenchmarkServePlainFile(b *testing.B) { benchServe(b, false) }

func BenchmarkServeVerified(b *testing.B) { benchServe(b, true) }

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
			http.ServeContent(w, r, "", bl.ModTime, bl.VerifyingReader())
		} else {
			http.ServeContent(w, r, "", bl.ModTime, bl.File)
		}
	}))
	defer srv.Close()
	b.SetBytes(benchSize)
	b.ResetTimer()
	for b.Loop() {
		resp, err := http.Get(srv.URL)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || n != benchSize {
			b.Fatalf("%d bytes, %v", n, err)
		}
	}
}
