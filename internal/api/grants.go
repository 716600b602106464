package api

import (
	"errors"
	"net/http"

	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/wire"
)

func (s *Server) listGrants(w http.ResponseWriter, r *http.Request) {
	limit, ok := listLimit(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	dataset, grantee := q.Get("dataset"), q.Get("grantee")
	if (dataset == "") == (grantee == "") {
		writeProblem(w, wire.Problem{Code: wire.CodeBadRequest, Detail: "give one of dataset=<identifier> or grantee=<node>"})
		return
	}
	// Grants are kept under canonical identifiers: a case variant (an
	// upper-case local id) names the same dataset and must find its grants.
	if dataset != "" {
		if dataset, ok = canonicalID(w, dataset, false); !ok {
			return
		}
	} else if grantee, ok = canonicalID(w, grantee, true); !ok {
		return
	}
	after := q.Get("after")
	if after != "" {
		// The cursor is the other party of the previous page's last grant:
		// a node code for a dataset's grants, a dataset for a grantee's.
		if after, ok = canonicalID(w, after, dataset != ""); !ok {
			return
		}
	}
	out, err := s.readGrants(dataset, grantee, after, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, out)
}

// readGrants is a page of the grants of dataset, or to grantee (one of
// them canonical, the other ""), after the other party after.
func (s *Server) readGrants(dataset, grantee, after string, limit int) (wire.GrantList, error) {
	view, err := s.latest()
	if err != nil {
		return wire.GrantList{}, err
	}
	out := wire.GrantList{Height: view.Version(), Grants: []registry.Grant{}}
	var prefix []byte
	if dataset != "" {
		prefix = registry.GrantPrefix(dataset)
	} else {
		prefix = registry.GranteePrefix(grantee)
	}
	var start []byte
	if after != "" {
		start = append(append(prefix[:len(prefix):len(prefix)], after...), 0)
	}
	var ierr error
	err = view.Iterate(prefix, start, func(k, v []byte) bool {
		other := string(k[len(prefix):])
		if len(out.Grants) == limit {
			if dataset != "" {
				out.Next = out.Grants[limit-1].Grantee
			} else {
				out.Next = out.Grants[limit-1].Dataset
			}
			return false
		}
		var g registry.Grant
		if dataset != "" {
			ierr = jsonUnmarshal(v, &g)
		} else {
			var found bool
			g, found, ierr = registry.GetGrant(view, other, grantee)
			if ierr == nil && !found {
				ierr = errors.New("grantee index names a grant that does not exist: " + other)
			}
		}
		if ierr != nil {
			return false
		}
		out.Grants = append(out.Grants, g)
		return true
	})
	if err == nil {
		err = ierr
	}
	return out, err
}

// canonicalID parses an identifier given as a query parameter and returns
// its canonical text, answering 400 when it does not parse, or when node is
// set and it names an object.
func canonicalID(w http.ResponseWriter, text string, node bool) (string, bool) {
	id, err := code.Parse(text)
	if err != nil {
		writeProblem(w, idProblem(text, err))
		return "", false
	}
	if node && !id.IsNode() {
		writeProblem(w, wire.Problem{Code: registry.CodeInvalid,
			Detail: id.String() + " is an object: grants are held by nodes (cities, sectors and units)"})
		return "", false
	}
	return id.String(), true
}
