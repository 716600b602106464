package packaging

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cityid/cityid/internal/keyring"
	"github.com/cityid/cityid/internal/testnode"
	"github.com/cityid/cityid/internal/wire"
)

// TestDebianPackageUpgrade installs release 0.1.0 of the package, runs a
// node from it as the service does (the user cityid, the home
// /var/lib/cityid, the passphrase of /etc/cityid), then installs 0.2.0
// over it with dpkg: the node goes on running through the upgrade
// (prerm stops it only on remove), the package asks systemd to restart a
// running node (postinst: try-restart), /usr/bin/cityid is the new
// binary, and the node restarted on it keeps its chain, its blocks and
// its keys.
//
// The machine runs no systemd, so dpkg runs where it sees one: in a
// mount namespace of its own, /run/systemd/system on a tmpfs and a
// systemctl that writes down what it is asked. The test then does what
// systemd's try-restart does: stop the node and start the unit's command.
func TestDebianPackageUpgrade(t *testing.T) {
	oldDeb, newDeb := buildDeb(t, "0.1.0"), buildDeb(t, "0.2.0")
	if os.Geteuid() != 0 {
		// Installing changes the machine: only as root, where CI runs.
		t.Logf("not root: the packages were built, not installed (run the tests as root to install them)")
		return
	}
	installable(t)
	bin := t.TempDir()
	asked := filepath.Join(t.TempDir(), "systemctl.log")
	script := "#!/bin/sh\necho \"$*\" >>" + asked + "\n"
	if err := os.WriteFile(filepath.Join(bin, "systemctl"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	runDpkg := func(args ...string) {
		t.Helper()
		c := exec.Command("unshare", append([]string{"--mount", "--propagation", "private", "sh", "-c",
			`mount -t tmpfs -o size=64k cityid-test /run/systemd && mkdir /run/systemd/system && exec dpkg "$@"`, "sh"}, args...)...)
		c.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive", "PATH="+bin+":"+os.Getenv("PATH"))
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("dpkg %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	systemctl := func() string {
		b, err := os.ReadFile(asked)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		return string(b)
	}

	runDpkg("-i", oldDeb)
	if got := systemctl(); strings.Contains(got, "start") || strings.Contains(got, "stop") {
		t.Fatalf("a first install asked systemctl:\n%s\nwant no start or stop: the home is not initialised yet", got)
	}
	u, err := user.Lookup("cityid")
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	pass, err := keyring.ReadPassphraseFile("/etc/cityid/passphrase")
	if err != nil {
		t.Fatal(err)
	}
	// The unit's command, as the user cityid, on ports of the test's.
	httpAddr := testnode.FreeAddr(t)
	addrs := []string{"--http", httpAddr, "--rpc", testnode.FreeAddr(t), "--p2p", testnode.FreeAddr(t), "--dns", "off"}
	asCityID := func(args ...string) *exec.Cmd {
		c := exec.Command("/usr/bin/cityid", args...)
		c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
		c.Env = append(os.Environ(), "HOME=/var/lib/cityid")
		c.Dir = "/var/lib/cityid"
		c.Stdin = strings.NewReader(pass + "\n")
		return c
	}
	if out, err := asCityID(append([]string{"init", "--home", "/var/lib/cityid", "--passphrase-file", "-"}, addrs...)...).CombinedOutput(); err != nil {
		t.Fatalf("cityid init as the user cityid: %v\n%s", err, out)
	}
	start := func() (*exec.Cmd, *strings.Builder) {
		t.Helper()
		var out strings.Builder
		c := asCityID(append([]string{"start", "--home", "/var/lib/cityid", "--passphrase-file", "-"}, addrs...)...)
		c.Stdout, c.Stderr = &out, &out
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Process.Kill(); _ = c.Wait() })
		return c, &out
	}
	status := func(out *strings.Builder, minHeight int64) wire.StatusAnswer {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for {
			var st wire.StatusAnswer
			err := getJSON("http://"+httpAddr+"/v1/status", &st)
			if err == nil && st.Height >= minHeight {
				return st
			}
			if time.Now().After(deadline) {
				t.Fatalf("the node is not at height %d within a minute: %v %+v\n--- node output ---\n%s", minHeight, err, st.NodeStatus, out)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

	// A write, so that the state holds something of the old release's.
	tx := func(args ...string) {
		t.Helper()
		args = append(append([]string{"tx"}, args...), "--from", "operator", "--home", "/var/lib/cityid", "--passphrase-file", "-")
		if out, err := asCityID(args...).CombinedOutput(); err != nil {
			t.Fatalf("cityid %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	node, out := start()
	status(out, 1)
	tx("apply-city", "--country", "156", "--city-number", "130100", "--name", "City 130100")
	before := status(out, 2)
	if before.Build.Version != "0.1.0" {
		t.Fatalf("the node of release 0.1.0 says it is %q", before.Build.Version)
	}
	var block wire.BlockInfo
	if err := getJSON(fmt.Sprintf("http://%s/v1/blocks/%d", httpAddr, before.Height), &block); err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile("/var/lib/cityid/keys/operator.json")
	if err != nil {
		t.Fatal(err)
	}

	runDpkg("-i", newDeb)
	got := systemctl()
	if !strings.Contains(got, "try-restart cityid") || strings.Contains(got, "stop") || strings.Contains(got, "disable") {
		t.Fatalf("the upgrade asked systemctl:\n%s\nwant try-restart cityid, and no stop or disable", got)
	}
	if v, err := exec.Command("/usr/bin/cityid", "--version").CombinedOutput(); err != nil || !strings.HasPrefix(string(v), "cityid 0.2.0 ") {
		t.Fatalf("/usr/bin/cityid after the upgrade: %v %s", err, v)
	}
	// The running node was left running, on the old binary it started.
	if st := status(out, before.Height); st.Build.Version != "0.1.0" {
		t.Fatalf("during the upgrade the running node became %q", st.Build.Version)
	}

	// systemd's try-restart: stop (SIGTERM), then the unit's command.
	if err := node.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- node.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the old node's stop: %v\n%s", err, out)
		}
	case <-time.After(time.Minute):
		t.Fatalf("the old node did not stop within a minute\n%s", out)
	}
	_, out = start()
	after := status(out, before.Height)
	if after.Build.Version != "0.2.0" || after.ChainID != before.ChainID {
		t.Fatalf("after the restart: version %q chain %q, want 0.2.0 on %q", after.Build.Version, after.ChainID, before.ChainID)
	}
	var app wire.ApplicationAnswer
	if err := getJSON("http://"+httpAddr+"/v1/applications/1", &app); err != nil || app.Application.Name != "City 130100" {
		t.Fatalf("the old release's application after the upgrade: %+v (%v)", app, err)
	}
	tx("approve", "1") // the new binary writes on the old state
	status(out, before.Height+1)
	var again wire.BlockInfo
	if err := getJSON(fmt.Sprintf("http://%s/v1/blocks/%d", httpAddr, before.Height), &again); err != nil || again.Hash != block.Hash || again.AppHash != block.AppHash {
		t.Fatalf("block %d after the upgrade: %+v (%v), before %+v", before.Height, again, err, block)
	}
	if now, err := os.ReadFile("/var/lib/cityid/keys/operator.json"); err != nil || string(now) != string(key) {
		t.Fatalf("the operator key file changed in the upgrade (%v)", err)
	}
}

// getJSON decodes the answer of a GET of url, which must be 200.
func getJSON(url string, out any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
