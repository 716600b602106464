package registry_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cityid/cityid/internal/bench/workload"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/store"
)

// The register_batch benchmarks of internal/bench/README.md (figure (c)
// without CometBFT). Run them together, so the figures compare on one
// machine in one run:
//
//	go test ./internal/registry -run XXX -bench RegisterBatch -benchtime 5x
const benchBatchesPerBlock = 4 // register_batch transactions of 5,000 per block, as `cityid bench` builds its states

// BenchmarkApplyBlockRegisterBatch applies blocks of 4 register_batch
// transactions of 5,000 real community identifiers each (the directory of
// internal/bench/testdata) through Machine.ApplyBlock onto a store on
// disk, every signature verified, committing after each block. One op is
// one block; ids/s is identifiers registered per second.
func BenchmarkApplyBlockRegisterBatch(b *testing.B) {
	s, txs := batchState(b, b.N)
	b.SetBytes(int64(avgLen(txs) * benchBatchesPerBlock))
	b.ResetTimer()
	for i := range b.N {
		if err := s.block(s.st, txs[i*benchBatchesPerBlock:(i+1)*benchBatchesPerBlock]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportIDs(b, b.N*benchBatchesPerBlock*registry.MaxBatch)
}

// BenchmarkApplyRegisterBatchSequential is BenchmarkApplyBlockRegisterBatch
// with everything the chain's workers do ahead of the apply done before
// the clock starts (decoding, signatures, ReadAhead in the committed
// state): the sequential part of a block alone, the apply and the commit,
// which no number of cores shortens. Its ratio to
// BenchmarkRegisterBatchIAVLAlone bounds figure (c) on any machine.
func BenchmarkApplyRegisterBatchSequential(b *testing.B) {
	s, raw := batchState(b, b.N)
	txs := make([]*registry.Tx, len(raw))
	for i := range raw {
		tx, err := s.m.Prepare(raw[i])
		if err != nil {
			b.Fatal(err.Msg)
		}
		txs[i] = tx
	}
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		blk := registry.Block{Height: s.height + 1, Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(s.height+1) * time.Second)}
		block := txs[i*benchBatchesPerBlock : (i+1)*benchBatchesPerBlock]
		absent := make([]registry.Absent, len(block))
		base := s.st.Base()
		for j, tx := range block {
			a, err := s.m.ReadAhead(base, tx)
			if err != nil {
				b.Fatal(err)
			}
			absent[j] = a
		}
		b.StartTimer()
		s.height++
		run := s.m.BeginBlock(s.st, blk)
		for j, tx := range block {
			r, err := run.ApplyAhead(tx, absent[j])
			if err != nil {
				b.Fatal(err)
			}
			if r.Err != nil {
				b.Fatalf("tx %d: %s: %s", j, r.Err.Code, r.Err.Msg)
			}
		}
		if err := run.End(); err != nil {
			b.Fatal(err)
		}
		s.st.WorkingHash()
		if _, _, err := s.st.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportIDs(b, b.N*benchBatchesPerBlock*registry.MaxBatch)
}

// BenchmarkRegisterBatchIAVLAlone writes the keys and values the blocks of
// BenchmarkApplyBlockRegisterBatch write (recorded from a real run)
// straight into a fresh store on disk, committing after each block: the
// tree alone, the baseline of target (c).
func BenchmarkRegisterBatchIAVLAlone(b *testing.B) {
	s, txs := batchState(b, b.N)
	blocks := make([][]workload.Write, b.N)
	for i := range b.N {
		rec := &workload.Recorder{KV: s.st}
		if err := s.block(rec, txs[i*benchBatchesPerBlock:(i+1)*benchBatchesPerBlock]); err != nil {
			b.Fatal(err)
		}
		blocks[i] = rec.Writes
	}
	st, err := store.Open(b.TempDir(), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	setBlocks(b, st, blocks)
	reportIDs(b, b.N*benchBatchesPerBlock*registry.MaxBatch)
}

// batchDisk is the registry's state machine on a store on disk with the
// cities, sectors and units of the first identifiers set up.
type batchDisk struct {
	m      *registry.Machine
	st     *store.Store
	height int64
}

func (s *batchDisk) block(kv registry.KV, txs [][]byte) error {
	s.height++
	blk := registry.Block{Height: s.height, Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(s.height) * time.Second)}
	res, err := s.m.ApplyBlock(kv, blk, txs, nil)
	if err != nil {
		return err
	}
	for i, r := range res {
		if r.Err != nil {
			return fmt.Errorf("block %d tx %d: %s: %s", s.height, i, r.Err.Code, r.Err.Msg)
		}
	}
	_, _, err = s.st.Commit()
	return err
}

// batchState sets up a store on disk for blocks blocks of register_batch
// transactions and signs them, deflated as the client sends them.
func batchState(b *testing.B, blocks int) (*batchDisk, [][]byte) {
	return batchStateOf(b, blocks, false)
}

// batchStateOf is batchState with the batches' bodies plain when plain is
// set.
func batchStateOf(b *testing.B, blocks int, plain bool) (*batchDisk, [][]byte) {
	b.Helper()
	dir := readDirectory(b)
	n := blocks * benchBatchesPerBlock * registry.MaxBatch
	if n > dir.Len() {
		b.Skipf("%d blocks need %d identifiers; the directory holds %d: use a smaller -benchtime", blocks, n, dir.Len())
	}
	f, err := workload.NewBatchFixture(benchChainID, nil, benchLoaders, dir, registry.MaxBatch)
	if err != nil {
		b.Fatal(err)
	}
	f.Plain = plain
	st, err := store.Open(b.TempDir(), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	s := &batchDisk{m: registry.New(benchChainID), st: st}
	gen, err := f.Genesis()
	if err != nil {
		b.Fatal(err)
	}
	if err := s.m.InitGenesis(st, gen, nil); err != nil {
		b.Fatal(err)
	}
	stages, err := f.SetupStages(n)
	if err != nil {
		b.Fatal(err)
	}
	for _, stage := range stages {
		if err := s.block(st, stage); err != nil {
			b.Fatal(err)
		}
	}
	txs := make([][]byte, f.Batches(n))
	for i := range txs {
		if txs[i], _, err = f.BatchTx(i, n); err != nil {
			b.Fatal(err)
		}
	}
	return s, txs
}

// reportIDs reports identifiers per second and the time of one.
func reportIDs(b *testing.B, ids int) {
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(ids)/sec, "ids/s")
	b.ReportMetric(sec*1e9/float64(ids), "ns/id")
}

// BenchmarkDecodeRegisterBatch decodes and validates register_batch
// transactions of 5,000 real community identifiers, the signature taken
// as verified: what CheckTx, and the chain's workers for a transaction
// CheckTx has not seen, do to a batch besides its signature check; a
// deflated body is inflated too (after the signature, in Checked). ns/id
// is per identifier; MB/s of the bytes that travel.
//
//	go test ./internal/registry -run XXX -bench DecodeRegisterBatch -benchtime 20x
func BenchmarkDecodeRegisterBatch(b *testing.B) {
	for _, plain := range []bool{true, false} {
		name := "deflated"
		if plain {
			name = "plain"
		}
		b.Run(name, func(b *testing.B) {
			s, txs := batchStateOf(b, 1, plain)
			b.SetBytes(int64(avgLen(txs)))
			b.ResetTimer()
			for i := range b.N {
				u, err := s.m.Decode(txs[i%len(txs)])
				if err != nil {
					b.Fatal(err)
				}
				if _, err := u.Checked(true); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*registry.MaxBatch), "ns/id")
		})
	}
}

