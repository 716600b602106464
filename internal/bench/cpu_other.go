//go:build !unix

package bench

import "time"

// processCPU is not measured here: the report shows no CPU use.
func processCPU() time.Duration { return 0 }

// flushDisk is a no-op here.
func flushDisk() {}
