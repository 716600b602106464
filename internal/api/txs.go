package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/wire"
)

func (s *Server) getTx(w http.ResponseWriter, r *http.Request) {
	hash := r.PathValue("hash")
	hash = strings.TrimPrefix(strings.TrimPrefix(hash, "0x"), "0X")
	if len(hash) != 64 || strings.Trim(strings.ToLower(hash), "0123456789abcdef") != "" {
		writeProblem(w, wire.Problem{Code: wire.CodeBadRequest, Detail: "transaction hash " + quote(r.PathValue("hash")) + " is not 64 hex digits"})
		return
	}
	tx, err := s.b.Tx(r.Context(), hash)
	if err != nil {
		s.chainProblem(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, tx)
}

func (s *Server) postTx(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeProblem(w, wire.Problem{Code: registry.CodeTooLarge,
				Detail: "request body is more than " + strconv.Itoa(maxBodyBytes) + " bytes"})
			return
		}
		writeProblem(w, wire.Problem{Code: wire.CodeBadRequest, Detail: "read body: " + err.Error()})
		return
	}
	// Any JSON encoding of an envelope is taken and put in its canonical
	// form, the only one the ledger holds (and whose hash the answer
	// names); the envelope is checked here too, so a malformed body gets
	// its precise error without a trip through the mempool.
	body, perr := registry.CanonicalEnvelope(body)
	if perr != nil {
		writeProblem(w, wire.Problem{Code: perr.Code, Detail: perr.Msg})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.SubmitTimeout)
	defer cancel()
	res, err := s.b.Submit(ctx, body)
	if errors.Is(err, wire.ErrTimeout) {
		writeProblem(w, wire.Problem{Code: wire.CodeTimeout, Hash: res.Hash,
			Detail: "the transaction is in the mempool but was not committed within " + s.opts.SubmitTimeout.String() + "; it may still be"})
		return
	}
	if err != nil {
		writeProblem(w, internalProblem(s.log, r, err))
		return
	}
	if res.Err != nil {
		writeProblem(w, wire.Problem{Code: res.Err.Code, Detail: res.Err.Msg, Reason: res.Err.Reason, Position: res.Err.Position, Hash: res.Hash, Height: res.Height})
		return
	}
	var out registry.Outcome
	if len(res.Data) > 0 {
		if err := json.Unmarshal(res.Data, &out); err != nil {
			writeProblem(w, internalProblem(s.log, r, err))
			return
		}
	}
	s.writeJSON(w, http.StatusOK, wire.TxAnswer{Hash: res.Hash, Height: res.Height, Result: out})
}
