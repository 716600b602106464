package registry

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const registryPkg = "github.com/cityid/cityid/internal/registry"

type listedPackage struct {
	ImportPath string
	Imports    []string
	Standard   bool
}

// goList runs `go list -deps -json` on the registry package (its non-test
// files only: the tests may use the store).
func goList(t *testing.T) map[string]listedPackage {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		if root := os.Getenv("GOROOT"); root != "" {
			goTool = filepath.Join(root, "bin", "go")
		} else {
			t.Fatalf("the go command is needed to list imports: %v", err)
		}
	}
	cmd := exec.Command(goTool, "list", "-deps", "-json", registryPkg)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	pkgs := map[string]listedPackage{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p listedPackage
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		pkgs[p.ImportPath] = p
	}
	if _, ok := pkgs[registryPkg]; !ok || len(pkgs) < 10 {
		t.Fatalf("go list listed %d packages, without %s", len(pkgs), registryPkg)
	}
	return pkgs
}

// importChain is the path of imports from the registry to dep, for a message
// that says who pulled it in.
func importChain(pkgs map[string]listedPackage, dep string) string {
	prev := map[string]string{registryPkg: ""}
	queue := []string{registryPkg}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if p == dep {
			var chain []string
			for ; p != ""; p = prev[p] {
				chain = append([]string{p}, chain...)
			}
			return strings.Join(chain, " → ")
		}
		for _, q := range pkgs[p].Imports {
			if _, seen := prev[q]; !seen {
				prev[q] = p
				queue = append(queue, q)
			}
		}
	}
	return dep
}

// TestImportDirection keeps the arrows of STYLE.md one way: the state machine
// depends on no consensus engine, no Merkle store and no HTTP, and on no
// package of this module but the identifier grammar.
func TestImportDirection(t *testing.T) {
	pkgs := goList(t)
	for path := range pkgs {
		switch {
		case strings.HasPrefix(path, "github.com/cometbft/"),
			strings.HasPrefix(path, "github.com/cosmos/"),
			path == "net/http" || strings.HasPrefix(path, "net/http/"):
			t.Errorf("registry depends on %s: %s", path, importChain(pkgs, path))
		case strings.HasPrefix(path, "github.com/cityid/cityid/") &&
			path != registryPkg && path != "github.com/cityid/cityid/code":
			t.Errorf("registry depends on %s (only package code may come before it): %s", path, importChain(pkgs, path))
		}
	}
	// Its own imports: nothing that does I/O, draws random numbers or runs
	// concurrently.
	forbidden := map[string]bool{
		"os": true, "os/exec": true, "net": true, "syscall": true, "unsafe": true, "io/ioutil": true,
		"math/rand": true, "math/rand/v2": true, "crypto/rand": true, "log": true, "log/slog": true,
		"path/filepath": true, "database/sql": true,
		// No goroutines and no locks: the state machine is a plain
		// function of (state, block), like raft's core; the parallel
		// work ahead of it (decoding, signatures) is the chain's.
		"runtime": true, "sync": true, "sync/atomic": true,
	}
	for _, imp := range pkgs[registryPkg].Imports {
		if forbidden[imp] {
			t.Errorf("registry imports %s", imp)
		}
	}
}

// TestNoClockOrFloat reads the registry's source: state must not depend on a
// node's clock or on floating point (DESIGN section 2), and nothing in it
// starts a goroutine.
func TestNoClockOrFloat(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	clock := map[string]bool{"Now": true, "Since": true, "Until": true, "Sleep": true, "After": true, "Tick": true, "NewTimer": true, "NewTicker": true, "AfterFunc": true}
	n := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		n++
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(node ast.Node) bool {
			switch x := node.(type) {
			case *ast.SelectorExpr:
				if id, ok := x.X.(*ast.Ident); ok && id.Name == "time" && clock[x.Sel.Name] {
					t.Errorf("%s: time.%s: block time comes from the header", fset.Position(x.Pos()), x.Sel.Name)
				}
			case *ast.Ident:
				switch x.Name {
				case "float32", "float64", "complex64", "complex128":
					t.Errorf("%s: %s in the state machine", fset.Position(x.Pos()), x.Name)
				}
			case *ast.GoStmt:
				t.Errorf("%s: a goroutine in the state machine: parallel work belongs to the chain", fset.Position(x.Pos()))
			case *ast.BasicLit:
				if x.Kind == token.FLOAT {
					t.Errorf("%s: floating-point literal %s", fset.Position(x.Pos()), x.Value)
				}
			}
			return true
		})
	}
	if n < 10 {
		t.Fatalf("read %d source files; run from the package directory", n)
	}
}
