package store

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

func TestCommitReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Version() != 0 || s.Hash() != nil || s.Latest() != nil {
		t.Fatalf("new store: version %d hash %X", s.Version(), s.Hash())
	}
	if err := s.Set([]byte("a"), []byte("1")); err != nil {
		t.Fatal(err)
	}
	working := s.WorkingHash()
	hash, v, err := s.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if v != 1 || !bytes.Equal(hash, working) {
		t.Fatalf("commit: version %d hash %X, want 1 and the working hash %X", v, hash, working)
	}
	// Uncommitted writes vanish on reopen: what was not committed never
	// happened, and CometBFT replays its block.
	if err := s.Set([]byte("b"), []byte("2")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Version() != 1 || !bytes.Equal(s.Hash(), hash) {
		t.Fatalf("reopened: version %d hash %X, want 1 %X", s.Version(), s.Hash(), hash)
	}
	if got, _ := s.Latest().Get([]byte("b")); got != nil {
		t.Fatalf("uncommitted write survived a reopen: %q", got)
	}
	if got, _ := s.Latest().Get([]byte("a")); string(got) != "1" {
		t.Fatalf("committed write lost: %q", got)
	}
}

// Readers see only committed versions, never the block being applied.
func TestReadsSeeCommittedOnly(t *testing.T) {
	s, err := OpenMemory(Options{})
	if err != nil {
		t.Fatal(err)
	}
	must(t, s.Set([]byte("k"), []byte("v1")))
	if _, _, err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	v1 := s.Latest()
	must(t, s.Set([]byte("k"), []byte("v2")))
	must(t, s.Set([]byte("new"), []byte("x")))
	if got, _ := s.Latest().Get([]byte("k")); string(got) != "v1" {
		t.Fatalf("reader saw the working version: %q", got)
	}
	if got, _ := s.Get([]byte("k")); string(got) != "v2" {
		t.Fatalf("working get: %q", got)
	}
	if _, _, err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	if got, _ := v1.Get([]byte("k")); string(got) != "v1" {
		t.Fatalf("an older view changed under its reader: %q", got)
	}
	if got, _ := s.Latest().Get([]byte("k")); string(got) != "v2" {
		t.Fatalf("latest after commit: %q", got)
	}
	old, err := s.At(1)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := old.Get([]byte("new")); got != nil {
		t.Fatalf("version 1 has a key written at 2: %q", got)
	}
	if _, err := s.At(7); !errors.Is(err, ErrNoVersion) {
		t.Fatalf("At(7): %v, want ErrNoVersion", err)
	}
}

func TestRollbackAndDelete(t *testing.T) {
	s, err := OpenMemory(Options{})
	if err != nil {
		t.Fatal(err)
	}
	must(t, s.Set([]byte("a"), []byte("1")))
	if _, _, err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	committed := s.WorkingHash()
	must(t, s.Set([]byte("b"), []byte("2")))
	must(t, s.Delete([]byte("a")))
	if bytes.Equal(s.WorkingHash(), committed) {
		t.Fatal("writes did not change the working hash")
	}
	s.Rollback()
	if !bytes.Equal(s.WorkingHash(), committed) {
		t.Fatal("rollback did not restore the committed hash")
	}
	if err := s.Set([]byte("x"), nil); err == nil {
		t.Fatal("empty value accepted")
	}
}

func TestIterate(t *testing.T) {
	s, err := OpenMemory(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		must(t, s.Set([]byte(fmt.Sprintf("city/%d", i)), []byte("x")))
	}
	must(t, s.Set([]byte("citz"), []byte("outside")))
	must(t, s.Set([]byte("cit"), []byte("outside")))
	if _, _, err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	var keys []string
	err = s.Latest().Iterate([]byte("city/"), []byte("city/2"), func(k, _ []byte) bool {
		keys = append(keys, string(k))
		return len(keys) < 2
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(keys) != "[city/2 city/3]" {
		t.Fatalf("iterate from city/2, stop after 2: %v", keys)
	}
	keys = nil
	_ = s.Latest().Iterate([]byte("city/"), nil, func(k, _ []byte) bool { keys = append(keys, string(k)); return true })
	if len(keys) != 5 {
		t.Fatalf("iterate prefix: %v", keys)
	}
	if got := prefixEnd([]byte{'a', 0xff}); !bytes.Equal(got, []byte{'b'}) {
		t.Fatalf("prefixEnd(a\\xff) = %q", got)
	}
	if got := prefixEnd([]byte{0xff}); got != nil {
		t.Fatalf("prefixEnd(\\xff) = %q, want nil (no end)", got)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestBase hands out the committed version only while the working version
// is still it: the state a block starts from, which chain.ApplyBlock's
// workers read ahead in.
func TestBase(t *testing.T) {
	s, err := OpenMemory(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Base() != nil {
		t.Fatal("a store with no commit has a base")
	}
	if err := s.Set([]byte("a"), []byte("1")); err != nil {
		t.Fatal(err)
	}
	if s.Base() != nil {
		t.Fatal("a written working version has a base")
	}
	if _, _, err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	b := s.Base()
	if b == nil || b.Version() != 1 {
		t.Fatalf("after the commit: base %v, want version 1", b)
	}
	if err := s.Set([]byte("b"), []byte("2")); err != nil {
		t.Fatal(err)
	}
	if s.Base() != nil {
		t.Fatal("a base after a write")
	}
	if v, err := b.Get([]byte("b")); err != nil || v != nil {
		t.Fatalf("the base handed out before a write sees it: %q, %v", v, err)
	}
	s.Rollback()
	if b := s.Base(); b == nil || b.Version() != 1 {
		t.Fatalf("after a rollback: base %v, want version 1", b)
	}
}
