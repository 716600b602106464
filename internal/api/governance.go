package api

import (
	"net/http"

	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/wire"
)

func (s *Server) getValidators(w http.ResponseWriter, r *http.Request) {
	view, ok := s.view(w)
	if !ok {
		return
	}
	vals, err := registry.Validators(view)
	if err != nil {
		writeProblem(w, internalProblem(s.log, r, err))
		return
	}
	if vals == nil {
		vals = []registry.Validator{}
	}
	s.writeJSON(w, http.StatusOK, wire.ValidatorList{Height: view.Version(), Validators: vals})
}

func (s *Server) listProposals(w http.ResponseWriter, r *http.Request) {
	view, ok := s.view(w)
	if !ok {
		return
	}
	out := []registry.Proposal{}
	var derr error
	err := view.Iterate(registry.ProposalPrefix(), nil, func(_, v []byte) bool {
		var p registry.Proposal
		if derr = jsonUnmarshal(v, &p); derr != nil {
			return false
		}
		out = append(out, p)
		return len(out) < maxListLimit
	})
	if err == nil {
		err = derr
	}
	if err != nil {
		writeProblem(w, internalProblem(s.log, r, err))
		return
	}
	s.writeJSON(w, http.StatusOK, wire.ProposalList{Height: view.Version(), Proposals: out})
}
