package node

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cityid/cityid/internal/accesslog"
)

// What the access logs do on their own reaches the node's log as a
// warning: here, the torn line a crash left, cut off when the log loads.
func TestAccessLogNotesAreLogged(t *testing.T) {
	dir := t.TempDir()
	const ds = "1561301001.85.1/exam-2026"
	if err := os.WriteFile(filepath.Join(dir, accesslog.FileName(ds)), []byte(`{"seq":1,"time":"2026`), 0o640); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	logs, err := openAccessLogs(dir, slog.New(slog.NewTextHandler(&out, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	if n, _, err := logs.Head(ds); err != nil || n != 0 {
		t.Fatalf("head: %d %v", n, err)
	}
	if got := out.String(); !strings.Contains(got, "level=WARN") || !strings.Contains(got, "torn last line") {
		t.Fatalf("the node's log says %q", got)
	}
}
