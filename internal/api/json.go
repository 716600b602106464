package api

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/wire"
)

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
		writeProblem(w, wire.Problem{Code: wire.CodeInternal, Detail: "internal error; the node's log has the details"})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
