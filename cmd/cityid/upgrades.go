package main

import "github.com/cityid/cityid/internal/chain"

// upgradeHandlers are the upgrade handlers this binary runs: the chain's
// (chain.Upgrades), and in a binary built with -tags cityid_upgradetest
// the upgrade tests' (upgrades_test_handler.go).
func upgradeHandlers() []chain.Upgrade {
	return append(chain.Upgrades(), testUpgrades()...)
}
