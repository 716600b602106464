package registry

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The design documents in docs/ are part of the contract: a transaction
// kind, an error code or a state key prefix that they do not name is a
// change someone forgot to write down.
func TestDocsNameEveryKindCodeAndKey(t *testing.T) {
	read := func(name string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join("..", "..", "docs", name))
		if err != nil {
			t.Fatalf("read docs/%s: %v", name, err)
		}
		return string(b)
	}
	txs := read("transactions.md")
	for _, k := range Kinds() {
		if !strings.Contains(txs, "`"+k+"`") {
			t.Errorf("docs/transactions.md does not name the transaction kind %s", k)
		}
	}
	for _, c := range Codes() {
		if !strings.Contains(txs, "| `"+c+"` |") {
			t.Errorf("docs/transactions.md has no row for the error code %s", c)
		}
	}
	state := read("state.md")
	for _, p := range []string{
		prefixAccount, keyAuthority, keyParams, prefixApplication, keyAppSeq, prefixOpen,
		prefixLocode, prefixRecord, prefixCity, prefixUnitSeq, prefixCitySeq, prefixLocalSeq,
		prefixHistory, prefixChild, prefixGrant, prefixGrantee, prefixAnchor, prefixAnchorHead, prefixProposal, keyValidators,
		keyUpgradePlan, prefixUpgradeDone, keyUpgradeVersion,
	} {
		if !strings.Contains(state, "| `"+p) {
			t.Errorf("docs/state.md has no row for the key %q", p)
		}
	}
}
