package chain_test

import (
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/cityid/cityid/internal/bench/workload"
	"github.com/cityid/cityid/internal/registry"
)

// cpuTime is the CPU time the process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkApplyBlock applies blocks of 1,000 signed register
// transactions (the workload of `cityid bench --only state`) onto an
// in-memory tree, a commit per block, three ways: chain.ApplyBlock with
// every signature verified (parallel, batches), the same with every
// transaction prepared before (signatures pre-verified: the sequential
// apply and the commit alone), and the registry's sequential ApplyBlock
// verifying every signature. Besides tx/s it reports the CPU time per
// transaction, which a shared machine disturbs less than the rate: with
// the apply on one core and the preparation spread over the others, the
// rate on c dedicated cores is about min(c / cpu, 1 / apply).
func BenchmarkApplyBlock(b *testing.B) {
	const blockTxs = 1000
	for _, c := range []struct {
		name  string
		apply func(s *workload.State, txs [][]byte, prepared registry.Prepared) error
		cache bool
	}{
		{"parallel", func(s *workload.State, txs [][]byte, _ registry.Prepared) error {
			_, err := s.Block(s.Store, txs, nil) // chain.ApplyBlock
			return err
		}, false},
		{"preverified", func(s *workload.State, txs [][]byte, p registry.Prepared) error {
			_, err := s.Block(s.Store, txs, p)
			return err
		}, true},
		{"sequential", func(s *workload.State, txs [][]byte, _ registry.Prepared) error {
			return s.Sequential(txs)
		}, false},
	} {
		b.Run(c.name, func(b *testing.B) {
			f, err := workload.New("cityid-bench", nil, 4)
			if err != nil {
				b.Fatal(err)
			}
			s, err := workload.NewState(f)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			txs, err := f.RegisterTxs(0, b.N*blockTxs)
			if err != nil {
				b.Fatal(err)
			}
			var prepared registry.Prepared
			if c.cache {
				if prepared, err = s.PrepareAll(txs); err != nil {
					b.Fatal(err)
				}
			}
			runtime.GC()
			cpu := cpuTime(b)
			b.ResetTimer()
			for i := range b.N {
				if err := c.apply(s, txs[i*blockTxs:(i+1)*blockTxs], prepared); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			n := float64(b.N * blockTxs)
			b.ReportMetric(n/b.Elapsed().Seconds(), "tx/s")
			b.ReportMetric(float64(cpuTime(b)-cpu)/1e3/n, "cpu-µs/tx")
		})
	}
}
