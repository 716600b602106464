package main

import "github.com/cityid/cityid/internal/chain"

// upgradeHandlers are the upgrade handlers this binary runs: the chain's
// (chain.Upgrades), and in a binary built with -tags cityid_upgradetest
// the upgrade tests' (upgrades_test_handler.go).
func upgradeHandlers() []chain.Upgrade {
	return append(chain.Upgrades(), testUpgrades()...)
}

// upgradeStop reports whether err is a node stopped at, or refusing, an
// upgrade (chain.IsUpgradeStop): exit code 4.
func upgradeStop(err error) bool { return chain.IsUpgradeStop(err) }
