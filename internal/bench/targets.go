package bench

import (
	"fmt"
	"runtime"
)

// The targets of the benchmark issue.
const (
	// TargetStateTxPerSec is target (a): signed register transactions the
	// state machine applies per second, every signature verified, on the
	// benchmark machine (2 cores).
	TargetStateTxPerSec = 20_000
	// TargetE2ERatio is target (b): CityID's committed transactions per
	// second as a fraction of kvstore's, on one node with the same settings.
	TargetE2ERatio = 0.5
)

// Machine describes where the figures were measured.
type Machine struct {
	NumCPU     int    `json:"num_cpu"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	GoVersion  string `json:"go_version"`
	OS         string `json:"os"`
	Arch       string `json:"arch"`
}

// ThisMachine describes the running machine.
func ThisMachine() Machine {
	return Machine{
		NumCPU: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH,
	}
}

func (m Machine) String() string {
	return fmt.Sprintf("%d CPUs, GOMAXPROCS %d, %s %s/%s", m.NumCPU, m.GOMAXPROCS, m.GoVersion, m.OS, m.Arch)
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }
