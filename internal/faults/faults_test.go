// Package faults runs CityID networks of real node processes on loopback
// and breaks them: a validator killed with SIGKILL and restarted, a
// validator cut off from its peers and healed, half the voting power
// stopped, full nodes joining by block sync and by state sync (one of them
// killed while it restores), a byzantine validator proposing refused
// transactions, duplicates and replays. After each fault it checks what
// DESIGN section 6 promises: every write a client was told is committed
// is on every node, and every node has the same blocks and app hashes.
//
// TestFourMachines runs the multi-machine path of docs/operations.md with
// each node in a network namespace of its own (testnode.Machines; root
// only, as CI runs).
//
// The package holds tests only. Every wait has a deadline, every process,
// relay and namespace goes with its test, and nothing listens beyond
// 127.0.0.1 but on the private bridge of TestFourMachines.
// Set CITYID_FAULTS_LOGS to a folder to keep every node's full log.
package faults

import (
	"fmt"
	"os"
	"testing"

	"github.com/cityid/cityid/internal/testnode"
)

// bin is the cityid binary, built once by TestMain for every test here.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cityid-faults-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	bin, err = testnode.BuildIn(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
