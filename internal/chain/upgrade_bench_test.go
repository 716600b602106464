package chain_test

import (
	"testing"

	"github.com/cityid/cityid/internal/bench/workload"
	"github.com/cityid/cityid/internal/registry"
)

// BenchmarkSmallBlock is App.FinalizeBlock and App.Commit of blocks of one
// register transaction (admitted by CheckTx before, not timed) over a
// store on disk: the blocks where a fixed cost per block, such as the
// upgrade plan's reads (upgrade.go), weighs most. ns/op is per block.
func BenchmarkSmallBlock(b *testing.B) {
	f, err := workload.New("cityid-bench", nil, registry.MaxAdmins-1)
	if err != nil {
		b.Fatal(err)
	}
	a := newBenchApp(b, f, true)
	txs, err := f.RegisterTxs(0, b.N)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for _, tx := range txs {
		b.StopTimer()
		a.check(b, [][]byte{tx})
		b.StartTimer()
		a.block(b, [][]byte{tx})
	}
}
