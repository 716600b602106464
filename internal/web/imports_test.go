package web

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The portal reads the node only through Source: its code imports the
// standard library and the wire types alone (code, internal/wire, and
// internal/registry for the record's type), never the store, the chain or
// the API, so it has no way to the state of its own (tests may start a
// node).
func TestImports(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		parsed, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range parsed.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			switch path {
			case "github.com/cityid/cityid/code", "github.com/cityid/cityid/internal/wire", "github.com/cityid/cityid/internal/registry":
				continue
			}
			if first, _, _ := strings.Cut(path, "/"); strings.Contains(first, ".") {
				t.Errorf("%s imports %s: only the standard library, code, wire and registry", f, path)
			}
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no Go files checked")
	}
}
