package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/internal/registry"
)

// Problem is an RFC 9457 problem detail with CityID's stable error code.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Code     string `json:"code"`
	Position int    `json:"position,omitempty"` // for identifier parse errors: where in the input
	Hash     string `json:"hash,omitempty"`     // for a refused or failed transaction
	Height   int64  `json:"height,omitempty"`   // for a transaction that failed in a block; the state version of a read
	Proof    *Proof `json:"proof,omitempty"`    // for an unknown identifier asked with ?proof=true: proof of its absence
}

// Codes of the API itself, beside the registry's.
const (
	CodeNotFound    = "not_found"
	CodeBadRequest  = "bad_request"
	CodeTimeout     = "timeout"
	CodeUnavailable = "unavailable"
	CodeInternal    = "internal"
	CodeAliasLoop   = "alias_loop"
	// CodeHeightTooHigh: a height this node has not reached yet.
	CodeHeightTooHigh = "height_too_high"
	// CodeHeightPruned: a height older than this node keeps ([storage]
	// keep_blocks and keep_versions, or a join by state sync); the detail
	// names the oldest height it keeps. 410 Gone: asking again will not
	// help, asking a node that keeps more will.
	CodeHeightPruned = "height_pruned"
)

// prunedProblem is the answer for a height older than the oldest kept.
func prunedProblem(height string, oldest int64) Problem {
	return Problem{Status: http.StatusGone, Code: CodeHeightPruned,
		Detail: "height " + height + " is pruned: this node keeps heights from " + strconv.FormatInt(oldest, 10)}
}

func writeProblem(w http.ResponseWriter, p Problem) {
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

// statusOf maps a registry error code to its HTTP status.
func statusOf(c string) int {
	switch c {
	case registry.CodeMalformed, registry.CodeInvalid, registry.CodeInvalidID,
		registry.CodeBadValue, registry.CodeUnknownKind, registry.CodeBadPubKey:
		return http.StatusBadRequest
	case registry.CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case registry.CodeBadSignature:
		return http.StatusUnauthorized
	case registry.CodeUnauthorized:
		return http.StatusForbidden
	case registry.CodeNotFound:
		return http.StatusNotFound
	case registry.CodeExists, registry.CodeDuplicateCity, registry.CodeDuplicateLocode,
		registry.CodeVersionMismatch, registry.CodeNonceReplayed, registry.CodeNonceGap,
		registry.CodeAlreadyDecided, registry.CodeAlreadyVoted, registry.CodeAlreadyActive,
		registry.CodeAlreadyInactive, registry.CodeInactive, registry.CodeExhausted,
		registry.CodeHashMismatch:
		return http.StatusConflict
	case registry.CodeExpired:
		return http.StatusGone
	case registry.CodeAccountBusy:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// idProblem is the 400 answer for an identifier that does not parse.
func idProblem(text string, err error) Problem {
	p := Problem{Status: http.StatusBadRequest, Code: registry.CodeInvalidID, Detail: "identifier " + quote(text) + ": " + err.Error()}
	var ce *code.Error
	if errors.As(err, &ce) {
		p.Position = ce.Pos
		p.Detail += " (" + ce.Code + ")"
	}
	return p
}

// internalProblem logs the details of an unexpected failure and tells the
// client only that it happened.
func internalProblem(log *slog.Logger, r *http.Request, err error) Problem {
	log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	return Problem{Status: http.StatusInternalServerError, Code: CodeInternal, Detail: "internal error; the node's log has the details"}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// jsonUnmarshal decodes state the registry wrote.
func jsonUnmarshal(b []byte, v any) error {
	if err := registry.DecodeState(b, v); err != nil {
		return fmt.Errorf("decode %T from state: %w", v, err)
	}
	return nil
}

// writeJSON answers v as compact JSON (?pretty indents every JSON answer:
// see prettyWriter). The answer is encoded before its status is sent, so
// a value that cannot be encoded (a stored record that is not JSON) is a
// 500 problem, logged, never a 200 with half a body.
func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.log.Error("encode answer", "type", fmt.Sprintf("%T", v), "err", err)
		writeProblem(w, Problem{Status: http.StatusInternalServerError, Code: CodeInternal, Detail: "internal error; the node's log has the details"})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
