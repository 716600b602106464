package chain

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/cityid/cityid/internal/store"
)

// SnapshotOptions say when a node takes state sync snapshots and how many
// it keeps. An Interval of 0 takes none (the node still restores from
// others' snapshots when its config enables state sync).
type SnapshotOptions struct {
	Dir      string
	Interval int64
	Keep     int
}

// snapshotChunkBytes is the size of a snapshot chunk: CometBFT's p2p
// messages carry one chunk, and its state sync fetches them in parallel.
const snapshotChunkBytes = 4 << 20

// snapshotMeta is a snapshot's metadata: the SHA-256 of each chunk, so a
// restoring node checks every chunk as it arrives. The snapshot's hash is
// the SHA-256 of this metadata.
type snapshotMeta struct {
	Format      uint32   `json:"format"`
	Height      int64    `json:"height"`
	ChunkHashes []string `json:"chunk_hashes"`
}

// snapshots takes, lists, serves and restores state sync snapshots of the
// store. Taking a snapshot runs in its own goroutine, from an immutable
// committed version, while blocks go on; Close waits for it.
type snapshots struct {
	opts  SnapshotOptions
	store *store.Store
	log   *slog.Logger

	mu      sync.Mutex
	taking  bool
	height  int64 // of the snapshot being taken, while taking
	wg      sync.WaitGroup
	restore *restoring
}

// restoring is a snapshot being applied, chunk by chunk.
type restoring struct {
	meta    snapshotMeta
	appHash []byte
	file    *os.File
	next    uint32
}

func newSnapshots(opts SnapshotOptions, st *store.Store, log *slog.Logger) *snapshots {
	return &snapshots{opts: opts, store: st, log: log}
}

func (s *snapshots) dirOf(height int64) string {
	return filepath.Join(s.opts.Dir, fmt.Sprintf("%020d", height))
}

// maybeTake starts a snapshot of height if it is due and none is running.
func (s *snapshots) maybeTake(height int64) {
	if s.opts.Interval <= 0 || s.opts.Dir == "" || height%s.opts.Interval != 0 {
		return
	}
	s.mu.Lock()
	if s.taking {
		s.mu.Unlock()
		s.log.Warn("snapshot skipped: the previous one is still being written", "height", height)
		return
	}
	s.taking, s.height = true, height
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer func() { s.mu.Lock(); s.taking = false; s.mu.Unlock() }()
		if err := s.take(height); err != nil {
			s.log.Error("snapshot failed", "height", height, "err", err)
			return
		}
		s.prune()
	}()
}

// inProgress is the height of the snapshot being taken, if one is: its
// state version must stay until the export has read it.
func (s *snapshots) inProgress() (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.height, s.taking
}

// take writes the snapshot of height into a temporary folder and renames
// it into place, so a listed snapshot is always whole.
func (s *snapshots) take(height int64) error {
	tmp := filepath.Join(s.opts.Dir, fmt.Sprintf(".tmp-%020d", height))
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return err
	}
	cw := &chunkWriter{dir: tmp}
	if err := s.store.Export(height, cw); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	if err := cw.Close(); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	meta, err := json.Marshal(snapshotMeta{Format: store.SnapshotFormat, Height: height, ChunkHashes: cw.hashes})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, "meta.json"), meta, 0o600); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	if err := os.Rename(tmp, s.dirOf(height)); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	s.log.Info("snapshot taken", "height", height, "chunks", len(cw.hashes))
	return nil
}

// prune keeps the newest Keep snapshots.
func (s *snapshots) prune() {
	hs := s.heights()
	keep := max(s.opts.Keep, 1)
	for len(hs) > keep {
		if err := os.RemoveAll(s.dirOf(hs[0])); err != nil {
			s.log.Warn("prune snapshot", "height", hs[0], "err", err)
		}
		hs = hs[1:]
	}
}

// heights lists the whole snapshots on disk, oldest first.
func (s *snapshots) heights() []int64 {
	entries, err := os.ReadDir(s.opts.Dir)
	if err != nil {
		return nil
	}
	var hs []int64
	for _, e := range entries {
		if h, err := strconv.ParseInt(e.Name(), 10, 64); err == nil && e.IsDir() {
			hs = append(hs, h)
		}
	}
	sort.Slice(hs, func(i, j int) bool { return hs[i] < hs[j] })
	return hs
}

