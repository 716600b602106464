package wire

import "github.com/cityid/cityid/internal/registry"

// GenesisAppVersion is the application version of a chain that has run
// no upgrade. chain.AppVersion is defined as it, with the history of its
// values; it is here for readers that do not import the chain (the API).
const GenesisAppVersion uint64 = 6

// UpgradeStatus is the answer to GET /v1/upgrade: the application version
// of the state, the pending upgrade plan (absent when none) and the
// upgrades whose migrations ran, in the order of their names.
type UpgradeStatus struct {
	Height     int64                  `json:"height"`
	AppVersion uint64                 `json:"app_version"`
	Plan       *registry.UpgradePlan  `json:"plan,omitempty"`
	Done       []registry.UpgradeDone `json:"done"`
}
