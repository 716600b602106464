package verify

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	ics23 "github.com/cosmos/ics23/go"

	"github.com/cityid/cityid/internal/store"
)

var update = flag.Bool("update", false, "rewrite testdata/valid.json")

// vector is a proof as an API answer carries it.
type vector struct {
	Root   []byte `json:"root"`
	Key    []byte `json:"key"`
	Value  []byte `json:"value,omitempty"`
	Proof  []byte `json:"proof"`
	Absent bool   `json:"absent,omitempty"`
}

// fixture builds a real IAVL tree of 50 records and returns proofs of a
// present key and of an absent one.
func fixture(t *testing.T) (present, absent vector) {
	t.Helper()
	st, err := store.OpenMemory(store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		if err := st.Set([]byte(fmt.Sprintf("id/1561301001.85.1/m-%03d", i*2)), []byte(fmt.Sprintf(`{"n":%d}`, i))); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := st.Commit(); err != nil {
		t.Fatal(err)
	}
	v := st.Latest()
	mk := func(key string) vector {
		val, p, err := v.Proof([]byte(key))
		if err != nil {
			t.Fatal(err)
		}
		b, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return vector{Root: v.Hash(), Key: []byte(key), Value: val, Proof: b, Absent: val == nil}
	}
	return mk("id/1561301001.85.1/m-042"), mk("id/1561301001.85.1/m-043")
}

func check(v vector) error {
	p, err := Decode(ProofType, v.Proof)
	if err != nil {
		return err
	}
	if v.Absent {
		return Absence(v.Root, v.Key, p)
	}
	return Existence(v.Root, v.Key, v.Value, p)
}

func TestValid(t *testing.T) {
	present, absent := fixture(t)
	if present.Absent || !absent.Absent {
		t.Fatal("fixture: wrong kinds")
	}
	for name, v := range map[string]vector{"present": present, "absent": absent} {
		if err := check(v); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// The golden vector pins the wire format of a proof: it must keep
	// verifying with later code.
	path := filepath.Join("testdata", "valid.json")
	if *update {
		b, _ := json.MarshalIndent([]vector{present, absent}, "", "  ")
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./verify -run TestValid -update)", err)
	}
	var golden []vector
	if err := json.Unmarshal(b, &golden); err != nil {
		t.Fatal(err)
	}
	for i, v := range golden {
		if err := check(v); err != nil {
			t.Errorf("golden vector %d: %v", i, err)
		}
	}
}

// Every tampered part fails, and for its own reason.
func TestTampered(t *testing.T) {
	present, absent := fixture(t)
	flip := func(b []byte, i int) []byte {
		c := bytes.Clone(b)
		c[i%len(c)] ^= 0x01
		return c
	}
	var rootErr *RootMismatchError
	var keyErr *KeyMismatchError
	var valueErr *ValueMismatchError
	isRoot := func(err error) bool { return errors.As(err, &rootErr) }
	isKey := func(err error) bool { return errors.As(err, &keyErr) }
	isValue := func(err error) bool { return errors.As(err, &valueErr) }
	is := func(target error) func(error) bool { return func(err error) bool { return errors.Is(err, target) } }

	cases := []struct {
		name   string
		v      vector
		typ    string
		reason func(error) bool
		want   string
	}{
		{"value changed", with(present, func(v *vector) { v.Value = flip(v.Value, 3) }), ProofType, isValue, "ValueMismatchError"},
		{"value extended", with(present, func(v *vector) { v.Value = append(bytes.Clone(v.Value), ' ') }), ProofType, isValue, "ValueMismatchError"},
		{"key changed", with(present, func(v *vector) { v.Key = flip(v.Key, 5) }), ProofType, isKey, "KeyMismatchError"},
		{"absent key changed", with(absent, func(v *vector) { v.Key = []byte("id/other") }), ProofType, isKey, "KeyMismatchError"},
		{"root changed", with(present, func(v *vector) { v.Root = flip(v.Root, 0) }), ProofType, isRoot, "RootMismatchError"},
		{"root changed, absence", with(absent, func(v *vector) { v.Root = flip(v.Root, 31) }), ProofType, isRoot, "RootMismatchError"},
		{"root empty", with(present, func(v *vector) { v.Root = nil }), ProofType, isRoot, "RootMismatchError"},
		{"proof truncated", with(present, func(v *vector) { v.Proof = v.Proof[:len(v.Proof)/2] }), ProofType, is(ErrMalformed), "ErrMalformed"},
		{"proof empty", with(present, func(v *vector) { v.Proof = nil }), ProofType, is(ErrWrongKind), "ErrWrongKind"},
		{"existence offered as absence", with(present, func(v *vector) { v.Absent = true }), ProofType, is(ErrWrongKind), "ErrWrongKind"},
		{"absence offered as existence", with(absent, func(v *vector) { v.Absent = false; v.Value = []byte(`{"n":1}`) }), ProofType, is(ErrWrongKind), "ErrWrongKind"},
		{"wrong type", present, "ics23:simple", is(ErrWrongType), "ErrWrongType"},
	}
	// A bit flipped in each inner step's hashed prefix or suffix changes
	// the root the path leads to.
	p := mustDecode(t, present.Proof)
	for i := range p.GetExist().Path {
		i := i
		cases = append(cases, struct {
			name   string
			v      vector
			typ    string
			reason func(error) bool
			want   string
		}{fmt.Sprintf("path step %d changed", i), with(present, func(v *vector) {
			q := mustDecode(t, v.Proof)
			step := q.GetExist().Path[i]
			if len(step.Prefix) > 4 {
				step.Prefix = flip(step.Prefix, len(step.Prefix)-1)
			} else {
				step.Suffix = flip(step.Suffix, len(step.Suffix)-1)
			}
			v.Proof = mustMarshal(t, q)
		}), ProofType, isRoot, "RootMismatchError"})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pr, err := Decode(c.typ, c.v.Proof)
			if err == nil {
				if c.v.Absent {
					err = Absence(c.v.Root, c.v.Key, pr)
				} else {
					err = Existence(c.v.Root, c.v.Key, c.v.Value, pr)
				}
			}
			if err == nil {
				t.Fatal("tampered proof verified")
			}
			if !c.reason(err) {
				t.Fatalf("failed with %v (%T), want %s", err, err, c.want)
			}
		})
	}
}

// A proof that hashes to the root but not the IAVL way is refused: here,
// the leaf hashed with another hash function.
func TestNotIAVL(t *testing.T) {
	present, _ := fixture(t)
	p := mustDecode(t, present.Proof)
	p.GetExist().Leaf.Hash = ics23.HashOp_SHA512
	calc, err := p.GetExist().Calculate()
	if err != nil {
		t.Fatal(err)
	}
	err = Existence(calc, present.Key, present.Value, p)
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("non-IAVL leaf: %v, want ErrInvalid", err)
	}
}

func with(v vector, f func(*vector)) vector {
	c := v
	c.Key, c.Value, c.Proof, c.Root = bytes.Clone(v.Key), bytes.Clone(v.Value), bytes.Clone(v.Proof), bytes.Clone(v.Root)
	f(&c)
	return c
}

func mustDecode(t *testing.T, b []byte) *ics23.CommitmentProof {
	t.Helper()
	p, err := Decode(ProofType, b)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustMarshal(t *testing.T, p *ics23.CommitmentProof) []byte {
	t.Helper()
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
