package api

import (
	"net/http"

	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/wire"
)

func (s *Server) listCities(w http.ResponseWriter, r *http.Request) {
	limit, ok := listLimit(w, r)
	if !ok {
		return
	}
	view, ok := s.view(w)
	if !ok {
		return
	}
	var start []byte
	if after := r.URL.Query().Get("after"); after != "" {
		start = append(append(registry.CityPrefix(), after...), 0)
	}
	out := wire.CityList{Height: view.Version(), Cities: []wire.City{}}
	err := view.Iterate(registry.CityPrefix(), start, func(k, v []byte) bool {
		if len(out.Cities) == limit {
			out.Next = out.Cities[len(out.Cities)-1].CityCode
			return false
		}
		out.Cities = append(out.Cities, wire.City{CityCode: registry.CityFromKey(k), Name: string(v)})
		return true
	})
	if err != nil {
		writeProblem(w, internalProblem(s.log, r, err))
		return
	}
	s.writeJSON(w, http.StatusOK, out)
}
