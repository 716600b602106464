package registry

import (
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// Upgrades scheduled on the ledger, in Cosmos SDK's x/upgrade manner: the
// registry authority approves, M of N, a plan with a name and a height
// (kind set_upgrade). At that height a node whose binary has no handler
// for the name stops before the block; a binary with the handler runs its
// migration first in the block, once, and records it here
// (CompleteUpgrade). The registry only keeps the plan and the record:
// halting, the handlers and the application version they lead to are the
// chain's (internal/chain/upgrade.go).

// SetUpgrade schedules an upgrade (kind set_upgrade), or cancels the
// pending one with Height 0 and its Name. There is at most one pending
// plan: another is scheduled once it ran or was cancelled.
type SetUpgrade struct {
	Name   string `json:"name"`
	Height int64  `json:"height"`         // the first block the new binary applies; 0 cancels
	Info   string `json:"info,omitempty"` // for operators: where the new binary is, what it changes
}

// UpgradePlan is the pending upgrade, as the authority approved it.
type UpgradePlan struct {
	Name     string `json:"name"`
	Height   int64  `json:"height"`
	Info     string `json:"info,omitempty"`
	Approved Stamp  `json:"approved"`
}

// UpgradeDone records an upgrade whose migration ran: at Height, first in
// the block, leading the chain to AppVersion. Its presence is what makes a
// migration run once.
type UpgradeDone struct {
	Name       string `json:"name"`
	Height     int64  `json:"height"`
	Info       string `json:"info,omitempty"`
	AppVersion uint64 `json:"app_version"`
}

// CheckUpgradeName checks an upgrade's name: lowercase letters, digits,
// '.', '-' and '_', starting with a letter or digit, at most
// MaxUpgradeNameBytes: it names a handler in code and a file an operator
// keeps, so it is kept to what every shell and file system takes as is.
func CheckUpgradeName(name string) *Error {
	if name == "" {
		return errorf(CodeInvalid, "upgrade name is required")
	}
	if len(name) > MaxUpgradeNameBytes {
		return errorf(CodeTooLarge, "upgrade name is %d bytes, more than the %d allowed", len(name), MaxUpgradeNameBytes)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case i > 0 && (c == '.' || c == '-' || c == '_'):
		default:
			return errorf(CodeInvalid, "upgrade name %q: byte %d (%q) is not a lowercase letter, a digit, or (after the first) '.', '-' or '_'", clip(name), i+1, c)
		}
	}
	return nil
}

func (m *SetUpgrade) validate(string) *Error {
	if err := CheckUpgradeName(m.Name); err != nil {
		return err
	}
	if m.Height < 0 {
		return errorf(CodeInvalid, "height %d is negative: give the upgrade's height, or 0 to cancel the pending plan", m.Height)
	}
	if len(m.Info) > MaxUpgradeInfoBytes {
		return errorf(CodeTooLarge, "info is %d bytes, more than the %d allowed", len(m.Info), MaxUpgradeInfoBytes)
	}
	if !utf8.ValidString(m.Info) {
		return errorf(CodeInvalid, "info is not valid UTF-8")
	}
	for _, r := range m.Info {
		if unicode.IsControl(r) && r != '\n' {
			return errorf(CodeInvalid, "info %q contains a control character", clip(m.Info))
		}
	}
	if m.Height == 0 && m.Info != "" {
		return errorf(CodeInvalid, "a cancellation (height 0) carries no info")
	}
	return nil
}

func (m *SetUpgrade) apply(c *txContext) (Outcome, *Error) {
	if err := c.requireMember(); err != nil {
		return Outcome{}, err
	}
	// Check now that the change can be made, so no member approves a
	// proposal that could never apply; and check again when it applies.
	if err := c.checkUpgrade(m); err != nil {
		return Outcome{}, err
	}
	out, err := c.propose(KindSetUpgrade, m, Proposal{Upgrade: m}, func() *Error {
		if err := c.checkUpgrade(m); err != nil {
			return err
		}
		if m.Height == 0 {
			if err := c.st.Delete(UpgradePlanKey()); err != nil {
				return internal("delete upgrade plan", err)
			}
			return nil
		}
		plan := UpgradePlan{Name: m.Name, Height: m.Height, Info: m.Info, Approved: c.stamp()}
		if err := putJSON(c.st, UpgradePlanKey(), plan); err != nil {
			return internal("write upgrade plan", err)
		}
		return nil
	})
	if err != nil {
		return out, err
	}
	if out.Status == "applied" && m.Height == 0 {
		out.Status = "cancelled"
	}
	return out, nil
}

