package api_test

import (
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/cityid/cityid/internal/api"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/verify"
)

// ?proof=true: the answer carries an ICS23 proof of the exact stored bytes
// against the app hash of the height read, which the verifier accepts
// against the store's own root, and which fails for any other record; an
// unknown identifier's 404 carries the proof of its absence.
func TestProofs(t *testing.T) {
	s := serveStory(t, api.Options{})
	root := s.l.Store().Latest().Hash()
	var a RecordAnswer
	s.json("/v1/ids/1561301001.85.1/school-0042?proof=true", http.StatusOK, &a)
	p := a.Proof
	if p == nil {
		t.Fatal("no proof")
	}
	if p.Height != s.l.Height() || p.HeaderHeight != p.Height+1 || p.AppHash != strings.ToUpper(hex.EncodeToString(root)) ||
		string(p.Key) != string(registry.RecordKey("1561301001.85.1/school-0042")) {
		t.Errorf("proof of height %d header %d app hash %s key %q; want %d, %d, %X", p.Height, p.HeaderHeight, p.AppHash, p.Key, s.l.Height(), s.l.Height()+1, root)
	}
	cp, err := verify.Decode(p.Type, p.Proof)
	if err != nil {
		t.Fatal(err)
	}
	if err := verify.Existence(root, p.Key, p.Value, cp); err != nil {
		t.Errorf("existence: %v", err)
	}
	// The proof binds the bytes: another record's do not verify.
	other, err := s.l.Store().Latest().Get(registry.RecordKey("1561301001.85.1/no-url"))
	if err != nil {
		t.Fatal(err)
	}
	var vm *verify.ValueMismatchError
	if err := verify.Existence(root, p.Key, other, cp); !errors.As(err, &vm) {
		t.Errorf("another record's bytes: %v, want a value mismatch", err)
	}

	// At an older height: against that height's root.
	s.json("/v1/ids/1561301001.85.1/no-url?proof=true&height="+itoa64(s.noURLv1), http.StatusOK, &a)
	old, err := s.l.Store().At(s.noURLv1)
	if err != nil {
		t.Fatal(err)
	}
	if cp, err = verify.Decode(a.Proof.Type, a.Proof.Proof); err != nil {
		t.Fatal(err)
	}
	if err := verify.Existence(old.Hash(), a.Proof.Key, a.Proof.Value, cp); err != nil || a.Record.Version != 1 {
		t.Errorf("version 1 at height %d: %v (version %d)", s.noURLv1, err, a.Record.Version)
	}
	var rm *verify.RootMismatchError
	if err := verify.Existence(root, a.Proof.Key, a.Proof.Value, cp); !errors.As(err, &rm) {
		t.Errorf("an old proof against the latest root: %v, want a root mismatch", err)
	}

	// Absence.
	prob := s.problem("/v1/ids/1561301001.85.1/nobody?proof=true", http.StatusNotFound, CodeNotFound, "is not registered")
	if prob.Proof == nil || prob.Proof.Value != nil {
		t.Fatalf("absence: proof %+v, want one with no value", prob.Proof)
	}
	if cp, err = verify.Decode(prob.Proof.Type, prob.Proof.Proof); err != nil {
		t.Fatal(err)
	}
	if err := verify.Absence(root, registry.RecordKey("1561301001.85.1/nobody"), cp); err != nil {
		t.Errorf("absence: %v", err)
	}
	var km *verify.KeyMismatchError
	if err := verify.Absence(root, registry.RecordKey("1561301001.85.1/nobody-else"), cp); !errors.As(err, &km) {
		t.Errorf("absence of another key: %v, want a key mismatch", err)
	}
}
