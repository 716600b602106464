package api

import (
	"embed"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/internal/qr"
	"github.com/cityid/cityid/internal/registry"
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

// record reads a registered identifier's record, answering 404 when it is
// not registered.
func (s *Server) record(w http.ResponseWriter, r *http.Request, id code.ID) (registry.Record, bool) {
	view, ok := s.view(w)
	if !ok {
		return registry.Record{}, false
	}
	rec, found, err := registry.GetRecord(view, id.String())
	if err != nil {
		writeProblem(w, internalProblem(s.log, r, err))
		return rec, false
	}
	if !found {
		writeProblem(w, wire.Problem{Code: wire.CodeNotFound, Detail: id.String() + " is not registered"})
		return rec, false
	}
	return rec, true
}

// getResolver serves /r/{id}, the URL in an identifier's QR code. A client
// that asks for JSON gets the record; anyone else (a phone's browser) is
// sent to the record's first URL value, or, when it has none, to the
// record's page.
func (s *Server) getResolver(w http.ResponseWriter, r *http.Request) {
	text := r.PathValue("id")
	id, err := code.Parse(text)
	if err != nil {
		writeProblem(w, idProblem(text, err))
		return
	}
	if wantsJSON(r) {
		s.getRecord(w, r, id)
		return
	}
	rec, ok := s.record(w, r, id)
	if !ok {
		return
	}
	// A record with no URL of its own but an ALIAS (an object that moved,
	// a plate re-numbered) sends the scanner on to what it names, a
	// bounded number of hops.
	seen := []string{rec.ID}
	for hop := 0; ; hop++ {
		if rec.Status == registry.StatusActive {
			for _, v := range rec.Values {
				if v.Type == registry.TypeURL {
					http.Redirect(w, r, v.Data, http.StatusFound)
					return
				}
			}
		}
		target := aliasOf(rec)
		if target == "" || hop == maxAliasHops {
			break
		}
		for _, s := range seen {
			if s == target {
				writeProblem(w, wire.Problem{Code: wire.CodeAliasLoop,
					Detail: "aliases loop: " + strings.Join(append(seen, target), " → ")})
				return
			}
		}
		view := s.b.Latest()
		next, found, err := registry.GetRecord(view, target)
		if err != nil || !found {
			break // a dangling alias: show the record that has it
		}
		rec, seen = next, append(seen, target)
	}
	http.Redirect(w, r, "/ids/"+id.String(), http.StatusSeeOther)
}

// maxAliasHops bounds how many ALIAS values the resolver follows.
const maxAliasHops = 5

// aliasOf is the identifier a record's first ALIAS value names, or "".
func aliasOf(rec registry.Record) string {
	for _, v := range rec.Values {
		if v.Type == registry.TypeAlias {
			return v.Data
		}
	}
	return ""
}

// wantsJSON reports whether the client prefers JSON to a web page.
func wantsJSON(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	return strings.Contains(accept, "application/json") && !strings.Contains(accept, "text/html")
}

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
