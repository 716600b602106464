package api

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/wire"
)

func (s *Server) getHistory(w http.ResponseWriter, r *http.Request, id code.ID) {
	limit, ok := listLimit(w, r)
	if !ok {
		return
	}
	var after uint64
	if a := r.URL.Query().Get("after"); a != "" {
		n, err := strconv.ParseUint(a, 10, 64)
		if err != nil {
			writeProblem(w, wire.Problem{Code: wire.CodeBadRequest, Detail: "after " + quote(a) + " is not a version number"})
			return
		}
		after = n
	}
	out, err := s.readHistory(id, after, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, out)
}

// readHistory is a page of id's versions after version after, oldest
// first; the current version ends the last page.
func (s *Server) readHistory(id code.ID, after uint64, limit int) (wire.History, error) {
	view, err := s.latest()
	if err != nil {
		return wire.History{}, err
	}
	cur, found, err := registry.GetRecord(view, id.String())
	if err != nil {
		return wire.History{}, err
	}
	if !found {
		return wire.History{}, refuse(wire.Problem{Code: wire.CodeNotFound, Detail: id.String() + " is not registered"})
	}
	out := wire.History{ID: id.String(), Height: view.Version(), Versions: []wire.HistoryEntry{}}
	if after >= cur.Version {
		// Nothing after the current version; this also keeps after+1 below
		// from wrapping to 0 for a cursor of 2^64-1.
		return out, nil
	}
	add := func(rec registry.Record) bool {
		if len(out.Versions) == limit {
			out.Next = strconv.FormatUint(out.Versions[len(out.Versions)-1].Version, 10)
			return false
		}
		out.Versions = append(out.Versions, wire.HistoryEntry{
			Version: rec.Version, Height: rec.Updated.Height, Time: rec.Updated.Time.Format("2006-01-02T15:04:05.999999999Z07:00"),
			Tx: rec.Updated.Tx, Status: rec.Status, Record: rec,
		})
		return true
	}
	// The page starts at version after+1: the versions before it are
	// neither read nor decoded, so a late page costs what the first does.
	var derr error
	err = view.Iterate(registry.HistoryPrefix(id.String()), historyKey(id.String(), after+1), func(_, v []byte) bool {
		var rec registry.Record
		if derr = jsonUnmarshal(v, &rec); derr != nil {
			return false
		}
		return add(rec)
	})
	if err == nil {
		err = derr
	}
	if err != nil {
		return wire.History{}, err
	}
	if out.Next == "" {
		add(cur)
	}
	return out, nil
}

// historyKey is the state key of version v of id's history entries, in the
// registry's layout (internal/registry/keys.go: hist/<id>#<20-digit
// version>, zero-padded so that the tree's byte order is version order).
// TestHistorySeeks fails if the two part.
func historyKey(id string, v uint64) []byte {
	return fmt.Appendf(registry.HistoryPrefix(id), "%020d", v)
}
