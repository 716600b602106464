//go:build !cityid_upgradetest

package main

import "github.com/cityid/cityid/internal/chain"

// testUpgrades is empty in every binary but the upgrade tests'.
func testUpgrades() []chain.Upgrade { return nil }
