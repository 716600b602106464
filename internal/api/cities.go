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
	out, err := s.readCities(r.URL.Query().Get("after"), limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, out)
}

// readCities is a page of the city directory after the city code after,
// in city code order.
func (s *Server) readCities(after string, limit int) (wire.CityList, error) {
	view, err := s.latest()
	if err != nil {
		return wire.CityList{}, err
	}
	var start []byte
	if after != "" {
		start = append(append(registry.CityPrefix(), after...), 0)
	}
	out := wire.CityList{Height: view.Version(), Cities: []wire.City{}}
	err = view.Iterate(registry.CityPrefix(), start, func(k, v []byte) bool {
		if len(out.Cities) == limit {
			out.Next = out.Cities[len(out.Cities)-1].CityCode
			return false
		}
		out.Cities = append(out.Cities, wire.City{CityCode: registry.CityFromKey(k), Name: string(v)})
		return true
	})
	if err != nil {
		return wire.CityList{}, err
	}
	return out, nil
}
