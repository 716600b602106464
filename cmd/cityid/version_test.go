package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/cityid/cityid/internal/wire"
)

// TestVersion: `cityid version --json` names the versions in the binary,
// and --version says the same on one line.
func TestVersion(t *testing.T) {
	run := func(args ...string) string {
		t.Helper()
		root := newRoot()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetArgs(args)
		if err := root.Execute(); err != nil {
			t.Fatalf("cityid %s: %v", strings.Join(args, " "), err)
		}
		return out.String()
	}
	var b wire.Build
	if err := json.Unmarshal([]byte(run("version", "--json")), &b); err != nil {
		t.Fatal(err)
	}
	if b.Version == "" || b.Protocol != wire.Version || !strings.HasPrefix(b.Go, "go") || !strings.HasPrefix(b.CometBFT, "v1.") || !strings.HasPrefix(b.IAVL, "v1.") {
		t.Errorf("version: %+v", b)
	}
	line := run("--version")
	for _, want := range []string{"cityid " + b.Version, "protocol " + b.Protocol, "CometBFT " + b.CometBFT, "IAVL " + b.IAVL} {
		if !strings.Contains(line, want) {
			t.Errorf("--version printed %q, want it to say %q", line, want)
		}
	}
}
