//go:build !linux

package dnsfront

import "syscall"

// reusePortSupported: elsewhere, UDP is served by miekg/dns's server, as
// on a wildcard address (udp.go).
const reusePortSupported = false

func reusePort(_, _ string, _ syscall.RawConn) error { return nil }