func (s *snapshots) list() []*abci.Snapshot {
	var out []*abci.Snapshot
	for _, h := range s.heights() {
		meta, err := os.ReadFile(filepath.Join(s.dirOf(h), "meta.json"))
		if err != nil {
			continue
		}
		var m snapshotMeta
		if json.Unmarshal(meta, &m) != nil {
			continue
		}
		sum := sha256.Sum256(meta)
		out = append(out, &abci.Snapshot{Height: uint64(h), Format: m.Format, Chunks: uint32(len(m.ChunkHashes)), Hash: sum[:], Metadata: meta})
	}
	return out
}

func (s *snapshots) loadChunk(height uint64, format, chunk uint32) []byte {
	if format != store.SnapshotFormat {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(s.dirOf(int64(height)), fmt.Sprintf("chunk-%05d", chunk)))
	if err != nil {
		return nil
	}
	return b
}

// offer prepares to restore a snapshot whose state must hash to appHash
// (the app hash CometBFT's light client verified for its height).
func (s *snapshots) offer(sn *abci.Snapshot, appHash []byte) abci.OfferSnapshotResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sn == nil {
		return abci.OFFER_SNAPSHOT_RESULT_REJECT
	}
	if sn.Format != store.SnapshotFormat {
		return abci.OFFER_SNAPSHOT_RESULT_REJECT_FORMAT
	}
	var m snapshotMeta
	sum := sha256.Sum256(sn.Metadata)
	if json.Unmarshal(sn.Metadata, &m) != nil || hex.EncodeToString(sum[:]) != hex.EncodeToString(sn.Hash) ||
		uint32(len(m.ChunkHashes)) != sn.Chunks || sn.Chunks == 0 || m.Height != int64(sn.Height) {
		return abci.OFFER_SNAPSHOT_RESULT_REJECT
	}
	s.abortLocked()
	// A restore interrupted by a crash leaves state behind; CometBFT only
	// state-syncs a node with no blocks, so nothing depends on it.
	if err := s.store.Reset(); err != nil {
		s.log.Error("reset store for state sync", "err", err)
		return abci.OFFER_SNAPSHOT_RESULT_ABORT
	}
	if err := os.MkdirAll(s.opts.Dir, 0o700); err != nil {
		return abci.OFFER_SNAPSHOT_RESULT_ABORT
	}
	f, err := os.CreateTemp(s.opts.Dir, ".restore-*")
	if err != nil {
		s.log.Error("state sync", "err", err)
		return abci.OFFER_SNAPSHOT_RESULT_ABORT
	}
	s.restore = &restoring{meta: m, appHash: appHash, file: f}
	s.log.Info("restoring snapshot", "height", sn.Height, "chunks", sn.Chunks)
	return abci.OFFER_SNAPSHOT_RESULT_ACCEPT
}

func (s *snapshots) abortLocked() {
	if s.restore != nil {
		s.restore.file.Close()
		os.Remove(s.restore.file.Name())
		s.restore = nil
	}
}

// applyChunk checks a chunk against the metadata and, with the last one,
// imports the snapshot and checks the result against the trusted app hash.
func (s *snapshots) applyChunk(req *abci.ApplySnapshotChunkRequest) *abci.ApplySnapshotChunkResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.restore
	if r == nil {
		return &abci.ApplySnapshotChunkResponse{Result: abci.APPLY_SNAPSHOT_CHUNK_RESULT_ABORT}
	}
	if req.Index != r.next {
		return &abci.ApplySnapshotChunkResponse{Result: abci.APPLY_SNAPSHOT_CHUNK_RESULT_RETRY, RefetchChunks: []uint32{r.next}}
	}
	sum := sha256.Sum256(req.Chunk)
	if hex.EncodeToString(sum[:]) != r.meta.ChunkHashes[req.Index] {
		s.log.Warn("state sync chunk does not match its hash", "index", req.Index, "sender", req.Sender)
		return &abci.ApplySnapshotChunkResponse{Result: abci.APPLY_SNAPSHOT_CHUNK_RESULT_RETRY,
			RefetchChunks: []uint32{req.Index}, RejectSenders: []string{req.Sender}}
	}
	if _, err := r.file.Write(req.Chunk); err != nil {
		s.log.Error("state sync: write chunk", "err", err)
		return &abci.ApplySnapshotChunkResponse{Result: abci.APPLY_SNAPSHOT_CHUNK_RESULT_ABORT}
	}
	r.next++
	if int(r.next) < len(r.meta.ChunkHashes) {
		return &abci.ApplySnapshotChunkResponse{Result: abci.APPLY_SNAPSHOT_CHUNK_RESULT_ACCEPT}
	}
	defer s.abortLocked()
	if _, err := r.file.Seek(0, io.SeekStart); err != nil {
		return &abci.ApplySnapshotChunkResponse{Result: abci.APPLY_SNAPSHOT_CHUNK_RESULT_ABORT}
	}
	// The trusted app hash goes in, so a state that does not match it is
	// never served, not even between the restore and the check.
	hash, err := s.store.Import(r.meta.Height, bufio.NewReaderSize(r.file, 1<<20), r.appHash)
	if err != nil {
		s.log.Error("state sync: snapshot refused", "height", r.meta.Height, "err", err)
		if rerr := s.store.Reset(); rerr != nil {
			s.log.Error("reset store after a refused snapshot", "err", rerr)
			return &abci.ApplySnapshotChunkResponse{Result: abci.APPLY_SNAPSHOT_CHUNK_RESULT_ABORT}
		}
		return &abci.ApplySnapshotChunkResponse{Result: abci.APPLY_SNAPSHOT_CHUNK_RESULT_REJECT_SNAPSHOT}
	}
	s.log.Info("snapshot restored", "height", r.meta.Height, "app_hash", fmt.Sprintf("%X", hash))
	return &abci.ApplySnapshotChunkResponse{Result: abci.APPLY_SNAPSHOT_CHUNK_RESULT_ACCEPT}
}

