package api

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/store"
	"github.com/cityid/cityid/internal/wire"
)

// getAnchors serves /v1/anchors/{id}: a page of a dataset's anchored
// access-log heads (anchor_log), its latest, and with ?proof=true the
// proof of the latest, which is what a grantee checks a log against.
func (s *Server) getAnchors(w http.ResponseWriter, r *http.Request) {
	text := r.PathValue("id")
	id, err := code.Parse(text)
	if err != nil {
		writeProblem(w, idProblem(text, err))
		return
	}
	limit, ok := listLimit(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	var after uint64
	if a := q.Get("after"); a != "" {
		if after, err = strconv.ParseUint(a, 10, 64); err != nil {
			writeProblem(w, wire.Problem{Code: wire.CodeBadRequest, Detail: "after " + quote(a) + " is not a count of log entries"})
			return
		}
	}
	prove, ok := boolParam(w, q.Get("proof"), "proof")
	if !ok {
		return
	}
	view, ok := s.proofView(w, r, prove)
	if !ok {
		return
	}
	out, err := readAnchors(view, id.String(), after, limit, prove)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, out)
}

// readAnchors reads the page of dataset's anchors after the count after,
// and its latest anchor, with its proof when prove is set.
func readAnchors(view *store.View, dataset string, after uint64, limit int, prove bool) (wire.AnchorList, error) {
	// A dataset's record is never deleted, so an identifier with none has
	// no log: not_found rather than an empty list a typo would also give.
	rec, err := view.Get(registry.RecordKey(dataset))
	if err != nil {
		return wire.AnchorList{}, fmt.Errorf("read the record of %s: %w", dataset, err)
	}
	if rec == nil {
		return wire.AnchorList{}, refuse(wire.Problem{Code: wire.CodeNotFound, Detail: dataset + " is not registered", Height: view.Version()})
	}
	// One more than the page tells whether there is a next one.
	anchors, err := registry.GetAnchors(view, dataset, after, limit+1)
	if err != nil {
		return wire.AnchorList{}, err
	}
	out := wire.AnchorList{Height: view.Version(), Dataset: dataset, Anchors: anchors}
	if len(anchors) > limit {
		out.Anchors = anchors[:limit]
		out.Next = strconv.FormatUint(anchors[limit-1].Entries, 10)
	}
	key := registry.AnchorHeadKey(dataset)
	var value []byte
	if prove {
		v, cp, err := view.Proof(key)
		if err != nil {
			return wire.AnchorList{}, fmt.Errorf("prove the latest anchor of %s: %w", dataset, err)
		}
		p, err := cp.Marshal()
		if err != nil {
			return wire.AnchorList{}, fmt.Errorf("encode the proof of the latest anchor of %s: %w", dataset, err)
		}
		value = v
		out.Proof = &wire.Proof{Type: wire.ProofType, Key: key, Value: v, Proof: p, Height: view.Version(),
			AppHash: strings.ToUpper(hex.EncodeToString(view.Hash())), HeaderHeight: view.Version() + 1}
	} else if value, err = view.Get(key); err != nil {
		return wire.AnchorList{}, fmt.Errorf("read the latest anchor of %s: %w", dataset, err)
	}
	if value != nil {
		var a registry.Anchor
		if err := jsonUnmarshal(value, &a); err != nil {
			return wire.AnchorList{}, fmt.Errorf("decode the latest anchor of %s: %w", dataset, err)
		}
		out.Latest = &a
	}
	return out, nil
}
