package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/cityid/cityid/internal/wire"
)

// chainProblem answers a CometBFT read that failed.
func (s *Server) chainProblem(w http.ResponseWriter, r *http.Request, err error) {
	var pruned *wire.PrunedError
	if errors.As(err, &pruned) {
		writeProblem(w, prunedProblem(strconv.FormatInt(pruned.Height, 10), pruned.Oldest))
		return
	}
	if errors.Is(err, wire.ErrNotFound) {
		writeProblem(w, wire.Problem{Code: wire.CodeNotFound, Detail: err.Error()})
		return
	}
	writeProblem(w, internalProblem(s.log, r, err))
}

func (s *Server) getBlock(w http.ResponseWriter, r *http.Request) {
	h, ok := heightParam(w, r)
	if !ok {
		return
	}
	b, err := s.b.Block(r.Context(), h)
	if err != nil {
		s.chainProblem(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, b)
}

// getLightBlock serves what a light client needs to verify the header of
// a height: the signed header and the validator set, in CometBFT's JSON.
func (s *Server) getLightBlock(w http.ResponseWriter, r *http.Request) {
	h, ok := heightParam(w, r)
	if !ok {
		return
	}
	st, err := s.b.Status(r.Context())
	if err != nil {
		writeProblem(w, internalProblem(s.log, r, err))
		return
	}
	if h == 0 {
		h = st.Height
	}
	if h > st.Height {
		// Not yet: a light client waits for a lagging witness on this
		// answer, where "not found" would make it give the witness up.
		writeProblem(w, wire.Problem{Code: wire.CodeHeightTooHigh,
			Detail: "height " + strconv.FormatInt(h, 10) + " is above this node's latest, " + strconv.FormatInt(st.Height, 10)})
		return
	}
	b, err := s.b.LightBlock(r.Context(), h)
	if err != nil {
		s.chainProblem(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}
