package api

import (
	"embed"
	"html/template"
	"net/http"

	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/internal/registry"
)

//go:embed templates/*.html
var templates embed.FS

// recordPage is the page of a record without a URL value, for people who
// scanned its code.
var recordPage = template.Must(template.ParseFS(templates, "templates/record.html"))

func (s *Server) getRecordPage(w http.ResponseWriter, r *http.Request) {
	text := r.PathValue("id")
	id, err := code.Parse(text)
	if err != nil {
		writeProblem(w, idProblem(text, err))
		return
	}
	rec, ok := s.record(w, r, id)
	if !ok {
		return
	}
	opts := code.DefaultFormOptions()
	opts.ResolverBase, opts.Zone = s.opts.PublicURL, s.opts.DNSZone
	if view := s.b.Latest(); view != nil {
		if p, err := registry.GetParams(view); err == nil {
			opts.OIDArc, opts.IAC = p.OIDArc, p.IAC
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'")
	if err := recordPage.Execute(w, struct {
		Record registry.Record
		Forms  code.Description
	}{rec, code.Describe(id, opts)}); err != nil {
		s.log.Warn("record page", "id", id.String(), "err", err)
	}
}
