package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/cityid/cityid/internal/metrics"
	"github.com/cityid/cityid/internal/share"
	"github.com/cityid/cityid/internal/wire"
)

// ServeHTTP implements http.Handler. A panic in a handler is a bug, never
// the client's doing: it is logged and answered 500, and the node goes on.
//
// Every answer may be read by a page of another origin (CORS with "*"):
// the API holds nothing private, and a write is a signed transaction that
// no origin can forge.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("handler panic", "method", r.Method, "path", r.URL.Path, "panic", v)
			writeProblem(w, wire.Problem{Code: wire.CodeInternal, Detail: "internal error; the node's log has the details"})
		}
	}()
	if s.opts.Metrics != nil {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		w = sw
		defer func() { s.opts.Metrics.Request(iface(r.URL.Path), metrics.HTTPStatus(sw.status), time.Since(start)) }()
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		h.Set("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, OPTIONS")
		// A dataset's signed requests (RFC 9421) and ranges come from
		// another city's portal too: no cookie rides on them (no
		// Allow-Credentials), and the signature is what lets them in.
		h.Set("Access-Control-Allow-Headers", "Content-Type, Accept, Signature, Signature-Input, Range, If-Range, If-Match, If-None-Match, Content-Range, "+share.GranteeHeader)
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/v1/data/") || strings.HasPrefix(r.URL.Path, "/v1/access-log/") {
		h.Set("Access-Control-Expose-Headers", "CityID-Access-Log, ETag, Content-Range, Range, Repr-Digest, Content-Digest, Accept-Signature")
	}
	if s.limits != nil && !s.allow(w, r) {
		return
	}
	pretty, ok := false, true
	if jsonRoute(r.URL.Path) {
		// ?pretty is the JSON answers' (and documented on them only): a
		// page, a file or a dataset's bytes are sent as they are.
		if pretty, ok = prettyParam(w, r); !ok {
			return
		}
	}
	if !pretty {
		s.mux.ServeHTTP(w, r)
		return
	}
	pw := &prettyWriter{ResponseWriter: w}
	s.mux.ServeHTTP(pw, r)
	pw.finish()
}

// jsonRoute reports whether path is a route that answers JSON: the API's,
// Handle REST's, the resolver URL's (to a client that asks for JSON) and
// the health checks.
func jsonRoute(path string) bool {
	if strings.HasPrefix(path, "/v1/data/") {
		return false
	}
	for _, p := range []string{"/v1/", "/api/", "/r/"} {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return path == "/healthz" || path == "/readyz"
}

// iface is the interface a request path belongs to, for metrics.
func iface(path string) string {
	switch {
	case strings.HasPrefix(path, "/v1/ids/"):
		return metrics.HTTP
	case strings.HasPrefix(path, "/api/handles/"):
		return metrics.Handle
	case strings.HasPrefix(path, "/r/"), strings.HasPrefix(path, "/ids/"):
		return metrics.Resolver
	}
	return metrics.API
}

// statusWriter remembers the status an answer was written with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection: a dataset's
// transfer moves its write deadline on as it progresses (data.go), and
// sends files with sendfile.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
