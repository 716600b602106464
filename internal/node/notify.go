package node

import (
	"context"
	"fmt"
	"net"
	"os"
	"time"
)

// Service managers: a node run by systemd with Type=notify tells it when it
// is ready (it has committed state and is not catching up, as /readyz says)
// and when it stops, over the socket systemd names in NOTIFY_SOCKET
// (sd_notify(3)); elsewhere nothing is sent.

// notify sends one sd_notify state ("READY=1", "STOPPING=1") when a
// service manager asked for them.
func notify(state string) error {
	addr := os.Getenv("NOTIFY_SOCKET")
	if addr == "" {
		return nil
	}
	if addr[0] == '@' {
		addr = "\x00" + addr[1:] // an abstract socket
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("notify the service manager: %w", err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(state)); err != nil {
		return fmt.Errorf("notify the service manager: %w", err)
	}
	return nil
}

// notifyReady tells the service manager READY=1 once the node is ready,
// polling until then or until ctx ends.
func (r *Running) notifyReady(ctx context.Context) {
	if os.Getenv("NOTIFY_SOCKET") == "" {
		return
	}
	for {
		if r.Chain.Store().Latest() != nil {
			if st, err := r.Chain.Status(ctx); err == nil && !st.CatchingUp {
				if err := notify("READY=1"); err != nil {
					r.log.Warn("service manager", "err", err)
				}
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}
