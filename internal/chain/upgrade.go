package chain

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sync"

	cmtproto "github.com/cometbft/cometbft/api/cometbft/types/v1"

	"github.com/cityid/cityid/internal/fsx"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/store"
)

// Upgrades in Cosmos SDK's x/upgrade manner. The registry authority
// schedules a plan on the ledger (registry.SetUpgrade: a name and a
// height). A binary with a handler for the name (an Upgrade, passed in
// Options.Upgrades) runs its migration first in the block at that height,
// once, records it (registry.CompleteUpgrade), and from that block on
// reports the handler's application version: to CometBFT through
// FinalizeBlock's consensus parameter updates, so every header after it
// carries the version. A binary without the handler does not apply that
// block: it stops cleanly with an *UpgradeNeededError, and refuses to
// start again on the same state until it is replaced.

// Upgrade is a binary's handler of one scheduled upgrade.
type Upgrade struct {
	// Name is the plan's name (registry.CheckUpgradeName).
	Name string
	// AppVersion is the application version the chain is at once the
	// migration ran: above AppVersion and every earlier handler's.
	AppVersion uint64
	// Migrate rewrites state: it reads the state the block starts from
	// (before, the last committed version, whose Iterate walks keys in
	// order) and writes through kv, the block's working state. It must be
	// deterministic like the registry (no map order, clock, randomness or
	// floats) and must not keep kv or before. An error stops the node
	// before the block is applied, on every node alike.
	Migrate func(kv registry.KV, before registry.Ranger) error
}

// Upgrades are this binary's handlers, in the order of their versions:
// none yet. A developer adds one per scheduled upgrade (docs/upgrade.md);
// a binary keeps its handlers so that it can replay a chain from genesis.
func Upgrades() []Upgrade { return nil }

// UpgradeNeededError is a node that reached a scheduled upgrade its binary
// has no handler for: it stopped before the block at Height, and refuses
// to apply it.
type UpgradeNeededError struct {
	Name   string
	Height int64
	Info   string
}

func (e *UpgradeNeededError) Error() string {
	s := fmt.Sprintf("UPGRADE %q NEEDED at height %d: this binary has no handler for it; replace it with the binary the upgrade names and start the node again", e.Name, e.Height)
	if e.Info != "" {
		s += " (the plan's info: " + e.Info + ")"
	}
	return s
}

// StateTooNewError is a binary older than the state it is given: an
// upgrade this binary has no handler for already ran on it.
type StateTooNewError struct {
	AppVersion uint64 // the state's
	Supported  uint64 // the highest this binary runs
	Last       registry.UpgradeDone
}

func (e *StateTooNewError) Error() string {
	return fmt.Sprintf("the state is at application version %d (upgrade %q ran at height %d); this binary runs versions up to %d: start the binary that has the handler for %q, or a later one",
		e.AppVersion, e.Last.Name, e.Last.Height, e.Supported, e.Last.Name)
}

// IsUpgradeStop reports whether err is a node stopped, or refusing to
// start, for an upgrade: a condition the operator resolves by changing
// the binary, not by restarting it.
func IsUpgradeStop(err error) bool {
	var need *UpgradeNeededError
	var tooNew *StateTooNewError
	return errors.As(err, &need) || errors.As(err, &tooNew)
}

// upgrades is a binary's set of handlers, checked.
type upgrades struct {
	list      []Upgrade
	supported uint64 // the highest version they reach; AppVersion with none
}

func newUpgrades(list []Upgrade) (upgrades, error) {
	u := upgrades{list: list, supported: AppVersion}
	for i, h := range list {
		if err := registry.CheckUpgradeName(h.Name); err != nil {
			return u, fmt.Errorf("upgrade handler %d: %s", i+1, err.Msg)
		}
		if h.Migrate == nil {
			return u, fmt.Errorf("upgrade handler %q has no migration", h.Name)
		}
		if h.AppVersion <= u.supported {
			return u, fmt.Errorf("upgrade handler %q leads to application version %d, not above %d", h.Name, h.AppVersion, u.supported)
		}
		for _, o := range list[:i] {
			if o.Name == h.Name {
				return u, fmt.Errorf("upgrade handler %q is given twice", h.Name)
			}
		}
		u.supported = h.AppVersion
	}
	return u, nil
}

func (u upgrades) handler(name string) (Upgrade, bool) {
	for _, h := range u.list {
		if h.Name == name {
			return h, true
		}
	}
	return Upgrade{}, false
}

// stateAppVersion is the application version of state r: the last
// upgrade's, or AppVersion on a chain that ran none.
func stateAppVersion(r registry.Reader) (uint64, error) {
	v, ok, err := registry.StateAppVersion(r)
	if err != nil || !ok {
		return AppVersion, err
	}
	return v, nil
}

// CheckUpgrades refuses state a binary with handlers list must not run:
// state whose next block is a scheduled upgrade without a handler here
// (*UpgradeNeededError), and state an upgrade unknown here already
// changed (*StateTooNewError). A node checks it before it starts
// CometBFT, so that a refusal needs no block.
func CheckUpgrades(st *store.Store, list []Upgrade) error {
	u, err := newUpgrades(list)
	if err != nil {
		return err
	}
	return u.check(st.Latest())
}

