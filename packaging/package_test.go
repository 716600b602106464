// Package packaging holds what installs cityid on a machine: the systemd
// unit (systemd/, checked by internal/node's TestServiceUnit) and the
// Debian package built by nfpm (nfpm.yaml, deb/), checked here.
package packaging

import (
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/cityid/cityid/internal/keyring"
	"github.com/cityid/cityid/internal/node"
	"github.com/cityid/cityid/internal/testnode/debian"
)

// nfpmVersion is the packager's version, pinned: `go run` fetches and
// builds it from the module proxy.
const nfpmVersion = "v2.45.2"

// TestDebianPackage builds the .deb with nfpm, checks what it holds and,
// as root (as CI runs), installs it with dpkg: the user cityid, its home
// /var/lib/cityid (0700), the binary on the PATH, the unit; then removes
// and purges it: no binary left, the home kept.
func TestDebianPackage(t *testing.T) {
	deb := buildDeb(t, "0.1.0")
	out, err := exec.Command("dpkg-deb", "--contents", deb).CombinedOutput()
	if err != nil {
		t.Fatalf("dpkg-deb --contents: %v\n%s", err, out)
	}
	for _, want := range []string{"./usr/bin/cityid", "./lib/systemd/system/cityid.service", "./usr/share/doc/cityid/README.md",
		// what the README sends an operator to, beside it
		"./usr/share/doc/cityid/docs/keys.md", "./usr/share/doc/cityid/docs/operations.md", "./usr/share/doc/cityid/packaging/monitoring/alerts.yml"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the package does not hold %s:\n%s", want, out)
		}
	}
	info, err := exec.Command("dpkg-deb", "--field", deb, "Package", "Version", "Depends").CombinedOutput()
	if err != nil || !strings.Contains(string(info), "Package: cityid") || !strings.Contains(string(info), "Depends: adduser") {
		t.Errorf("dpkg-deb --field: %v\n%s", err, info)
	}
	if os.Geteuid() != 0 {
		// Installing changes the machine: only as root, where CI runs.
		t.Logf("not root: the package was built and read, not installed (run the tests as root to install it)")
		return
	}
	dpkg := installable(t)
	dpkg("-i", deb)
	u, err := user.Lookup("cityid")
	if err != nil {
		t.Fatalf("no user cityid after the install: %v", err)
	}
	if u.HomeDir != "/var/lib/cityid" {
		t.Errorf("cityid's home is %s", u.HomeDir)
	}
	st, err := os.Stat("/var/lib/cityid")
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("/var/lib/cityid: %v %v, want a folder of mode 0700", st, err)
	}
	if out, err := exec.Command("/usr/bin/cityid", "version").CombinedOutput(); err != nil || !strings.Contains(string(out), "cometbft") {
		t.Errorf("/usr/bin/cityid version: %v\n%s", err, out)
	}
	if _, err := os.Stat("/lib/systemd/system/cityid.service"); err != nil {
		t.Error(err)
	}
	if st, err := os.Lstat("/usr/bin/cityid"); err != nil || !st.Mode().IsRegular() || st.Mode().Perm() != 0o755 {
		t.Errorf("/usr/bin/cityid: %v %v, want a file of mode 0755", st, err)
	}
	// The keyring's passphrase, root's alone, of the form cityid generates.
	if st, err := os.Stat("/etc/cityid/passphrase"); err != nil || st.Mode().Perm() != 0o600 || st.Sys().(*syscall.Stat_t).Uid != 0 {
		t.Errorf("/etc/cityid/passphrase: %v %v, want root's, mode 0600", st, err)
	}
	pass, err := keyring.ReadPassphraseFile("/etc/cityid/passphrase")
	if err != nil || !keyring.IsGenerated(pass) {
		t.Errorf("/etc/cityid/passphrase holds %d characters, not a generated passphrase: %v", len(pass), err)
	}
	// The home is the service user's: it can initialise a node there,
	// its keys under that passphrase (given on a pipe, as the README says).
	init := exec.Command("runuser", "-u", "cityid", "--", "/usr/bin/cityid", "init", "--home", "/var/lib/cityid", "--passphrase-file", "-")
	init.Stdin = strings.NewReader(pass + "\n")
	if out, err := init.CombinedOutput(); err != nil {
		t.Errorf("cityid init as the user cityid: %v\n%s", err, out)
	}
	if _, err := os.Stat("/var/lib/cityid/config/passphrase"); err == nil {
		t.Error("init wrote a passphrase into the home beside the one given")
	}
	kr, err := node.OpenKeyring("/var/lib/cityid", node.KeyringOptions{PassphraseFile: "/etc/cityid/passphrase"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kr.Load(node.OperatorKey); err != nil {
		t.Errorf("the operator key does not open with /etc/cityid/passphrase: %v", err)
	}
	dpkg("--purge", "cityid")
	if _, err := os.Stat("/usr/bin/cityid"); err == nil {
		t.Error("/usr/bin/cityid is still there after the purge")
	}
	if _, err := user.Lookup("cityid"); err == nil {
		t.Error("the user cityid is still there after the purge")
	}
	if _, err := os.Stat("/var/lib/cityid/config/genesis.json"); err != nil {
		t.Errorf("the purge removed the node's home: %v", err)
	}
}

// buildDeb builds cityid as release version (-X buildinfo.release, as a
// release build sets it) and packages it with nfpm: the .deb's path.
func buildDeb(t *testing.T, version string) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	// nfpm reads the files its config names relative to where it runs: a
	// folder with the repository's and the binary as dist/cityid, as a
	// release build leaves it.
	work := t.TempDir()
	for _, name := range []string{"packaging", "README.md", "docs"} {
		if err := os.Symlink(filepath.Join(root, name), filepath.Join(work, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(work, "dist"), 0o755); err != nil {
		t.Fatal(err)
	}
	// The binary is built into dist/, not linked there: nfpm would
	// package a link as a link.
	build := exec.Command("go", "build", "-ldflags", "-X github.com/cityid/cityid/internal/buildinfo.release="+version,
		"-o", filepath.Join(work, "dist", "cityid"), "./cmd/cityid")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/cityid: %v\n%s", err, out)
	}
	deb := filepath.Join(work, "dist", "cityid.deb")
	cmd := exec.Command("go", "run", "github.com/goreleaser/nfpm/v2/cmd/nfpm@"+nfpmVersion,
		"package", "--config", "packaging/nfpm.yaml", "--packager", "deb", "--target", deb)
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "CITYID_VERSION="+version, "CITYID_ARCH="+runtime.GOARCH, "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nfpm: %v\n%s", err, out)
	}
	return deb
}

// installable checks that the machine has no cityid of its own for the
// test to replace, arranges for the test's package, home and passphrase
// to be removed at its end, and returns dpkg.
func installable(t *testing.T) func(args ...string) {
	t.Helper()
	if _, err := user.Lookup("cityid"); err == nil {
		t.Fatal("a user cityid exists already: this test installs and purges the package, which would remove it")
	}
	if _, err := os.Stat("/usr/bin/cityid"); err == nil {
		t.Fatal("/usr/bin/cityid exists already: this test would replace it")
	}
	t.Cleanup(func() { _ = exec.Command("dpkg", "--purge", "cityid").Run(); _ = os.RemoveAll("/var/lib/cityid") })
	// The passphrase outlives a purge (the home's keys need it): the test
	// removes what its install made.
	if _, err := os.Stat("/etc/cityid"); os.IsNotExist(err) {
		t.Cleanup(func() { _ = os.RemoveAll("/etc/cityid") })
	}
	// The package depends on adduser, which a minimal image may lack.
	debian.Require(t, "adduser", "adduser")
	return func(args ...string) {
		t.Helper()
		c := exec.Command("dpkg", args...)
		c.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("dpkg %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
