package accesslog

import (
	"slices"
	"strings"
	"testing"
)

// chain builds a sound log of n entries without touching disk.
func chain(n int) []Entry {
	var out []Entry
	prev := ZeroHash
	for i := range n {
		e := access(dsA, i)
		e.Seq, e.Prev = uint64(i+1), prev
		e.Time = "2026-12-05T04:35:0" + string(rune('0'+i%10)) + ".5Z"
		e.Hash = e.ComputeHash()
		prev = e.Hash
		out = append(out, e)
	}
	return out
}

// The exact bytes hashed, and the hash, are pinned: a change to either
// breaks every log already written and every anchor on the ledger.
func TestCanonicalBytesGolden(t *testing.T) {
	e := Entry{Seq: 1, Time: "2026-12-05T04:35:00.123456789Z", Dataset: dsA, Key: "k", Grant: 3,
		Height: -1, Method: "GET", Bytes: 4096, Status: 200, Result: "served", Prev: ZeroHash, Hash: "ignored"}
	want := "cityid-accesslog-v1\n" +
		"seq=1:1\ntime=30:2026-12-05T04:35:00.123456789Z\ndataset=25:1561301001.85.1/exam-2026\n" +
		"key=1:k\ngrantee=0:\ngrant=1:3\nheight=2:-1\nmethod=3:GET\nrange=0:\nbytes=4:4096\n" +
		"status=3:200\nresult=6:served\nremote=0:\ntarget=0:\nsig_input=0:\nsig=0:\nprev=64:" + ZeroHash + "\n"
	if got := string(e.CanonicalBytes()); got != want {
		t.Fatalf("canonical bytes:\n%s\nwant:\n%s", got, want)
	}
	const wantHash = "4cd9e2a61f7271ccbe52bfaf68b32a01907df64b9c2e6163f06e367edb46b681" // sha256sum of want (Python hashlib)
	if got := e.ComputeHash(); got != wantHash {
		t.Fatalf("hash %s, want %s", got, wantHash)
	}
	// A field's content cannot move into its neighbour.
	f := e
	f.Key, f.Grantee = "", "k"
	if f.ComputeHash() == e.ComputeHash() {
		t.Fatal("moving a value to the next field keeps the hash")
	}
}

func TestVerifySoundLog(t *testing.T) {
	es := chain(10)
	for _, tc := range []struct {
		anchors  []AnchorHead
		anchored uint64
	}{
		{nil, 0},
		{[]AnchorHead{{0, ZeroHash}}, 0},
		{[]AnchorHead{{10, es[9].Hash}, {4, es[3].Hash}}, 10},
		{[]AnchorHead{{4, es[3].Hash}, {4, es[3].Hash}}, 4},
	} {
		if r := Verify(es, tc.anchors); !r.OK || r.Entries != 10 || r.Anchored != tc.anchored || r.Problem != "" {
			t.Errorf("anchors %v: %+v", tc.anchors, r)
		}
	}
	if r := Verify(nil, nil); !r.OK || r.Entries != 0 {
		t.Errorf("empty log: %+v", r)
	}
}

