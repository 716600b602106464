package dnsfront

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// reusePortSupported: Linux spreads the datagrams of one address over the
// sockets bound to it with SO_REUSEPORT, by a hash of the client's
// address and port, and reads and writes them in batches (recvmmsg,
// sendmmsg).
const reusePortSupported = true

// reusePort sets SO_REUSEPORT on a socket before it binds.
func reusePort(_, _ string, c syscall.RawConn) error {
	var serr error
	if err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	}); err != nil {
		return err
	}
	return serr
}
