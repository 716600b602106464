// Command cityid runs a CityID node and talks to one: it initialises and
// starts nodes, keeps signing keys, parses identifiers, signs and submits
// transactions, and resolves identifiers. It parses flags, calls a package
// and prints; the logic lives in the packages.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/cityid/cityid/client"
	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/internal/keyring"
)

// Exit codes a script can rely on.
const (
	exitOK          = 0
	exitRefused     = 1 // bad input, or the node refused the request
	exitUsage       = 2 // unknown command or flag, a missing argument, an identifier that does not parse
	exitUnavailable = 3 // no node answered, or it did not commit in time
	exitUpgrade     = 4 // start: the node stopped at, or refuses, an upgrade this binary has no handler for (docs/upgrade.md)
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRoot()
	err := root.ExecuteContext(ctx)
	if err == nil {
		return
	}
	var r reportedError
	if !errors.As(err, &r) {
		fmt.Fprintln(os.Stderr, "error:", err)
	}
	os.Exit(exitCode(err))
}

// usageError marks a mistake in how the command was called.
type usageError struct{ error }

// reportedError is an outcome the command has already said in its own
// words (resolve --verify of an identifier that is not registered): main
// prints nothing more, and exits with err's status.
type reportedError struct{ error }

// unavailableError marks a node that could not be reached.
type unavailableError struct{ error }

func exitCode(err error) int {
	var u usageError
	var n unavailableError
	var bad *code.Error
	var st startError
	switch {
	case upgradeStop(err):
		// Before startError: restarting this binary cannot help, so a
		// service manager must not try (RestartPreventExitStatus).
		return exitUpgrade
	case errors.As(err, &u):
		return exitUsage
	case errors.Is(err, keyring.ErrNoPassphrase):
		// No passphrase given is how the command was run: the message
		// names the three ways to give one.
		return exitUsage
	case errors.As(err, &st):
		if errors.Is(st.error, keyring.ErrNoPassphrase) {
			return exitUsage // as below: how the node was started
		}
		return exitRefused
	case errors.As(err, &bad), client.Code(err) == client.CodeInvalidID:
		// An identifier that does not parse is a mistake in how the
		// command was called, whether the command line or the node
		// found it.
		return exitUsage
	case errors.As(err, &n):
		return exitUnavailable
	case client.Code(err) == client.CodeTimeout:
		return exitUnavailable
	}
	var ce *client.Error
	if !errors.As(err, &ce) && isNetErr(err) {
		return exitUnavailable
	}
	return exitRefused
}
