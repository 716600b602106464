package api

import (
	"net/http"

	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/wire"
)

func (s *Server) getAccount(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	if _, err := registry.ParsePubKey(key); err != nil {
		e := registry.AsError(err)
		writeProblem(w, wire.Problem{Code: e.Code, Detail: e.Msg})
		return
	}
	view, ok := s.view(w)
	if !ok {
		return
	}
	n, err := registry.AccountNonce(view, key)
	if err != nil {
		writeProblem(w, internalProblem(s.log, r, err))
		return
	}
	out := wire.Account{Height: view.Version(), Key: key, Nonce: n, NextNonce: n + 1}
	if next, ok := s.b.PendingNonce(key); ok && next > out.NextNonce {
		out.NextNonce, out.Pending = next, next-out.NextNonce
	}
	s.writeJSON(w, http.StatusOK, out)
}
