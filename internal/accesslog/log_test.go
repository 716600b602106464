package accesslog

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

const dsA = "1561301001.85.1/exam-2026"
const dsB = "2500750001/museum"

// fixedClock dates entries one second apart from a fixed instant, so the
// tests do not depend on the wall clock.
func fixedClock() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2026, 12, 5, 4, 35, 0, 123456789, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Second)
		return t
	}
}

func openLog(t testing.TB, root string) *Log {
	t.Helper()
	l, err := OpenWithOptions(root, Options{Now: fixedClock()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func access(ds string, i int) Entry {
	return Entry{
		Dataset: ds, Key: strings.Repeat("ab", 32), Grantee: "2500750001.85", Grant: uint64(i),
		Height: int64(100 + i), Method: "GET", Range: "bytes=0-99", Bytes: int64(i * 10),
		Status: 206, Result: "served", Remote: "127.0.0.1:5555",
	}
}

func appendN(t testing.TB, l *Log, ds string, n int) []Entry {
	t.Helper()
	var out []Entry
	for i := range n {
		e, err := l.Append(access(ds, i))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func all(t testing.TB, l *Log, ds string) []Entry {
	t.Helper()
	var out []Entry
	for {
		page, err := l.Entries(ds, uint64(len(out)), 3) // small pages exercise paging
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return out
		}
		out = append(out, page...)
	}
}

func TestAppendReopen(t *testing.T) {
	root := t.TempDir()
	l := openLog(t, root)
	if n, h, err := l.Head(dsA); n != 0 || h != ZeroHash || err != nil {
		t.Fatalf("empty head: %d %s %v", n, h, err)
	}
	if es, err := l.Entries(dsA, 0, 10); len(es) != 0 || err != nil {
		t.Fatalf("empty entries: %v %v", es, err)
	}
	a := appendN(t, l, dsA, 7)
	appendN(t, l, dsB, 2)
	if a[0].Seq != 1 || a[0].Prev != ZeroHash || a[6].Seq != 7 || a[6].Prev != a[5].Hash || a[0].Time == "" {
		t.Fatalf("chain not filled: %+v", a[:1])
	}
	l.Close()

	l2 := openLog(t, root)
	n, h, err := l2.Head(dsA)
	if err != nil || n != 7 || h != a[6].Hash {
		t.Fatalf("head after reopen: %d %s %v", n, h, err)
	}
	got := all(t, l2, dsA)
	if !reflect.DeepEqual(got, a) {
		t.Fatalf("entries after reopen differ:\n%+v\n%+v", got, a)
	}
	e8, err := l2.Append(access(dsA, 8))
	if err != nil || e8.Seq != 8 || e8.Prev != a[6].Hash {
		t.Fatalf("append after reopen: %+v %v", e8, err)
	}
	got = all(t, l2, dsA)
	if r := Verify(got, []AnchorHead{{3, got[2].Hash}, {8, e8.Hash}}); !r.OK || r.Anchored != 8 || r.Entries != 8 {
		t.Fatalf("verify: %+v", r)
	}
	ds, err := l2.Datasets()
	if err != nil || !reflect.DeepEqual(ds, []string{dsA, dsB}) {
		t.Fatalf("datasets: %v %v", ds, err)
	}
	if page, _ := l2.Entries(dsA, 6, 0); len(page) != 2 || page[0].Seq != 7 {
		t.Fatalf("page after 6: %+v", page)
	}
}

// Text from the request is kept to valid UTF-8 of bounded length, so what
// was hashed is what reads back.
func TestAppendCleansText(t *testing.T) {
	root := t.TempDir()
	l := openLog(t, root)
	e := access(dsA, 1)
	e.Range = "bytes=\xff\xfe" + strings.Repeat("é", MaxFieldBytes)
	e.Remote = "<script>&"
	got, err := l.Append(e)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Range) > MaxFieldBytes || !strings.HasPrefix(got.Range, "bytes=\uFFFD") {
		t.Fatalf("range kept as %d bytes %q…", len(got.Range), got.Range[:12])
	}
	l.Close()
	es := all(t, openLog(t, root), dsA)
	if r := Verify(es, nil); !r.OK || es[0].Range != got.Range || es[0].Remote != e.Remote {
		t.Fatalf("read back: %+v", r)
	}
	for _, bad := range []string{"", strings.Repeat("x", MaxDatasetBytes+1), "\xff"} {
		if _, err := l.Append(access(bad, 1)); err == nil {
			t.Errorf("dataset %q accepted", bad)
		}
	}
}

func TestTornTailIsCutWithANote(t *testing.T) {
	for _, tail := range []string{`{"seq":4,"time":"2026`, "", "{}"} {
		t.Run(fmt.Sprintf("%q", tail), func(t *testing.T) {
			root := t.TempDir()
			l := openLog(t, root)
			a := appendN(t, l, dsA, 3)
			l.Close()
			path := filepath.Join(root, FileName(dsA))
			whole, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			torn := tail
			if torn == "" { // the last entry's own line without its newline
				torn = string(whole[strings.LastIndexByte(string(whole[:len(whole)-1]), '\n')+1 : len(whole)-1])
				whole = whole[:strings.LastIndexByte(string(whole[:len(whole)-1]), '\n')+1]
				a = a[:2]
			}
			if err := os.WriteFile(path, append(whole, torn...), 0o640); err != nil {
				t.Fatal(err)
			}
			crashMark(t, path, int64(len(whole)))
			var noted []string
			l2, err := OpenWithOptions(root, Options{Now: fixedClock(), Note: func(m string) { noted = append(noted, m) }})
			if err != nil {
				t.Fatal(err)
			}
			defer l2.Close()
			n, h, err := l2.Head(dsA)
			if err != nil || n != uint64(len(a)) || h != a[len(a)-1].Hash {
				t.Fatalf("head: %d %v", n, err)
			}
			if len(noted) != 1 || !strings.Contains(noted[0], "torn") || len(l2.Notes()) != 1 {
				t.Fatalf("notes: %q", noted)
			}
			if side := sideFiles(t, root); len(side) != 1 || !strings.Contains(noted[0], side[0]) {
				t.Fatalf("side files: %q", side)
			} else if kept, err := os.ReadFile(side[0]); err != nil || string(kept) != torn {
				t.Fatalf("kept aside %q (%v), cut %q", kept, err, torn)
			}
			if _, err := l2.Append(access(dsA, 9)); err != nil {
				t.Fatal(err)
			}
			if r := Verify(all(t, l2, dsA), nil); !r.OK || r.Entries != uint64(len(a))+1 {
				t.Fatalf("after cutting: %+v", r)
			}
		})
	}
}

func TestMalformedLineIsAnErrorNamingFileAndLine(t *testing.T) {
	for name, bad := range map[string]string{
		"garbage":       "not json\n",
		"unknown field": `{"seq":2,"extra":1}` + "\n",
		"empty line":    "\n",
		"two values":    `{"seq":2} {"seq":3}` + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			l := openLog(t, root)
			appendN(t, l, dsA, 3)
			l.Close()
			path := filepath.Join(root, FileName(dsA))
			b, _ := os.ReadFile(path)
			lines := strings.SplitAfter(string(b), "\n")
			lines[1] = bad
			os.WriteFile(path, []byte(strings.Join(lines, "")), 0o640)
			l2 := openLog(t, root)
			for _, err := range []error{
				func() error { _, _, err := l2.Head(dsA); return err }(),
				func() error { _, err := l2.Append(access(dsA, 1)); return err }(),
				func() error { _, err := l2.Entries(dsA, 0, 0); return err }(),
			} {
				if err == nil || !strings.Contains(err.Error(), path+" line 2") {
					t.Fatalf("error %v does not name %s line 2", err, path)
				}
			}
			after, _ := os.ReadFile(path)
			if string(after) != strings.Join(lines, "") {
				t.Fatal("the log was rewritten")
			}
		})
	}
}

// A log edited on disk is served as it is (so its reader finds the edit)
// but never extended.
func TestTamperedFileIsReadButNotExtended(t *testing.T) {
	root := t.TempDir()
	l := openLog(t, root)
	appendN(t, l, dsA, 4)
	l.Close()
	path := filepath.Join(root, FileName(dsA))
	b, _ := os.ReadFile(path)
	edited := strings.Replace(string(b), `"bytes":20`, `"bytes":2`, 1)
	if edited == string(b) {
		t.Fatal("test did not edit the log")
	}
	os.WriteFile(path, []byte(edited), 0o640)
	l2 := openLog(t, root)
	es := all(t, l2, dsA)
	if r := Verify(es, nil); r.OK || r.Code != ProblemHash || r.At != 3 {
		t.Fatalf("verify of the edited log: %+v", r)
	}
	if _, err := l2.Append(access(dsA, 5)); err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("append to an edited log: %v", err)
	}
}

