package api

import (
	"context"
	"net/http"

	"github.com/cityid/cityid/internal/buildinfo"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/wire"
)

func (s *Server) getStatus(w http.ResponseWriter, r *http.Request) {
	out, err := s.readStatus(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, out)
}

// readStatus is the node's status with the network's parameters and
// authority (none before the first block).
func (s *Server) readStatus(ctx context.Context) (wire.StatusAnswer, error) {
	st, err := s.b.Status(ctx)
	if err != nil {
		return wire.StatusAnswer{}, err
	}
	out := wire.StatusAnswer{NodeStatus: st, Build: buildinfo.Get()}
	if view := s.b.Latest(); view != nil {
		if out.Params, err = registry.GetParams(view); err != nil {
			return wire.StatusAnswer{}, err
		}
		if out.Authority, err = registry.GetAuthority(view); err != nil {
			return wire.StatusAnswer{}, err
		}
	}
	return out, nil
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, http.StatusOK, wire.Health{Status: "ok"})
}

// readyz is 200 once the node has committed state and is not catching up:
// only then are its answers current.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	st, err := s.b.Status(r.Context())
	switch {
	case err != nil:
		writeProblem(w, wire.Problem{Code: wire.CodeUnavailable, Detail: err.Error()})
	case s.b.Latest() == nil:
		writeProblem(w, wire.Problem{Code: wire.CodeUnavailable, Detail: "no block committed yet"})
	case st.CatchingUp:
		writeProblem(w, wire.Problem{Code: wire.CodeUnavailable, Detail: "catching up with the network"})
	default:
		s.writeJSON(w, http.StatusOK, wire.Health{Status: "ready", Height: st.Height})
	}
}
