package registry

import (
	"fmt"
	"github.com/cityid/cityid/code"
	"strconv"
	"strings"
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
	prefixOpen        = "open/"   // open/<applicant key> → id of the applicant's last application
	prefixLocode      = "locode/" // locode/<UN/LOCODE> → locodeClaim: the city that holds it
	prefixRecord      = "id/"     // id/<canonical identifier> → Record
	prefixCity        = "city/"   // city/<city code> → the city's name; the directory of cities
	prefixUnitSeq     = "seq/unit/"
	prefixCitySeq     = "seq/city/"
	prefixLocalSeq    = "seq/local/"
	prefixHistory     = "hist/"       // hist/<id>#<20-digit version> → Record as it was at that version
	prefixChild       = "child/"      // child/<node>#<sector or unit> → its kind
	prefixGrant       = "grant/"      // grant/<dataset>#<grantee node> → Grant
	prefixGrantee     = "grantee/"    // grantee/<grantee node>#<dataset> → scope (grants by grantee)
	prefixAnchor      = "anchor/"     // anchor/<dataset>#<20-digit entries> → Anchor (a dataset's anchored log heads)
	prefixAnchorHead  = "anchorhead/" // anchorhead/<dataset> → Anchor: the latest of them
	prefixProposal    = "prop/"       // prop/<proposal id> → Proposal
	keyValidators     = "validators"  // → []Validator: the validator set, ordered by key
)

// The keys of scheduled upgrades (upgrade.go), apart so that the table
// above keeps its alignment.
const (
	keyUpgradePlan    = "upgrade/plan"    // → UpgradePlan: the pending upgrade
	prefixUpgradeDone = "upgrade/done/"   // upgrade/done/<name> → UpgradeDone: an upgrade whose migration ran
	keyUpgradeVersion = "upgrade/version" // → the application version the last upgrade set (decimal); absent before any
)

// sep separates the parts of a composite key. It is outside the identifier
// grammar, so no identifier contains it.
const sep = "#"

// HistoryPrefix is the prefix of an identifier's history entries.
func HistoryPrefix(id string) []byte { return []byte(prefixHistory + id + sep) }

func historyKey(id string, version uint64) []byte {
	return []byte(fmt.Sprintf("%s%s%s%020d", prefixHistory, id, sep, version))
}

// ChildPrefix is the prefix of a node's child index (its sectors or units).
func ChildPrefix(node string) []byte { return []byte(prefixChild + node + sep) }

// ChildFromKey returns the child of a child index key.
func ChildFromKey(key []byte) string {
	k := string(key)
	return k[strings.LastIndex(k, sep)+1:]
}

func childKey(node, child string) []byte { return []byte(prefixChild + node + sep + child) }

// GrantKey is the state key of a grant.
func GrantKey(dataset, grantee string) []byte {
	return []byte(prefixGrant + dataset + sep + grantee)
}

// GrantPrefix is the prefix of a dataset's grants.
func GrantPrefix(dataset string) []byte { return []byte(prefixGrant + dataset + sep) }

// GranteePrefix is the prefix of the grants a node holds.
func GranteePrefix(grantee string) []byte { return []byte(prefixGrantee + grantee + sep) }

func granteeKey(grantee, dataset string) []byte {
	return []byte(prefixGrantee + grantee + sep + dataset)
}

// AnchorKey is the state key of the anchor of a dataset's access log at
// entries entries: zero-padded, so a dataset's anchors are in the order
// of their counts.
func AnchorKey(dataset string, entries uint64) []byte {
	return []byte(fmt.Sprintf("%s%s%s%020d", prefixAnchor, dataset, sep, entries))
}

// AnchorPrefix is the prefix of a dataset's anchors.
func AnchorPrefix(dataset string) []byte { return []byte(prefixAnchor + dataset + sep) }

// AnchorHeadKey is the state key of a dataset's latest anchor: what a
// proof of the latest anchor proves.
func AnchorHeadKey(dataset string) []byte { return []byte(prefixAnchorHead + dataset) }

// ProposalKey is the state key of a governance proposal.
func ProposalKey(id string) []byte { return []byte(prefixProposal + id) }

// ProposalPrefix is the prefix of every pending proposal.
func ProposalPrefix() []byte { return []byte(prefixProposal) }

// ValidatorsKey is the state key of the validator set.
func ValidatorsKey() []byte { return []byte(keyValidators) }

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

// AppendRecordKey appends id's record key to dst: RecordKey without a
// string of the identifier's text, for a reader that looks up many.
func AppendRecordKey(dst []byte, id code.ID) []byte {
	dst, _ = id.AppendText(append(dst, prefixRecord...))
	return dst
}

// RecordPrefix is the prefix of every record key.
func RecordPrefix() []byte { return []byte(prefixRecord) }

// CityPrefix is the prefix of the city directory.
func CityPrefix() []byte { return []byte(prefixCity) }

// CityFromKey returns the city code of a city directory key.
func CityFromKey(key []byte) string { return string(key[len(prefixCity):]) }

func cityKey(cityCode string) []byte { return []byte(prefixCity + cityCode) }

func openKey(applicant string) []byte { return []byte(prefixOpen + applicant) }

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
