//go:build linux || darwin || freebsd

package node

import (
	"fmt"
	"syscall"

	"github.com/cityid/cityid/internal/metrics"
)

// homeDisk reads the room on the file system that holds home, for the
// disk metrics: the blocks an unprivileged user may still take (what the
// node's own user has), and the whole size.
func homeDisk(home string) func() (metrics.DiskStats, error) {
	return func() (metrics.DiskStats, error) {
		var st syscall.Statfs_t
		if err := syscall.Statfs(home, &st); err != nil {
			return metrics.DiskStats{}, fmt.Errorf("statfs %s: %w", home, err)
		}
		bsize := uint64(st.Bsize)
		return metrics.DiskStats{Free: uint64(st.Bavail) * bsize, Size: uint64(st.Blocks) * bsize}, nil
	}
}