func (u upgrades) check(view *store.View) error {
	if view == nil {
		return nil
	}
	v, err := stateAppVersion(view)
	if err != nil {
		return fmt.Errorf("read the application version: %w", err)
	}
	if v > u.supported {
		e := &StateTooNewError{AppVersion: v, Supported: u.supported}
		done, err := registry.UpgradesDone(view)
		if err != nil {
			return fmt.Errorf("read the upgrades done: %w", err)
		}
		for _, d := range done {
			if d.AppVersion == v {
				e.Last = d
			}
		}
		return e
	}
	plan, ok, err := registry.GetUpgradePlan(view)
	if err != nil {
		return fmt.Errorf("read the upgrade plan: %w", err)
	}
	if ok && plan.Height <= view.Version()+1 {
		if _, have := u.handler(plan.Name); !have {
			return &UpgradeNeededError{Name: plan.Name, Height: plan.Height, Info: plan.Info}
		}
	}
	return nil
}

// upgradeAt runs, first in the block at height, the migration of the plan
// scheduled there, and returns the consensus parameter update that carries
// the new version (nil when no plan is due). Without a handler it stops
// the node (halt) and does not return until the node stops, with the
// error: the block is never applied.
func (a *App) upgradeAt(height int64) (*cmtproto.ConsensusParams, error) {
	view := a.store.Latest()
	if view == nil {
		return nil, nil
	}
	plan, ok, err := registry.GetUpgradePlan(view)
	if err != nil {
		return nil, fmt.Errorf("read the upgrade plan: %w", err)
	}
	if !ok || plan.Height > height {
		return nil, nil
	}
	h, have := a.upgrades.handler(plan.Name)
	if !have {
		need := &UpgradeNeededError{Name: plan.Name, Height: plan.Height, Info: plan.Info}
		a.halt.stop(a, need)
		// The block must not be applied, and FinalizeBlock cannot
		// refuse it: an error here is a panic in CometBFT (a stack
		// trace in consensus, a crash in block sync). It never
		// returns: Node.Stop leaves it to the process's exit, with
		// state as the last commit left it, which is what a restart
		// reads (and refuses, CheckUpgrades).
		a.halt.park()
		select {}
	}
	a.log.Info("upgrade: running the migration", "upgrade", plan.Name, "height", height, "app_version", h.AppVersion)
	if err := h.Migrate(a.store, view); err != nil {
		return nil, fmt.Errorf("upgrade %q: migration: %w", plan.Name, err)
	}
	if err := registry.CompleteUpgrade(a.store, plan, h.AppVersion); err != nil {
		return nil, err
	}
	a.log.Info("upgrade: done", "upgrade", plan.Name, "height", height, "app_version", h.AppVersion)
	return &cmtproto.ConsensusParams{Version: &cmtproto.VersionParams{App: h.AppVersion}}, nil
}

// haltAfterCommit stops the node as soon as the block before an upgrade
// it has no handler for is committed, rather than at the block itself:
// the node then leaves consensus at a height boundary, and the next
// block is never begun here.
func (a *App) haltAfterCommit(version int64) {
	view := a.store.Latest()
	if view == nil {
		return
	}
	if err := a.upgrades.check(view); err != nil {
		var need *UpgradeNeededError
		if errors.As(err, &need) {
			a.halt.stop(a, need)
			return
		}
		a.log.Error("upgrade: state unreadable after commit", "height", version, "err", err)
	}
}

// halt is a node stopped for an upgrade: done is closed when it is, and
// parked when FinalizeBlock holds the block it must not apply.
type halt struct {
	once       sync.Once
	done       chan struct{}
	err        *UpgradeNeededError
	parked     chan struct{}
	parkedOnce sync.Once
	// infoFile, when set, is where the plan is written for a process
	// supervisor (cosmovisor's upgrade-info.json, in the home's data).
	infoFile string
}

func newHalt(infoFile string) *halt {
	return &halt{done: make(chan struct{}), parked: make(chan struct{}), infoFile: infoFile}
}

func (h *halt) stop(a *App, err *UpgradeNeededError) {
	h.once.Do(func() {
		h.err = err
		a.log.Error(err.Error(), "upgrade", err.Name, "height", err.Height, "info", err.Info)
		if h.infoFile != "" {
			if werr := writeUpgradeInfo(h.infoFile, err); werr != nil {
				a.log.Warn("upgrade: could not write the upgrade's info for a supervisor", "file", h.infoFile, "err", werr)
			}
		}
		close(h.done)
	})
}

func (h *halt) park() { h.parkedOnce.Do(func() { close(h.parked) }) }

// writeUpgradeInfo writes the plan as cosmovisor reads it
// (data/upgrade-info.json: name, height, info), so that a supervisor that
// swaps binaries on it works with a CityID node too.
func writeUpgradeInfo(path string, e *UpgradeNeededError) error {
	b, err := json.Marshal(struct {
		Name   string `json:"name"`
		Height int64  `json:"height"`
		Info   string `json:"info"`
	}{e.Name, e.Height, e.Info})
	if err != nil {
		return err
	}
	// Durable before the node stops: a supervisor reads it after.
	return fsx.WriteFile(path, b, 0o644)
}

// UpgradeInfoFile is where a node writes the upgrade it stopped for.
func UpgradeInfoFile(dataDir string) string { return filepath.Join(dataDir, "upgrade-info.json") }

// Halted is closed when the node stopped for an upgrade it has no handler
// for; HaltError then says which.
func (a *App) Halted() <-chan struct{} { return a.halt.done }

// HaltError is the upgrade the node stopped for, nil while it has not.
func (a *App) HaltError() error {
	select {
	case <-a.halt.done:
		return a.halt.err
	default:
		return nil
	}
}

// StateAppVersion is the application version of the committed state: the
// last upgrade's, AppVersion before any.
func (a *App) StateAppVersion() (uint64, error) {
	v := a.store.Latest()
	if v == nil {
		return AppVersion, nil
	}
	return stateAppVersion(v)
}
