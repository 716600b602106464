//go:build cityid_upgradetest

package main

import (
	"github.com/cityid/cityid/internal/chain"
	"github.com/cityid/cityid/internal/chain/upgradetest"
)

// testUpgrades is the upgrade tests' handler: this binary is the "new"
// one of TestUpgrade, the plain build the "old" one.
func testUpgrades() []chain.Upgrade { return []chain.Upgrade{upgradetest.Upgrade()} }
