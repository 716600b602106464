package registry

import (
	"fmt"
	"strings"
	"testing"
)

// head is a distinct valid log head for n.
func head(n int) string { return fmt.Sprintf("%064x", n) }

func (h *harness) anchors(t testing.TB, dataset string, after uint64, limit int) []Anchor {
	t.Helper()
	as, err := GetAnchors(h.kv.st.Latest(), dataset, after, limit)
	if err != nil {
		t.Fatal(err)
	}
	return as
}

func entriesOf(as []Anchor) []uint64 {
	out := make([]uint64, len(as))
	for i, a := range as {
		out[i] = a.Entries
	}
	return out
}

func TestAnchorLog(t *testing.T) {
	w := newShareWorld(t)
	h := w.h

	t.Run("anchored by the dataset's admin, under its canonical form", func(t *testing.T) {
		tx := w.unitAdmin.tx(t, KindAnchorLog, M{"dataset": "1561301001.85.1/EXAM-results", "entries": 3, "head": head(3)})
		blk := h.next()
		if got, want := outcomeJSON(t, h.apply(t, tx)), `{"id":"`+w.dataset+`","status":"anchored","entries":3}`; got != want {
			t.Errorf("outcome %s, want %s", got, want)
		}
		want := Anchor{Dataset: w.dataset, Entries: 3, Head: head(3), Signer: w.unitAdmin.pub,
			Anchored: Stamp{Height: blk.Height, Time: blk.Time, Tx: TxHash(tx)}}
		a, ok, err := LatestAnchor(h.kv, w.dataset)
		if err != nil || !ok || a != want {
			t.Errorf("latest %+v %v %v, want %+v", a, ok, err, want)
		}
		if as := h.anchors(t, w.dataset, 0, 10); len(as) != 1 || as[0] != want {
			t.Errorf("anchors %+v, want %+v", as, want)
		}
		// The stored bytes, which a proof proves: the same under both keys.
		if a, b := stateGet(t, h, string(AnchorKey(w.dataset, 3))), stateGet(t, h, string(AnchorHeadKey(w.dataset))); a != b || !strings.Contains(a, `"entries":3`) {
			t.Errorf("anchor %s, head %s", a, b)
		}
	})
	t.Run("an admin of a node above anchors too", func(t *testing.T) {
		h.mustApply(t, w.cityAdmin.tx(t, KindAnchorLog, M{"dataset": w.dataset, "entries": 1000, "head": head(1000)}))
		h.mustApply(t, w.unitAdmin.tx(t, KindAnchorLog, M{"dataset": w.dataset, "entries": 1001, "head": head(1001)}))
		if a, _, _ := LatestAnchor(h.kv, w.dataset); a.Entries != 1001 || a.Signer != w.unitAdmin.pub {
			t.Errorf("latest %+v", a)
		}
	})
	t.Run("a log only grows", func(t *testing.T) {
		for _, n := range []int{1001, 1000, 4, 1} {
			h.expectRejected(t, w.unitAdmin.tx(t, KindAnchorLog, M{"dataset": w.dataset, "entries": n, "head": head(n + 1)}),
				CodeVersionMismatch, "anchored at 1001 entries", "more than 1001")
		}
	})
	t.Run("nobody else anchors", func(t *testing.T) {
		msg := M{"dataset": w.dataset, "entries": 2000, "head": head(2000)}
		h.expectRejected(t, w.stranger.tx(t, KindAnchorLog, msg), CodeUnauthorized, "not an admin of "+w.dataset)
		// Another city's admin, however live its own grants.
		h.expectRejected(t, w.beijingAdmin.tx(t, KindAnchorLog, msg), CodeUnauthorized, "not an admin of "+w.dataset)
	})
	t.Run("only a registered identifier has a log to anchor", func(t *testing.T) {
		h.expectRejected(t, w.unitAdmin.tx(t, KindAnchorLog, M{"dataset": w.unit + "/nothing", "entries": 1, "head": head(1)}),
			CodeNotFound, "dataset "+w.unit+"/nothing is not registered")
		// A missing node above is not_found too, not unauthorized.
		h.expectRejected(t, w.unitAdmin.tx(t, KindAnchorLog, M{"dataset": w.city + ".86.9/x", "entries": 1, "head": head(1)}),
			CodeNotFound, "is not registered")
	})
	t.Run("what does not validate", func(t *testing.T) {
		for _, c := range []struct {
			msg  M
			code string
			want string
		}{
			{M{"dataset": w.dataset, "head": head(1)}, CodeInvalid, "entries is 0 or missing"},
			{M{"dataset": w.dataset, "entries": 0, "head": head(1)}, CodeInvalid, "at least 1"},
			{M{"dataset": w.dataset, "entries": uint64(MaxAnchorEntries) + 1, "head": head(1)}, CodeInvalid, "more than the 9007199254740991 allowed"},
			{M{"dataset": w.dataset, "entries": 5000}, CodeInvalid, "64 lowercase hex"},
			{M{"dataset": w.dataset, "entries": 5000, "head": strings.ToUpper(head(0xabc))}, CodeInvalid, "64 lowercase hex"},
			{M{"dataset": w.dataset, "entries": 5000, "head": head(1) + "0"}, CodeInvalid, "64 lowercase hex"},
			{M{"dataset": w.dataset, "entries": 5000, "head": strings.Repeat("g", 64)}, CodeInvalid, "64 lowercase hex"},
			{M{"dataset": "1561301002.85.1/x", "entries": 1, "head": head(1)}, CodeInvalidID, "dataset"},
			{M{"entries": 1, "head": head(1)}, CodeInvalidID, "dataset"},
			{M{"dataset": w.dataset, "entries": -1, "head": head(1)}, CodeMalformed, ""},
			{M{"dataset": w.dataset, "entries": 1, "head": head(1), "extra": 1}, CodeMalformed, ""},
		} {
			if _, err := h.m.Prepare(w.unitAdmin.tx(t, KindAnchorLog, c.msg)); err == nil || err.Code != c.code || !strings.Contains(err.Msg, c.want) {
				t.Errorf("%v: %v, want %s containing %q", c.msg, err, c.code, c.want)
			}
		}
	})
	t.Run("whatever became of the dataset, its admins anchor its log", func(t *testing.T) {
		// No DATA value any more, then deactivated, then its city
		// suspended: refusals of requests are logged, and the log's head
		// still reaches the ledger.
		h.mustApply(t, w.unitAdmin.tx(t, KindUpdate, M{"id": w.dataset, "version": h.record(t, w.dataset).Version, "values": []M{{"type": "TEXT", "data": "gone"}}}))
		h.mustApply(t, w.unitAdmin.tx(t, KindAnchorLog, M{"dataset": w.dataset, "entries": 1002, "head": head(1002)}))
		h.mustApply(t, w.unitAdmin.tx(t, KindDeactivate, M{"id": w.dataset}))
		h.mustApply(t, w.unitAdmin.tx(t, KindAnchorLog, M{"dataset": w.dataset, "entries": 1003, "head": head(1003)}))
		h.mustApply(t, w.cityAdmin.tx(t, KindDeactivate, M{"id": w.sector}))
		h.mustApply(t, w.unitAdmin.tx(t, KindAnchorLog, M{"dataset": w.dataset, "entries": 1004, "head": head(1004)}))
		h.expectRejected(t, w.stranger.tx(t, KindAnchorLog, M{"dataset": w.dataset, "entries": 1005, "head": head(1005)}), CodeUnauthorized)
	})
	t.Run("paging is ascending by count", func(t *testing.T) {
		all := entriesOf(h.anchors(t, w.dataset, 0, 100))
		if got, want := fmt.Sprint(all), "[3 1000 1001 1002 1003 1004]"; got != want {
			t.Fatalf("anchors %s, want %s", got, want)
		}
		for _, c := range []struct {
			after uint64
			limit int
			want  string
		}{
			{0, 2, "[3 1000]"}, {3, 2, "[1000 1001]"}, {999, 1, "[1000]"}, {1001, 100, "[1002 1003 1004]"},
			{1004, 10, "[]"}, {0, 0, "[]"}, {MaxAnchorEntries, 10, "[]"}, {1<<64 - 1, 10, "[]"},
		} {
			if got := fmt.Sprint(entriesOf(h.anchors(t, w.dataset, c.after, c.limit))); got != c.want {
				t.Errorf("after %d limit %d: %s, want %s", c.after, c.limit, got, c.want)
			}
		}
	})
}

