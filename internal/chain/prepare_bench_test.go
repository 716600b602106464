package chain_test

import (
	"crypto/ed25519"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/cityid/cityid/internal/bench/workload"
	"github.com/cityid/cityid/internal/chain"
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

// BenchmarkSignature is one signature's check by each way the node can
// make it: crypto/ed25519 (the rule before application version 2), the
// registry's rule alone (CheckTx for a new signer), alone with the
// signer's precomputed tables (CheckTx for a known one), and in batches of
// 32 (a block's chunks) without and with them. Four signers sign in turn,
// as in `cityid bench --only state`. ns/op is per signature; batch32
// makes the four signers' tables anew for each batch.
func BenchmarkSignature(b *testing.B) {
	f, err := workload.New("cityid-bench", nil, 4)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := f.RegisterTxs(0, 256)
	if err != nil {
		b.Fatal(err)
	}
	m := registry.New("cityid-bench")
	us := make([]*registry.Unchecked, len(raw))
	for i, tx := range raw {
		u, derr := m.Decode(tx)
		if derr != nil {
			b.Fatal(derr)
		}
		us[i] = u
	}
	const batch = 32
	warm := chain.NewSignatures(0)
	for i := 0; i < len(us); i += batch {
		chain.VerifyBatchForTest(warm, us[i:i+batch])
	}
	for _, c := range []struct {
		name string
		run  func(i int) bool
	}{
		{"crypto-ed25519", func(i int) bool {
			u := us[i%len(us)]
			return ed25519.Verify(u.PubKey, u.Message, u.Signature)
		}},
		{"zip215-alone", func(i int) bool {
			u := us[i%len(us)]
			return registry.VerifySignature(u.PubKey, u.Message, u.Signature)
		}},
		{"zip215-alone-tables", func(i int) bool { return chain.VerifyForTest(warm, us[i%len(us)]) }},
		{"zip215-batch32", func(i int) bool {
			if i%batch != 0 {
				return true
			}
			j := i % len(us)
			return chain.VerifyBatchForTest(chain.NewSignatures(0), us[j:j+batch])
		}},
		{"zip215-batch32-tables", func(i int) bool {
			if i%batch != 0 {
				return true
			}
			j := i % len(us)
			return chain.VerifyBatchForTest(warm, us[j:j+batch])
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for i := range b.N {
				if !c.run(i) {
					b.Fatal("a signature does not verify")
				}
			}
		})
	}
}
