//go:build !unix

package fsx

// Lock is a no-op where flock is not: commands run at once are not
// serialised there.
func Lock(string) (func() error, error) { return func() error { return nil }, nil }
