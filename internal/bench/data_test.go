package bench

import (
	"context"
	"os"
	"strconv"
	"testing"
)

// TestRunData runs the data benchmark small: every transfer delivers the
// whole dataset (RunData checks size, status and receipt), the warm
// reads are of a trusted blob, the log holds one entry a request, and the
// check lets the grantee in at every request.
func TestRunData(t *testing.T) {
	rep, err := RunData(context.Background(), DataOptions{Size: 8<<20 + 12345, Rounds: 1, Decides: 100, Grants: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Trusted {
		t.Error("the warm read was not of a trusted blob")
	}
	if rep.Warm.MBPerSec <= 0 || rep.Cold.MBPerSec <= 0 || rep.Bare.MBPerSec <= 0 || rep.Decide.Mean <= 0 || rep.Decide.Ed25519 <= 0 {
		t.Errorf("a figure is missing: %+v", rep)
	}
}

// TestDatasetBytes: the content is the same on every read, and no two
// MiB of it are alike.
func TestDatasetBytes(t *testing.T) {
	a, b := make([]byte, 3<<20), make([]byte, 3<<20)
	d := newDatasetBytes(int64(len(a)))
	for n := 0; n < len(a); {
		m, err := d.Read(a[n:min(len(a), n+777777)])
		if err != nil {
			t.Fatal(err)
		}
		n += m
	}
	if n, err := newDatasetBytes(int64(len(b))).Read(b); err != nil || n != len(b) {
		t.Fatal(n, err)
	}
	if string(a) != string(b) {
		t.Fatal("two reads of the dataset differ")
	}
	if string(a[:1<<20]) == string(a[1<<20:2<<20]) {
		t.Fatal("the first two MiB are alike")
	}
}

// BenchmarkServeDataset is `cityid bench --only data` as a go benchmark,
// 64 MiB by default (CITYID_BENCH_DATA_MIB=1024 for the 1 GiB):
//
//	CITYID_BENCH_DATA_MIB=1024 go test -run '^$' -bench ServeDataset -benchtime 1x ./internal/bench/
func BenchmarkServeDataset(b *testing.B) {
	size := int64(64 << 20)
	if v := os.Getenv("CITYID_BENCH_DATA_MIB"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("CITYID_BENCH_DATA_MIB=%q: want a size in MiB", v)
		}
		size = int64(n) << 20
	}
	for b.Loop() {
		rep, err := RunData(context.Background(), DataOptions{Size: size})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(rep.Warm.MBPerSec, "warm-MB/s")
		b.ReportMetric(rep.Cold.MBPerSec, "cold-MB/s")
		b.ReportMetric(rep.Bare.MBPerSec, "servecontent-MB/s")
		b.ReportMetric(rep.WarmRatio, "warm/servecontent")
		b.ReportMetric(rep.ColdRatio, "cold/servecontent")
		b.ReportMetric(float64(rep.Decide.Mean.Nanoseconds())/1e3, "decide-µs")
	}
}
