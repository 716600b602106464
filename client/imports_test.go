package client_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// listDeps runs `go list -deps -json` on pkg (its non-test files: tests
// may start a node) and returns each listed package's imports.
func listDeps(t *testing.T, pkg string) map[string][]string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		if root := os.Getenv("GOROOT"); root != "" {
			goTool = filepath.Join(root, "bin", "go")
		} else {
			t.Fatalf("the go command is needed to list imports: %v", err)
		}
	}
	cmd := exec.Command(goTool, "list", "-deps", "-json", pkg)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	deps := map[string][]string{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		deps[p.ImportPath] = p.Imports
	}
	if _, ok := deps[pkg]; !ok {
		t.Fatalf("go list did not list %s", pkg)
	}
	return deps
}

const module = "github.com/cityid/cityid/"

// TestClientImports keeps the public client apart from the server: it
// imports the wire types, the registry's transaction types, the verifier,
// the identifier grammar and CometBFT's light client (with the types and
// the store it needs), and nothing of this module links the HTTP server,
// the state store or CometBFT's node into an outside program.
func TestClientImports(t *testing.T) {
	deps := listDeps(t, module+"client")
	allowedHere := map[string]bool{
		module + "code": true, module + "verify": true,
		module + "internal/wire": true, module + "internal/registry": true,
		module + "httpsig":                            true, // signing data requests (RFC 9421)
		module + "internal/accesslog":                 true, // the access log's entries and their verification (standard library only)
		module + "internal/fsx":                       true, // the log's durable writes (standard library only)
		"github.com/cometbft/cometbft-db":             true, // the light client's trusted store
		"github.com/cometbft/cometbft/libs/json":      true, // CometBFT's JSON of a light block
		"github.com/cometbft/cometbft/types":          true, // headers and validator sets
		"github.com/cometbft/cometbft/light":          true,
		"github.com/cometbft/cometbft/light/provider": true,
		"github.com/cometbft/cometbft/light/store/db": true,
	}
	for _, imp := range deps[module+"client"] {
		if !strings.Contains(strings.Split(imp, "/")[0], ".") {
			continue // the standard library
		}
		if !allowedHere[imp] {
			t.Errorf("client imports %s: only wire, registry, verify, code, httpsig, accesslog and CometBFT's light client", imp)
		}
	}
	// Through them, nothing of this module but those leaves.
	for dep := range deps {
		if !strings.HasPrefix(dep, module) || dep == module+"client" {
			continue
		}
		if !allowedHere[dep] {
			t.Errorf("client links %s", dep)
		}
	}
	for _, server := range []string{"github.com/cometbft/cometbft/node", "github.com/cosmos/iavl", "github.com/cometbft/cometbft/mempool"} {
		if _, ok := deps[server]; ok {
			t.Errorf("client links %s, a part of the server", server)
		}
	}
}

// TestLeavesImportStandardLibraryOnly: the leaves the client links beyond
// the wire types — signing requests (httpsig), the access log's entries
// (internal/accesslog) — and the datastore beside the log import the
// standard library only (and one another's leaves, such as internal/fsx,
// held to the same rule), so that none can pull the server in.
func TestLeavesImportStandardLibraryOnly(t *testing.T) {
	leaves := []string{"httpsig", "internal/accesslog", "internal/datastore", "internal/fsx"}
	for _, pkg := range leaves {
		deps := listDeps(t, module+pkg)
		for dep := range deps {
			if rest, ok := strings.CutPrefix(dep, module); ok && slices.Contains(leaves, rest) {
				continue // a leaf held to the same rule
			}
			if first, _, _ := strings.Cut(dep, "/"); strings.Contains(first, ".") {
				t.Errorf("%s links %s: only the standard library is allowed", pkg, dep)
			}
		}
	}
}
