package node

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A download that outlives the grace of a stop (its client reads nothing
// more) is cut: when Shutdown returns, its handler has returned too, so
// the node can close the access logs and stores after it.
func TestShutdownEndsHandlersThatOutliveTheGrace(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	var returned atomic.Bool
	download := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer returned.Store(true)
		w.WriteHeader(http.StatusOK)
		http.NewResponseController(w).Flush()
		close(started)
		chunk := make([]byte, 64<<10)
		for {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	f := &FrontEnds{HTTPAddr: ln.Addr().String(), served: make(chan error, 1)}
	f.http = HTTPServer(f.counted(download), slog.New(slog.NewTextHandler(io.Discard, nil)))
	go func() { f.served <- f.http.Serve(ln) }()
	t.Cleanup(func() { f.http.Close() })

	c, err := net.Dial("tcp", f.HTTPAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "GET /v1/data/x HTTP/1.1\r\nHost: node\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if status, err := bufio.NewReader(c).ReadString('\n'); err != nil || !strings.Contains(status, "200") {
		t.Fatalf("answer: %q %v", status, err)
	}
	<-started // and the client reads no more: the handler blocks writing

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err = f.Shutdown(ctx)
	if !returned.Load() {
		t.Fatal("Shutdown returned with the download's handler still running")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v, want the grace's end", err)
	}
	if f.handling.Load() != 0 {
		t.Fatalf("%d handlers counted running", f.handling.Load())
	}
	if err := <-f.Served(); !errors.Is(err, http.ErrServerClosed) {
		t.Fatalf("served: %v", err)
	}
}