func TestConcurrentAppends(t *testing.T) {
	root := t.TempDir()
	l := openLog(t, root)
	const writers, each = 8, 25
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ds := dsA
			if w%4 == 3 {
				ds = dsB
			}
			for i := range each {
				if _, err := l.Append(access(ds, i)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	a, b := all(t, l, dsA), all(t, l, dsB)
	if len(a) != 6*each || len(b) != 2*each {
		t.Fatalf("%d and %d entries", len(a), len(b))
	}
	for _, es := range [][]Entry{a, b} {
		if r := Verify(es, nil); !r.OK {
			t.Fatalf("verify: %+v", r)
		}
	}
}

func TestFileNames(t *testing.T) {
	for _, ds := range []string{dsA, dsB, "1561301001", ".hidden", "a/../../b", "x%2Fy", "é", "a b"} {
		name := FileName(ds)
		if strings.ContainsAny(name, "/\x00") || strings.HasPrefix(name, ".") {
			t.Errorf("%q → unsafe name %q", ds, name)
		}
		if back, ok := DatasetOf(name); !ok || back != ds {
			t.Errorf("%q → %q → %q, %v", ds, name, back, ok)
		}
	}
	if FileName(dsA) != "1561301001.85.1%2Fexam-2026.log" {
		t.Errorf("file name %q", FileName(dsA))
	}
	for _, name := range []string{"x.txt", ".log", "a%2.log", "a%zz.log", "a%61.log", "a/b.log"} {
		if ds, ok := DatasetOf(name); ok {
			t.Errorf("%q taken for the log of %q", name, ds)
		}
	}
	root := t.TempDir()
	l := openLog(t, root)
	appendN(t, l, dsB, 1)
	os.WriteFile(filepath.Join(root, "notes.txt"), nil, 0o640)
	os.Mkdir(filepath.Join(root, "dir.log"), 0o750)
	if ds, err := l.Datasets(); err != nil || !reflect.DeepEqual(ds, []string{dsB}) {
		t.Fatalf("datasets %v %v", ds, err)
	}
}

func BenchmarkAppend(b *testing.B) {
	l := openLog(b, b.TempDir())
	e := access(dsA, 1)
	for b.Loop() {
		if _, err := l.Append(e); err != nil {
			b.Fatal(err)
		}
	}
}

// Appends from 16 goroutines a core to one dataset, as concurrent requests
// make them: they share fsyncs (group commit), so compare its ns/op with
// BenchmarkAppend's in the same run.
func BenchmarkAppendParallel(b *testing.B) {
	l := openLog(b, b.TempDir())
	e := access(dsA, 1)
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := l.Append(e); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func TestCloseThenUse(t *testing.T) {
	root := t.TempDir()
	l := openLog(t, root)
	appendN(t, l, dsA, 2)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// A closed log reopens its files on use.
	if e, err := l.Append(access(dsA, 3)); err != nil || e.Seq != 3 {
		t.Fatalf("%+v %v", e, err)
	}
}

// Pages deep in a long log (read from the index) are the same entries as
// a read from the top, also after the file was edited behind the log's back
// so that the index points into the middle of lines.
func TestDeepPagesAndAnEditedFile(t *testing.T) {
	root := t.TempDir()
	l := openLog(t, root)
	const n = 3*indexEvery + 10
	var wg sync.WaitGroup
	for w := range 8 { // concurrent, so that group commit keeps this quick
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				if _, err := l.Append(access(dsA, i)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	whole, err := l.Entries(dsA, 0, 0)
	if err != nil || len(whole) != n {
		t.Fatalf("%d entries, %v", len(whole), err)
	}
	for _, after := range []uint64{indexEvery - 1, indexEvery, indexEvery + 1, 2*indexEvery + 500, n - 1, n, n + 5} {
		got, err := l.Entries(dsA, after, 7)
		want := whole[min(after, n):min(after+7, n)]
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("after %d: %d entries (first %+v), want %d; %v", after, len(got), got[:min(1, len(got))], len(want), err)
		}
	}
	// Shorten line 5, shifting every later line by a byte.
	path := filepath.Join(root, FileName(dsA))
	b, _ := os.ReadFile(path)
	lines := strings.SplitAfter(string(b), "\n")
	lines[4] = strings.Replace(lines[4], `"status":206`, `"status":20`, 1)
	os.WriteFile(path, []byte(strings.Join(lines, "")), 0o640)
	got, err := l.Entries(dsA, 2*indexEvery, 3)
	if err != nil || len(got) != 3 || got[0].Seq != 2*indexEvery+1 {
		t.Fatalf("page of the edited file: %+v %v", got, err)
	}
	var all []Entry
	for len(all) < n {
		p, err := l.Entries(dsA, uint64(len(all)), 1000)
		if err != nil || len(p) == 0 {
			t.Fatalf("paging the edited file at %d: %v", len(all), err)
		}
		all = append(all, p...)
	}
	if r := Verify(all, []AnchorHead{{n, whole[n-1].Hash}}); r.OK || r.Code != ProblemHash || r.At != 5 {
		t.Fatalf("verify of the edited file: %+v", r)
	}
}

// Close while appends are under way: every Append still succeeds, once,
// and the chain holds.
func TestCloseDuringAppends(t *testing.T) {
	root := t.TempDir()
	l := openLog(t, root)
	var wg sync.WaitGroup
	const writers, each = 4, 40
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if _, err := l.Append(access(dsA, i)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for range 20 {
		if err := l.Close(); err != nil {
			t.Error(err)
		}
	}
	wg.Wait()
	es := all(t, l, dsA)
	if r := Verify(es, nil); !r.OK || len(es) != writers*each {
		t.Fatalf("%d entries: %+v", len(es), r)
	}
}

// TestLineBound: an entry whose line would pass MaxLineBytes (a request
// target as long as a server lets in) is refused and never written, and
// the log goes on; text that is not UTF-8 in the request as signed is
// kept as valid UTF-8, so the entry reads back with the hash it has.
func TestLineBound(t *testing.T) {
	l, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	const ds = "1561301001.85.1/x"
	if _, err := l.Append(Entry{Dataset: ds, Method: "GET", Status: 200, Result: "served", Target: "http://n/" + strings.Repeat("\"", MaxLineBytes/2)}); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Fatalf("an entry of a line past the bound: %v, want a refusal", err)
	}
	e, err := l.Append(Entry{Dataset: ds, Method: "GET", Status: 200, Result: "served", Key: "k", Target: "http://n/v1/data/\xff", SigInput: "sig1=(\xfe)", Sig: "sig1=:x:"})
	if err != nil {
		t.Fatalf("the next entry: %v", err)
	}
	if e.Seq != 1 {
		t.Errorf("the next entry is %d, want 1: the refused one took no place", e.Seq)
	}
	got, err := l.Entries(ds, 0, 10)
	if err != nil || len(got) != 1 || got[0].Hash != e.Hash || got[0].ComputeHash() != e.Hash {
		t.Fatalf("read back: %+v (%v), want the entry with its hash", got, err)
	}
}

// Status names the last entry that names a grantee, as written and as
// read back after a reopen, so the anchoring loop can tell a grantee's
// access from anonymous growth.
func TestStatusLastGrantee(t *testing.T) {
	root := t.TempDir()
	l := openLog(t, root)
	status := func(l *Log, want Status) {
		t.Helper()
		if got, err := l.Status(dsA); err != nil || got != want {
			t.Fatalf("status %+v (%v), want %+v", got, err, want)
		}
	}
	status(l, Status{Head: ZeroHash})
	anon := Entry{Dataset: dsA, Method: "GET", Status: 200, Result: "served"}
	var last Entry
	for _, e := range []Entry{anon, access(dsA, 1), anon, anon} {
		var err error
		if last, err = l.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	status(l, Status{Entries: 4, Head: last.Hash, LastGrantee: 2})
	l.Close()
	l2 := openLog(t, root)
	status(l2, Status{Entries: 4, Head: last.Hash, LastGrantee: 2})
	if last, _ = l2.Append(anon); last.Seq != 5 {
		t.Fatalf("append after reopen: %+v", last)
	}
	status(l2, Status{Entries: 5, Head: last.Hash, LastGrantee: 2})
}

// Entries of AppendDeferred take their place in the chain without an
// fsync each: the next Append's fsync, a read of the log or Close makes
// them durable, and a stream of them fsyncs about once per
// DeferredSyncEvery, not once each.
func TestAppendDeferred(t *testing.T) {
	root := t.TempDir()
	l := openLog(t, root)
	appendN(t, l, dsA, 1)
	start, began := l.Syncs(), time.Now()
	var want []Entry
	for i := range 200 {
		e, err := l.AppendDeferred(access(dsA, i))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, e)
	}
	// Bounded by the time the stream took: on a machine that stalls, a
	// second's worth of waiting may have been fsynced.
	if got, most := l.Syncs()-start, uint64(time.Since(began)/DeferredSyncEvery); got > most {
		t.Fatalf("200 deferred entries in %v cost %d fsyncs, want at most %d", time.Since(began), got, most)
	}
	if want[0].Seq != 2 || want[199].Seq != 201 || want[1].Prev != want[0].Hash {
		t.Fatalf("deferred entries out of the chain: %+v, %+v", want[0], want[199])
	}
	// An Append covers them with its one fsync.
	before := l.Syncs()
	e, err := l.Append(access(dsA, 1000))
	if err != nil || e.Seq != 202 || e.Prev != want[199].Hash {
		t.Fatalf("append after deferred ones: %+v %v", e, err)
	}
	if l.Syncs() != before+1 {
		t.Fatalf("the append cost %d fsyncs, want 1", l.Syncs()-before)
	}
	// A read shows deferred entries: it makes them durable first.
	if _, err := l.AppendDeferred(access(dsA, 2000)); err != nil {
		t.Fatal(err)
	}
	if st, err := l.Status(dsA); err != nil || st.Entries != 203 {
		t.Fatalf("status after a deferred entry: %+v %v, want 203 entries", st, err)
	}
	if _, err := l.AppendDeferred(access(dsA, 3000)); err != nil {
		t.Fatal(err)
	}
	if got := all(t, l, dsA); len(got) != 204 || Verify(got, nil).OK != true {
		t.Fatalf("entries after a deferred one: %d, verify %+v", len(got), Verify(got, nil))
	}
	// Close makes the last durable; they read back after a reopen.
	if _, err := l.AppendDeferred(access(dsA, 4000)); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if got := all(t, openLog(t, root), dsA); len(got) != 205 || !Verify(got, nil).OK {
		t.Fatalf("after reopen: %d entries, verify %+v", len(got), Verify(got, nil))
	}
}

// An entry of AppendDeferred that no other fsync covers is made durable
// by the timer it arms, DeferredSyncEvery after it: one timer for all the
// entries that wait, whose run (called here, rather than waited for) is
// one fsync.
func TestAppendDeferredTimer(t *testing.T) {
	l := openLog(t, t.TempDir())
	for i := range 3 {
		if _, err := l.AppendDeferred(access(dsA, i)); err != nil {
			t.Fatal(err)
		}
	}
	d, err := l.dataset(dsA)
	if err != nil {
		t.Fatal(err)
	}
	d.mu.Lock()
	armed, durable := d.timer != nil, d.durSeq
	d.mu.Unlock()
	if !armed || durable != 0 {
		t.Fatalf("after 3 deferred entries: timer armed %v, %d durable; want armed, 0", armed, durable)
	}
	before := l.Syncs()
	l.flushDeferred(d)
	d.mu.Lock()
	armed, durable = d.timer != nil, d.durSeq
	d.mu.Unlock()
	if l.Syncs() != before+1 || durable != 3 || armed {
		t.Fatalf("the timer's run: %d fsyncs, %d durable, armed %v; want 1, 3, not armed", l.Syncs()-before, durable, armed)
	}
	l.flushDeferred(d) // a run with nothing waiting costs nothing
	if l.Syncs() != before+1 {
		t.Fatalf("a run with nothing waiting fsynced")
	}
}
