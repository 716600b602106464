package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cityid/cityid/internal/node"
	"github.com/cityid/cityid/internal/testnode"
)

// genesis member prints a member file as JSON whatever --json says, and
// genesis collect refuses, as a usage error (exit 2), a call without the
// chain ID, a genesis time or member files that every institute must give
// alike. The whole path across machines is TestFourMachines
// (internal/faults).
func TestGenesisCommands(t *testing.T) {
	run := func(args ...string) (string, error) {
		root := newRoot()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetErr(io.Discard)
		root.SetArgs(args)
		err := root.Execute()
		return out.String(), err
	}
	home := filepath.Join(t.TempDir(), "a")
	if _, err := run("init", "--home", home); err != nil {
		t.Fatal(err)
	}
	out, err := run("genesis", "member", "--home", home, "--chain-id", "cityid-pilot", "--address", "203.0.113.10:26656")
	if err != nil {
		t.Fatal(err)
	}
	// A mistyped --validator-key is the command line's mistake.
	if _, err := run("genesis", "member", "--home", home, "--chain-id", "cityid-pilot", "--validator-key", "17153f5da"); exitCode(err) != exitUsage || !strings.Contains(fmt.Sprint(err), "--validator-key") {
		t.Errorf("genesis member --validator-key 17153f5da: exit %d (%v), want %d naming the flag", exitCode(err), err, exitUsage)
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("genesis member printed no JSON object: %v\n%s", err, out)
	}
	if len(m["node_id"]) != 40 || len(m["node_key"]) != 64 || m["address"] != "203.0.113.10:26656" || len(m["validator_key"]) != 64 || len(m["operator"]) != 64 ||
		len(m["signature"]) != 128 || len(m["node_signature"]) != 128 {
		t.Fatalf("member file %s", out)
	}
	file := filepath.Join(t.TempDir(), "a.json")
	if err := os.WriteFile(file, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		says string // in the error
	}{
		{"no_chain_id", []string{"--genesis-time", "2027-01-04T08:00:00Z", file}, "--chain-id"},
		{"no_time", []string{"--chain-id", "cityid-pilot", file}, "needs --genesis-time"},
		{"bad_time", []string{"--chain-id", "cityid-pilot", "--genesis-time", "tomorrow", file}, "not an RFC 3339 time"},
		{"no_members", []string{"--chain-id", "cityid-pilot", "--genesis-time", "2027-01-04T08:00:00Z"}, "member files"},
	} {
		_, err := run(append([]string{"genesis", "collect", "--home", home}, tc.args...)...)
		if code := exitCode(err); code != exitUsage || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: exit %d (%v), want %d saying %q", tc.name, code, err, exitUsage, tc.says)
		}
	}
	// A member file changed on the way, or with a misspelt field, is
	// refused, naming the file.
	forged := filepath.Join(t.TempDir(), "forged.json")
	if err := os.WriteFile(forged, []byte(strings.Replace(out, "203.0.113.10:26656", "198.51.100.7:26656", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	misspelt := filepath.Join(t.TempDir(), "misspelt.json")
	if err := os.WriteFile(misspelt, []byte(strings.Replace(out, `"operator"`, `"operater"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	for f, says := range map[string]string{forged: "the signature is not the validator key's", misspelt: "operater"} {
		_, err := run("genesis", "collect", "--home", home, "--chain-id", "cityid-pilot", "--genesis-time", "2027-01-04T08:00:00Z", f)
		if err == nil || !strings.Contains(err.Error(), "member file "+f) || !strings.Contains(err.Error(), says) {
			t.Errorf("collect of %s: %v, want a refusal naming the file and saying %q", f, err, says)
		}
	}
	out, err = run("genesis", "collect", "--home", home, "--chain-id", "cityid-pilot", "--genesis-time", "2027-01-04T08:00:00Z", file, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		SHA256    string `json:"genesis_sha256"`
		Validator bool   `json:"validator"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.SHA256) != 64 || !res.Validator {
		t.Fatalf("genesis collect printed %s (%v)", out, err)
	}
}

// genesis member on a home whose validator key is in a remote signer
// (priv_validator_laddr) waits for `cityid signer` and has it sign; with
// no signer, it fails within --signer-wait, naming the command to run.
func TestGenesisMemberRemoteSigner(t *testing.T) {
	run := func(args ...string) (string, string, error) {
		root := newRoot()
		var out, errOut bytes.Buffer
		root.SetOut(&out)
		root.SetErr(&errOut)
		root.SetArgs(args)
		err := root.Execute()
		return out.String(), errOut.String(), err
	}
	home := filepath.Join(t.TempDir(), "a")
	if _, _, err := run("init", "--home", home); err != nil {
		t.Fatal(err)
	}
	signerDir := t.TempDir()
	keyFile, stateFile := filepath.Join(signerDir, "key.json"), filepath.Join(signerDir, "state.json")
	for from, to := range map[string]string{filepath.Join(home, "config", "priv_validator_key.json"): keyFile, filepath.Join(home, "data", "priv_validator_state.json"): stateFile} {
		if err := os.Rename(from, to); err != nil {
			t.Fatal(err)
		}
	}
	laddr := "tcp://" + testnode.FreeAddr(t)
	cfg := filepath.Join(home, "config", "config.toml")
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`priv_validator_laddr = ""`)) {
		t.Fatalf("%s has no empty priv_validator_laddr", cfg)
	}
	if err := os.WriteFile(cfg, bytes.Replace(b, []byte(`priv_validator_laddr = ""`), []byte(`priv_validator_laddr = "`+laddr+`"`), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	member := []string{"genesis", "member", "--home", home, "--chain-id", "cityid-pilot", "--address", "203.0.113.10:26656"}
	if _, _, err := run(append(member, "--signer-wait", "300ms")...); err == nil || !strings.Contains(err.Error(), "cityid signer --chain-id cityid-pilot --node "+laddr) {
		t.Fatalf("genesis member with no signer: %v, want an error naming the signer to start", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- node.RunSigner(ctx, node.SignerOptions{KeyFile: keyFile, StateFile: stateFile, ChainID: "cityid-pilot", Node: laddr}, slog.New(slog.DiscardHandler))
	}()
	out, stderr, err := run(append(member, "--signer-wait", "20s")...)
	cancel()
	if serr := <-done; serr != nil {
		t.Errorf("signer: %v", serr)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, "waiting up to 20s for the remote signer to connect to "+laddr) ||
		!strings.Contains(stderr, "cityid signer --chain-id cityid-pilot --node "+laddr+" --key ") || !strings.Contains(stderr, " --state ") {
		t.Errorf("genesis member said %q, want that it waits for the signer, and the whole command to run", stderr)
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	// The signer that connected, for the operator to compare with what
	// the signer logged at its start.
	if !strings.Contains(stderr, "signing for the validator address=") || !strings.Contains(stderr, " pub_key="+m["validator_key"]+":") {
		t.Errorf("genesis member said %q, want the address and public key of the signer that connected", stderr)
	}
	file := filepath.Join(t.TempDir(), "a.json")
	if err := os.WriteFile(file, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := run("genesis", "collect", "--home", home, "--chain-id", "cityid-pilot", "--genesis-time", "2027-01-04T08:00:00Z", file); err != nil {
		t.Fatalf("collect of the member file the remote signer signed: %v", err)
	}
}
