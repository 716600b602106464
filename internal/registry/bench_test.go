package registry_test

import (
	"encoding/json"
	"testing"

	"github.com/cityid/cityid/internal/bench/workload"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/store"
)

// The state-machine benchmarks of internal/bench/README.md. Run them
// together, so the figures compare on one machine in one run:
//
//	go test ./internal/registry -run XXX -bench . -benchtime 5x
const (
	benchChainID  = "cityid-bench"
	benchBlockTxs = 1000 // register transactions per block
	benchLoaders  = 4    // keys that sign them, in turn, with consecutive nonces
)

// BenchmarkApplyBlockRegister applies, with chain.ApplyBlock as
// FinalizeBlock does (workload.State.Block), blocks of signed register
// transactions (distinct ids, a URL and a TEXT value each) with every
// signature verified (no cache), onto an in-memory IAVL tree, committing
// after each block. One op is one block; tx/s is the figure of target (a).
// admin=unit: the signers are admins of the unit they register under;
// admin=city: they are admins of the city, so authorization walks up three
// records.
func BenchmarkApplyBlockRegister(b *testing.B) {
	for _, c := range []struct {
		name       string
		cityAdmins bool
	}{{"admin=unit", false}, {"admin=city", true}} {
		b.Run(c.name, func(b *testing.B) {
			benchApplyBlock(b, c.cityAdmins, false)
		})
	}
}

// BenchmarkApplyBlockRegisterPreverified is BenchmarkApplyBlockRegister
// with every signature taken as already verified (as FinalizeBlock does for
// transactions CheckTx has seen): what is left is decoding, the sequential
// apply and the commit.
func BenchmarkApplyBlockRegisterPreverified(b *testing.B) {
	benchApplyBlock(b, false, true)
}

func benchApplyBlock(b *testing.B, cityAdmins bool, preverified bool) {
	f, err := workload.New(benchChainID, nil, benchLoaders)
	if err != nil {
		b.Fatal(err)
	}
	f.CityAdmins = cityAdmins
	s, err := workload.NewState(f)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	txs, err := f.RegisterTxs(0, b.N*benchBlockTxs)
	if err != nil {
		b.Fatal(err)
	}
	var prepared registry.Prepared
	if preverified {
		if prepared, err = s.PrepareAll(txs); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(avgLen(txs) * benchBlockTxs))
	b.ResetTimer()
	for i := range b.N {
		if _, err := s.Block(s.Store, txs[i*benchBlockTxs:(i+1)*benchBlockTxs], prepared); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportTxs(b, b.N*benchBlockTxs)
}

// BenchmarkEd25519Verify is one Ed25519 verification of a register
// transaction's signature under the registry's rule (VerifySignature, alone,
// no precomputed key), on one core: what CheckTx pays for a new signer; a
// block checks its signatures in batches, for about half.
func BenchmarkEd25519Verify(b *testing.B) {
	f, err := workload.New(benchChainID, nil, 1)
	if err != nil {
		b.Fatal(err)
	}
	txs, err := f.RegisterTxs(0, 1)
	if err != nil {
		b.Fatal(err)
	}
	var env registry.Envelope
	if err := json.Unmarshal(txs[0], &env); err != nil {
		b.Fatal(err)
	}
	pub, err := registry.ParsePubKey(env.PubKey)
	if err != nil {
		b.Fatal(err)
	}
	msg := registry.PAE(benchChainID, env.Body)
	b.ResetTimer()
	for range b.N {
		if !registry.VerifySignature(pub, msg, env.Signature) {
			b.Fatal("signature does not verify")
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verify/s")
}

// BenchmarkPrepareRegister is Machine.Prepare of one register transaction
// on one core: envelope decode, signature, body decode and validation — the
// part of a transaction chain.ApplyBlock runs on every core (there with
// the signature checked in a batch).
func BenchmarkPrepareRegister(b *testing.B) {
	f, err := workload.New(benchChainID, nil, 1)
	if err != nil {
		b.Fatal(err)
	}
	txs, err := f.RegisterTxs(0, 1)
	if err != nil {
		b.Fatal(err)
	}
	m := registry.New(benchChainID)
	b.SetBytes(int64(len(txs[0])))
	b.ResetTimer()
	for range b.N {
		if _, err := m.Prepare(txs[0]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportTxs(b, b.N)
}

// BenchmarkIAVLSetOnly writes the keys and values that the blocks of
// BenchmarkApplyBlockRegister write (recorded from a real run) straight to
// an in-memory IAVL tree, committing after each block: the storage floor
// under the state machine.
func BenchmarkIAVLSetOnly(b *testing.B) {
	f, err := workload.New(benchChainID, nil, benchLoaders)
	if err != nil {
		b.Fatal(err)
	}
	s, err := workload.NewState(f)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	txs, err := f.RegisterTxs(0, b.N*benchBlockTxs)
	if err != nil {
		b.Fatal(err)
	}
	blocks := make([][]workload.Write, b.N)
	for i := range b.N {
		rec := &workload.Recorder{KV: s.Store}
		if _, err := s.Block(rec, txs[i*benchBlockTxs:(i+1)*benchBlockTxs], nil); err != nil {
			b.Fatal(err)
		}
		blocks[i] = rec.Writes
	}
	st, err := store.OpenMemory(store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	setBlocks(b, st, blocks)
	reportTxs(b, b.N*benchBlockTxs)
}

// setBlocks times writing recorded blocks straight into st, a commit after
// each: the tree alone.
func setBlocks(b *testing.B, st *store.Store, blocks [][]workload.Write) {
	b.ResetTimer()
	for _, writes := range blocks {
		for _, w := range writes {
			if err := st.Set(w.Key, w.Value); err != nil {
				b.Fatal(err)
			}
		}
		if _, _, err := st.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
}

// reportTxs reports transactions per second and the time of one.
func reportTxs(b *testing.B, txs int) {
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(txs)/sec, "tx/s")
	b.ReportMetric(sec*1e9/float64(txs), "ns/tx")
}

func avgLen(txs [][]byte) int {
	n := 0
	for _, tx := range txs {
		n += len(tx)
	}
	return n / max(len(txs), 1)
}
