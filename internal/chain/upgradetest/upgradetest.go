// Package upgradetest holds the upgrade handler that the upgrade tests
// build into a cityid binary (go build -tags cityid_upgradetest): a real
// migration, over a key layout of its own, so a test can tell that it ran,
// once, on every node alike. The cityid binary built without the tag does
// not have it, and stands for a binary that is too old.
package upgradetest

import (
	"bytes"
	"fmt"

	"github.com/cityid/cityid/internal/chain"
	"github.com/cityid/cityid/internal/registry"
)

// Name is the test upgrade's name, and AppVersion the version it leads to.
const (
	Name       = "v4-test-layout"
	AppVersion = chain.AppVersion + 1
)

// Prefix is the layout the migration writes: the city directory
// (city/<code> → name) indexed by country,
// Prefix + <country>/<city code> → name.
const Prefix = "upgradetest/city-by-country/"

// Key is where the migration puts a city's directory entry.
func Key(cityCode string) []byte { return []byte(Prefix + cityCode[:3] + "/" + cityCode) }

// Upgrade is the test handler.
func Upgrade() chain.Upgrade {
	return chain.Upgrade{Name: Name, AppVersion: AppVersion, Migrate: migrate}
}

// migrate copies the city directory into the new layout, in key order.
func migrate(kv registry.KV, before registry.Ranger) error {
	type entry struct{ key, value []byte }
	var entries []entry
	err := before.Iterate(registry.CityPrefix(), nil, func(k, v []byte) bool {
		entries = append(entries, entry{bytes.Clone(k), bytes.Clone(v)})
		return true
	})
	if err != nil {
		return fmt.Errorf("read the city directory: %w", err)
	}
	for _, e := range entries {
		if err := kv.Set(Key(registry.CityFromKey(e.key)), e.value); err != nil {
			return fmt.Errorf("write %s: %w", Key(registry.CityFromKey(e.key)), err)
		}
	}
	return nil
}
