package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestCommandUsesClient: the command line builds and sends transactions
// through the public client, never the registry directly, so that an
// outside program can do whatever the command line does.
func TestCommandUsesClient(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		if root := os.Getenv("GOROOT"); root != "" {
			goTool = filepath.Join(root, "bin", "go")
		} else {
			t.Fatalf("the go command is needed to list imports: %v", err)
		}
	}
	const pkg = "github.com/cityid/cityid/cmd/cityid"
	cmd := exec.Command(goTool, "list", "-json", pkg)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var p struct{ Imports []string }
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Imports) < 5 {
		t.Fatalf("go list listed %d imports of %s", len(p.Imports), pkg)
	}
	for _, imp := range p.Imports {
		if imp == "github.com/cityid/cityid/internal/registry" {
			t.Errorf("cmd/cityid imports %s: use the client's kinds and messages", imp)
		}
	}
}
