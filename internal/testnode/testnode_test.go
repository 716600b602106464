package testnode

import (
	"strings"
	"testing"
	"time"
)

// StartExiting runs the node Start would, Flags included: a flag only
// Flags gives reaches cityid, which refuses an unknown one (exit 2,
// naming it) instead of starting a node that never exits.
func TestStartExitingGivesFlags(t *testing.T) {
	n := New(t, Build(t))
	n.Flags = []string{"--no-such-flag"}
	code, out := n.StartExiting(30 * time.Second)
	if code != 2 || !strings.Contains(out, "no-such-flag") {
		t.Fatalf("start with Flags %q: exit %d, want 2 naming the flag\n%s", n.Flags, code, out)
	}
}
