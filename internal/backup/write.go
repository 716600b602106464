package backup

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/cometbft/cometbft/types"

	"github.com/cityid/cityid/internal/store"
)

// Source is what an archive is written from: a running node's committed
// state, and CometBFT's headers, validator sets and blocks. chain.Node is
// one; heights it no longer holds (pruned) are errors.
type Source interface {
	// GenesisFile is the genesis file's bytes.
	GenesisFile() ([]byte, error)
	// BlockHeights are the oldest and latest blocks the node holds.
	BlockHeights() (base, latest int64)
	LightBlock(ctx context.Context, height int64) (*types.LightBlock, error)
	Validators(ctx context.Context, height int64) (*types.ValidatorSet, error)
	ConsensusParams(ctx context.Context, height int64) (types.ConsensusParams, error)
	Block(height int64) (*types.Block, error)
	// StateHash is the root hash of the committed state at height.
	StateHash(height int64) ([]byte, error)
	// ExportState writes the state at height as a store snapshot stream.
	ExportState(height int64, w io.Writer) error
}

// Options say what to back up.
type Options struct {
	// Height is the state's height; 0 takes the latest one whose app
	// hash a header carries (the latest block's height minus one).
	Height int64
	// Blocks adds the blocks the node holds up to Height.
	Blocks bool
	// Software names the program writing the archive, for the manifest.
	Software string
}

// HeightError is a height the node cannot back up: not signed yet, or no
// longer held.
type HeightError struct {
	Height int64
	Reason string
}

func (e *HeightError) Error() string {
	return fmt.Sprintf("cannot back up height %d: %s", e.Height, e.Reason)
}

// Plan is an archive ready to be written: its height chosen, and its small
// parts fetched from the node and checked as a reader will check them.
type Plan struct {
	src   Source
	opts  Options
	man   Manifest
	small []entry // in archive order
}

// Prepare chooses the archive's height and reads and checks its genesis,
// headers, validator sets and parameters. Nothing is written yet, so a
// caller can still answer with an error.
func Prepare(ctx context.Context, src Source, o Options) (*Plan, error) {
	base, latest := src.BlockHeights()
	h := o.Height
	if h == 0 {
		// Header h+1 carries the app hash of h: the latest block's
		// header carries its parent's.
		h = latest - 1
	}
	switch {
	case latest < 2:
		return nil, &HeightError{h, fmt.Sprintf("the node has committed %d blocks; a backup needs the header after the state's", latest)}
	case h < 1:
		return nil, &HeightError{h, "heights start at 1"}
	case h+1 > latest:
		return nil, &HeightError{h, fmt.Sprintf("its app hash is signed in header %d, and the latest block is %d: give a height up to %d", h+1, latest, latest-1)}
	case h < base:
		return nil, &HeightError{h, fmt.Sprintf("the node keeps blocks from %d only", base)}
	}
	gen, err := src.GenesisFile()
	if err != nil {
		return nil, fmt.Errorf("backup: read genesis: %w", err)
	}
	last, err := src.LightBlock(ctx, h)
	if err != nil {
		return nil, fmt.Errorf("backup: light block %d: %w", h, err)
	}
	signed, err := src.LightBlock(ctx, h+1)
	if err != nil {
		return nil, fmt.Errorf("backup: light block %d: %w", h+1, err)
	}
	next, err := src.Validators(ctx, h+2)
	if err != nil {
		return nil, fmt.Errorf("backup: validators of %d: %w", h+2, err)
	}
	params, err := src.ConsensusParams(ctx, h+1)
	if err != nil {
		return nil, fmt.Errorf("backup: consensus parameters of %d: %w", h+1, err)
	}
	root, err := src.StateHash(h)
	if errors.Is(err, store.ErrNoVersion) {
		return nil, &HeightError{h, err.Error()}
	}
	if err != nil {
		return nil, fmt.Errorf("backup: state at %d: %w", h, err)
	}
	p := &Plan{src: src, opts: o}
	p.opts.Height = h
	parts := proofParts{genesis: gen, last: last, signed: signed, next: next, params: params}
	doc, err := parts.check()
	if err != nil {
		// The node's own headers do not check: nothing to write.
		return nil, fmt.Errorf("backup: the node's headers at %d do not check: %w", h, err)
	}
	if !bytes.Equal(root, signed.AppHash) {
		return nil, fmt.Errorf("backup: the node's state at %d hashes to %X, but header %d carries app hash %X", h, root, h+1, signed.AppHash)
	}
	enc, err := parts.encode()
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	p.small = enc
	p.man = Manifest{
		Format: Format, Version: Version, ChainID: doc.ChainID, Height: h,
		AppHash: fmt.Sprintf("%X", root), HeaderHeight: h + 1, HeaderHash: signed.Hash().String(),
		HeaderTime: headerTime(signed.Time), StateFormat: store.SnapshotFormat,
		Software: o.Software,
	}
	if o.Blocks {
		p.man.Blocks = &BlockRange{From: max(base, 1), To: h}
	}
	return p, nil
}

