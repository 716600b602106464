package registry

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/internal/store"
)

// countingView is a committed view that counts what staging asks it all
// at once.
type countingView struct {
	*store.View
	absent int
}

func (c *countingView) Absent(keys [][]byte) ([]bool, error) {
	c.absent++
	return c.View.Absent(keys)
}

// Staging looks a batch's identifiers up in the ledger only once the
// signer may write under its first node: a key with no rights is refused
// for what its node check costs, not after thousands of lookups.
func TestStagingReadsAheadPastRightsOnly(t *testing.T) {
	w := newWorld(t)
	h := w.h
	entries := batchMsg(meters(w.unit, 0, 2*minAbsentKeys))
	for _, c := range []struct {
		who        *signer
		code       string
		lookedUpAt int
	}{
		{w.stranger, CodeUnauthorized, 0},
		{w.unitAdmin, "", 1},
	} {
		p, perr := h.m.Prepare(c.who.tx(t, KindRegisterBatch, entries))
		if perr != nil {
			t.Fatal(perr)
		}
		view := &countingView{View: h.kv.st.Latest()}
		err := h.m.Stage(NewPending(view), h.next(), p)
		got := ""
		if err != nil {
			got = err.Code
		}
		if got != c.code {
			t.Errorf("%s: staged with %v, want %q", c.who.name, err, c.code)
		}
		if view.absent != c.lookedUpAt {
			t.Errorf("%s: the ledger was asked %d times about the batch, want %d", c.who.name, view.absent, c.lookedUpAt)
		}
	}
}

// A record staged from its head (write.stamp) reads back, and reaches a
// store, as the record written whole would: through a flush onto another
// overlay (a staged transaction onto its pending state) and a rebase.
func TestLazyRecordReadsAsWritten(t *testing.T) {
	id, err := code.Parse("1561301001.85.1/m-1")
	if err != nil {
		t.Fatal(err)
	}
	head := encodeHead(id, "1561301001.85.1/m-1", "", []string{"ab"}, []Value{{Index: 1, Type: TypeText, Data: "多 & <b>", TTL: DefaultTTL}})
	st := Stamp{Height: 7, Time: time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC), Tx: TxHash([]byte("tx"))}
	stamp := encodeStamp(st)
	whole := withStamps(head, stamp)
	key := []byte("id/1561301001.85.1/m-1")

	tx := newOverlay(emptyReader{})
	tx.put(key, write{value: head, stamp: stamp})
	pending := newOverlay(emptyReader{})
	if err := tx.flush(pending); err != nil {
		t.Fatal(err)
	}
	rebased := newOverlay(emptyReader{})
	if err := pending.flush(rebased); err != nil {
		t.Fatal(err)
	}
	for name, o := range map[string]*overlay{"the transaction's": tx, "the pending state's": pending, "a rebased state's": rebased} {
		got, err := o.Get(key)
		if err != nil || !bytes.Equal(got, whole) {
			t.Errorf("%s overlay reads %s (%v), want %s", name, got, err, whole)
		}
	}
	kv := newMemKV(t)
	if err := rebased.flush(kv); err != nil {
		t.Fatal(err)
	}
	if got, _ := kv.Get(key); !bytes.Equal(got, whole) {
		t.Errorf("the store holds %s, want %s", got, whole)
	}
	var rec Record
	if err := json.Unmarshal(whole, &rec); err != nil || rec.Created != st || rec.Values[0].Data != "多 & <b>" {
		t.Errorf("the record decodes to %+v (%v)", rec, err)
	}
}

type emptyReader struct{}

func (emptyReader) Get([]byte) ([]byte, error) { return nil, nil }
