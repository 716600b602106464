package api

import (
	"net/http"

	"github.com/cityid/cityid/internal/api/handle"
)

// The Handle-compatible REST front end is package handle; the API mounts
// it at handle.Pattern, so it is routed, rate-limited, indented (?pretty)
// and counted as every other route is.

// HandleAnswer is the Handle REST answer, as the API's document and its
// client name it.
type HandleAnswer = handle.HandleAnswer

// newHandles is the Handle REST front end over b: before the first block
// it answers the API's 503 problem, as every route that reads state does.
func newHandles(b Backend, opts Options) *handle.Server {
	return handle.New(b, handle.Options{Logger: opts.Logger, Unavailable: func(w http.ResponseWriter) {
		writeProblem(w, Problem{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, Detail: "no block committed yet"})
	}})
}