// Height is the state's height.
func (p *Plan) Height() int64 { return p.opts.Height }

// WriteTo writes the archive to w, streaming the state from the store's
// committed version (blocks go on meanwhile) and the blocks one by one.
// An error leaves w holding an archive without a manifest, which every
// reader refuses.
func (p *Plan) WriteTo(ctx context.Context, w io.Writer) (Manifest, error) {
	man := p.man
	tw := tar.NewWriter(w)
	for _, s := range p.small {
		f, err := putEntry(tw, s.name, s.data)
		if err != nil {
			return Manifest{}, fmt.Errorf("backup: write %s: %w", s.name, err)
		}
		man.Files = append(man.Files, f)
	}
	state := newPartWriter(ctx, tw, StatePrefix)
	if err := p.src.ExportState(p.opts.Height, state); err != nil {
		return Manifest{}, fmt.Errorf("backup: export the state at %d: %w", p.opts.Height, err)
	}
	if err := state.Close(); err != nil {
		return Manifest{}, fmt.Errorf("backup: state: %w", err)
	}
	man.Files = append(man.Files, state.files...)
	man.StateBytes, man.StateSHA256 = state.total, hex.EncodeToString(state.sum.Sum(nil))
	if man.Blocks != nil {
		blocks := newPartWriter(ctx, tw, BlocksPrefix)
		var lenBuf [binary.MaxVarintLen64]byte
		for h := man.Blocks.From; h <= man.Blocks.To; h++ {
			b, err := p.src.Block(h)
			if err != nil {
				return Manifest{}, fmt.Errorf("backup: block %d: %w", h, err)
			}
			pb, err := b.ToProto()
			if err != nil {
				return Manifest{}, fmt.Errorf("backup: block %d: %w", h, err)
			}
			bz, err := pb.Marshal()
			if err != nil {
				return Manifest{}, fmt.Errorf("backup: block %d: %w", h, err)
			}
			n := binary.PutUvarint(lenBuf[:], uint64(len(bz)))
			if _, err := blocks.Write(lenBuf[:n]); err != nil {
				return Manifest{}, fmt.Errorf("backup: blocks: %w", err)
			}
			if _, err := blocks.Write(bz); err != nil {
				return Manifest{}, fmt.Errorf("backup: blocks: %w", err)
			}
		}
		if err := blocks.Close(); err != nil {
			return Manifest{}, fmt.Errorf("backup: blocks: %w", err)
		}
		man.Files = append(man.Files, blocks.files...)
	}
	mb, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return Manifest{}, fmt.Errorf("backup: manifest: %w", err)
	}
	if _, err := putEntry(tw, NameManifest, append(mb, '\n')); err != nil {
		return Manifest{}, fmt.Errorf("backup: write manifest: %w", err)
	}
	if err := tw.Close(); err != nil {
		return Manifest{}, fmt.Errorf("backup: close archive: %w", err)
	}
	return man, nil
}

// entryTime is every entry's modification time: an archive's bytes depend
// on the state alone, not on when it was written.
var entryTime = time.Unix(0, 0).UTC()

func putEntry(tw *tar.Writer, name string, data []byte) (File, error) {
	hdr := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: entryTime,
		Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}
	if err := tw.WriteHeader(hdr); err != nil {
		return File{}, err
	}
	if _, err := tw.Write(data); err != nil {
		return File{}, err
	}
	sum := sha256.Sum256(data)
	return File{Name: name, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}, nil
}

// partWriter cuts a stream into entries of PartBytes, holding one part
// at a time.
type partWriter struct {
	ctx    context.Context
	tw     *tar.Writer
	prefix string
	buf    []byte
	files  []File
	total  int64
	sum    hash.Hash // of the whole stream
}

func newPartWriter(ctx context.Context, tw *tar.Writer, prefix string) *partWriter {
	return &partWriter{ctx: ctx, tw: tw, prefix: prefix, buf: make([]byte, 0, PartBytes), sum: sha256.New()}
}

func (p *partWriter) Write(b []byte) (int, error) {
	written := 0
	for len(b) > 0 {
		room := PartBytes - len(p.buf)
		n := min(room, len(b))
		p.buf = append(p.buf, b[:n]...)
		b, written = b[n:], written+n
		if len(p.buf) == PartBytes {
			if err := p.flush(); err != nil {
				return written, err
			}
		}
	}
	return written, nil
}

func (p *partWriter) flush() error {
	if len(p.buf) == 0 {
		return nil
	}
	// A client that went away stops the export at the next part.
	if err := p.ctx.Err(); err != nil {
		return err
	}
	f, err := putEntry(p.tw, partName(p.prefix, len(p.files)), p.buf)
	if err != nil {
		return err
	}
	p.sum.Write(p.buf)
	p.total += int64(len(p.buf))
	p.files = append(p.files, f)
	p.buf = p.buf[:0]
	return nil
}

// Close writes the last part; a stream always has at least one.
func (p *partWriter) Close() error {
	if err := p.flush(); err != nil {
		return err
	}
	if len(p.files) == 0 {
		return errors.New("empty stream")
	}
	return nil
}
