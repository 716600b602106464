package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// get reads key from view, failing the test on an error.
func get(t *testing.T, v *View, key string) string {
	t.Helper()
	b, err := v.Get([]byte(key))
	if err != nil {
		t.Fatalf("get %s at %d: %v", key, v.Version(), err)
	}
	return string(b)
}

// AppendGet reads what Get reads, after what its buffer holds, from the
// cache and from the tree, of the latest view and an older one; absent is
// nil either way. The latest view is one value while nothing changes.
func TestAppendGet(t *testing.T) {
	s, err := OpenMemory(Options{})
	if err != nil {
		t.Fatal(err)
	}
	check := func(v *View, key string) {
		t.Helper()
		want, err := v.Get([]byte(key))
		if err != nil {
			t.Fatal(err)
		}
		for range 2 { // a miss, then a hit when the view is the cache's
			got, err := v.AppendGet([]byte("prefix:"), []byte(key))
			if err != nil {
				t.Fatal(err)
			}
			if want == nil && got != nil || want != nil && string(got) != "prefix:"+string(want) {
				t.Fatalf("%s at %d: append-get %q, get %q", key, v.Version(), got, want)
			}
		}
	}
	must(t, s.Set([]byte("k"), []byte("v1")))
	commit(t, s)
	v1 := s.Latest()
	if s.Latest() != v1 {
		t.Fatal("two views of the same latest version")
	}
	check(v1, "k")
	check(v1, "absent")
	must(t, s.Set([]byte("k"), []byte("v2")))
	commit(t, s)
	if s.Latest() == v1 {
		t.Fatal("the view of version 1 given as the latest after a commit")
	}
	check(s.Latest(), "k")
	check(v1, "k") // read from the tree: the cache holds version 2
	must(t, s.Delete([]byte("k")))
	commit(t, s)
	check(s.Latest(), "k")
}

func commit(t *testing.T, s *Store) int64 {
	t.Helper()
	_, v, err := s.Commit()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Every read answers the value of its own view's version, whatever the
// value cache held: after updates, deletes, rollbacks, and from views
// older than the cache.
func TestValueCacheFollowsVersions(t *testing.T) {
	s, err := OpenMemory(Options{})
	if err != nil {
		t.Fatal(err)
	}
	must(t, s.Set([]byte("k"), []byte("v1")))
	must(t, s.Set([]byte("other"), []byte("o1")))
	commit(t, s)
	v1 := s.Latest()
	if got := get(t, v1, "k"); got != "v1" {
		t.Fatalf("k = %q, want v1", got)
	}
	if get(t, v1, "k") != "v1" || get(t, v1, "other") != "o1" {
		t.Fatal("second read differs from the first")
	}
	if st := s.CacheStats(); st.Gets == 0 || st.Entries != 2 {
		t.Fatalf("cache after reads of two keys: %+v; want 2 entries", st)
	}

	must(t, s.Set([]byte("k"), []byte("v2")))
	commit(t, s)
	if got := get(t, s.Latest(), "k"); got != "v2" {
		t.Fatalf("after an update, k = %q, want v2", got)
	}
	// A view of version 1 held across the commit still reads version 1,
	// though the cache now holds version 2's value of k.
	if got := get(t, v1, "k"); got != "v1" {
		t.Fatalf("old view reads k = %q, want v1", got)
	}
	if got := get(t, s.Latest(), "other"); got != "o1" {
		t.Fatalf("an unchanged key reads %q after a commit, want o1", got)
	}

	must(t, s.Set([]byte("k"), []byte("rolled back")))
	s.Rollback()
	commit(t, s) // an empty version
	if got := get(t, s.Latest(), "k"); got != "v2" {
		t.Fatalf("after a rollback, k = %q, want v2", got)
	}

	must(t, s.Delete([]byte("k")))
	v4 := commit(t, s)
	if got := get(t, s.Latest(), "k"); got != "" {
		t.Fatalf("after a delete, k = %q, want absent", got)
	}
	old, err := s.At(v4 - 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := get(t, old, "k"); got != "v2" {
		t.Fatalf("version %d reads k = %q, want v2", v4-1, got)
	}
}

// Readers of the latest version, racing a writer that commits version
// after version and a preload run again and again, always see the values
// of the version they read. Key k is written at every version v with
// (k+v)%3 == 0, so the value a view of version V must hold is known. On
// disk: IAVL iterates goleveldb's live fast index, which a commit under
// way has moved on before the committed view changes.
func TestValueCacheUnderConcurrentCommits(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const keys, versions = 32, 300
	want := func(k int, v int64) string {
		for w := v; w >= 1; w-- {
			if (int64(k)+w)%3 == 0 {
				return fmt.Sprintf("%d@%d", k, w)
			}
		}
		return ""
	}
	var (
		wg   sync.WaitGroup
		done = make(chan struct{})
		errs = make(chan error, 3)
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, err := s.Preload(context.Background(), []byte("key")); err != nil {
				errs <- err
				return
			}
		}
	}()
	for r := 0; r < 2; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				view := s.Latest()
				if view == nil {
					continue
				}
				k := (i*7 + r) % keys
				got, err := view.Get(fmt.Appendf(nil, "key%d", k))
				if err != nil {
					errs <- err
					return
				}
				if w := want(k, view.Version()); string(got) != w {
					errs <- fmt.Errorf("key%d at version %d reads %q, want %q", k, view.Version(), got, w)
					return
				}
			}
		}()
	}
	for v := int64(1); v <= versions; v++ {
		for k := 0; k < keys; k++ {
			if (int64(k)+v)%3 == 0 {
				must(t, s.Set(fmt.Appendf(nil, "key%d", k), fmt.Appendf(nil, "%d@%d", k, v)))
			}
		}
		commit(t, s)
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if st := s.CacheStats(); st.Gets == st.Misses {
		t.Fatalf("the readers never hit the cache: %+v", st)
	}
}

