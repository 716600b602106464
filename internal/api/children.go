package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/wire"
)

func (s *Server) getChildren(w http.ResponseWriter, r *http.Request, id code.ID) {
	if !id.IsNode() {
		writeProblem(w, wire.Problem{Code: registry.CodeInvalid, Detail: id.String() + " is an object: only cities, sectors and units have children"})
		return
	}
	limit, ok := listLimit(w, r)
	if !ok {
		return
	}
	out, err := s.readChildren(id, r.URL.Query().Get("after"), limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, out)
}

// readChildren is a page of a node's children after the cursor after:
// its sectors or units first, then the objects registered directly under
// it.
func (s *Server) readChildren(id code.ID, after string, limit int) (wire.Children, error) {
	if !id.IsNode() {
		return wire.Children{}, refuse(wire.Problem{Code: registry.CodeInvalid, Detail: id.String() + " is an object: only cities, sectors and units have children"})
	}
	view, err := s.latest()
	if err != nil {
		return wire.Children{}, err
	}
	node := id.String()
	if _, found, err := registry.GetRecord(view, node); err != nil {
		return wire.Children{}, err
	} else if !found {
		return wire.Children{}, refuse(wire.Problem{Code: wire.CodeNotFound, Detail: node + " is not registered"})
	}
	out := wire.Children{ID: node, Height: view.Version(), Children: []wire.Child{}}
	full := func() bool {
		if len(out.Children) == limit {
			out.Next = out.Children[len(out.Children)-1].ID
			return true
		}
		return false
	}
	var ierr error
	// Nodes (sectors, units) from the child index, unless the cursor is
	// already among the objects.
	if !strings.Contains(after, "/") {
		var start []byte
		if after != "" {
			start = append(registry.ChildPrefix(node), after+"\x00"...)
		}
		err := view.Iterate(registry.ChildPrefix(node), start, func(k, _ []byte) bool {
			if full() {
				return false
			}
			child := registry.ChildFromKey(k)
			rec, found, err := registry.GetRecord(view, child)
			if err != nil || !found {
				ierr = errors.Join(err, errors.New("child index names "+child+", which has no record"))
				return false
			}
			out.Children = append(out.Children, wire.Child{ID: child, Kind: rec.Kind, Name: rec.Name, Status: rec.Status})
			return true
		})
		if ierr == nil {
			ierr = err
		}
		after = ""
	}
	if ierr == nil && out.Next == "" {
		prefix := registry.RecordKey(node + "/")
		var start []byte
		if after != "" {
			start = append(registry.RecordKey(after), 0)
		}
		err := view.Iterate(prefix, start, func(_, v []byte) bool {
			if full() {
				return false
			}
			var rec registry.Record
			if ierr = jsonUnmarshal(v, &rec); ierr != nil {
				return false
			}
			out.Children = append(out.Children, wire.Child{ID: rec.ID, Kind: rec.Kind, Status: rec.Status})
			return true
		})
		if ierr == nil {
			ierr = err
		}
	}
	if ierr != nil {
		return wire.Children{}, ierr
	}
	return out, nil
}
