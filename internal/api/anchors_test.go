package api_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/cityid/cityid/internal/api"
	"github.com/cityid/cityid/internal/apitest"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/wire"
	"github.com/cityid/cityid/verify"
)

// anchorStory is the city with a public dataset whose access log alice's
// node anchored at 2, 5 and 9 entries, and a record never anchored.
func anchorStory(t *testing.T) (*served, string) {
	t.Helper()
	l := apitest.NewLedger(t)
	l.City()
	const ds = "1561301001.85.1/census-2026"
	l.Send("alice", registry.KindRegister, registry.Register{ID: ds, Values: []registry.Value{{Type: "DATA", Dataset: &registry.Dataset{
		URI: "https://data.example.org/census-2026.csv", SHA256: strings.Repeat("cd", 32), Size: 10, MediaType: "text/csv", Public: true}}}})
	l.Send("alice", registry.KindRegister, registry.Register{ID: "1561301001.85.1/quiet", Values: []registry.Value{}})
	for _, n := range []uint64{2, 5, 9} {
		l.Send("alice", registry.KindAnchorLog, registry.AnchorLog{Dataset: ds, Entries: n, Head: fmt.Sprintf("%064x", n)})
	}
	return serveLedger(t, l, api.Options{}), ds
}

func anchorCounts(as []registry.Anchor) string {
	var out []uint64
	for _, a := range as {
		out = append(out, a.Entries)
	}
	return fmt.Sprint(out)
}

// GET /v1/anchors/{id}: pages ascending by count, the latest, a case
// variant of the identifier, and the refusals.
func TestAnchors(t *testing.T) {
	s, ds := anchorStory(t)
	var page wire.AnchorList
	s.json("/v1/anchors/"+ds, http.StatusOK, &page)
	if page.Height != s.l.Height() || page.Dataset != ds || anchorCounts(page.Anchors) != "[2 5 9]" || page.Next != "" ||
		page.Latest == nil || page.Latest.Entries != 9 || page.Latest.Head != fmt.Sprintf("%064x", 9) || page.Latest.Signer != apitest.PubKey("alice") ||
		page.Proof != nil {
		t.Errorf("all anchors: %+v", page)
	}
	for _, c := range []struct{ q, counts, next string }{
		{"?limit=2", "[2 5]", "5"},
		{"?after=5&limit=2", "[9]", ""},
		{"?after=2&limit=1", "[5]", "5"},
		{"?after=9", "[]", ""},
		{"?after=18446744073709551615", "[]", ""},
	} {
		s.json("/v1/anchors/1561301001.85.1/CENSUS-2026"+c.q, http.StatusOK, &page)
		if got := anchorCounts(page.Anchors); got != c.counts || page.Next != c.next || page.Anchors == nil || page.Dataset != ds {
			t.Errorf("%s: anchors %s next %q, want %s and %q", c.q, got, page.Next, c.counts, c.next)
		}
	}
	// A record whose log was never anchored: an empty list, no latest.
	s.json("/v1/anchors/1561301001.85.1/quiet", http.StatusOK, &page)
	if len(page.Anchors) != 0 || page.Anchors == nil || page.Latest != nil {
		t.Errorf("never anchored: %+v", page)
	}
	s.problem("/v1/anchors/1561301001.85.1/nobody", http.StatusNotFound, CodeNotFound, "1561301001.85.1/nobody is not registered")
	s.problem("/v1/anchors/1561301002.85.1/x", http.StatusBadRequest, "invalid_id", "bad_check_char")
	s.problem("/v1/anchors/"+ds+"?after=-1", http.StatusBadRequest, CodeBadRequest, "is not a count of log entries")
	s.problem("/v1/anchors/"+ds+"?limit=0", http.StatusBadRequest, CodeBadRequest, "limit")
	s.problem("/v1/anchors/"+ds+"?proof=maybe", http.StatusBadRequest, CodeBadRequest, "proof")
}

// ?proof=true proves the latest anchor against the app hash; at an older
// height, the latest as it was then; for a log never anchored, its
// absence.
func TestAnchorsProof(t *testing.T) {
	s, ds := anchorStory(t)
	root := s.l.Store().Latest().Hash()
	var page wire.AnchorList
	s.json("/v1/anchors/"+ds+"?proof=true&limit=1", http.StatusOK, &page)
	p := page.Proof
	if p == nil || page.Latest == nil {
		t.Fatalf("no proof or latest: %+v", page)
	}
	if string(p.Key) != string(registry.AnchorHeadKey(ds)) || p.Height != s.l.Height() || p.HeaderHeight != p.Height+1 {
		t.Errorf("proof of key %q at %d (header %d)", p.Key, p.Height, p.HeaderHeight)
	}
	cp, err := verify.Decode(p.Type, p.Proof)
	if err != nil {
		t.Fatal(err)
	}
	if err := verify.Existence(root, p.Key, p.Value, cp); err != nil {
		t.Errorf("existence: %v", err)
	}
	if !strings.Contains(string(p.Value), `"entries":9,`) {
		t.Errorf("the proven bytes %s are not the latest anchor", p.Value)
	}
	// An older anchor's bytes do not verify in its place.
	older, err := s.l.Store().Latest().Get(registry.AnchorKey(ds, 5))
	if err != nil || older == nil {
		t.Fatalf("anchor at 5: %q %v", older, err)
	}
	var vm *verify.ValueMismatchError
	if err := verify.Existence(root, p.Key, older, cp); !errors.As(err, &vm) {
		t.Errorf("an older anchor's bytes: %v, want a value mismatch", err)
	}

	// At the height of the second anchor, the latest was 5.
	h := s.l.Height() - 1
	s.json(fmt.Sprintf("/v1/anchors/%s?proof=true&height=%d", ds, h), http.StatusOK, &page)
	old, err := s.l.Store().At(h)
	if err != nil {
		t.Fatal(err)
	}
	if cp, err = verify.Decode(page.Proof.Type, page.Proof.Proof); err != nil {
		t.Fatal(err)
	}
	if err := verify.Existence(old.Hash(), page.Proof.Key, page.Proof.Value, cp); err != nil || page.Latest.Entries != 5 || anchorCounts(page.Anchors) != "[2 5]" {
		t.Errorf("at height %d: %v, latest %+v, anchors %s", h, err, page.Latest, anchorCounts(page.Anchors))
	}

	// Never anchored: the proof says so.
	s.json("/v1/anchors/1561301001.85.1/quiet?proof=1", http.StatusOK, &page)
	if page.Latest != nil || page.Proof == nil || page.Proof.Value != nil {
		t.Fatalf("never anchored: %+v", page)
	}
	if cp, err = verify.Decode(page.Proof.Type, page.Proof.Proof); err != nil {
		t.Fatal(err)
	}
	if err := verify.Absence(root, registry.AnchorHeadKey("1561301001.85.1/quiet"), cp); err != nil {
		t.Errorf("absence: %v", err)
	}
}