// Every field of entry 4 changed in turn: Verify names entry 4 and the
// reason. Hash and Prev changes surface as the link they break.
func TestVerifyTamperedField(t *testing.T) {
	for _, tc := range []struct {
		field  string
		change func(e *Entry)
		code   string
		at     uint64
	}{
		{"seq", func(e *Entry) { e.Seq = 40 }, ProblemSeq, 4},
		{"time", func(e *Entry) { e.Time = "2026-12-05T04:35:09.5Z" }, ProblemHash, 4},
		{"dataset", func(e *Entry) { e.Dataset = dsB }, ProblemDataset, 4},
		{"key", func(e *Entry) { e.Key = "" }, ProblemHash, 4},
		{"grantee", func(e *Entry) { e.Grantee = "2500750001" }, ProblemHash, 4},
		{"grant", func(e *Entry) { e.Grant++ }, ProblemHash, 4},
		{"height", func(e *Entry) { e.Height-- }, ProblemHash, 4},
		{"method", func(e *Entry) { e.Method = "HEAD" }, ProblemHash, 4},
		{"range", func(e *Entry) { e.Range = "" }, ProblemHash, 4},
		{"bytes", func(e *Entry) { e.Bytes = 0 }, ProblemHash, 4},
		{"status", func(e *Entry) { e.Status = 403 }, ProblemHash, 4},
		{"result", func(e *Entry) { e.Result = "no_grant" }, ProblemHash, 4},
		{"remote", func(e *Entry) { e.Remote = "10.0.0.1:1" }, ProblemHash, 4},
		{"target", func(e *Entry) { e.Target = "http://other/" }, ProblemHash, 4},
		{"sig_input", func(e *Entry) { e.SigInput = `sig1=("@method");created=1` }, ProblemHash, 4},
		{"sig", func(e *Entry) { e.Sig = "sig1=:AA==:" }, ProblemHash, 4},
		{"prev", func(e *Entry) { e.Prev = ZeroHash }, ProblemPrev, 4},
		{"hash", func(e *Entry) { e.Hash = strings.Repeat("1", 64) }, ProblemHash, 4},
		// Rehashing the changed entry moves the break to the next link.
		{"bytes rehashed", func(e *Entry) { e.Bytes = 0; e.Hash = e.ComputeHash() }, ProblemPrev, 5},
	} {
		t.Run(tc.field, func(t *testing.T) {
			es := chain(8)
			tc.change(&es[3])
			r := Verify(es, nil)
			if r.OK || r.Code != tc.code || r.At != tc.at || r.Problem == "" {
				t.Fatalf("got %+v, want %s at %d", r, tc.code, tc.at)
			}
		})
	}
	// Every field is covered: the table names each JSON field of Entry.
	fields := map[string]bool{}
	for _, line := range strings.Split(string(Entry{}.CanonicalBytes()), "\n")[1:] {
		if name, _, ok := strings.Cut(line, "="); ok {
			fields[name] = true
		}
	}
	if len(fields) != 17 {
		t.Fatalf("canonical encoding has %d fields", len(fields))
	}
}

func TestVerifyStructuralTampering(t *testing.T) {
	sound := chain(8)
	for _, tc := range []struct {
		name    string
		entries []Entry
		anchors []AnchorHead
		code    string
		at      uint64
	}{
		{"deleted entry", slices.Delete(slices.Clone(sound), 2, 3), nil, ProblemSeq, 3},
		{"deleted first", sound[1:], nil, ProblemSeq, 1},
		{"reordered", append(append(slices.Clone(sound[:2]), sound[3], sound[2]), sound[4:]...), nil, ProblemSeq, 3},
		{"duplicated", append(slices.Clone(sound[:5]), sound[4:]...), nil, ProblemSeq, 6},
		{"truncated below an anchor", sound[:5], []AnchorHead{{3, sound[2].Hash}, {7, sound[6].Hash}}, ProblemTruncated, 7},
		{"truncated to nothing", nil, []AnchorHead{{1, sound[0].Hash}}, ProblemTruncated, 1},
		{"anchor mismatch", sound, []AnchorHead{{6, sound[5].Hash}, {4, sound[4].Hash}}, ProblemAnchorMismatch, 4},
		{"anchor of nothing with a head", sound, []AnchorHead{{0, sound[0].Hash}}, ProblemAnchorMismatch, 0},
		{"rewritten tail, rechained", rechain(sound, 5), []AnchorHead{{8, sound[7].Hash}}, ProblemAnchorMismatch, 8},
		{"earliest failure first", func() []Entry { es := slices.Clone(sound); es[6].Bytes++; return es }(),
			[]AnchorHead{{3, "bad"}}, ProblemAnchorMismatch, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Verify(tc.entries, tc.anchors)
			if r.OK || r.Code != tc.code || r.At != tc.at {
				t.Fatalf("got %+v, want %s at %d", r, tc.code, tc.at)
			}
		})
	}
}

// rechain changes entry from (1-based) and rebuilds the chain after it, as
// an owner rewriting its history consistently would.
func rechain(es []Entry, from int) []Entry {
	out := slices.Clone(es)
	out[from-1].Result = "refused"
	for i := from - 1; i < len(out); i++ {
		if i > 0 {
			out[i].Prev = out[i-1].Hash
		}
		out[i].Hash = out[i].ComputeHash()
	}
	return out
}
