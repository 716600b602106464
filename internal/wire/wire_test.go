package wire_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/internal/wire"
	"github.com/cityid/cityid/verify"
)

// TestLeaf keeps wire a leaf: the standard library, code and registry,
// nothing else, so the public client never links the server.
func TestLeaf(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := parser.ParseFile(token.NewFileSet(), f, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range parsed.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			switch {
			case path == "github.com/cityid/cityid/code", path == "github.com/cityid/cityid/internal/registry":
			case !strings.Contains(strings.Split(path, "/")[0], "."):
				// the standard library
			default:
				t.Errorf("%s imports %s: wire may import only the standard library, code and registry", f, path)
			}
		}
	}
}

// TestDefaultsAgree holds the code package's own defaults (a public leaf,
// which cannot import wire) to the one place of the node's.
func TestDefaultsAgree(t *testing.T) {
	f := code.DefaultFormOptions()
	if f.Zone != wire.DefaultZone {
		t.Errorf("code's default zone %q, wire's %q", f.Zone, wire.DefaultZone)
	}
	if f.ResolverBase != wire.DefaultNodeURL {
		t.Errorf("code's default resolver base %q, wire's node URL %q", f.ResolverBase, wire.DefaultNodeURL)
	}
	if !strings.HasSuffix(wire.DefaultNodeURL, "://"+wire.DefaultHTTPAddr) {
		t.Errorf("DefaultNodeURL %q is not on DefaultHTTPAddr %q", wire.DefaultNodeURL, wire.DefaultHTTPAddr)
	}
}

// TestProofTypeAgrees: the verifier (public, a leaf of its own) checks
// the proof type the node writes.
func TestProofTypeAgrees(t *testing.T) {
	if verify.ProofType != wire.ProofType {
		t.Errorf("verify checks proofs of type %q, nodes give %q", verify.ProofType, wire.ProofType)
	}
}
