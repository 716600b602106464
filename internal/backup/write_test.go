package backup

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/tmhash"
	cmtjson "github.com/cometbft/cometbft/libs/json"
	"github.com/cometbft/cometbft/types"

	"github.com/cityid/cityid/internal/store"
)

// fakeChain is a Source made of a chain of one validator whose headers
// and commits are signed here, and a state given by the test: the writer
// and reader tested together, with no node.
type fakeChain struct {
	genesis []byte
	blocks  []*types.Block // height i+1
	light   []*types.LightBlock
	vals    *types.ValidatorSet
	params  types.ConsensusParams
	root    []byte
	export  func(h int64, w io.Writer) error
}

const fakeChainID = "cityid-test-backup"

// newFakeChain signs blocks 1 and 2; header 2 carries root, the app hash
// of the state at 1.
func newFakeChain(t testing.TB, root []byte, export func(int64, io.Writer) error) *fakeChain {
	t.Helper()
	pv := types.NewMockPV()
	pub, err := pv.GetPubKey()
	if err != nil {
		t.Fatal(err)
	}
	genTime := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	params := *types.DefaultConsensusParams()
	gen := &types.GenesisDoc{GenesisTime: genTime, ChainID: fakeChainID, InitialHeight: 1, ConsensusParams: &params,
		Validators: []types.GenesisValidator{{Address: pub.Address(), PubKey: pub, Power: 10, Name: "v"}}}
	if err := gen.ValidateAndComplete(); err != nil {
		t.Fatal(err)
	}
	genJSON, err := cmtjson.Marshal(gen)
	if err != nil {
		t.Fatal(err)
	}
	vals := types.NewValidatorSet([]*types.Validator{types.NewValidator(pub, 10)})
	c := &fakeChain{genesis: genJSON, vals: vals, params: params, root: root, export: export}
	var lastID types.BlockID
	lastCommit := &types.Commit{}
	for h := int64(1); h <= 2; h++ {
		b := types.MakeBlock(h, nil, lastCommit, nil)
		b.ChainID, b.Time, b.LastBlockID = fakeChainID, genTime.Add(time.Duration(h)*time.Second), lastID
		b.ValidatorsHash, b.NextValidatorsHash = vals.Hash(), vals.Hash()
		b.ConsensusHash, b.ProposerAddress = params.Hash(), pub.Address()
		if h == 2 {
			b.AppHash = root
		}
		id := types.BlockID{Hash: b.Hash(), PartSetHeader: types.PartSetHeader{Total: 1, Hash: tmhash.Sum([]byte("parts"))}}
		vs := types.NewVoteSet(fakeChainID, h, 0, types.PrecommitType, vals)
		ec, err := types.MakeExtCommit(id, h, 0, vs, []types.PrivValidator{pv}, b.Time, false)
		if err != nil {
			t.Fatal(err)
		}
		commit := ec.ToCommit()
		c.blocks = append(c.blocks, b)
		c.light = append(c.light, &types.LightBlock{SignedHeader: &types.SignedHeader{Header: &b.Header, Commit: commit}, ValidatorSet: vals})
		lastID, lastCommit = id, commit
	}
	return c
}

func (c *fakeChain) GenesisFile() ([]byte, error)       { return c.genesis, nil }
func (c *fakeChain) BlockHeights() (base, latest int64) { return 1, int64(len(c.blocks)) }
func (c *fakeChain) LightBlock(_ context.Context, h int64) (*types.LightBlock, error) {
	return c.light[h-1], nil
}
func (c *fakeChain) Validators(context.Context, int64) (*types.ValidatorSet, error) {
	return c.vals, nil
}
func (c *fakeChain) ConsensusParams(context.Context, int64) (types.ConsensusParams, error) {
	return c.params, nil
}
func (c *fakeChain) Block(h int64) (*types.Block, error) { return c.blocks[h-1], nil }
func (c *fakeChain) StateHash(h int64) ([]byte, error) {
	if h != 1 {
		return nil, fmt.Errorf("state %d: %w", h, store.ErrNoVersion)
	}
	return c.root, nil
}
func (c *fakeChain) ExportState(h int64, w io.Writer) error { return c.export(h, w) }