// checkUpgrade refuses a plan that could not run: a height not above the
// block's, a name already run, a second pending plan; and a cancellation
// of a plan that is not pending. It refuses too a plan nearer than the
// network's lead (Params.UpgradeLead) to the block that writes it, so
// that no plan stops nodes whose operators never heard of it in time:
// counted in blocks from the block's height alone, like every term.
func (c *txContext) checkUpgrade(m *SetUpgrade) *Error {
	plan, pending, err := GetUpgradePlan(c.st)
	if err != nil {
		return internal("read upgrade plan", err)
	}
	if m.Height == 0 {
		if !pending || plan.Name != m.Name {
			return errorf(CodeNotFound, "no upgrade %q is pending: nothing to cancel", m.Name)
		}
		return nil
	}
	if m.Height <= c.block.Height {
		return errorf(CodeInvalid, "upgrade height %d is not in the future: this is height %d", m.Height, c.block.Height)
	}
	params, err := GetParams(c.st)
	if err != nil {
		return internal("read params", err)
	}
	// MaxTermBlocks bounds the lead, so the sum cannot overflow for any
	// height a block has.
	if earliest := c.block.Height + int64(params.UpgradeLead()); m.Height < earliest {
		return errorf(CodeUpgradeTooSoon, "upgrade height %d is %d blocks after this one (%d); the network's upgrade_lead_blocks is %d, so the earliest allowed height is %d",
			m.Height, m.Height-c.block.Height, c.block.Height, params.UpgradeLead(), earliest)
	}
	if pending {
		return errorf(CodeExists, "upgrade %q at height %d is pending: cancel it first (set_upgrade with its name and height 0)", plan.Name, plan.Height)
	}
	_, done, err := GetUpgradeDone(c.st, m.Name)
	if err != nil {
		return internal("read upgrade record", err)
	}
	if done {
		return errorf(CodeExists, "upgrade %q has run already: an upgrade runs once, give a new name", m.Name)
	}
	return nil
}

// GetUpgradePlan reads the pending upgrade plan; ok is false when none is.
func GetUpgradePlan(r Reader) (plan UpgradePlan, ok bool, err error) {
	ok, err = getJSON(r, UpgradePlanKey(), &plan)
	return plan, ok, err
}

// GetUpgradeDone reads the record of the upgrade name; ok is false when it
// has not run.
func GetUpgradeDone(r Reader, name string) (done UpgradeDone, ok bool, err error) {
	ok, err = getJSON(r, UpgradeDoneKey(name), &done)
	return done, ok, err
}

// UpgradesDone lists the upgrades that ran, in the order of their names.
func UpgradesDone(r Ranger) ([]UpgradeDone, error) {
	out := []UpgradeDone{}
	var derr error
	err := r.Iterate([]byte(prefixUpgradeDone), nil, func(k, v []byte) bool {
		var d UpgradeDone
		if derr = DecodeState(v, &d); derr != nil {
			derr = fmt.Errorf("decode %q: %w", k, derr)
			return false
		}
		out = append(out, d)
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("list upgrades: %w", err)
	}
	return out, derr
}

// StateAppVersion reads the application version the last upgrade set;
// ok is false on a chain that has run none, which is at the version its
// genesis started with.
func StateAppVersion(r Reader) (version uint64, ok bool, err error) {
	b, err := r.Get(UpgradeVersionKey())
	if err != nil {
		return 0, false, fmt.Errorf("get %q: %w", UpgradeVersionKey(), err)
	}
	if b == nil {
		return 0, false, nil
	}
	v, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("decode %q: %w", UpgradeVersionKey(), err)
	}
	return v, true, nil
}

// CompleteUpgrade records that plan's migration ran at plan.Height, leading
// to appVersion, and removes the plan: the chain calls it after the
// migration, first in the block at the plan's height.
func CompleteUpgrade(kv KV, plan UpgradePlan, appVersion uint64) error {
	done := UpgradeDone{Name: plan.Name, Height: plan.Height, Info: plan.Info, AppVersion: appVersion}
	if err := putJSON(kv, UpgradeDoneKey(plan.Name), done); err != nil {
		return fmt.Errorf("record upgrade %q: %w", plan.Name, err)
	}
	if err := putSeq(kv, UpgradeVersionKey(), appVersion); err != nil {
		return fmt.Errorf("record upgrade %q: %w", plan.Name, err)
	}
	if err := kv.Delete(UpgradePlanKey()); err != nil {
		return fmt.Errorf("record upgrade %q: delete plan: %w", plan.Name, err)
	}
	return nil
}
