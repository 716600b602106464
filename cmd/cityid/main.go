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
)

// Exit codes a script can rely on.
const (
	exitOK          = 0
	exitRefused     = 1 // bad input, or the node refused the request
	exitUsage       = 2 // unknown command or flag
	exitUnavailable = 3 // no node answered, or it did not commit in time
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRoot()
	err := root.ExecuteContext(ctx)
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "error:", err)
	os.Exit(exitCode(err))
}

// usageError marks a mistake in how the command was called.
type usageError struct{ error }

// unavailableError marks a node that could not be reached.
type unavailableError struct{ error }

func exitCode(err error) int {
	var u usageError
	var n unavailableError
	switch {
	case errors.As(err, &u):
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