// close waits for a snapshot being taken and drops a restore in progress.
func (s *snapshots) close() {
	s.wg.Wait()
	s.mu.Lock()
	s.abortLocked()
	s.mu.Unlock()
}

// chunkWriter splits a stream into chunk files, hashing each.
type chunkWriter struct {
	dir    string
	f      *os.File
	n      int
	hashes []string
	h      hashWriter
}

type hashWriter interface {
	io.Writer
	Sum([]byte) []byte
}

func (c *chunkWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		if c.f == nil {
			f, err := os.Create(filepath.Join(c.dir, fmt.Sprintf("chunk-%05d", len(c.hashes))))
			if err != nil {
				return written, err
			}
			c.f, c.n, c.h = f, 0, sha256.New()
		}
		room := snapshotChunkBytes - c.n
		part := p[:min(room, len(p))]
		if _, err := c.f.Write(part); err != nil {
			return written, err
		}
		c.h.Write(part)
		c.n += len(part)
		written += len(part)
		p = p[len(part):]
		if c.n == snapshotChunkBytes {
			if err := c.finish(); err != nil {
				return written, err
			}
		}
	}
	return written, nil
}

func (c *chunkWriter) finish() error {
	if c.f == nil {
		return nil
	}
	err := c.f.Close()
	c.hashes = append(c.hashes, hex.EncodeToString(c.h.Sum(nil)))
	c.f = nil
	return err
}

func (c *chunkWriter) Close() error {
	if err := c.finish(); err != nil {
		return err
	}
	if len(c.hashes) == 0 {
		return errors.New("empty snapshot")
	}
	return nil
}

// The ABCI snapshot methods.

// ListSnapshots lists the snapshots this node serves.
func (a *App) ListSnapshots(context.Context, *abci.ListSnapshotsRequest) (*abci.ListSnapshotsResponse, error) {
	return &abci.ListSnapshotsResponse{Snapshots: a.snaps.list()}, nil
}

// LoadSnapshotChunk serves one chunk of a snapshot.
func (a *App) LoadSnapshotChunk(_ context.Context, req *abci.LoadSnapshotChunkRequest) (*abci.LoadSnapshotChunkResponse, error) {
	return &abci.LoadSnapshotChunkResponse{Chunk: a.snaps.loadChunk(req.Height, req.Format, req.Chunk)}, nil
}

// OfferSnapshot accepts a snapshot to restore.
func (a *App) OfferSnapshot(_ context.Context, req *abci.OfferSnapshotRequest) (*abci.OfferSnapshotResponse, error) {
	return &abci.OfferSnapshotResponse{Result: a.snaps.offer(req.Snapshot, req.AppHash)}, nil
}

// ApplySnapshotChunk applies one chunk of the snapshot being restored.
func (a *App) ApplySnapshotChunk(_ context.Context, req *abci.ApplySnapshotChunkRequest) (*abci.ApplySnapshotChunkResponse, error) {
	return a.snaps.applyChunk(req), nil
}
