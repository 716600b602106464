package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/internal/accesslog"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/wire"
)

// prunedProblem is the answer for a height older than the oldest kept.
func prunedProblem(height string, oldest int64) wire.Problem {
	return wire.Problem{Code: wire.CodeHeightPruned,
		Detail: "height " + height + " is pruned: this node keeps heights from " + strconv.FormatInt(oldest, 10)}
}

// writeProblem answers p with the HTTP status of its code, from the one
// error table (wire.Errors).
func writeProblem(w http.ResponseWriter, p wire.Problem) {
	p.Status = wire.HTTPStatus(p.Code)
	if p.Type == "" {
		p.Type = "about:blank"
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// idProblem is the 400 answer for an identifier that does not parse.
func idProblem(text string, err error) wire.Problem {
	p := wire.Problem{Code: registry.CodeInvalidID, Detail: "identifier " + quote(text) + ": " + err.Error()}
	var ce *code.Error
	if errors.As(err, &ce) {
		p.Reason, p.Position = ce.Code, ce.Pos
		p.Detail += " (" + ce.Code + ")"
	}
	return p
}

// internalProblem logs the details of an unexpected failure and tells the
// client only that it happened.
func internalProblem(log *slog.Logger, r *http.Request, err error) wire.Problem {
	if errors.Is(err, accesslog.ErrHeld) {
		// Not the requester's fault nor a passing failure: the log lost
		// anchored entries and logs nothing until repaired (share). The
		// anchoring loop says so at error level every turn; a line a
		// request here would let anyone flood the node's log.
		log.Debug("request refused: the dataset's access log is held", "method", r.Method, "path", r.URL.Path, "err", err)
		return wire.Problem{Code: wire.CodeAccessLogHeld, Detail: "the dataset's access log does not hold what was anchored of it; this node refuses requests for the dataset until its operator repairs the log"}
	}
	log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	return wire.Problem{Code: wire.CodeInternal, Detail: "internal error; the node's log has the details"}
}
