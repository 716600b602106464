package api

import (
	"net/http"

	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/wire"
)

func (s *Server) getUpgrade(w http.ResponseWriter, r *http.Request) {
	out, err := s.readUpgrade()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, out)
}

// readUpgrade is the upgrade state of the last committed state.
func (s *Server) readUpgrade() (wire.UpgradeStatus, error) {
	view, err := s.latest()
	if err != nil {
		return wire.UpgradeStatus{}, err
	}
	out := wire.UpgradeStatus{Height: view.Version(), AppVersion: wire.GenesisAppVersion}
	if v, ok, err := registry.StateAppVersion(view); err != nil {
		return out, err
	} else if ok {
		out.AppVersion = v
	}
	plan, ok, err := registry.GetUpgradePlan(view)
	if err != nil {
		return out, err
	}
	if ok {
		out.Plan = &plan
	}
	out.Done, err = registry.UpgradesDone(view)
	return out, err
}
