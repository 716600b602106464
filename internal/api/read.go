package api

import (
	"errors"
	"net/http"

	"github.com/cityid/cityid/internal/store"
	"github.com/cityid/cityid/internal/wire"
)

// refusal is a read's answer that is the client's affair (an identifier
// not registered, no block yet), not a failure of the node: it carries the
// problem the client is told. The JSON handlers write it as problem+json;
// the portal (internal/web) reads it through Problem and shows a page.
type refusal struct{ p wire.Problem }

func (e *refusal) Error() string { return e.p.Code + ": " + e.p.Detail }

// Problem is what the client is told.
func (e *refusal) Problem() wire.Problem { return e.p }

func refuse(p wire.Problem) error { return &refusal{p} }

// fail answers a read's error: a refusal as its problem, anything else as
// an internal error, logged.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var rf *refusal
	if errors.As(err, &rf) {
		writeProblem(w, rf.p)
		return
	}
	writeProblem(w, internalProblem(s.log, r, err))
}

// noBlockProblem is the answer of a read before the first block.
var noBlockProblem = wire.Problem{Code: wire.CodeUnavailable, Detail: "no block committed yet"}

// latest is the last committed state, refused before the first block.
func (s *Server) latest() (*store.View, error) {
	v := s.b.Latest()
	if v == nil {
		return nil, refuse(noBlockProblem)
	}
	return v, nil
}
