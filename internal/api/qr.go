package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/internal/qr"
	"github.com/cityid/cityid/internal/wire"
)

// getQR draws the QR code of an identifier's resolver URL.
func (s *Server) getQR(w http.ResponseWriter, r *http.Request, id code.ID, format string) {
	q := r.URL.Query()
	size := qr.DefaultSize
	if v := q.Get("size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			writeProblem(w, wire.Problem{Code: wire.CodeBadRequest, Detail: "size " + quote(v) + " is not a number of pixels"})
			return
		}
		size = n
	}
	level, err := qr.ParseLevel(q.Get("level"))
	if err != nil {
		writeProblem(w, wire.Problem{Code: wire.CodeBadRequest, Detail: err.Error()})
		return
	}
	if _, ok := s.record(w, r, id); !ok {
		return
	}
	url := id.ResolverURL(s.opts.PublicURL)
	var body []byte
	if format == "png" {
		body, err = qr.PNG(url, size, level)
	} else {
		body, err = qr.SVG(url, size, level)
	}
	if err != nil {
		writeProblem(w, wire.Problem{Code: wire.CodeBadRequest, Detail: err.Error()})
		return
	}
	if format == "png" {
		w.Header().Set("Content-Type", "image/png")
	} else {
		w.Header().Set("Content-Type", "image/svg+xml")
	}
	w.Header().Set("Content-Disposition", `inline; filename="`+strings.NewReplacer("/", "_", ".", "-").Replace(id.String())+`.`+format+`"`)
	w.Header().Set("Cache-Control", "public, max-age=86400")
	_, _ = w.Write(body)
}
