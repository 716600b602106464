package workload

import (
	"bytes"
	"fmt"
	"time"

	"github.com/cityid/cityid/internal/chain"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/store"
)

// genesisTime is the time of the state benchmarks' first block; block h is
// h seconds later. Block time only stamps records, so any fixed time does.
var genesisTime = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// State is the registry's state machine on an in-memory IAVL store, with
// the fixture's city, sector and unit committed: ready for register
// transactions.
type State struct {
	Machine *registry.Machine
	Store   *store.Store
	height  int64
}

// NewState writes the fixture's genesis and applies its setup transactions,
// one block and one commit each.
func NewState(f *Fixture) (*State, error) {
	st, err := store.OpenMemory(store.Options{})
	if err != nil {
		return nil, err
	}
	s := &State{Machine: registry.New(f.ChainID), Store: st}
	gen, err := f.Genesis()
	if err != nil {
		return nil, err
	}
	if err := s.Machine.InitGenesis(st, gen, nil); err != nil {
		return nil, err
	}
	setup, err := f.SetupTxs()
	if err != nil {
		return nil, err
	}
	for _, tx := range setup {
		if _, err := s.Block(st, [][]byte{tx}, nil); err != nil {
			return nil, fmt.Errorf("setup: %w", err)
		}
	}
	return s, nil
}

// Height is the height of the last committed block.
func (s *State) Height() int64 { return s.height }

// Block applies txs as the next block through kv (the store itself, or a
// Recorder over it) with chain.ApplyBlock, as FinalizeBlock does, and
// commits it. prepared is passed to it: nil prepares (and verifies) every
// transaction. Any rejected transaction is an error: a
// benchmark counts only successful transactions.
func (s *State) Block(kv registry.KV, txs [][]byte, prepared registry.Prepared) ([]registry.Result, error) {
	s.height++
	blk := registry.Block{Height: s.height, Time: genesisTime.Add(time.Duration(s.height) * time.Second)}
	res, err := chain.ApplyBlock(s.Machine, kv, blk, txs, chain.BlockOptions{Prepared: prepared})
	if err != nil {
		return nil, err
	}
	for i, r := range res {
		if r.Err != nil {
			return nil, fmt.Errorf("block %d tx %d rejected: %w", s.height, i, r.Err)
		}
	}
	if _, _, err := s.Store.Commit(); err != nil {
		return nil, err
	}
	return res, nil
}

// Sequential is Block through the registry's own ApplyBlock, one
// transaction after the other, every signature verified: the definition
// the chain's parallel apply must equal, for comparison.
func (s *State) Sequential(txs [][]byte) error {
	s.height++
	blk := registry.Block{Height: s.height, Time: genesisTime.Add(time.Duration(s.height) * time.Second)}
	res, err := s.Machine.ApplyBlock(s.Store, blk, txs, nil)
	if err != nil {
		return err
	}
	for i, r := range res {
		if r.Err != nil {
			return fmt.Errorf("block %d tx %d rejected: %w", s.height, i, r.Err)
		}
	}
	_, _, err = s.Store.Commit()
	return err
}

// Close releases the store.
func (s *State) Close() error { return s.Store.Close() }

// Write is one key and value a block wrote.
type Write struct{ Key, Value []byte }

// Recorder is a registry.KV that passes everything to KV and keeps a copy
// of every write, so that the same keys and values can be written straight
// to a tree as a baseline.
type Recorder struct {
	registry.KV
	Writes []Write
}

// Set records the write and passes it on.
func (r *Recorder) Set(key, value []byte) error {
	r.Writes = append(r.Writes, Write{Key: bytes.Clone(key), Value: bytes.Clone(value)})
	return r.KV.Set(key, value)
}

// Delete passes the delete on; register transactions never delete.
func (r *Recorder) Delete(key []byte) error { return r.KV.Delete(key) }

// PrepareAll prepares txs as CheckTx would, and returns the lookup that
// FinalizeBlock's cache gives ApplyBlock.
func (s *State) PrepareAll(txs [][]byte) (registry.Prepared, error) {
	m := make(map[string]*registry.Tx, len(txs))
	for i, tx := range txs {
		p, err := s.Machine.Prepare(tx)
		if err != nil {
			return nil, fmt.Errorf("prepare tx %d: %w", i, err)
		}
		m[string(tx)] = p
	}
	return func(tx []byte) *registry.Tx { return m[string(tx)] }, nil
}
