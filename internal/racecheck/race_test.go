package racecheck

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cityid/cityid/internal/testnode/debian"
)

// raced are the packages whose tests run under the race detector: those
// where goroutines share memory by design (see the package doc).
var raced = []string{
	"github.com/cityid/cityid/internal/store",
	"github.com/cityid/cityid/internal/registry",
	"github.com/cityid/cityid/internal/chain",
	"github.com/cityid/cityid/internal/share",
	"github.com/cityid/cityid/internal/api",
	"github.com/cityid/cityid/internal/dnsfront",
	"github.com/cityid/cityid/client",
	"github.com/cityid/cityid/verify",
}

// raceTimeout bounds the run: about a minute on 2 cores with a warm build
// cache, a few more to build CometBFT and IAVL with -race on a fresh one.
const raceTimeout = 12 * time.Minute

// TestPackagesUnderRace runs `go test -race` on the raced packages and
// fails with its output when a test fails or a race is found.
func TestPackagesUnderRace(t *testing.T) {
	// The race detector is cgo's: it links with a C toolchain, which a
	// machine with only Go may lack.
	debian.Require(t, "gcc", "gcc")
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is not on the PATH: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), raceTimeout)
	defer cancel()

	noteSources(t, ctx, goTool)

	cmd := exec.CommandContext(ctx, goTool, append([]string{"test", "-race"}, raced...)...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("go test -race %s: %v (after %s)\n%s", strings.Join(raced, " "), err, time.Since(start).Round(time.Second), out.String())
	}
	t.Logf("go test -race, %s:\n%s", time.Since(start).Round(time.Second), out.String())
}

// noteSources opens every file of the module that the raced packages'
// tests build from or read (Go files, testdata, go.mod and go.sum). The go
// command caches this test's result keyed by the files the test opened,
// so a change to any of them runs it again; without this, a changed
// internal/chain would leave a passing result cached.
func noteSources(t *testing.T, ctx context.Context, goTool string) {
	t.Helper()
	list := exec.CommandContext(ctx, goTool, append([]string{"list", "-deps", "-test",
		"-f", "{{if .Module}}{{if .Module.Main}}{{.Dir}}{{end}}{{end}}"}, raced...)...)
	list.Stderr = os.Stderr
	out, err := list.Output()
	if err != nil {
		t.Fatalf("go list the raced packages' sources: %v", err)
	}
	dirs := map[string]bool{} // looked up only
	for _, d := range strings.Fields(string(out)) {
		dirs[d] = true
	}
	if len(dirs) == 0 {
		t.Fatal("go list found no package of this module among the raced ones' dependencies")
	}
	root := ""
	for d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			root = d
		}
	}
	files := 0
	open := func(path string) {
		f, err := os.Open(path)
		if err != nil {
			t.Fatalf("note source: %v", err)
		}
		f.Close()
		files++
	}
	for d := range dirs {
		entries, err := os.ReadDir(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if !e.IsDir() && strings.HasSuffix(e.Name(), ".go") {
				open(filepath.Join(d, e.Name()))
			}
		}
		td := filepath.Join(d, "testdata")
		if _, err := os.Stat(td); err == nil {
			if err := filepath.WalkDir(td, func(p string, e os.DirEntry, err error) error {
				if err == nil && e.Type().IsRegular() {
					open(p)
				}
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if root == "" {
		// The module's root holds no package the raced ones use: find
		// go.mod from the module's directory of this test.
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		root = filepath.Dir(filepath.Dir(wd))
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		open(filepath.Join(root, f))
	}
	t.Logf("%d source files of %d packages noted for the test cache", files, len(dirs))
}
