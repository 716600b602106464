package api

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/wire"
)

// record reads a registered identifier's record, answering 404 when it is
// not registered.
func (s *Server) record(w http.ResponseWriter, r *http.Request, id code.ID) (registry.Record, bool) {
	ans, err := s.readRecord(id)
	if err != nil {
		s.fail(w, r, err)
		return registry.Record{}, false
	}
	return ans.Record, true
}

// readRecord is a registered identifier's record in the last committed
// state, refused when it is not registered.
func (s *Server) readRecord(id code.ID) (wire.RecordAnswer, error) {
	view, err := s.latest()
	if err != nil {
		return wire.RecordAnswer{}, err
	}
	rec, found, err := registry.GetRecord(view, id.String())
	if err != nil {
		return wire.RecordAnswer{}, err
	}
	if !found {
		return wire.RecordAnswer{}, refuse(wire.Problem{Code: wire.CodeNotFound, Detail: id.String() + " is not registered"})
	}
	return wire.RecordAnswer{Height: view.Version(), Record: rec}, nil
}

// getResolver serves /r/{id}, the URL in an identifier's QR code. A client
// that asks for JSON gets the record; anyone else (a phone's browser) is
// sent to the record's first URL value, or, when it has none, to the
// record's page. Its errors (not registered, not parsing, aliases that
// loop) are a page for a browser and problem+json for anyone else.
func (s *Server) getResolver(w http.ResponseWriter, r *http.Request) {
	// The answer depends on Accept: JSON for API clients, a redirect or
	// a page for browsers, and errors as problem+json or as a page.
	w.Header().Add("Vary", "Accept")
	text := r.PathValue("id")
	id, err := code.Parse(text)
	if err != nil {
		s.resolverProblem(w, r, idProblem(text, err), text)
		return
	}
	if wantsJSON(r) {
		s.getRecord(w, r, id)
		return
	}
	ans, err := s.readRecord(id)
	if err != nil {
		var rf *refusal
		if errors.As(err, &rf) {
			s.resolverProblem(w, r, rf.p, id.String())
		} else {
			s.resolverProblem(w, r, internalProblem(s.log, r, err), id.String())
		}
		return
	}
	rec := ans.Record
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
		if slices.Contains(seen, target) {
			s.resolverProblem(w, r, wire.Problem{Code: wire.CodeAliasLoop,
				Detail: "aliases loop: " + strings.Join(append(seen, target), " → ")}, id.String())
			return
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

// resolverProblem answers a problem of /r/{id}: a page for a browser
// (which asked for text/html: a person who scanned a code), problem+json
// for anyone else, as before.
func (s *Server) resolverProblem(w http.ResponseWriter, r *http.Request, p wire.Problem, asked string) {
	if acceptsHTML(r) {
		s.portal.Problem(w, r, p, asked)
		return
	}
	writeProblem(w, p)
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