// TestAnchorPrefixIsTheDatasets: a dataset's anchors are exactly the keys
// under its prefix; an identifier that extends another's text (…/x and
// …/x-2) keeps its own.
func TestAnchorPrefixIsTheDatasets(t *testing.T) {
	w := newShareWorld(t)
	h := w.h
	a, b := w.unit+"/x", w.unit+"/x-2"
	for _, id := range []string{a, b} {
		h.mustApply(t, w.unitAdmin.tx(t, KindRegister, M{"id": id, "values": []M{}}))
	}
	h.mustApply(t, w.unitAdmin.tx(t, KindAnchorLog, M{"dataset": b, "entries": 7, "head": head(7)}))
	h.mustApply(t, w.unitAdmin.tx(t, KindAnchorLog, M{"dataset": a, "entries": 5, "head": head(5)}))
	if got := fmt.Sprint(entriesOf(h.anchors(t, a, 0, 10))); got != "[5]" {
		t.Errorf("anchors of %s: %s", a, got)
	}
	if got := fmt.Sprint(entriesOf(h.anchors(t, b, 0, 10))); got != "[7]" {
		t.Errorf("anchors of %s: %s", b, got)
	}
	if _, ok, _ := LatestAnchor(h.kv, w.unit+"/never"); ok {
		t.Error("a latest anchor for a log never anchored")
	}
	// Keys sort by count: zero-padded to 20 digits, the width of uint64.
	if k := string(AnchorKey(a, 1<<64-1)); k != "anchor/"+a+"#18446744073709551615" {
		t.Errorf("AnchorKey %s", k)
	}
	if k := string(AnchorKey(a, 12)); k != "anchor/"+a+"#00000000000000000012" {
		t.Errorf("AnchorKey %s", k)
	}
}