// readDirectory reads the real community directory of internal/bench/testdata.
func readDirectory(tb testing.TB) *workload.Directory {
	tb.Helper()
	data := filepath.Join("..", "bench", "testdata")
	comm, err := os.Open(filepath.Join(data, "communities.csv.gz"))
	if err != nil {
		tb.Fatal(err)
	}
	defer comm.Close()
	cities, err := os.Open(filepath.Join(data, "cities.csv"))
	if err != nil {
		tb.Fatal(err)
	}
	defer cities.Close()
	dir, err := workload.ReadDirectory(comm, cities)
	if err != nil {
		tb.Fatal(err)
	}
	return dir
}

// TestBatchBytes: a signed register_batch of the bench's first 5,000
// community identifiers in the compact form (application version 3) is at
// most 0.6 of the same batch in version 2's form, {"entries":[{"id",
// "values":[{"index","type","data","ttl"}]}]}: the bytes a block carries,
// hashes, syncs and saves per identifier (docs/transactions.md quotes
// them; go test -v prints them).
func TestBatchBytes(t *testing.T) {
	dir := readDirectory(t)
	type v2Entry struct {
		ID     string           `json:"id"`
		Values []registry.Value `json:"values"`
	}
	var compact registry.RegisterBatch
	var v2 struct {
		Entries []v2Entry `json:"entries"`
	}
	for i := range registry.MaxBatch {
		e := dir.Entry(i)
		compact.Entries = append(compact.Entries, e)
		v2.Entries = append(v2.Entries, v2Entry{ID: e.ID, Values: e.Values})
	}
	key := workload.Key("loader")
	size := func(msg any) (tx, body int) {
		b, err := registry.NewBody(registry.KindRegisterBatch, 1, msg)
		if err != nil {
			t.Fatal(err)
		}
		enc, err := registry.Sign(benchChainID, b, key).Encode()
		if err != nil {
			t.Fatal(err)
		}
		return len(enc), len(b)
	}
	newTx, newBody := size(compact)
	oldTx, oldBody := size(v2)
	t.Logf("5,000 identifiers: version 2 %d bytes signed (body %d), %.0f an identifier; compact %d (body %d), %.0f an identifier; ratio %.3f",
		oldTx, oldBody, float64(oldTx)/registry.MaxBatch, newTx, newBody, float64(newTx)/registry.MaxBatch, float64(newTx)/float64(oldTx))
	if float64(newTx) > 0.6*float64(oldTx) {
		t.Errorf("compact batch %d bytes, more than 0.6 of version 2's %d", newTx, oldTx)
	}
}

