package handle

import (
	"log/slog"
	"net/http"

	"github.com/cityid/cityid/internal/store"
)

// Pattern is the ServeMux pattern the front end is mounted at: ServeHTTP
// reads the handle from its {handle...} wildcard.
const Pattern = "GET /api/handles/{handle...}"

// WritePatterns are the Handle REST API's writes, mounted so that a Handle
// client that tries one hears why not in its own terms (ServeWrite).
var WritePatterns = [...]string{"PUT /api/handles/{handle...}", "DELETE /api/handles/{handle...}", "POST /api/handles/{handle...}"}

// Reader is what the front end reads: the last committed state, nil before
// the first block. The HTTP API's Backend is one.
type Reader interface {
	Latest() *store.View
}

// Options configure the front end. The zero value takes the defaults.
type Options struct {
	// Logger gets internal failures, which clients see only as "internal
	// error". Default: discard.
	Logger *slog.Logger
	// Unavailable answers a request that finds no committed state (before
	// a node's first block), so that a front end mounted in the HTTP API
	// answers it as every other route does. Default: a Handle answer,
	// responseCode 2, with HTTP 503.
	Unavailable func(http.ResponseWriter)
}

// Server is the Handle REST front end over one Reader.
type Server struct {
	r           Reader
	log         *slog.Logger
	unavailable func(http.ResponseWriter)
}

// New returns the front end reading r.
func New(r Reader, opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Unavailable == nil {
		opts.Unavailable = func(w http.ResponseWriter) {
			writeAnswer(opts.Logger, w, http.StatusServiceUnavailable, HandleAnswer{ResponseCode: CodeError, Message: "no block committed yet"})
		}
	}
	return &Server{r: r, log: opts.Logger, unavailable: opts.Unavailable}
}
