package node

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cityid/cityid/internal/testnode/debian"
)

// TestNotifiesServiceManager: run with NOTIFY_SOCKET, as systemd runs a
// Type=notify service, the node says READY=1 once it is ready (never
// before it has committed state), and STOPPING=1 when it stops.
func TestNotifiesServiceManager(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	r, cl, _ := startNode(t, nil)
	read := func() string {
		t.Helper()
		buf := make([]byte, 256)
		_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("no notification: %v", err)
		}
		return string(buf[:n])
	}
	if got := read(); got != "READY=1" {
		t.Fatalf("first notification %q, want READY=1", got)
	}
	// Ready means what /readyz means.
	st, err := cl.Status(context.Background())
	if err != nil || st.Height < 1 {
		t.Fatalf("READY=1 before the node had committed state: %+v %v", st, err)
	}
	if err := r.Stop(); err != nil {
		t.Fatal(err)
	}
	if got := read(); got != "STOPPING=1" {
		t.Errorf("notification on stop %q, want STOPPING=1", got)
	}
}

// TestServiceUnit: packaging/systemd/cityid.service is a unit systemd
// accepts (systemd-analyze verify, with its ExecStart pointed at a real
// executable), runs the node as an unprivileged user, restarts it on failure,
// waits for its readiness and hardens it as the README says.
func TestServiceUnit(t *testing.T) {
	unit, err := os.ReadFile(filepath.Join("..", "..", "packaging", "systemd", "cityid.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Type=notify", "User=cityid", "Restart=on-failure", "ProtectSystem=strict", "NoNewPrivileges=yes",
		"ExecStart=/usr/bin/cityid start --home /var/lib/cityid --passphrase-file %d/passphrase",
		"LoadCredential=passphrase:/etc/cityid/passphrase", "ExecReload=/bin/kill -HUP $MAINPID", "ReadWritePaths=/var/lib/cityid"} {
		if !strings.Contains(string(unit), "\n"+want+"\n") {
			t.Errorf("the unit has no line %q", want)
		}
	}
	analyze := debian.Require(t, "systemd-analyze", "systemd")
	// verify checks that ExecStart names an executable file: this test's
	// own binary is one, and spares a build of cityid.
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "cityid.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(unit), "/usr/bin/cityid", bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	// Warnings name the unit file; a clean unit has none.
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "cityid.service") {
			t.Errorf("systemd-analyze verify: %s", line)
		}
	}
}
