package api

import (
	"net/http"
	"strings"

	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/wire"
)

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
