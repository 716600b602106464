package bench

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The DNS baselines on a small state: Knot and NSD, where installed, serve
// the node's own records (RunDNSBaselines checks a sample against the
// node's answers) and are measured beside it; where not, the report says
// which is missing and why. Everything they started stops and is removed.
func TestRunDNSBaselines(t *testing.T) {
	states := testStates(t)
	b, err := states.Get(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	f, err := InProcess(context.Background(), ServeSpec{Store: b.Dir})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Stop()
	dir := states.Directory()
	names := make([]string, 300)
	for i := range names {
		names[i] = dir.Parsed(i).DNSName(benchZone)
	}
	for _, own := range []bool{false, true} {
		rep, err := RunDNSBaselines(context.Background(), f.DNS, "", names, DNSBaselineOptions{Duration: time.Second, Rounds: 1, OwnLoad: own})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s", strings.Join(rep.Lines(), "\n"))
		want := map[string]bool{"node (dnsfront)": true}
		for _, p := range []struct{ program, name string }{{"knotd", "Knot DNS"}, {"nsd", "NSD"}} {
			if _, err := exec.LookPath(p.program); err == nil {
				want[p.name] = true
			} else if !strings.Contains(strings.Join(rep.Missing, "\n"), p.name+": "+p.program+" not installed") {
				t.Errorf("%s is not installed, and the report does not say so: %q", p.name, rep.Missing)
			}
		}
		if len(rep.Servers) != len(want) {
			t.Fatalf("%d servers measured, want %d: %+v", len(rep.Servers), len(want), rep.Servers)
		}
		for _, s := range rep.Servers {
			if !want[s.Name] || s.Result.PerSec <= 0 || s.Result.Requests == 0 || s.Ratio <= 0 || s.AnswerBytes < 100 {
				t.Errorf("%+v", s)
			}
		}
		if want["Knot DNS"] != (rep.KnotRatio > 0) {
			t.Errorf("Knot measured %v, ratio %.2f", want["Knot DNS"], rep.KnotRatio)
		}
	}
}
