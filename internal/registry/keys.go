package registry

import (
	"fmt"
	"strconv"
)

// The layout of ledger state. Keys are readable text so that an ABCI query
// or a debugging dump shows what they hold. Numbers inside keys are
// zero-padded to a fixed width so that the tree's byte order is their
// numeric order.
const (
	prefixAccount     = "acct/"   // acct/<pub key hex> → Account
	keyAuthority      = "auth"    // → Authority
	keyParams         = "params"  // → Params
	prefixApplication = "app/"    // app/<20-digit id> → Application
	keyAppSeq         = "seq/app" // → last application id (decimal)
	prefixPending     = "pend/"   // pend/<country><city number> → application id of a pending application
	prefixLocode      = "locode/" // locode/<UN/LOCODE> → LocodeClaim
	prefixRecord      = "id/"     // id/<canonical identifier> → Record
	prefixCity        = "city/"   // city/<city code> → the city's name; the directory of cities
	prefixUnitSeq     = "seq/unit/"
	prefixCitySeq     = "seq/city/"
	prefixLocalSeq    = "seq/local/"
)

// AccountKey is the state key of an account.
func AccountKey(pub string) []byte { return []byte(prefixAccount + pub) }

// AuthorityKey is the state key of the registry authority.
func AuthorityKey() []byte { return []byte(keyAuthority) }

// ParamsKey is the state key of the network's parameters.
func ParamsKey() []byte { return []byte(keyParams) }

// ApplicationKey is the state key of an application.
func ApplicationKey(id uint64) []byte { return []byte(fmt.Sprintf("%s%020d", prefixApplication, id)) }

// ApplicationPrefix is the prefix of every application key.
func ApplicationPrefix() []byte { return []byte(prefixApplication) }

// RecordKey is the state key of an identifier's record; id is canonical.
func RecordKey(id string) []byte { return []byte(prefixRecord + id) }

// RecordPrefix is the prefix of every record key.
func RecordPrefix() []byte { return []byte(prefixRecord) }

// CityPrefix is the prefix of the city directory.
func CityPrefix() []byte { return []byte(prefixCity) }

// CityFromKey returns the city code of a city directory key.
func CityFromKey(key []byte) string { return string(key[len(prefixCity):]) }

func cityKey(cityCode string) []byte { return []byte(prefixCity + cityCode) }

func pendingKey(country, cityNumber string) []byte {
	return []byte(prefixPending + country + cityNumber)
}

func locodeKey(locode string) []byte { return []byte(prefixLocode + locode) }

func unitSeqKey(sectorID string) []byte { return []byte(prefixUnitSeq + sectorID) }

func citySeqKey(country string) []byte { return []byte(prefixCitySeq + country) }

func localSeqKey(nodeID string) []byte { return []byte(prefixLocalSeq + nodeID) }

// getSeq reads a counter; a missing counter is zero.
func getSeq(r Reader, key []byte) (uint64, error) {
	b, err := r.Get(key)
	if err != nil {
		return 0, fmt.Errorf("get %q: %w", key, err)
	}
	if b == nil {
		return 0, nil
	}
	n, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("decode counter %q: %w", key, err)
	}
	return n, nil
}

func putSeq(kv KV, key []byte, n uint64) error {
	if err := kv.Set(key, []byte(strconv.FormatUint(n, 10))); err != nil {
		return fmt.Errorf("set %q: %w", key, err)
	}
	return nil
}
