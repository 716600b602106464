//go:build !(linux || darwin || freebsd)

package node

import "github.com/cityid/cityid/internal/metrics"

// homeDisk is nil where this package does not read file system sizes:
// the node then exports no disk metrics.
func homeDisk(string) func() (metrics.DiskStats, error) { return nil }
