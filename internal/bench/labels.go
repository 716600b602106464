package bench

import (
	"context"
	"runtime/pprof"
)

// labelled runs f with the profiler label bench=phase on this goroutine
// and every goroutine f starts (a node's, a server's connections), so that
// a CPU profile of `cityid bench --cpuprofile` separates the phases:
//
//	go tool pprof -tagfocus bench=batch-node cityid cpu.prof
func labelled(phase string, f func()) {
	pprof.Do(context.Background(), pprof.Labels("bench", phase), func(context.Context) { f() })
}
