package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cityid/cityid/client"
	"github.com/cityid/cityid/internal/testnode"
)

// A node run as a service: its passphrase is a person's, in a file
// outside the home (where systemd's LoadCredential= puts it, as
// $CREDENTIALS_DIRECTORY/passphrase), named by [keys] passphrase_file. The
// node opens its anchor key with it at start, and the command line signs
// with it; with no passphrase the start fails with the error that names
// the three ways (exit 2), and with a wrong one a command fails
// wrong_passphrase (exit 1).
func TestServiceStartWithPassphraseFile(t *testing.T) {
	bin := testnode.Build(t)
	n := testnode.New(t, bin)
	cred := filepath.Join(t.TempDir(), "passphrase")
	if err := os.WriteFile(cred, []byte("a passphrase the institute chose\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var res struct {
		Operator       string `json:"operator"`
		PassphraseFile string `json:"passphrase_file"`
	}
	cli(t, n, &res, "init", "--http", n.HTTP, "--rpc", n.RPC, "--p2p", n.P2P, "--dns", "off", "--passphrase-file", cred)
	if res.PassphraseFile != "" {
		t.Fatalf("init wrote a passphrase file %s beside a passphrase given", res.PassphraseFile)
	}
	if _, err := os.Stat(filepath.Join(n.Home, "config", "passphrase")); err == nil {
		t.Fatal("init wrote config/passphrase beside a passphrase given")
	}
	n.DNS = ""

	// Without any source, the node refuses to start, saying how.
	n.EditConfig("cityid.toml", "data", "anchor_key", `"operator"`)
	out, err := exec.Command(bin, "start", "--home", n.Home).CombinedOutput()
	if code := exitOf(t, err); code != exitUsage || !strings.Contains(string(out), "no_passphrase") || !strings.Contains(string(out), "passphrase_file") {
		t.Fatalf("start with no passphrase: exit %d\n%s", code, out)
	}

	n.EditConfig("cityid.toml", "keys", "passphrase_file", `"`+cred+`"`)
	n.Start()
	var op keyInfo
	cli(t, n, &op, "keys", "show", "operator")
	if op.PubKey != res.Operator || strings.Contains(n.Output(), "error") {
		t.Fatalf("keys show operator: %+v, init said %s\n%s", op, res.Operator, n.Output())
	}
	var ans client.TxAnswer
	cli(t, n, &ans, "tx", "apply-city", "--country", "156", "--city-number", "130100", "--name", "石家庄市", "--from", "operator")
	if ans.Result.Application != 1 {
		t.Fatalf("apply-city signed by the operator answered %+v", ans)
	}

	// A wrong passphrase: a stable code, exit 1, nothing sent.
	wrong := filepath.Join(t.TempDir(), "wrong")
	if err := os.WriteFile(wrong, []byte("not it\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := n.CLI("tx", "approve", "1", "--from", "operator", "--passphrase-file", wrong)
	if code != exitRefused || !strings.Contains(stderr, "wrong_passphrase") {
		t.Fatalf("a wrong passphrase: exit %d\n%s%s", code, stdout, stderr)
	}
	// The key file never shows its seed, and list needs no passphrase.
	var listed []keyInfo
	stdout, stderr, code = n.CLI("keys", "list", "--passphrase-file", wrong)
	if code != 0 || json.Unmarshal([]byte(stdout), &listed) != nil || len(listed) != 1 || listed[0].PubKey != res.Operator {
		t.Fatalf("keys list: exit %d\n%s%s", code, stdout, stderr)
	}
}

func exitOf(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	ee, ok := err.(*exec.ExitError)
	if !ok {
		t.Fatal(err)
	}
	return ee.ExitCode()
}
