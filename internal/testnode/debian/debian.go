// Package debian gives tests the programs of Debian packages: a test that
// needs one (systemd-analyze, promtool, adduser) calls Require, which
// installs the package with apt-get when the program is missing and the
// test runs as root, as CI does, and fails the test otherwise. A missing
// tool is never a skip: a check that silently does not run proves nothing.
// Nothing here is used by the program itself.
package debian

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"
)

// installTimeout bounds apt-get update and install together: a slow
// mirror should fail the test, not hang the suite.
const installTimeout = 10 * time.Minute

// Require returns the path of program, installing the Debian package pkg
// (with apt-get, without recommends) when program is not on the PATH. It
// fails the test when the program is missing and the test is not root,
// or when the install does not bring it.
func Require(t testing.TB, program, pkg string) string {
	t.Helper()
	if p, err := exec.LookPath(program); err == nil {
		return p
	}
	if os.Geteuid() != 0 {
		t.Fatalf("this test needs %s: sudo apt-get install -y %s (as root the test installs it)", program, pkg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), installTimeout)
	defer cancel()
	install := func() ([]byte, error) {
		cmd := exec.CommandContext(ctx, "apt-get", "install", "-y", "--no-install-recommends", pkg)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		return cmd.CombinedOutput()
	}
	// The package lists of a fresh image may be missing or stale: update
	// them only when the install fails, sparing a network round trip
	// otherwise.
	if out, err := install(); err != nil {
		if upd, uerr := exec.CommandContext(ctx, "apt-get", "update").CombinedOutput(); uerr != nil {
			t.Fatalf("apt-get update (to install %s): %v\n%s\n(the install before it: %v\n%s)", pkg, uerr, upd, err, out)
		}
		if out, err = install(); err != nil {
			t.Fatalf("apt-get install %s: %v\n%s", pkg, err, out)
		}
	}
	p, err := exec.LookPath(program)
	if err != nil {
		t.Fatalf("apt-get installed %s, but %s is not on the PATH", pkg, program)
	}
	return p
}
