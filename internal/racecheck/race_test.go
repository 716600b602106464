//go:build unix

package racecheck

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
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
	"github.com/cityid/cityid/internal/accesslog",
	"github.com/cityid/cityid/internal/api",
	"github.com/cityid/cityid/internal/dnsfront",
	"github.com/cityid/cityid/client",
	"github.com/cityid/cityid/verify",
}

// raceMargin is kept of the test binary's own deadline (go test's
// -timeout, 10 minutes unless set), so that this test fails with the
// race run's output rather than the binary panicking first; waitDelay
// bounds the wait for the race run's children once it is killed.
const (
	raceMargin = 30 * time.Second
	waitDelay  = 10 * time.Second
)

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
	ctx := context.Background()
	if deadline, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-raceMargin))
		defer cancel()
	}
	noteModule(t)

	cmd := exec.CommandContext(ctx, goTool, append([]string{"test", "-race"}, raced...)...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	// Past the deadline the whole group goes, the race-built test
	// binaries with the go command, not the go command alone.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = waitDelay
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("go test -race %s: %v (after %s)\n%s", strings.Join(raced, " "), err, time.Since(start).Round(time.Second), out.String())
	}
	t.Logf("go test -race, %s:\n%s", time.Since(start).Round(time.Second), out.String())
}

// noteModule opens every file of the module (the .git folder aside),
// for the go command's test cache. It keys this test's result by this
// package and the files the test opens, not by the raced packages'
// sources, embedded files and the files their tests read: without this, a
// change there would leave a pass cached. With it, a change anywhere in
// the module runs this test again, and the go command's cache of the
// race run's own results (keyed by all of those) makes that a second when
// no raced package changed. Files outside the module are not counted by
// the cache, which is why a temporary file cannot do this.
func noteModule(t *testing.T) {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(filepath.Dir(wd)) // internal/racecheck
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("the module's root is not two folders up from %s: %v", wd, err)
	}
	files := 0
	err = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && d.Name() == ".git":
			return filepath.SkipDir
		case !d.Type().IsRegular():
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		files++
		return f.Close()
	})
	if err != nil {
		t.Fatalf("note the module's files: %v", err)
	}
	t.Logf("%d files of the module noted for the test cache", files)
}