// A store restored from a snapshot, or reset, answers from its new state,
// not from values cached before.
func TestValueCacheAfterImportAndReset(t *testing.T) {
	src, err := OpenMemory(Options{})
	if err != nil {
		t.Fatal(err)
	}
	must(t, src.Set([]byte("k"), []byte("from the snapshot")))
	v := commit(t, src)
	var snap bytes.Buffer
	must(t, src.Export(v, &snap))

	dst, err := OpenMemory(Options{})
	if err != nil {
		t.Fatal(err)
	}
	must(t, dst.Set([]byte("k"), []byte("before the restore")))
	commit(t, dst)
	if got := get(t, dst.Latest(), "k"); got != "before the restore" {
		t.Fatalf("k = %q", got)
	}
	must(t, dst.Reset())
	if dst.Latest() != nil {
		t.Fatal("a reset store still has a version")
	}
	// A state that does not hash to what the caller trusts is never read.
	if _, err := dst.Import(v, bytes.NewReader(snap.Bytes()), []byte("another hash")); err == nil || !strings.Contains(err.Error(), "hashes to") {
		t.Fatalf("import against the wrong hash: %v", err)
	}
	if dst.Latest() != nil {
		t.Fatal("a refused import became readable")
	}
	must(t, dst.Reset())
	if _, err := dst.Import(v, &snap, src.Hash()); err != nil {
		t.Fatal(err)
	}
	if got := get(t, dst.Latest(), "k"); got != "from the snapshot" {
		t.Fatalf("after the restore, k = %q, want the snapshot's value", got)
	}
}

// With the cache turned off, reads go to the tree and nothing is counted.
func TestValueCacheOff(t *testing.T) {
	s, err := OpenMemory(Options{ValueCacheBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	must(t, s.Set([]byte("k"), []byte("v")))
	commit(t, s)
	if got := get(t, s.Latest(), "k"); got != "v" {
		t.Fatalf("k = %q", got)
	}
	if st := s.CacheStats(); st != (CacheStats{}) {
		t.Fatalf("stats of a store without a cache: %+v", st)
	}
}

// Preload reads a prefix's values into the cache, so the first resolve of
// each is a hit, and leaves other prefixes to be read on demand.
func TestPreload(t *testing.T) {
	s, err := OpenMemory(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 500 {
		must(t, s.Set(fmt.Appendf(nil, "id/%04d", i), fmt.Appendf(nil, "record %d", i)))
		must(t, s.Set(fmt.Appendf(nil, "hist/%04d", i), []byte("old")))
	}
	commit(t, s)
	n, err := s.Preload(context.Background(), []byte("id/"))
	if err != nil || n != 500 {
		t.Fatalf("preload: %d values, %v; want 500", n, err)
	}
	before := s.CacheStats()
	view := s.Latest()
	for i := range 500 {
		if got := get(t, view, fmt.Sprintf("id/%04d", i)); got != fmt.Sprintf("record %d", i) {
			t.Fatalf("id/%04d = %q", i, got)
		}
	}
	get(t, view, "hist/0001")
	after := s.CacheStats()
	if after.Gets-before.Gets != 501 || after.Misses-before.Misses != 1 {
		t.Fatalf("after preload: %d lookups, %d misses; want 501 and 1 (the unloaded prefix)",
			after.Gets-before.Gets, after.Misses-before.Misses)
	}
}

// Preload stops when the cache is nearly full rather than evict what it
// loaded, and when its context ends.
func TestPreloadBounded(t *testing.T) {
	s, err := OpenMemory(Options{ValueCacheBytes: 1}) // fastcache's least: 32 MiB
	if err != nil {
		t.Fatal(err)
	}
	value := bytes.Repeat([]byte("v"), 16<<10)
	const values = 3000 // 48 MiB
	for i := range values {
		must(t, s.Set(fmt.Appendf(nil, "id/%04d", i), value))
	}
	commit(t, s)
	n, err := s.Preload(context.Background(), []byte("id/"))
	if err != nil || n >= values || n < values/2 {
		t.Fatalf("preload of 48 MiB into 32 MiB: %d values, %v; want it to stop between %d and %d", n, err, values/2, values)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Preload(ctx, []byte("id/")); !errors.Is(err, context.Canceled) {
		t.Fatalf("preload with an ended context: %v", err)
	}
}

// Version numbers repeat when a state is replaced wholesale (a snapshot
// restored after a reset): a view of the state before holds an older
// epoch, and the cache neither answers it nor takes its values.
func TestValueCacheEpochs(t *testing.T) {
	vc := newValueCache(1)
	key, value := []byte("k"), []byte("v")
	before := vc.currentEpoch()
	vc.reset(5) // a snapshot of version 5 restored
	if vc.fill(before, 5, key, []byte("the old state's")) {
		t.Fatal("a view of the state before the restore filled the cache")
	}
	now := vc.currentEpoch()
	if !vc.fill(now, 5, key, value) {
		t.Fatal("a view of the restored state could not fill the cache")
	}
	if _, ok := vc.get(nil, before, 5, key); ok {
		t.Fatal("the cache answered a view of the state before the restore")
	}
	if got, ok := vc.get(nil, now, 5, key); !ok || string(got) != "v" {
		t.Fatalf("get = %q, %v", got, ok)
	}
	vc.reset(-1) // closed
	if vc.fill(now, 5, key, value) {
		t.Fatal("a closed store's cache took a value")
	}
}
