package api

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestTransferReachesTheConnection: behind the metrics' statusWriter, as
// on a node, a dataset's transfer can still move the connection's write
// deadline on (else a transfer longer than the server's WriteTimeout is
// cut, however steady) and hand a file to the connection in chunks
// (sendfile); the bytes, from an offset, arrive complete and in order.
func TestTransferReachesTheConnection(t *testing.T) {
	content := bytes.Repeat([]byte("0123456789abcdef"), (2*transferChunk+12345)/16)
	path := filepath.Join(t.TempDir(), "blob")
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	var deadlineErr error
	var viaReaderFrom bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		rc := http.NewResponseController(sw)
		deadlineErr = rc.SetWriteDeadline(time.Now().Add(time.Minute))
		viaReaderFrom = readerFrom(sw) != nil
		f, err := os.Open(path)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		sw.Header().Set("Content-Length", strconv.Itoa(len(content)-7))
		if _, err := sendFile(sw, f, 7, int64(len(content)-7)); err != nil {
			t.Error(err)
		}
	}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if deadlineErr != nil {
		t.Errorf("the write deadline cannot be moved through the statusWriter: %v", deadlineErr)
	}
	if !viaReaderFrom {
		t.Error("the connection's ReadFrom cannot be reached through the statusWriter")
	}
	if !bytes.Equal(got, content[7:]) {
		t.Errorf("got %d bytes, want the file's %d from byte 7", len(got), len(content)-7)
	}
}
