package store

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

// commitN commits n versions; a version i with write[i] true sets a key,
// the others change nothing (an empty block).
func commitN(t *testing.T, s *Store, writes ...bool) {
	t.Helper()
	for _, w := range writes {
		if w {
			must(t, s.Set([]byte(fmt.Sprintf("k%03d", s.Version()+1)), []byte(fmt.Sprintf("v%d", s.Version()+1))))
		}
		if _, _, err := s.Commit(); err != nil {
			t.Fatal(err)
		}
	}
}

// Settled follows the last version that changed the root hash, across
// empty versions and a reopen; views at a height report their own.
func TestSettled(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	commitN(t, s, true, true)
	if got := s.Latest().Settled(); got != 2 {
		t.Fatalf("after two writes, settled %d, want 2", got)
	}
	commitN(t, s, false, false)
	if got := s.Latest().Settled(); got != 2 || s.Version() != 4 {
		t.Fatalf("after two empty versions, settled %d at version %d, want 2 at 4", got, s.Version())
	}
	v, err := s.At(2)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(v.Hash(), s.Hash()) || v.Settled() != 2 {
		t.Fatalf("version 2: hash %X settled %d, want the latest's %X and 2", v.Hash(), v.Settled(), s.Hash())
	}
	if v, _ := s.At(3); v.Settled() != 3 {
		t.Fatalf("a view at a height settles at its own version, got %d", v.Settled())
	}
	must(t, s.Close())
	if s, err = Open(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.Latest().Settled(); got != 2 {
		t.Fatalf("reopened: settled %d, want 2", got)
	}
	commitN(t, s, true)
	if got := s.Latest().Settled(); got != 5 {
		t.Fatalf("a write after the reopen: settled %d, want 5", got)
	}
}

// Prune deletes old versions, never the latest nor the one that settled
// its hash; reads of a pruned version say which is the oldest kept, also
// after a reopen.
func TestPrune(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	commitN(t, s, true, true, true, true, true, true)
	if s.Oldest() != 1 {
		t.Fatalf("oldest %d before any prune, want 1", s.Oldest())
	}
	must(t, s.Prune(3))
	if s.Oldest() != 4 {
		t.Fatalf("oldest %d after pruning to 3, want 4", s.Oldest())
	}
	for v := int64(1); v <= 3; v++ {
		_, err := s.At(v)
		var pe *PrunedError
		if !errors.As(err, &pe) || pe.Version != v || pe.Oldest != 4 || !errors.Is(err, ErrNoVersion) {
			t.Fatalf("At(%d) after the prune: %v, want a PrunedError naming 4 that is an ErrNoVersion", v, err)
		}
	}
	for v := int64(4); v <= 6; v++ {
		view, err := s.At(v)
		if err != nil {
			t.Fatalf("At(%d) after the prune: %v", v, err)
		}
		if got, err := view.Get([]byte(fmt.Sprintf("k%03d", v))); err != nil || string(got) != fmt.Sprintf("v%d", v) {
			t.Fatalf("version %d after the prune: %q, %v", v, got, err)
		}
		// What the pruned versions wrote stays in the versions after them.
		if got, err := view.Get([]byte("k001")); err != nil || string(got) != "v1" {
			t.Fatalf("version %d lost the first write after the prune: %q, %v", v, got, err)
		}
	}
	// Two empty versions: the settled one (6) stays whatever is asked.
	commitN(t, s, false, false)
	must(t, s.Prune(s.Version()))
	if s.Oldest() != 6 {
		t.Fatalf("oldest %d after pruning everything, want 6 (the settled version)", s.Oldest())
	}
	if _, _, err := s.Latest().Proof([]byte("k006")); err != nil {
		t.Fatalf("proof at the latest after the prune: %v", err)
	}
	if v, err := s.At(s.Latest().Settled()); err != nil {
		t.Fatalf("the settled version was pruned: %v", err)
	} else if _, _, err := v.Proof([]byte("k002")); err != nil {
		t.Fatalf("proof at the settled version: %v", err)
	}
	must(t, s.Prune(2)) // below the oldest: nothing to do
	must(t, s.Close())
	if s, err = Open(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Oldest() != 6 || s.Version() != 8 {
		t.Fatalf("reopened: oldest %d version %d, want 6 and 8", s.Oldest(), s.Version())
	}
	var pe *PrunedError
	if _, err := s.At(5); !errors.As(err, &pe) || pe.Oldest != 6 {
		t.Fatalf("reopened: At(5) = %v, want a PrunedError naming 6", err)
	}
	if _, err := s.At(9); err == nil || errors.As(err, &pe) || !errors.Is(err, ErrNoVersion) {
		t.Fatalf("At(9) above the latest: %v, want ErrNoVersion and not pruned", err)
	}
}
