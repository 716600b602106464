package api

import (
	"net/http"

	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/wire"
)

func (s *Server) getValidators(w http.ResponseWriter, r *http.Request) {
	out, err := s.readValidators()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, out)
}

// readValidators is the validator set of the last committed state.
func (s *Server) readValidators() (wire.ValidatorList, error) {
	view, err := s.latest()
	if err != nil {
		return wire.ValidatorList{}, err
	}
	vals, err := registry.Validators(view)
	if err != nil {
		return wire.ValidatorList{}, err
	}
	if vals == nil {
		vals = []registry.Validator{}
	}
	return wire.ValidatorList{Height: view.Version(), Validators: vals}, nil
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
