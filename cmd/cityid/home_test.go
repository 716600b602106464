package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cityid/cityid/client"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/testnode"
)

// refusalTimeout bounds how long a refused start may take: it must fail
// at once, not after it tried the stores or the ports.
const refusalTimeout = 10 * time.Second

// A running node holds its home: `reset` and a second `start` on it are
// refused, naming the node's process, and the node and its data go on.
// The home is given back when the node stops, and when it is killed.
func TestHomeInUse(t *testing.T) {
	bin := testnode.Build(t)
	n := testnode.New(t, bin)
	n.Start()
	pid := n.PID()
	inUse := fmt.Sprintf("%s is in use by process %d", n.Home, pid)

	// Something in the ledger to find again.
	var ans client.TxAnswer
	cli(t, n, nil, "keys", "add", "alice")
	cli(t, n, &ans, "tx", "apply-city", "--country", "156", "--city-number", "130100", "--name", "石家庄市", "--from", "alice")
	if ans.Result.Application != 1 {
		t.Fatalf("apply-city answered %+v", ans)
	}
	stateDB := filepath.Join(n.Home, "data", "cityid", "state.db")
	if _, err := os.Stat(stateDB); err != nil {
		t.Fatalf("the running node has no state store: %v", err)
	}

	_, stderr, code := n.CLI("reset", "--yes")
	if code != exitRefused || !strings.Contains(stderr, inUse) {
		t.Fatalf("reset of a running node's home: exit %d, stderr %q; want exit %d saying %q", code, stderr, exitRefused, inUse)
	}
	if _, err := os.Stat(stateDB); err != nil {
		t.Fatalf("the refused reset removed the state store: %v", err)
	}

	// A second node on the same home, on ports of its own.
	ctx, cancel := context.WithTimeout(context.Background(), refusalTimeout)
	defer cancel()
	second := exec.CommandContext(ctx, bin, "start", "--home", n.Home, "--http", testnode.FreeAddr(t),
		"--rpc", testnode.FreeAddr(t), "--p2p", testnode.FreeAddr(t), "--dns", "off")
	var out bytes.Buffer
	second.Stdout, second.Stderr = &out, &out
	err := second.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitRefused || !strings.Contains(out.String(), inUse) ||
		strings.Contains(out.String(), "reset") {
		t.Fatalf("second start on the home: %v (within %s), output:\n%s\nwant exit %d saying %q, and no advice to reset",
			err, refusalTimeout, out.String(), exitRefused, inUse)
	}

	// Neither refusal touched the node: it still answers from its ledger.
	var app struct {
		Number uint64 `json:"number"`
		Status string `json:"status"`
	}
	cli(t, n, &app, "query", "application", "1")
	if app.Status != registry.AppPending {
		t.Fatalf("application 1 after the refusals: %+v", app)
	}

	// A killed node leaves no lock behind: the kernel drops it with the
	// process, so the node starts again on its data.
	n.Kill()
	n.Start()
	cli(t, n, &app, "query", "application", "1")
	if app.Status != registry.AppPending {
		t.Fatalf("application 1 after a restart: %+v", app)
	}

	// A stopped node gives its home back: reset works.
	n.Stop()
	if _, stderr, code := n.CLI("reset", "--yes"); code != exitOK {
		t.Fatalf("reset of a stopped node's home: exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(stateDB); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("reset left the state store: %v", err)
	}
}

// `keys add` before the first `start` leaves a home that starts: the
// network is made around the keys, which stay usable; an `operator` key
// the user added becomes the registry authority.
func TestStartOnAHomeWithKeys(t *testing.T) {
	bin := testnode.Build(t)
	for _, withOperator := range []bool{false, true} {
		t.Run(fmt.Sprintf("operator added %v", withOperator), func(t *testing.T) {
			n := testnode.New(t, bin)
			// Keys before the first start are under a passphrase of the
			// user's, which start then needs (no terminal here: a file).
			n.Flags = []string{"--passphrase-file", keyringPass(t)}
			var alice, op keyInfo
			cli(t, n, &alice, "keys", "add", "alice")
			if withOperator {
				cli(t, n, &op, "keys", "add", "operator")
			}
			n.Start()
			if !strings.Contains(n.Output(), "Initialised a local network in "+n.Home) {
				t.Fatalf("start did not initialise the home:\n%s", n.Output())
			}
			var shown keyInfo
			cli(t, n, &shown, "keys", "show", "alice")
			if shown.PubKey != alice.PubKey {
				t.Fatalf("alice after start: %+v, was %+v", shown, alice)
			}
			cli(t, n, &shown, "keys", "show", "operator")
			if withOperator != (shown.PubKey == op.PubKey) {
				t.Fatalf("operator after start: %s; added before: %q", shown.PubKey, op.PubKey)
			}
			var ans client.TxAnswer
			cli(t, n, &ans, "tx", "apply-city", "--country", "156", "--city-number", "130100", "--name", "石家庄市", "--from", "alice")
			cli(t, n, &ans, "tx", "approve", "1", "--from", "operator")
			if ans.Result.CityCode != "1561301001" {
				t.Fatalf("approve by the operator key answered %+v", ans)
			}
		})
	}
}
