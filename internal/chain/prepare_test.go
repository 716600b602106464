package chain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/store"
	"github.com/cityid/cityid/internal/testnode"
)

// forge returns tx with one bit of its signature flipped: well formed, and
// refused as bad_signature.
func forge(t *testing.T, tx []byte) []byte {
	t.Helper()
	var env registry.Envelope
	if err := json.Unmarshal(tx, &env); err != nil {
		t.Fatal(err)
	}
	env.Signature[5] ^= 0x10
	out, err := env.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestBlockWorkers applies the hostile world's blocks and then a block of
// 150 transactions (every hostile one, duplicates, forged signatures in
// the middle of chunks of valid ones, valid ones between them) with the
// registry's sequential ApplyBlock, and with ApplyBlock here on 1, 2 and 7
// workers, with and without a cache of prepared transactions. Every result
// and the app hash after every block must be the same: the parallel work
// changes nothing but the time.
func TestBlockWorkers(t *testing.T) {
	world, w := hostileWorld(t)
	hostile, err := testnode.HostileTxs(w)
	if err != nil {
		t.Fatal(err)
	}
	m := registry.New(testChain)
	nonce := w.AdminNonce
	valid := func() []byte {
		nonce++
		id := fmt.Sprintf("%s/worker-%d", w.Unit, nonce)
		return signTx(t, w.Admin, nonce, registry.KindRegister, registry.Register{ID: id, Values: []registry.Value{{Type: "TEXT", Data: id}}})
	}
	var big [][]byte
	var deflatedAt []int // the valid deflated batches' places in big
	for i, h := range hostile {
		big = append(big, h.Tx)
		if i%3 == 0 {
			big = append(big, valid(), valid())
		}
	}
	for i := 0; i < 40; i++ {
		if i%10 == 7 {
			// A deflated batch among them, inflated by whichever
			// worker checks its signature.
			nonce++
			id := fmt.Sprintf("%s/deflated-%d", w.Unit, nonce)
			big = append(big, signDeflatedTx(t, w.Admin, nonce, registry.KindRegisterBatch, registry.RegisterBatch{Entries: []registry.BatchEntry{
				{ID: id + "a", Values: []registry.Value{{Type: "TEXT", Data: id}}}, {ID: id + "b", Values: []registry.Value{{Type: "TEXT", Data: id}}}}}))
			deflatedAt = append(deflatedAt, len(big)-1)
			continue
		}
		tx := valid()
		if i%13 == 5 {
			// Refused, so the nonce is not used: the next one takes it.
			big = append(big, forge(t, tx))
			nonce--
			continue
		}
		big = append(big, tx)
	}
	// Registrations whose verdicts depend on what the block itself wrote
	// before them, which facts read ahead of the block (BlockOptions.Base)
	// must not hide: an identifier registered earlier in the block is
	// taken; one whose batch was refused after the entry was staged is
	// not; one registered in an earlier block is taken.
	signed := func(kind string, msg any) []byte {
		nonce++
		if kind == registry.KindRegisterBatch && nonce%2 == 0 {
			return signDeflatedTx(t, w.Admin, nonce, kind, msg)
		}
		return signTx(t, w.Admin, nonce, kind, msg)
	}
	text := func(id string) []registry.Value { return []registry.Value{{Type: "TEXT", Data: id}} }
	twice, refusedFirst := w.Unit+"/ahead-twice", w.Unit+"/ahead-refused-first"
	big = append(big,
		signed(registry.KindRegister, registry.Register{ID: twice, Values: text(twice)}),
		signed(registry.KindRegisterBatch, registry.RegisterBatch{Entries: []registry.BatchEntry{{ID: w.Unit + "/ahead-other", Values: text("o")}, {ID: twice, Values: text(twice)}}}),
		signed(registry.KindRegisterBatch, registry.RegisterBatch{Entries: []registry.BatchEntry{{ID: refusedFirst, Values: text(refusedFirst)}, {ID: w.Unit + "9/no-such-unit", Values: text("x")}}}),
		signed(registry.KindRegister, registry.Register{ID: refusedFirst, Values: text(refusedFirst)}),
		signed(registry.KindRegisterBatch, registry.RegisterBatch{Entries: []registry.BatchEntry{{ID: w.Unit + "/ahead-new", Values: text("n")}, {ID: w.Object, Values: text("again")}}}),
	)
	big = append(big, big[len(big)-1], big[3], []byte("junk"))
	blocks := append(append([][][]byte{}, world...), big, [][]byte{valid()})
	if len(splitChunks(big)) < 3 {
		t.Fatalf("the big block makes %d chunks: the test needs several", len(splitChunks(big)))
	}

	type outcome struct {
		results [][]registry.Result
		hashes  [][]byte
	}
	run := func(apply func(kv registry.KV, blk registry.Block, txs [][]byte) ([]registry.Result, error)) outcome {
		t.Helper()
		st, err := store.OpenMemory(store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		newApp(t, st) // genesis
		var o outcome
		for i, b := range blocks {
			blk := registry.Block{Height: int64(i + 1), Time: blockTime.Add(time.Duration(i+1) * time.Second)}
			rs, err := apply(st, blk, b)
			if err != nil {
				t.Fatalf("block %d: %v", i+1, err)
			}
			o.results = append(o.results, rs)
			o.hashes = append(o.hashes, st.WorkingHash())
			if _, _, err := st.Commit(); err != nil {
				t.Fatal(err)
			}
		}
		return o
	}
	want := run(func(kv registry.KV, blk registry.Block, txs [][]byte) ([]registry.Result, error) {
		return m.ApplyBlock(kv, blk, txs, nil)
	})
	refused := map[string]int{}
	for _, r := range want.results[len(world)] {
		if r.Err != nil {
			refused[r.Err.Code]++
		}
	}
	if refused[registry.CodeBadSignature] < 3 || refused[registry.CodeMalformed] == 0 || refused[registry.CodeNonceReplayed] == 0 {
		t.Fatalf("the big block's refusals %v: the test needs bad signatures, malformed and replayed transactions", refused)
	}
	for _, i := range deflatedAt {
		if r := want.results[len(world)][i]; r.Err != nil || !bytes.Contains(r.Data, []byte(`"count":2`)) {
			t.Fatalf("deflated batch %d: %+v, want 2 identifiers registered", i, r)
		}
	}
	// The registrations after the hostile ones: taken in the block, free
	// after a refused batch, taken in an earlier block.
	aheadCodes := []string{"", registry.CodeExists, registry.CodeNotFound, "", registry.CodeExists}
	tail := want.results[len(world)][len(big)-3-len(aheadCodes) : len(big)-3]
	for i, r := range tail {
		got := ""
		if r.Err != nil {
			got = r.Err.Code
		}
		if got != aheadCodes[i] {
			t.Fatalf("registration %d after the hostile ones: %q (%v), want %q", i+1, got, r.Err, aheadCodes[i])
		}
	}
	// A cache as CheckTx leaves it: every other transaction prepared.
	cache := map[string]*registry.Tx{}
	for _, b := range blocks {
		for i, raw := range b {
			if i%2 == 0 {
				if tx, err := m.Prepare(raw); err == nil {
					cache[string(raw)] = tx
				}
			}
		}
	}
	for _, workers := range []int{1, 2, 7} {
		for _, cached := range []bool{false, true} {
			opts := BlockOptions{Workers: workers}
			if cached {
				opts.Prepared = func(raw []byte) *registry.Tx { return cache[string(raw)] }
			}
			// With a cache, the workers also read ahead in the state the
			// block starts from, as FinalizeBlock has them do.
			got := run(func(kv registry.KV, blk registry.Block, txs [][]byte) ([]registry.Result, error) {
				o := opts
				if v := kv.(*store.Store).Base(); cached && v != nil {
					o.Base = v
				}
				return ApplyBlock(m, kv, blk, txs, o)
			})
			for h := range blocks {
				if !bytes.Equal(got.hashes[h], want.hashes[h]) {
					t.Errorf("%d workers, cache %v: block %d: app hash %X, sequential %X", workers, cached, h+1, got.hashes[h], want.hashes[h])
				}
				for i := range want.results[h] {
					a, b := want.results[h][i], got.results[h][i]
					if a.Kind != b.Kind || !bytes.Equal(a.Data, b.Data) || fmt.Sprint(a.Err) != fmt.Sprint(b.Err) || fmt.Sprint(a.Validators) != fmt.Sprint(b.Validators) {
						t.Errorf("%d workers, cache %v: block %d tx %d: %+v, sequential %+v", workers, cached, h+1, i, b, a)
					}
				}
			}
		}
	}
}

// TestSplitChunks keeps a block's chunks within their bounds, in order,
// covering every transaction once, and a large transaction alone.
func TestSplitChunks(t *testing.T) {
	small := make([]byte, 500)
	large := make([]byte, chunkBytes+1)
	var txs [][]byte
	for range 10 {
		txs = append(txs, small)
	}
	txs = append(txs, large)
	for range 80 {
		txs = append(txs, small)
	}
	txs = append(txs, large, large, small)
	var got []string
	for _, c := range splitChunks(txs) {
		got = append(got, fmt.Sprintf("%d-%d", c.from, c.to))
	}
	if want := "[0-8 8-10 10-11 11-43 43-75 75-91 91-92 92-93 93-94]"; fmt.Sprint(got) != want {
		t.Errorf("chunks %v, want %s", got, want)
	}
	if len(splitChunks(nil)) != 0 {
		t.Error("an empty block has chunks")
	}
}
