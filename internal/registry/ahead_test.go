package registry

import (
	"bytes"
	"fmt"
	"testing"
)

// readCounter counts the reads of record keys that pass through it.
type readCounter struct {
	KV
	records int
}

func (r *readCounter) Get(key []byte) ([]byte, error) {
	if bytes.HasPrefix(key, []byte(prefixRecord)) {
		r.records++
	}
	return r.KV.Get(key)
}

// TestReadAhead applies a block of registrations twice from one committed
// state: through Apply, and through ApplyAhead with what ReadAhead found
// in that state. The results and the app hash must be the same, and the
// facts must spare the reads of the identifiers found absent: the
// registrations of new identifiers read no record of their own, while the
// ones the block itself registered first, the one whose batch was
// refused, and the one registered before the block still get their
// verdicts right.
func TestReadAhead(t *testing.T) {
	w := newWorld(t)
	h := w.h
	old := w.unit + "/ahead-old"
	h.mustApply(t, w.unitAdmin.tx(t, KindRegister, M{"id": old, "values": []M{{"type": "TEXT", "data": "x"}}}))
	text := []M{{"type": "TEXT", "data": "x"}}
	entries := func(ids ...string) []M {
		out := make([]M, len(ids))
		for i, id := range ids {
			out[i] = M{"id": id, "values": text}
		}
		return out
	}
	batch := make([]string, 200)
	for i := range batch {
		batch[i] = fmt.Sprintf("%s/ahead-%03d", w.unit, i)
	}
	nonce := h.nonce(t, w.unitAdmin.pub)
	next := func(kind string, msg any) []byte {
		nonce++
		return w.unitAdmin.txNonce(t, nonce, kind, msg)
	}
	txs := [][]byte{
		next(KindRegisterBatch, batchMsg(entries(batch...))),
		next(KindRegister, M{"id": w.unit + "/ahead-twice", "values": text}),
		next(KindRegisterBatch, batchMsg(entries(w.unit+"/ahead-other", w.unit+"/ahead-twice"))),
		next(KindRegisterBatch, batchMsg(entries(w.unit+"/ahead-refused", "1561301001.85.9/no-such-unit"))),
		next(KindRegister, M{"id": w.unit + "/ahead-refused", "values": text}),
		next(KindRegisterBatch, batchMsg(entries(w.unit+"/ahead-new", old))),
	}
	want := []string{"", "", CodeExists, CodeNotFound, "", CodeExists}
	prepared := make([]*Tx, len(txs))
	for i, raw := range txs {
		tx, err := h.m.Prepare(raw)
		if err != nil {
			t.Fatalf("tx %d: %s: %s", i, err.Code, err.Msg)
		}
		prepared[i] = tx
	}
	blk := h.next()
	apply := func(withAhead bool) ([]Result, []byte, int) {
		base := h.kv.st.Latest()
		kv := &readCounter{KV: h.kv}
		b := h.m.BeginBlock(kv, blk)
		var out []Result
		for i, tx := range prepared {
			var a Absent
			if withAhead {
				var err error
				if a, err = h.m.ReadAhead(base, tx); err != nil {
					t.Fatal(err)
				}
			}
			r, err := b.ApplyAhead(tx, a)
			if err != nil {
				t.Fatalf("tx %d: %v", i, err)
			}
			code := ""
			if r.Err != nil {
				code = r.Err.Code
			}
			if code != want[i] {
				t.Fatalf("ahead %v: tx %d: %q (%v), want %q", withAhead, i, code, r.Err, want[i])
			}
			out = append(out, r)
		}
		if err := b.End(); err != nil {
			t.Fatal(err)
		}
		hash := h.kv.st.WorkingHash()
		h.kv.st.Rollback()
		return out, hash, kv.records
	}
	plain, plainHash, plainReads := apply(false)
	ahead, aheadHash, aheadReads := apply(true)
	if !bytes.Equal(plainHash, aheadHash) {
		t.Errorf("app hash %X with facts read ahead, %X without", aheadHash, plainHash)
	}
	for i := range plain {
		if !bytes.Equal(plain[i].Data, ahead[i].Data) || fmt.Sprint(plain[i].Err) != fmt.Sprint(ahead[i].Err) {
			t.Errorf("tx %d: %+v with facts, %+v without", i, ahead[i], plain[i])
		}
	}
	// Without facts every registration reads its record (and the nodes
	// above it); with them the 200 + 1 + 1 + 1 new identifiers read none.
	if spared := plainReads - aheadReads; spared < 203 {
		t.Errorf("record reads: %d without facts, %d with: want at least 203 spared", plainReads, aheadReads)
	}
	// A fact is only what the state held: an identifier present then is
	// not absent.
	tx, perr := h.m.Prepare(w.unitAdmin.tx(t, KindRegister, M{"id": old, "values": text}))
	if perr != nil {
		t.Fatal(perr.Msg)
	}
	if a, err := h.m.ReadAhead(h.kv.st.Latest(), tx); err != nil || len(a.keys) != 0 {
		t.Errorf("read ahead of a registered identifier: %v, %v; want it not absent", a.keys, err)
	}
}
