package registry

import (
	"bytes"
	"fmt"
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/cityid/cityid/internal/store"
)

// exportBenchRecords is the size of the benchmarks' state: identifiers
// under one unit, each with one older version in its history.
const exportBenchRecords = 100_000

// benchExportState is a store on disk holding exportBenchRecords records
// (and their history) beside a world's state, committed in blocks of
// 10,000 as a chain would have written them.
func benchExportState(b *testing.B) *store.View {
	b.Helper()
	w := exportWorld(b)
	tmpl := w.h.rawRecord(b, w.object)
	st, err := store.Open(b.TempDir(), store.Options{ValueCacheBytes: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if err := w.h.kv.st.Latest().Iterate(nil, nil, func(k, v []byte) bool { return st.Set(k, v) == nil }); err != nil {
		b.Fatal(err)
	}
	for i := range exportBenchRecords {
		id := fmt.Sprintf("%s/obj-%06d", w.unit, i)
		rec := bytes.Replace(tmpl, []byte(`"id":"`+w.object+`"`), []byte(`"id":"`+id+`"`), 1)
		old := bytes.Replace(rec, []byte(`"version":2`), []byte(`"version":1`), 1)
		if err := st.Set(RecordKey(id), rec); err != nil {
			b.Fatal(err)
		}
		if err := st.Set(historyKey(id, 1), old); err != nil {
			b.Fatal(err)
		}
		if i%10_000 == 9_999 {
			if _, _, err := st.Commit(); err != nil {
				b.Fatal(err)
			}
		}
	}
	if _, _, err := st.Commit(); err != nil {
		b.Fatal(err)
	}
	return st.Latest()
}

// cpuTime is the CPU time the process has used, user and system: on a
// machine shared with other work, the CPU an operation costs is steadier
// than the wall-clock time it takes.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU runs fn b.N times and reports its CPU time per op (cpu-ms/op).
func reportCPU(b *testing.B, fn func()) {
	b.Helper()
	start := cpuTime(b)
	for range b.N {
		fn()
	}
	b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N)/1e6, "cpu-ms/op")
}

// BenchmarkExport compares an export with a bare walk of the same
// committed version (the floor: IAVL's iterator), and an import (ReadExport
// writing into a working tree, as InitChain does) with bare Sets of the
// same entries. Bytes are the export's; cpu-ms/op is the CPU an op took,
// steadier than its time on a shared machine. check is ReadExport alone.
//
//	go test ./internal/registry -run '^$' -bench BenchmarkExport -benchtime 3x
func BenchmarkExport(b *testing.B) {
	v := benchExportState(b)
	var exp bytes.Buffer
	if _, err := Export(&exp, v, testChainID, v.Version(), v.Hash()); err != nil {
		b.Fatal(err)
	}
	size := int64(exp.Len())
	b.Run("walk", func(b *testing.B) {
		b.SetBytes(size)
		reportCPU(b, func() {
			n := 0
			if err := v.Iterate(nil, nil, func(k, val []byte) bool { n += len(k) + len(val); return true }); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("export", func(b *testing.B) {
		b.SetBytes(size)
		reportCPU(b, func() {
			if _, err := Export(io.Discard, v, testChainID, v.Version(), v.Hash()); err != nil {
				b.Fatal(err)
			}
		})
	})
	var entries [][2][]byte
	if _, err := ReadExport(bytes.NewReader(exp.Bytes()), func(k, val []byte) error {
		entries = append(entries, [2][]byte{bytes.Clone(k), bytes.Clone(val)})
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	b.Run("check", func(b *testing.B) {
		b.SetBytes(size)
		reportCPU(b, func() {
			if _, err := ReadExport(bytes.NewReader(exp.Bytes()), nil); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("set", func(b *testing.B) {
		b.SetBytes(size)
		reportCPU(b, func() {
			st, err := store.OpenMemory(store.Options{ValueCacheBytes: -1})
			if err != nil {
				b.Fatal(err)
			}
			for _, e := range entries {
				if err := st.Set(e[0], e[1]); err != nil {
					b.Fatal(err)
				}
			}
			_ = st.WorkingHash()
			st.Close()
		})
	})
	b.Run("import", func(b *testing.B) {
		b.SetBytes(size)
		reportCPU(b, func() {
			st, err := store.OpenMemory(store.Options{ValueCacheBytes: -1})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := ReadExport(bytes.NewReader(exp.Bytes()), st.Set); err != nil {
				b.Fatal(err)
			}
			_ = st.WorkingHash()
			st.Close()
		})
	})
}
