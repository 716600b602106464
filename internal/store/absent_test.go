package store

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// absentByGet is Absent's definition: a Get each.
func absentByGet(t *testing.T, v *View, keys [][]byte) []bool {
	t.Helper()
	want := make([]bool, len(keys))
	for i, k := range keys {
		value, err := v.Get(k)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = value == nil
	}
	return want
}

func checkAbsent(t *testing.T, v *View, keys [][]byte) {
	t.Helper()
	got, err := v.Absent(keys)
	if err != nil {
		t.Fatal(err)
	}
	if want := absentByGet(t, v, keys); !slices.Equal(got, want) {
		t.Fatalf("Absent(%q)\n= %v, a Get each says\n  %v", keys, got, want)
	}
}

func key(n int) []byte { return fmt.Appendf(nil, "r/1561101001.84.1/c%06d", n) }

// TestAbsentAgreesWithGet holds Absent to a Get each, over key sets that
// run through empty stretches, interleave with held keys, sit at the
// tree's ends and past them, and exhaust the walk's budget.
func TestAbsentAgreesWithGet(t *testing.T) {
	s, err := Open(t.TempDir(), Options{ValueCacheBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Held: every third key below 3,000, and 5,000-5,099.
	for n := 0; n < 3000; n += 3 {
		must(t, s.Set(key(n), []byte("v")))
	}
	for n := 5000; n < 5100; n++ {
		must(t, s.Set(key(n), []byte("v")))
	}
	must(t, s.Set([]byte("a"), []byte("v"))) // before every key asked
	must(t, s.Set([]byte("z"), []byte("v"))) // after
	if _, _, err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	v := s.Latest()
	keys := func(from, to, step int) [][]byte {
		var ks [][]byte
		for n := from; n < to; n += step {
			ks = append(ks, key(n))
		}
		return ks
	}
	cases := map[string][][]byte{
		"none":                  nil,
		"one held":              keys(3, 4, 1),
		"one absent":            keys(4, 5, 1),
		"a free run":            keys(3001, 5000, 1),
		"a free run, ends held": keys(2997, 5001, 1),
		"interleaved":           keys(0, 3000, 1),
		"interleaved, sparse":   keys(0, 3000, 7),
		"held only":             keys(5000, 5100, 1),
		"across everything":     keys(0, 6000, 2),
		"past the end":          keys(9000, 9500, 1),
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for r := range 20 {
		var ks [][]byte
		for n := 0; n < 6000; n++ {
			if rng.IntN(10) < r%10+1 {
				ks = append(ks, key(n))
			}
		}
		cases[fmt.Sprintf("random %d", r)] = ks
	}
	for name, ks := range cases {
		t.Run(name, func(t *testing.T) { checkAbsent(t, v, ks) })
	}
	// What it is for: a run of new keys is judged by the walk alone, held
	// ends or not, however long the run; keys that interleave with many
	// held ones fall back to a read each past the budget.
	for _, name := range []string{"a free run", "a free run, ends held", "past the end", "held only"} {
		if _, gets, err := v.absent(cases[name]); err != nil || gets > 0 {
			t.Errorf("%s: %d keys read one by one (%v), want none", name, gets, err)
		}
	}
	if _, gets, err := v.absent(cases["interleaved, sparse"]); err != nil || gets == 0 {
		t.Errorf("interleaved, sparse: %d keys read one by one (%v), want the budget spent", gets, err)
	}
}

// The answer is the view's version's, not the latest one's: Absent reads
// the version's tree, where the fast index holds only the latest.
func TestAbsentIsOfTheViewsVersion(t *testing.T) {
	s, err := OpenMemory(Options{ValueCacheBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	must(t, s.Set(key(1), []byte("v")))
	if _, _, err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	old := s.Latest()
	must(t, s.Set(key(2), []byte("v")))
	must(t, s.Delete(key(1)))
	if _, _, err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	got, err := old.Absent([][]byte{key(0), key(1), key(2), key(3)})
	if err != nil {
		t.Fatal(err)
	}
	if want := []bool{true, false, true, true}; !slices.Equal(got, want) {
		t.Fatalf("version 1 after version 2: %v, want %v", got, want)
	}
	checkAbsent(t, s.Latest(), [][]byte{key(0), key(1), key(2), key(3)})
}

func TestAbsentEmptyStore(t *testing.T) {
	s, err := OpenMemory(Options{})
	if err != nil {
		t.Fatal(err)
	}
	must(t, s.Set([]byte("x"), []byte("v")))
	must(t, s.Delete([]byte("x")))
	if _, _, err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	checkAbsent(t, s.Latest(), [][]byte{key(1), key(2)})
}

func TestAbsentRefusesUnorderedKeys(t *testing.T) {
	s, err := OpenMemory(Options{})
	if err != nil {
		t.Fatal(err)
	}
	must(t, s.Set(key(1), []byte("v")))
	if _, _, err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, ks := range [][][]byte{{key(2), key(1)}, {key(1), key(1)}} {
		if _, err := s.Latest().Absent(ks); err == nil || !strings.Contains(err.Error(), "does not come after") {
			t.Errorf("Absent(%q): %v, want an order error", ks, err)
		}
	}
}

// BenchmarkAbsent compares Absent with a Get each for a batch of 5,000
// new identifiers next to a million held ones.
func BenchmarkAbsent(b *testing.B) {
	s, err := Open(b.TempDir(), Options{ValueCacheBytes: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const held = 200_000
	for n := range held {
		if err := s.Set(key(2*n), []byte("a record of about a hundred bytes, as the registry writes them, more or less")); err != nil {
			b.Fatal(err)
		}
	}
	if _, _, err := s.Commit(); err != nil {
		b.Fatal(err)
	}
	v := s.Latest()
	batch := make([][]byte, 5000)
	for i := range batch {
		batch[i] = key(2*held + i)
	}
	b.Run("absent", func(b *testing.B) {
		for b.Loop() {
			if _, err := v.Absent(batch); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/key")
	})
	b.Run("absent-one", func(b *testing.B) {
		for b.Loop() {
			if _, err := v.Absent(batch[:1]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("get-each", func(b *testing.B) {
		for b.Loop() {
			for _, k := range batch {
				if _, err := v.Get(k); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/key")
	})
}

// Absent reads a committed version while the next block writes the
// working one, as CheckTx and the block's workers do (run with -race).
func TestAbsentWhileWriting(t *testing.T) {
	s, err := Open(t.TempDir(), Options{CacheNodes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for n := 0; n < 20_000; n += 2 {
		must(t, s.Set(key(n), []byte("v")))
	}
	if _, _, err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	v := s.Latest()
	keys := make([][]byte, 0, 20_000)
	for n := range 20_000 {
		keys = append(keys, key(n))
	}
	want := absentByGet(t, v, keys)
	done := make(chan error, 1)
	go func() {
		for range 20 {
			got, err := v.Absent(keys)
			if err != nil {
				done <- err
				return
			}
			if !slices.Equal(got, want) {
				done <- fmt.Errorf("Absent changed while the working version was written")
				return
			}
		}
		done <- nil
	}()
	for n := 1; n < 20_000; n += 2 {
		must(t, s.Set(key(n), []byte("w")))
		if n%2000 == 1 {
			s.WorkingHash()
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
