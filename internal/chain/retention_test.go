package chain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/store"
)

// Commit prunes the state to the versions kept and returns the block
// retain height, which never passes the oldest snapshot the node offers
// nor CometBFT's base; with nothing to keep it returns none.
func TestRetainHeight(t *testing.T) {
	for _, tc := range []struct {
		name     string
		keep     Retention
		snaps    int64 // snapshot interval; 0: none
		base     int64 // CometBFT's oldest block; 0: not running yet
		retained []int64
		oldest   int64 // the oldest state version after the last block
	}{
		{"keeps everything", Retention{}, 0, 1, []int64{0, 0, 0, 0, 0, 0, 0, 0}, 1},
		{"keeps 3", Retention{KeepBlocks: 3, KeepVersions: 3}, 0, 1, []int64{0, 0, 0, 2, 3, 4, 5, 6}, 6},
		{"keeps 3 versions only", Retention{KeepVersions: 3}, 0, 1, []int64{0, 0, 0, 0, 0, 0, 0, 0}, 6},
		{"below a snapshot", Retention{KeepBlocks: 2, KeepVersions: 2}, 3, 1, []int64{0, 0, 2, 3, 3, 3, 6, 6}, 7},
		{"not above the base", Retention{KeepBlocks: 3}, 0, 5, []int64{0, 0, 0, 0, 0, 0, 0, 6}, 1},
		{"during the handshake", Retention{KeepBlocks: 3}, 0, 0, []int64{0, 0, 0, 0, 0, 0, 0, 0}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, _ := store.OpenMemory(store.Options{})
			a := NewApp(testChain, st, nil, AppOptions{Retention: tc.keep, Snapshots: SnapshotOptions{Dir: t.TempDir(), Interval: tc.snaps, Keep: 1}})
			if tc.base > 0 {
				base := func() int64 { return tc.base }
				a.base.Store(&base)
			}
			gen, _ := json.Marshal(registry.Genesis{
				Authority: registry.Authority{Members: []string{pub(key(1))}, Threshold: 1},
				Params:    registry.Params{OIDArc: "2.25.1", IAC: "MA"},
			})
			if _, err := a.InitChain(context.Background(), &abci.InitChainRequest{ChainId: testChain, InitialHeight: 1, AppStateBytes: gen}); err != nil {
				t.Fatal(err)
			}
			for i, want := range tc.retained {
				h := int64(i + 1)
				block(t, a, h, signTx(t, key(byte(10+h)), 1, registry.KindApplyCity, registry.ApplyCity{Country: "156", CityNumber: "allocate", Name: fmt.Sprintf("city %d", h)}))
				resp, err := a.Commit(context.Background(), &abci.CommitRequest{})
				if err != nil {
					t.Fatal(err)
				}
				a.snaps.wg.Wait() // a snapshot is on disk before the next block
				if resp.RetainHeight != want {
					t.Errorf("block %d: retain height %d, want %d", h, resp.RetainHeight, want)
				}
			}
			if st.Oldest() != tc.oldest {
				t.Errorf("state kept from %d, want %d", st.Oldest(), tc.oldest)
			}
			var pe *store.PrunedError
			if _, err := st.At(tc.oldest - 1); tc.oldest > 1 && (!errors.As(err, &pe) || pe.Oldest != tc.oldest) {
				t.Errorf("state at %d: %v, want pruned, naming %d", tc.oldest-1, err, tc.oldest)
			}
			a.Close()
		})
	}
}
