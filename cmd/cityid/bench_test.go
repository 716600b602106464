package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// `cityid bench` tells a usage mistake (exit 2) from a failed benchmark,
// before it measures anything.
func TestBenchUsage(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "--only", "state,nope"},
		{"bench", "--procs", "1,0"},
		{"bench", "--procs", "many"},
		{"bench", "--only", "state", "--txs", "0"},
		{"bench", "--only", "resolve", "--scale", "10"},
		{"bench", "--only", "batch", "--data", "/nonexistent"},
		{"bench", "--only", "data", "--data-mib", "0"},
	} {
		root := newRoot()
		var out, errw bytes.Buffer
		root.SetOut(&out)
		root.SetErr(&errw)
		root.SetArgs(args)
		err := root.ExecuteContext(context.Background())
		if got := exitCode(err); got != exitUsage {
			t.Errorf("cityid %s: exit %d (%v), want %d", strings.Join(args, " "), got, err, exitUsage)
		}
		if out.Len() > 0 {
			t.Errorf("cityid %s printed a report:\n%s", strings.Join(args, " "), out.String())
		}
	}
}

// --procs runs the state benchmark under each setting and the report
// begins with how each figure scaled.
func TestBenchProcs(t *testing.T) {
	root := newRoot()
	var out, errw bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errw)
	root.SetArgs([]string{"bench", "--only", "state", "--txs", "400", "--rounds", "1", "--procs", "1,all"})
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("%v\n%s", err, errw.String())
	}
	for _, want := range []string{"How each figure scales with GOMAXPROCS", "=== GOMAXPROCS 1 ===", "(a) register tx, every signature verified", "ratio, target (a)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, out.String())
		}
	}
}