// TestWriteRead: a store's state written by Prepare and WriteTo reads
// back through Read into an empty store, the same state.
func TestWriteRead(t *testing.T) {
	src, err := store.OpenMemory(store.Options{ValueCacheBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	for i := range 5000 {
		if err := src.Set(fmt.Appendf(nil, "id/%06d", i), bytes.Repeat(fmt.Appendf(nil, "v%d", i), 20)); err != nil {
			t.Fatal(err)
		}
	}
	root, _, err := src.Commit()
	if err != nil {
		t.Fatal(err)
	}
	c := newFakeChain(t, root, src.Export)
	for _, blocks := range []bool{false, true} {
		plan, err := Prepare(context.Background(), c, Options{Blocks: blocks, Software: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if plan.Height() != 1 {
			t.Fatalf("the plan backs up height %d, want 1 (the latest block's parent)", plan.Height())
		}
		var buf bytes.Buffer
		man, err := plan.WriteTo(context.Background(), &buf)
		if err != nil {
			t.Fatal(err)
		}
		dst := memStore(t)
		a, err := Read(bytes.NewReader(buf.Bytes()), dst)
		if err != nil {
			t.Fatalf("blocks %v: %v", blocks, err)
		}
		if a.Manifest.StateSHA256 != man.StateSHA256 || (a.Manifest.Blocks != nil) != blocks || !bytes.Equal(dst.Hash(), root) {
			t.Fatalf("blocks %v: read back %+v, root %X; wrote %+v, root %X", blocks, a.Manifest, dst.Hash(), man, root)
		}
		v, err := dst.Latest().Get([]byte("id/004321"))
		if err != nil || !bytes.Equal(v, bytes.Repeat([]byte("v4321"), 20)) {
			t.Fatalf("a value read back: %q %v", v, err)
		}
	}

	// What a node cannot back up is refused before anything is written.
	for _, h := range []int64{2, 5, -1} {
		_, err := Prepare(context.Background(), c, Options{Height: h})
		var he *HeightError
		if !errors.As(err, &he) {
			t.Errorf("height %d: %v, want a *HeightError", h, err)
		}
	}
	// A state that is not the signed one is never written.
	bad := newFakeChain(t, bytes.Repeat([]byte{7}, 32), src.Export)
	bad.root = root
	if _, err := Prepare(context.Background(), bad, Options{}); err == nil {
		t.Error("a state whose root is not header 2's app hash was prepared")
	}
}

// TestWriteStreams: an archive whose state is many parts long is written
// and read through a pipe with the heap staying far below the state's
// size: neither end holds more than a part or so.
func TestWriteStreams(t *testing.T) {
	const stateBytes = 96 << 20
	export := func(_ int64, w io.Writer) error {
		piece := make([]byte, 64<<10)
		for off := 0; off < stateBytes; off += len(piece) {
			for i := 0; i < len(piece); i += 8 {
				binary.LittleEndian.PutUint64(piece[i:], uint64(off+i)*0x9E3779B97F4A7C15)
			}
			if _, err := w.Write(piece); err != nil {
				return err
			}
		}
		return nil
	}
	c := newFakeChain(t, tmhash.Sum([]byte("a root the reader does not check without a store")), export)
	plan, err := Prepare(context.Background(), c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	done := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Add(1)
	go func() {
		defer sampler.Done()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	pr, pw := io.Pipe()
	var werr error
	var writer sync.WaitGroup
	writer.Add(1)
	go func() {
		defer writer.Done()
		_, werr = plan.WriteTo(context.Background(), pw)
		pw.CloseWithError(werr)
	}()
	a, err := Read(pr, nil)
	writer.Wait()
	close(done)
	sampler.Wait()
	if err != nil || werr != nil {
		t.Fatalf("read %v, write %v", err, werr)
	}
	if a.Manifest.StateBytes != stateBytes || len(a.Manifest.Files) != 5+stateBytes/PartBytes {
		t.Fatalf("manifest: %d state bytes in %d entries", a.Manifest.StateBytes, len(a.Manifest.Files))
	}
	grew := int64(peak.Load()) - int64(base)
	t.Logf("a state of %d MiB streamed with the heap %d MiB above where it began", stateBytes>>20, grew>>20)
	if grew > 32<<20 {
		t.Errorf("the heap grew by %d MiB for a state of %d MiB: something holds the stream", grew>>20, stateBytes>>20)
	}
}
