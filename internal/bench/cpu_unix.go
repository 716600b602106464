//go:build unix

package bench

import (
	"syscall"
	"time"
)

// processCPU is the CPU time the process has used, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// flushDisk has the kernel write back dirty pages now: a state just built
// is hundreds of MB of them, and their writeback would otherwise compete
// with the first measurements for the machine's cores.
func flushDisk() { syscall.Sync() }
