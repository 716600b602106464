package datastore

import "testing"

// TestRefs: a ref names a blob for an identifier, survives reopening,
// is one per identifier, and refuses what is no blob name.
func TestRefs(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, b := hex64('a'), hex64('b')
	if err := s.Bind("1561301001.85.1/flow", a); err != nil {
		t.Fatal(err)
	}
	if err := s.Bind("1561301001.85.1/flow", b); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok, err := s2.Bound("1561301001.85.1/flow"); err != nil || !ok || got != b {
		t.Errorf("bound %q %v %v, want the last bound %s", got, ok, err, b)
	}
	if _, ok, err := s2.Bound("1561301001.85.1/other"); ok || err != nil {
		t.Errorf("an identifier never bound: %v %v", ok, err)
	}
	if err := s2.Bind("x", "../../etc/passwd"); err == nil {
		t.Error("a ref to a path was taken")
	}
	if err := s2.Unbind("1561301001.85.1/flow"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s2.Bound("1561301001.85.1/flow"); ok {
		t.Error("unbound, still bound")
	}
	if free, ok := s2.FreeBytes(); ok && free <= 0 {
		t.Errorf("free space %d", free)
	}
}

func hex64(c byte) string {
	b := make([]byte, 64)
	for i := range b {
		b[i] = c
	}
	return string(b)
}

// TestBoundCached: Bound reads a ref's file once and answers from memory
// while the file is unchanged; a Bind or an Unbind, here or by another
// store on the same folder (cityid data mirror, in another process), is
// seen at the next call.
func TestBoundCached(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	other, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	const id = "1561301001.85.1/flow"
	a, b := hex64('a'), hex64('b')
	bound := func(want string) {
		t.Helper()
		got, ok, err := s.Bound(id)
		if err != nil || ok != (want != "") || got != want {
			t.Fatalf("Bound: %q %v %v, want %q", got, ok, err, want)
		}
	}
	if err := s.Bind(id, a); err != nil {
		t.Fatal(err)
	}
	for range 100 {
		bound(a)
	}
	if n := s.refs.reads.Load(); n != 1 {
		t.Fatalf("100 calls read the ref file %d times, want once", n)
	}
	if err := other.Bind(id, b); err != nil {
		t.Fatal(err)
	}
	bound(b)
	if err := other.Unbind(id); err != nil {
		t.Fatal(err)
	}
	bound("")
	if err := other.Bind(id, a); err != nil {
		t.Fatal(err)
	}
	bound(a)
	if err := s.Bind(id, b); err != nil {
		t.Fatal(err)
	}
	bound(b)
	if n := s.refs.reads.Load(); n != 4 {
		t.Fatalf("the ref file was read %d times, want 4: once a change", n)
	}
}
