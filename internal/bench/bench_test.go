package bench

import (
	"context"
	"testing"
	"time"
)

// The harness on small loads: it runs, every transaction is committed with
// code 0 on both apps, and the nodes stop by themselves. The figures of so
// short a run mean nothing; `cityid bench` gives the real ones.

func TestRunState(t *testing.T) {
	rep, err := RunState(context.Background(), StateOptions{Txs: 600, BlockTxs: 200, Rounds: 1})
	if err != nil {
		t.Fatal(err)
	}
	if rep.TxPerSec <= 0 || rep.VerifyAllCores <= 0 || rep.PreverifiedTxPerSec <= 0 || rep.IAVLSetTxPerSec <= 0 {
		t.Fatalf("a figure is missing: %+v", rep)
	}
	if rep.TxBytes < 400 || rep.TxBytes > 600 {
		t.Errorf("register transactions are %d bytes, want about 500", rep.TxBytes)
	}
}

func TestRunE2E(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two CometBFT nodes")
	}
	rep, err := RunE2E(context.Background(), E2EOptions{Txs: 400, Duration: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []AppRun{rep.KVStore, rep.CityID} {
		if !r.Complete() {
			t.Errorf("%s: %d of %d committed, %d with code 0 (first failure %q, first refusal %q)",
				r.App, r.Committed, r.Txs, r.OK, r.FirstFailure, r.FirstRefusal)
		}
		if r.TxPerSec <= 0 {
			t.Errorf("%s: no rate: %+v", r.App, r)
		}
		t.Logf("%+v", r)
	}
	if len(rep.Settings) == 0 {
		t.Error("no settings reported")
	}
}

func TestRate(t *testing.T) {
	for _, c := range []struct {
		in   float64
		want string
	}{
		{0, "0"}, {999, "999"}, {1000, "1,000"}, {20443.4, "20,443"}, {1234567, "1,234,567"}, {-12345, "-12,345"},
	} {
		if got := rate(c.in); got != c.want {
			t.Errorf("rate(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}
