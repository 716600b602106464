package chain

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/store"
)

// countingUpgrade is a handler that copies the city directory into a
// layout of its own (city-v4/<code>) and counts its runs.
func countingUpgrade(name string, version uint64, runs *int) Upgrade {
	return Upgrade{Name: name, AppVersion: version, Migrate: func(kv registry.KV, before registry.Ranger) error {
		*runs++
		var keys, values [][]byte
		if err := before.Iterate(registry.CityPrefix(), nil, func(k, v []byte) bool {
			keys, values = append(keys, bytes.Clone(k)), append(values, bytes.Clone(v))
			return true
		}); err != nil {
			return err
		}
		for i, k := range keys {
			if err := kv.Set([]byte("city-v4/"+registry.CityFromKey(k)), values[i]); err != nil {
				return err
			}
		}
		return nil
	}}
}

func memStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.OpenMemory(store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// upgradeChain runs blocks 1–4 on app: a city issued (1, 2), the plan
// "v4-test" at height 5 approved by the authority, 1 of 1 (3), an empty
// block (4).
func upgradeChain(t *testing.T, app *App) {
	t.Helper()
	issueCity(t, app)
	r := block(t, app, 3, signTx(t, key(1), 2, registry.KindSetUpgrade, registry.SetUpgrade{Name: "v4-test", Height: 5, Info: "the test binary"}))
	if r.TxResults[0].Code != CodeOK {
		t.Fatalf("set_upgrade refused: %s", r.TxResults[0].Log)
	}
	commit(t, app)
	block(t, app, 4)
	commit(t, app)
}

// initChain runs InitChain on app with key 1 as the authority, as newApp
// does, and an upgrade lead of 2 blocks, so that a plan may be for two
// blocks after the one that writes it.
func initChain(t *testing.T, app *App) {
	t.Helper()
	gen, _ := json.Marshal(registry.Genesis{
		Authority: registry.Authority{Members: []string{pub(key(1))}, Threshold: 1},
		Params:    registry.Params{OIDArc: "2.25.1", IAC: "MA", UpgradeLeadBlocks: 2},
	})
	if _, err := app.InitChain(context.Background(), &abci.InitChainRequest{ChainId: testChain, InitialHeight: 1, AppStateBytes: gen}); err != nil {
		t.Fatal(err)
	}
}

func TestUpgradeWithHandler(t *testing.T) {
	st := memStore(t)
	runs := 0
	app := NewApp(testChain, st, nil, AppOptions{Upgrades: []Upgrade{countingUpgrade("v4-test", AppVersion+1, &runs)}})
	initChain(t, app)
	upgradeChain(t, app)
	if err := CheckUpgrades(st, app.upgrades.list); err != nil {
		t.Fatalf("a binary with the handler is refused before the upgrade: %v", err)
	}
	select {
	case <-app.Halted():
		t.Fatal("a binary with the handler halted")
	default:
	}
	resp := block(t, app, 5)
	commit(t, app)
	if runs != 1 {
		t.Fatalf("the migration ran %d times at its height, want once", runs)
	}
	if p := resp.ConsensusParamUpdates; p == nil || p.Version == nil || p.Version.App != AppVersion+1 {
		t.Fatalf("consensus param updates at the upgrade %v, want version.app %d", p, AppVersion+1)
	}
	if v, _ := st.Latest().Get([]byte("city-v4/1561301001")); string(v) != "石家庄市" {
		t.Errorf("the migration's layout holds %q, want the city's name", v)
	}
	done, ok, err := registry.GetUpgradeDone(st.Latest(), "v4-test")
	if err != nil || !ok || done != (registry.UpgradeDone{Name: "v4-test", Height: 5, Info: "the test binary", AppVersion: AppVersion + 1}) {
		t.Errorf("upgrade record %+v (found %v, err %v)", done, ok, err)
	}
	info, err := app.Info(context.Background(), &abci.InfoRequest{})
	if err != nil || info.AppVersion != AppVersion+1 {
		t.Errorf("Info's app version %d (%v), want %d", info.AppVersion, err, AppVersion+1)
	}
	// Once: the next blocks neither migrate nor update the parameters.
	for h := int64(6); h <= 7; h++ {
		if r := block(t, app, h); r.ConsensusParamUpdates != nil {
			t.Errorf("block %d updates the consensus parameters: %v", h, r.ConsensusParamUpdates)
		}
		commit(t, app)
	}
	if runs != 1 {
		t.Errorf("the migration ran %d times, want once", runs)
	}
	// And the name is spent: a plan of it again is refused.
	r := block(t, app, 8, signTx(t, key(1), 3, registry.KindSetUpgrade, registry.SetUpgrade{Name: "v4-test", Height: 20}))
	if r.TxResults[0].Info != registry.CodeExists {
		t.Errorf("a second plan of v4-test: %s %s, want exists", r.TxResults[0].Info, r.TxResults[0].Log)
	}

	// A binary that knows no handler (an older one) refuses the state the
	// upgrade wrote, naming it.
	err = CheckUpgrades(st, nil)
	var tooNew *StateTooNewError
	if !errors.As(err, &tooNew) || tooNew.AppVersion != AppVersion+1 || tooNew.Supported != AppVersion || tooNew.Last.Name != "v4-test" || !IsUpgradeStop(err) {
		t.Fatalf("an older binary on the upgraded state: %v, want a StateTooNewError", err)
	}
	if !strings.Contains(err.Error(), `upgrade "v4-test" ran at height 5`) {
		t.Errorf("message %q does not name the upgrade", err)
	}
}

// A binary without the handler stops after the block before the upgrade,
// refuses to start again, and never applies the block at its height.
func TestUpgradeWithoutHandlerHalts(t *testing.T) {
	st := memStore(t)
	app := NewApp(testChain, st, nil)
	initChain(t, app)
	issueCity(t, app)
	block(t, app, 3, signTx(t, key(1), 2, registry.KindSetUpgrade, registry.SetUpgrade{Name: "v4-test", Height: 5, Info: "the test binary"}))
	commit(t, app)
	select {
	case <-app.Halted():
		t.Fatal("halted two blocks ahead of the upgrade")
	default:
	}
	block(t, app, 4)
	commit(t, app)
	// Halted once the block before the upgrade is committed.
	select {
	case <-app.Halted():
	default:
		t.Fatal("not halted after the block before the upgrade")
	}
	var need *UpgradeNeededError
	if err := app.HaltError(); !errors.As(err, &need) || need.Name != "v4-test" || need.Height != 5 ||
		!strings.HasPrefix(err.Error(), `UPGRADE "v4-test" NEEDED at height 5:`) || !strings.Contains(err.Error(), "the test binary") {
		t.Fatalf("halt error %v", err)
	}
	// A restart refuses at once.
	if err := CheckUpgrades(st, nil); !errors.As(err, &need) || !IsUpgradeStop(err) {
		t.Fatalf("a restart of the same binary: %v, want an UpgradeNeededError", err)
	}
	// And the block itself is never applied: FinalizeBlock parks.
	hash := bytes.Clone(st.Hash())
	returned := make(chan struct{})
	go func() {
		defer close(returned)
		_, _ = app.FinalizeBlock(context.Background(), &abci.FinalizeBlockRequest{Height: 5, Time: blockTime.Add(5 * time.Second),
			Txs: [][]byte{signTx(t, key(2), 2, registry.KindRegisterSector, registry.RegisterSector{ID: "1561301001.85"})}})
	}()
	select {
	case <-app.halt.parked:
	case <-returned:
		t.Fatal("FinalizeBlock returned at the upgrade height")
	case <-time.After(10 * time.Second):
		t.Fatal("FinalizeBlock neither parked nor returned")
	}
	if !bytes.Equal(st.WorkingHash(), hash) || st.Version() != 4 {
		t.Errorf("the block at the upgrade height wrote state: working hash %X, committed %X", st.WorkingHash(), hash)
	}
}

func TestUpgradeHandlersChecked(t *testing.T) {
	noop := func(registry.KV, registry.Ranger) error { return nil }
	for _, c := range []struct {
		name string
		list []Upgrade
		want string
	}{
		{"bad name", []Upgrade{{Name: "V5", AppVersion: AppVersion + 1, Migrate: noop}}, "byte 1"},
		{"no migration", []Upgrade{{Name: "v5", AppVersion: AppVersion + 1}}, "has no migration"},
		{"version not above", []Upgrade{{Name: "v5", AppVersion: AppVersion, Migrate: noop}}, fmt.Sprintf("not above %d", AppVersion)},
		{"versions out of order", []Upgrade{{Name: "v6", AppVersion: AppVersion + 2, Migrate: noop}, {Name: "v5", AppVersion: AppVersion + 1, Migrate: noop}}, fmt.Sprintf("not above %d", AppVersion+2)},
		{"twice", []Upgrade{{Name: "v5", AppVersion: AppVersion + 1, Migrate: noop}, {Name: "v5", AppVersion: AppVersion + 2, Migrate: noop}}, "given twice"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := newUpgrades(c.list); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%v, want %q", err, c.want)
			}
		})
	}
	u, err := newUpgrades([]Upgrade{{Name: "v5", AppVersion: AppVersion + 1, Migrate: noop}, {Name: "v6.1", AppVersion: AppVersion + 3, Migrate: noop}})
	if err != nil || u.supported != AppVersion+3 {
		t.Errorf("supported %d (%v), want %d", u.supported, err, AppVersion+3)
	}
}