// TestPublicDataset: the flag is kept as given, written only when set, so
// records without it are byte for byte what they were.
func TestPublicDataset(t *testing.T) {
	w := newShareWorld(t)
	h := w.h
	ds := goodDataset()
	pub := M{}
	for k, v := range ds {
		pub[k] = v
	}
	pub["public"] = true
	h.mustApply(t, w.unitAdmin.tx(t, KindRegister, M{"id": w.unit + "/open", "values": []M{{"type": "DATA", "dataset": pub}}}))
	rec := h.record(t, w.unit+"/open")
	if d := rec.Values[0].Dataset; d == nil || !d.Public {
		t.Fatalf("stored dataset %+v, want public", d)
	}
	if raw := string(h.rawRecord(t, w.unit+"/open")); !strings.Contains(raw, `"media_type":"text/csv","public":true}`) {
		t.Errorf("stored %s", raw)
	}
	// false is the absence of the flag.
	pub["public"] = false
	h.mustApply(t, w.unitAdmin.tx(t, KindRegister, M{"id": w.unit + "/closed", "values": []M{{"type": "DATA", "dataset": pub}}}))
	if raw := string(h.rawRecord(t, w.unit+"/closed")); strings.Contains(raw, "public") {
		t.Errorf("stored %s: a dataset that is not public says nothing", raw)
	}
	if raw := string(h.rawRecord(t, w.dataset)); strings.Contains(raw, "public") {
		t.Errorf("stored %s", raw)
	}
	// Only true or false.
	pub["public"] = "yes"
	if _, err := h.m.Prepare(w.unitAdmin.tx(t, KindRegister, M{"id": w.unit + "/odd", "values": []M{{"type": "DATA", "dataset": pub}}})); err == nil || err.Code != CodeMalformed {
		t.Errorf("public \"yes\": %v, want malformed", err)
	}
	// Through a batch, the compact wire form keeps it.
	pub["public"] = true
	h.mustApply(t, w.unitAdmin.tx(t, KindRegisterBatch, batchMsg([]M{{"id": w.unit + "/batched", "values": []M{{"type": "DATA", "dataset": pub}}}})))
	if d := h.record(t, w.unit+"/batched").Values[0].Dataset; d == nil || !d.Public {
		t.Errorf("batched dataset %+v, want public", d)
	}
}

func TestDatasetOf(t *testing.T) {
	a := Dataset{URI: "https://a.example/a", SHA256: head(1), Size: 1, MediaType: "text/csv", Public: true}
	b := Dataset{URI: "https://a.example/b", SHA256: head(2), Size: 2, MediaType: "text/csv"}
	for _, c := range []struct {
		values []Value
		want   Dataset
		ok     bool
	}{
		{nil, Dataset{}, false},
		{[]Value{{Index: 1, Type: TypeText, Data: "x"}}, Dataset{}, false},
		{[]Value{{Index: 1, Type: TypeText, Data: "x"}, {Index: 2, Type: TypeData, Dataset: &a}, {Index: 3, Type: TypeData, Dataset: &b}}, a, true},
		{[]Value{{Index: 4, Type: TypeData, Dataset: &b}, {Index: 5, Type: TypeData, Dataset: &a}}, b, true},
	} {
		if got, ok := DatasetOf(Record{Values: c.values}); got != c.want || ok != c.ok {
			t.Errorf("%+v: %+v %v, want %+v %v", c.values, got, ok, c.want, c.ok)
		}
	}
}