// TestDeflatedBatchBytes measures what raw DEFLATE makes of the bench's
// first batch of 5,000 community identifiers at each level, and the time
// it takes to inflate (logged: -v), and holds the client's level to a
// fifth of the plain transaction's bytes.
func TestDeflatedBatchBytes(t *testing.T) {
	dir := readDirectory(t)
	var msg registry.RegisterBatch
	for i := range registry.MaxBatch {
		msg.Entries = append(msg.Entries, dir.Entry(i))
	}
	body, err := registry.NewBody(registry.KindRegisterBatch, 1, msg)
	if err != nil {
		t.Fatal(err)
	}
	key := workload.Key("loader")
	plain, err := registry.Sign(benchChainID, body, key).Encode()
	if err != nil {
		t.Fatal(err)
	}
	for _, level := range []int{1, 2, 4, 6, 9} {
		start := time.Now()
		env, err := registry.SignDeflate(benchChainID, body, level, key)
		if err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		tx, err := env.Encode()
		if err != nil {
			t.Fatal(err)
		}
		start = time.Now()
		got, perr := env.PlainBody()
		inflate := time.Since(start)
		if perr != nil || !bytes.Equal(got, body) {
			t.Fatalf("level %d: the body does not inflate back: %v", level, perr)
		}
		t.Logf("level %d: %d bytes signed against %d plain (%.3f), %.0f an identifier; deflate and sign %v, inflate %v",
			level, len(tx), len(plain), float64(len(tx))/float64(len(plain)), float64(len(tx))/registry.MaxBatch, took, inflate)
		if level == registry.DeflateLevel && 5*len(tx) > len(plain) {
			t.Errorf("level %d: %d bytes, more than a fifth of the plain %d", level, len(tx), len(plain))
		}
	}
}
