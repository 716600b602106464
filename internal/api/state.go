package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/cityid/cityid/internal/store"
	"github.com/cityid/cityid/internal/wire"
)

// viewFor picks the state to answer from: ?height=H when given, else the
// latest. The app hash of height H is signed by the header of block H+1,
// which for a latest height that changed the state is a block away (the
// one CometBFT makes right after it); a verifier waits for it rather than
// be shown an answer older than a write it has just made. A proof of a
// latest height that changed nothing is read where it settled (getRecord).
func (s *Server) viewFor(w http.ResponseWriter, r *http.Request) (*store.View, bool) {
	hs := r.URL.Query().Get("height")
	if hs == "" {
		return s.view(w)
	}
	h, err := strconv.ParseInt(hs, 10, 64)
	if err != nil || h < 1 {
		writeProblem(w, wire.Problem{Code: wire.CodeBadRequest, Detail: "height " + quote(hs) + " is not a positive number"})
		return nil, false
	}
	v, err := s.b.At(h)
	var pruned *store.PrunedError
	if errors.As(err, &pruned) {
		writeProblem(w, prunedProblem(hs, pruned.Oldest))
		return nil, false
	}
	if errors.Is(err, store.ErrNoVersion) {
		latest := int64(0)
		if l := s.b.Latest(); l != nil {
			latest = l.Version()
		}
		writeProblem(w, wire.Problem{Code: wire.CodeNotFound,
			Detail: "height " + hs + " is not in this node's state (latest " + strconv.FormatInt(latest, 10) + "; older heights may be pruned)"})
		return nil, false
	}
	if err != nil {
		writeProblem(w, internalProblem(s.log, r, err))
		return nil, false
	}
	return v, true
}

// view returns the last committed state, answering 503 before the first
// block.
func (s *Server) view(w http.ResponseWriter) (*store.View, bool) {
	v := s.b.Latest()
	if v == nil {
		writeProblem(w, noBlockProblem)
		return nil, false
	}
	return v, true
}
