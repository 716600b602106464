package backup

import (
	"bytes"
	"context"
	"testing"

	cfg "github.com/cometbft/cometbft/config"
	sm "github.com/cometbft/cometbft/state"
	cmtstore "github.com/cometbft/cometbft/store"

	"github.com/cityid/cityid/internal/store"
)

// TestBootstrap: the CometBFT state written from an archive is the one a
// light client would build at its height, block sync starts after it, and
// stores that hold anything are refused.
func TestBootstrap(t *testing.T) {
	src, err := store.OpenMemory(store.Options{ValueCacheBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if err := src.Set([]byte("id/1"), []byte("one")); err != nil {
		t.Fatal(err)
	}
	root, _, err := src.Commit()
	if err != nil {
		t.Fatal(err)
	}
	c := newFakeChain(t, root, src.Export)
	plan, err := Prepare(context.Background(), c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := plan.WriteTo(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	a, err := Read(&buf, memStore(t))
	if err != nil {
		t.Fatal(err)
	}
	conf := cfg.DefaultConfig()
	conf.SetRoot(t.TempDir())
	conf.DBBackend = "goleveldb"
	if err := Bootstrap(conf, cfg.DefaultDBProvider, a); err != nil {
		t.Fatal(err)
	}
	bsDB, err := cfg.DefaultDBProvider(&cfg.DBContext{ID: "blockstore", Config: conf})
	if err != nil {
		t.Fatal(err)
	}
	blocks := cmtstore.NewBlockStore(bsDB)
	stDB, err := cfg.DefaultDBProvider(&cfg.DBContext{ID: "state", Config: conf})
	if err != nil {
		t.Fatal(err)
	}
	states := sm.NewStore(stDB, sm.StoreOptions{})
	st, err := states.Load()
	if err != nil {
		t.Fatal(err)
	}
	if st.LastBlockHeight != 1 || !bytes.Equal(st.AppHash, root) || st.ChainID != fakeChainID ||
		!bytes.Equal(st.LastBlockID.Hash, c.light[0].Hash()) || !bytes.Equal(st.Validators.Hash(), c.vals.Hash()) {
		t.Fatalf("bootstrapped state: height %d, app hash %X, chain %s, last block %v", st.LastBlockHeight, st.AppHash, st.ChainID, st.LastBlockID)
	}
	if h, err := states.GetOfflineStateSyncHeight(); err != nil || h != 1 {
		t.Fatalf("offline state sync height %d, %v", h, err)
	}
	if sc := blocks.LoadSeenCommit(1); sc == nil || !bytes.Equal(sc.BlockID.Hash, c.light[0].Hash()) {
		t.Fatalf("seen commit of 1: %v", sc)
	}
	for _, v := range []int64{1, 2, 3} {
		if _, err := states.LoadValidators(v); err != nil {
			t.Errorf("validators of %d: %v", v, err)
		}
	}
	blocks.Close()
	states.Close()
	// Again on the same stores: refused, nothing changed.
	if err := Bootstrap(conf, cfg.DefaultDBProvider, a); err == nil {
		t.Fatal("a second bootstrap over a bootstrapped state was taken")
	}
}
