package registry

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func (h *harness) upgradePlan(t testing.TB) (UpgradePlan, bool) {
	t.Helper()
	p, ok, err := GetUpgradePlan(h.kv)
	if err != nil {
		t.Fatal(err)
	}
	return p, ok
}

// A plan is scheduled M of N like every governance change: the first
// approval leaves a proposal, the threshold's writes the plan.
func TestSetUpgradeSchedulesAPlan(t *testing.T) {
	h := newHarness(t, 3, 2)
	m := h.members
	msg := SetUpgrade{Name: "v4-layout", Height: 5000, Info: "https://example.org/cityid/v4"}
	id := proposalID(KindSetUpgrade, `{"name":"v4-layout","height":5000,"info":"https://example.org/cityid/v4"}`)

	out := h.mustApply(t, m[0].tx(t, KindSetUpgrade, msg))
	if out.Proposal != id || out.Status != AppPending || out.Approvals != 1 || out.Threshold != 2 {
		t.Fatalf("first approval: %+v, want proposal %s pending 1 of 2", out, id)
	}
	if _, ok := h.upgradePlan(t); ok {
		t.Fatal("a plan is written before the threshold")
	}
	p, ok := h.proposal(t, id)
	if !ok || p.Kind != KindSetUpgrade || p.Upgrade == nil || p.Upgrade.Name != "v4-layout" {
		t.Fatalf("proposal %+v (found %v)", p, ok)
	}

	out = h.mustApply(t, m[1].tx(t, KindSetUpgrade, msg))
	if out.Status != "applied" {
		t.Fatalf("second approval: %+v, want applied", out)
	}
	plan, ok := h.upgradePlan(t)
	want := UpgradePlan{Name: "v4-layout", Height: 5000, Info: msg.Info, Approved: Stamp{Height: h.height, Time: blockTime(h.height).UTC()}}
	plan.Approved.Tx = ""
	if !ok || plan != want {
		t.Fatalf("plan %+v (found %v), want %+v", plan, ok, want)
	}
	if _, ok := h.proposal(t, id); ok {
		t.Error("the applied proposal is still pending")
	}

	// One plan at a time.
	other := SetUpgrade{Name: "v5", Height: 6000}
	h.expectRejected(t, m[0].tx(t, KindSetUpgrade, other), CodeExists, `upgrade "v4-layout" at height 5000 is pending`)

	// Cancelled, M of N, by its name and height 0.
	cancel := SetUpgrade{Name: "v4-layout"}
	h.mustApply(t, m[2].tx(t, KindSetUpgrade, cancel))
	if out := h.mustApply(t, m[0].tx(t, KindSetUpgrade, cancel)); out.Status != "cancelled" {
		t.Fatalf("cancellation: %+v, want cancelled", out)
	}
	if _, ok := h.upgradePlan(t); ok {
		t.Fatal("the cancelled plan is still pending")
	}
	h.expectRejected(t, m[0].tx(t, KindSetUpgrade, cancel), CodeNotFound, `no upgrade "v4-layout" is pending`)

	// Another may be scheduled now.
	h.mustApply(t, m[0].tx(t, KindSetUpgrade, other))
	h.mustApply(t, m[1].tx(t, KindSetUpgrade, other))
	if plan, ok := h.upgradePlan(t); !ok || plan.Name != "v5" {
		t.Fatalf("plan %+v (found %v), want v5", plan, ok)
	}
}

func TestSetUpgradeRefusals(t *testing.T) {
	h := newHarness(t, 1, 1)
	op := h.members[0]
	for _, c := range []struct {
		name string
		msg  SetUpgrade
		code string
		want string
	}{
		{"no name", SetUpgrade{Height: 10}, CodeInvalid, "upgrade name is required"},
		{"upper case", SetUpgrade{Name: "V4", Height: 10}, CodeInvalid, `byte 1 ('V')`},
		{"leading dot", SetUpgrade{Name: ".v4", Height: 10}, CodeInvalid, "byte 1"},
		{"space", SetUpgrade{Name: "v 4", Height: 10}, CodeInvalid, "byte 2"},
		{"slash", SetUpgrade{Name: "v4/x", Height: 10}, CodeInvalid, "byte 3"},
		{"long name", SetUpgrade{Name: strings.Repeat("a", MaxUpgradeNameBytes+1), Height: 10}, CodeTooLarge, "65 bytes"},
		{"negative height", SetUpgrade{Name: "v4", Height: -1}, CodeInvalid, "negative"},
		{"long info", SetUpgrade{Name: "v4", Height: 10, Info: strings.Repeat("x", MaxUpgradeInfoBytes+1)}, CodeTooLarge, "info is 1025 bytes"},
		{"control in info", SetUpgrade{Name: "v4", Height: 10, Info: "a\x07b"}, CodeInvalid, "control character"},
		{"info on a cancellation", SetUpgrade{Name: "v4", Info: "why"}, CodeInvalid, "carries no info"},
		{"nothing to cancel", SetUpgrade{Name: "v4"}, CodeNotFound, "nothing to cancel"},
		{"this height", SetUpgrade{Name: "v4", Height: 1}, CodeInvalid, "not in the future"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h.expectRejected(t, op.tx(t, KindSetUpgrade, c.msg), c.code, c.want)
		})
	}
	// A stranger proposes nothing.
	h.expectRejected(t, h.signer("stranger").tx(t, KindSetUpgrade, SetUpgrade{Name: "v4", Height: 1_000_000}), CodeUnauthorized, "not a member")
}

