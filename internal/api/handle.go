package api

import (
	"net/http"

	"github.com/cityid/cityid/internal/api/handle"
	"github.com/cityid/cityid/internal/wire"
)

// The Handle-compatible REST front end is package handle; the API mounts
// it at handle.Pattern, so it is routed, rate-limited, indented (?pretty)
// and counted as every other route is.

// newHandles is the Handle REST front end over b: before the first block
// it answers the API's 503 problem, as every route that reads state does.
func newHandles(b Backend, opts Options) *handle.Server {
	return handle.New(b, handle.Options{Logger: opts.Logger, Unavailable: func(w http.ResponseWriter) {
		writeProblem(w, wire.Problem{Code: wire.CodeUnavailable, Detail: "no block committed yet"})
	}})
}