// An upgrade runs once: its record refuses its name again, and the version
// it set is read back.
func TestCompleteUpgrade(t *testing.T) {
	h := newHarness(t, 1, 1)
	op := h.members[0]
	h.mustApply(t, op.tx(t, KindSetUpgrade, SetUpgrade{Name: "v4", Height: 2000, Info: "notes"}))
	plan, ok := h.upgradePlan(t)
	if !ok {
		t.Fatal("no plan")
	}
	if _, ok, err := StateAppVersion(h.kv); err != nil || ok {
		t.Fatalf("app version before any upgrade: ok %v err %v, want none", ok, err)
	}
	if err := CompleteUpgrade(h.kv, plan, 4); err != nil {
		t.Fatal(err)
	}
	h.commit(t)
	if _, ok := h.upgradePlan(t); ok {
		t.Error("the plan is still pending after its upgrade ran")
	}
	if v, ok, err := StateAppVersion(h.kv); err != nil || !ok || v != 4 {
		t.Errorf("app version %d (ok %v, err %v), want 4", v, ok, err)
	}
	done, err := UpgradesDone(h.kv.st.Latest())
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 1 || done[0] != (UpgradeDone{Name: "v4", Height: 2000, Info: "notes", AppVersion: 4}) {
		t.Errorf("upgrades done %+v", done)
	}
	h.height = 2000 // the chain went on past the upgrade
	h.expectRejected(t, op.tx(t, KindSetUpgrade, SetUpgrade{Name: "v4", Height: 5000}), CodeExists, `upgrade "v4" has run already`)
	h.mustApply(t, op.tx(t, KindSetUpgrade, SetUpgrade{Name: "v5", Height: 5000}))
}

// A plan approved at the threshold is checked again when it applies: its
// height may have passed while members were approving it.
func TestSetUpgradeHeightCheckedWhenApplied(t *testing.T) {
	h := newHarness(t, 2, 2)
	m := h.members
	msg := SetUpgrade{Name: "v4", Height: 1001}
	h.mustApply(t, m[0].tx(t, KindSetUpgrade, msg)) // height 1: the lead's 1,000 blocks ahead
	h.height = 1
	h.expectRejected(t, m[1].tx(t, KindSetUpgrade, msg), CodeUpgradeTooSoon, "upgrade height 1001 is 999 blocks after this one (2)", "the earliest allowed height is 1002")
	h.height = 1001
	h.expectRejected(t, m[1].tx(t, KindSetUpgrade, msg), CodeInvalid, "upgrade height 1001 is not in the future: this is height 1002")
}

// An upgrade plan must be the network's lead ahead of the block that
// writes it (DefaultUpgradeLeadBlocks unless genesis sets
// upgrade_lead_blocks), so that operators hear of it in time; the refusal
// names the earliest height allowed, and that height is accepted.
func TestSetUpgradeLead(t *testing.T) {
	h := newHarness(t, 1, 1)
	op := h.members[0]
	at := h.height + 1 // the block the next transaction is in
	h.expectRejected(t, op.tx(t, KindSetUpgrade, SetUpgrade{Name: "v5", Height: at + 1}), CodeUpgradeTooSoon,
		fmt.Sprintf("upgrade height %d is 1 blocks after this one (%d); the network's upgrade_lead_blocks is 1000, so the earliest allowed height is %d", at+1, at, at+DefaultUpgradeLeadBlocks))
	at = h.height + 1
	h.expectRejected(t, op.tx(t, KindSetUpgrade, SetUpgrade{Name: "v5", Height: at + DefaultUpgradeLeadBlocks - 1}), CodeUpgradeTooSoon,
		fmt.Sprintf("the earliest allowed height is %d", at+DefaultUpgradeLeadBlocks))
	at = h.height + 1
	h.mustApply(t, op.tx(t, KindSetUpgrade, SetUpgrade{Name: "v5", Height: at + DefaultUpgradeLeadBlocks}))

	// A network's own lead, set at genesis.
	g := newHarnessParams(t, M{"oid_arc": "1.3.6.1.4.1.99999", "iac": "MA", "upgrade_lead_blocks": 3})
	op = g.members[0]
	at = g.height + 1
	g.expectRejected(t, op.tx(t, KindSetUpgrade, SetUpgrade{Name: "v5", Height: at + 2}), CodeUpgradeTooSoon,
		fmt.Sprintf("upgrade_lead_blocks is 3, so the earliest allowed height is %d", at+3))
	at = g.height + 1
	g.mustApply(t, op.tx(t, KindSetUpgrade, SetUpgrade{Name: "v5", Height: at + 3}))
}

// The lead is bounded like every term in blocks.
func TestUpgradeLeadBounded(t *testing.T) {
	h := &harness{m: New(testChainID), kv: newMemKV(t)}
	key := h.signer("authority-1").pub
	g, err := json.Marshal(M{
		"authority": M{"members": []string{key}, "threshold": 1},
		"params":    M{"oid_arc": "1.3.6.1.4.1.99999", "iac": "MA", "upgrade_lead_blocks": MaxTermBlocks + 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.m.InitGenesis(h.kv, g, genesisValidators()); err == nil || !strings.Contains(err.Error(), "upgrade_lead_blocks must be at most") {
		t.Fatalf("a genesis with upgrade_lead_blocks past MaxTermBlocks: %v, want a refusal", err)
	}
}
