package backup

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"

	cmtproto "github.com/cometbft/cometbft/api/cometbft/types/v1"
	"github.com/cometbft/cometbft/types"

	"github.com/cityid/cityid/internal/store"
)

// Archive is an archive read and checked whole.
type Archive struct {
	Manifest Manifest
	Genesis  []byte // the genesis file, byte for byte
	Doc      *types.GenesisDoc
	// Last and Signed are the light blocks of the state's height H and
	// of H+1, whose app hash is the state's root.
	Last, Signed   *types.LightBlock
	NextValidators *types.ValidatorSet // of H+2
	Params         types.ConsensusParams
}

// Read reads an archive from r in one pass and checks every part of it:
// the headers' commit signatures against their validator sets and their
// links (see proofParts.check), the state's root against header H+1's app
// hash, the blocks' hash chain up to header H, and every entry's size and
// SHA-256 against the manifest, which must come last and list exactly the
// entries before it. A refusal is a *CorruptError (errors.Is ErrCorrupt).
//
// With a store st (empty: see store.Import), the state is imported into
// it as it streams, so that the root is checked; a caller whose archive
// is refused must throw st away, since an import refused part way leaves
// nodes behind. With st nil the state is only hashed, not imported:
// everything but the root is checked.
func Read(r io.Reader, st *store.Store) (*Archive, error) {
	tr := tar.NewReader(r)
	var files []File
	small := func(name string, limit int64) ([]byte, error) {
		b, err := readSmallEntry(tr, name, limit)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(b)
		files = append(files, File{Name: name, Size: int64(len(b)), SHA256: hex.EncodeToString(sum[:])})
		return b, nil
	}
	a := &Archive{}
	var err error
	if a.Genesis, err = small(NameGenesis, maxSmallEntry); err != nil {
		return nil, err
	}
	var raw [4][]byte
	for i, name := range []string{NameLast, NameSigned, NameNextValidators, NameParams} {
		if raw[i], err = small(name, maxSmallEntry); err != nil {
			return nil, err
		}
	}
	if a.Last, err = decodeLightBlock(NameLast, raw[0]); err != nil {
		return nil, err
	}
	if a.Signed, err = decodeLightBlock(NameSigned, raw[1]); err != nil {
		return nil, err
	}
	if a.NextValidators, err = decodeValidators(NameNextValidators, raw[2]); err != nil {
		return nil, err
	}
	if a.Params, err = decodeParams(NameParams, raw[3]); err != nil {
		return nil, err
	}
	parts := proofParts{genesis: a.Genesis, last: a.Last, signed: a.Signed, next: a.NextValidators, params: a.Params}
	if a.Doc, err = parts.check(); err != nil {
		return nil, err
	}
	height, appHash := a.Last.Height, a.Signed.AppHash

	// The state: imported against the signed app hash, then read to its
	// end, so that every byte of every part is hashed.
	first, err := nextEntry(tr, partName(StatePrefix, 0))
	if err != nil {
		return nil, err
	}
	state, err := newPartReader(tr, StatePrefix, first)
	if err != nil {
		return nil, err
	}
	if st != nil {
		if _, err := st.Import(height, bufio.NewReaderSize(state, 1<<20), appHash); err != nil {
			if state.err != nil {
				return nil, state.err
			}
			return nil, corrupt("state", "%v", err)
		}
	}
	if _, err := io.Copy(io.Discard, state); err != nil {
		return nil, err
	}
	files = append(files, state.files...)
	stateSum := hex.EncodeToString(state.sum.Sum(nil))

	next := state.after
	var blocks *BlockRange
	if next != nil && strings.HasPrefix(next.Name, BlocksPrefix) {
		br, err := newPartReader(tr, BlocksPrefix, next)
		if err != nil {
			return nil, err
		}
		if blocks, err = readBlocks(br, a.Last); err != nil {
			return nil, err
		}
		files = append(files, br.files...)
		next = br.after
	}
	if next == nil {
		return nil, corrupt("archive", "it ends without %s: cut short", NameManifest)
	}
	if next.Name != NameManifest {
		return nil, corrupt(next.Name, "unexpected entry where %s belongs", NameManifest)
	}
	mb, err := readEntry(tr, next, maxManifest)
	if err != nil {
		return nil, err
	}
	if _, err := tr.Next(); !errors.Is(err, io.EOF) {
		return nil, corrupt("archive", "entries after %s", NameManifest)
	}
	dec := json.NewDecoder(bytes.NewReader(mb))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a.Manifest); err != nil {
		return nil, corrupt(NameManifest, "%v", err)
	}
	m := a.Manifest
	want := Manifest{
		Format: Format, Version: Version, ChainID: a.Doc.ChainID, Height: height,
		AppHash: fmt.Sprintf("%X", appHash), HeaderHeight: a.Signed.Height, HeaderHash: a.Signed.Hash().String(),
		HeaderTime: headerTime(a.Signed.Time), StateFormat: store.SnapshotFormat, StateBytes: state.total, StateSHA256: stateSum,
		Blocks: blocks, Software: m.Software, Files: files,
	}
	if err := sameManifest(m, want); err != nil {
		return nil, corrupt(NameManifest, "%v", err)
	}
	return a, nil
}

// sameManifest says how got differs from what the archive holds.
func sameManifest(got, want Manifest) error {
	if got.Format != want.Format || got.Version != want.Version {
		return fmt.Errorf("format %q version %d, want %q version %d", got.Format, got.Version, want.Format, want.Version)
	}
	type field struct {
		name      string
		got, want any
	}
	for _, f := range []field{
		{"chain_id", got.ChainID, want.ChainID},
		{"height", got.Height, want.Height},
		{"app_hash", got.AppHash, want.AppHash},
		{"header_height", got.HeaderHeight, want.HeaderHeight},
		{"header_hash", got.HeaderHash, want.HeaderHash},
		{"header_time", got.HeaderTime, want.HeaderTime},
		{"state_format", got.StateFormat, want.StateFormat},
		{"state_bytes", got.StateBytes, want.StateBytes},
		{"state_sha256", got.StateSHA256, want.StateSHA256},
	} {
		if f.got != f.want {
			return fmt.Errorf("%s is %v, the archive holds %v", f.name, f.got, f.want)
		}
	}
	if (got.Blocks == nil) != (want.Blocks == nil) || got.Blocks != nil && *got.Blocks != *want.Blocks {
		return fmt.Errorf("blocks are %+v, the archive holds %+v", got.Blocks, want.Blocks)
	}
	if len(got.Files) != len(want.Files) {
		return fmt.Errorf("it lists %d entries, the archive holds %d", len(got.Files), len(want.Files))
	}
	for i := range got.Files {
		if got.Files[i] != want.Files[i] {
			return fmt.Errorf("entry %d is listed as %+v, the archive holds %+v", i, got.Files[i], want.Files[i])
		}
	}
	return nil
}

// readSmallEntry reads the next entry, which must be name's and at most
// limit bytes, whole: the genesis, the light blocks and the parameters,
// which Read and ReadGenesis read alike.
func readSmallEntry(tr *tar.Reader, name string, limit int64) ([]byte, error) {
	hdr, err := nextEntry(tr, name)
	if err != nil {
		return nil, err
	}
	if hdr.Name != name {
		return nil, corrupt(name, "entry %q where %q belongs", hdr.Name, name)
	}
	return readEntry(tr, hdr, limit)
}

// readEntry reads the entry whose header tr gave last, of at most limit
// bytes, whole.
func readEntry(tr *tar.Reader, hdr *tar.Header, limit int64) ([]byte, error) {
	if hdr.Size > limit {
		return nil, corrupt(hdr.Name, "%d bytes, more than %d", hdr.Size, limit)
	}
	b, err := io.ReadAll(io.LimitReader(tr, hdr.Size))
	if err != nil || int64(len(b)) != hdr.Size {
		return nil, corrupt(hdr.Name, "cut short: %v", err)
	}
	return b, nil
}

// nextEntry reads the next entry's header, where want belongs.
func nextEntry(tr *tar.Reader, want string) (*tar.Header, error) {
	hdr, err := tr.Next()
	if errors.Is(err, io.EOF) {
		return nil, corrupt("archive", "it ends where %s belongs: cut short", want)
	}
	if err != nil {
		return nil, corrupt(want, "%v", err)
	}
	if hdr.Typeflag != tar.TypeReg {
		return nil, corrupt(hdr.Name, "not a regular file")
	}
	return hdr, nil
}

// partReader reads a stream cut into parts under prefix, hashing each
// part and the whole; it ends at the first entry outside prefix, which it
// keeps in after (nil at the archive's end).
type partReader struct {
	tr     *tar.Reader
	prefix string
	left   int64 // of the current part
	cur    hash.Hash
	curHdr *tar.Header
	files  []File
	sum    hash.Hash
	total  int64
	after  *tar.Header
	done   bool
	err    error // a refusal of the stream's framing, kept for the caller
}

func newPartReader(tr *tar.Reader, prefix string, first *tar.Header) (*partReader, error) {
	p := &partReader{tr: tr, prefix: prefix, sum: sha256.New()}
	if err := p.begin(first); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *partReader) begin(hdr *tar.Header) error {
	if want := partName(p.prefix, len(p.files)); hdr.Name != want {
		return corrupt(hdr.Name, "entry where %s belongs", want)
	}
	if hdr.Size <= 0 || hdr.Size > PartBytes {
		return corrupt(hdr.Name, "%d bytes, not 1 to %d", hdr.Size, PartBytes)
	}
	p.curHdr, p.left, p.cur = hdr, hdr.Size, sha256.New()
	return nil
}

func (p *partReader) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	for {
		if p.err != nil {
			return 0, p.err
		}
		if p.done {
			return 0, io.EOF
		}
		if p.left > 0 {
			n, err := p.tr.Read(b[:min(int64(len(b)), p.left)])
			p.cur.Write(b[:n])
			p.sum.Write(b[:n])
			p.left -= int64(n)
			p.total += int64(n)
			if err != nil && !errors.Is(err, io.EOF) || n == 0 && p.left > 0 {
				p.err = corrupt(p.curHdr.Name, "cut short: %v", err)
				return n, p.err
			}
			return n, nil
		}
		p.files = append(p.files, File{Name: p.curHdr.Name, Size: p.curHdr.Size, SHA256: hex.EncodeToString(p.cur.Sum(nil))})
		hdr, err := p.tr.Next()
		switch {
		case errors.Is(err, io.EOF):
			p.done = true
			continue
		case err != nil:
			p.err = corrupt(p.prefix, "%v", err)
			continue
		case !strings.HasPrefix(hdr.Name, p.prefix):
			p.after, p.done = hdr, true
			continue
		case hdr.Typeflag != tar.TypeReg:
			p.err = corrupt(hdr.Name, "not a regular file")
			continue
		}
		if err := p.begin(hdr); err != nil {
			p.err = err
		}
	}
}

// readBlocks reads the blocks stream: consecutive blocks, each naming the
// hash of the one before, the last being header last's.
func readBlocks(p *partReader, last *types.LightBlock) (*BlockRange, error) {
	br := bufio.NewReaderSize(p, 1<<16)
	var r *BlockRange
	var prevHash []byte
	for {
		n, err := binary.ReadUvarint(br)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, blocksErr(p, "length: %v", err)
		}
		if n > maxBlockBytes {
			return nil, blocksErr(p, "a block of %d bytes, more than %d", n, maxBlockBytes)
		}
		bz := make([]byte, n)
		if _, err := io.ReadFull(br, bz); err != nil {
			return nil, blocksErr(p, "cut short: %v", err)
		}
		var b *types.Block
		err = guarded("blocks", func() error {
			var pb cmtproto.Block
			if err := pb.Unmarshal(bz); err != nil {
				return blocksErr(p, "%v", err)
			}
			if b, err = types.BlockFromProto(&pb); err != nil {
				return blocksErr(p, "%v", err)
			}
			if err := b.ValidateBasic(); err != nil {
				return blocksErr(p, "block %d: %v", b.Height, err)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		switch {
		case r == nil:
			r = &BlockRange{From: b.Height, To: b.Height}
		case b.Height != r.To+1:
			return nil, blocksErr(p, "block %d after block %d", b.Height, r.To)
		case !bytes.Equal(b.LastBlockID.Hash, prevHash):
			return nil, blocksErr(p, "block %d names block %X before it, not %X", b.Height, b.LastBlockID.Hash, prevHash)
		default:
			r.To = b.Height
		}
		prevHash = b.Hash()
	}
	if r == nil {
		return nil, blocksErr(p, "no blocks")
	}
	if r.To != last.Height || !bytes.Equal(prevHash, last.Hash()) {
		return nil, blocksErr(p, "the last block, %d (%X), is not header %d (%X)", r.To, prevHash, last.Height, last.Hash())
	}
	return r, nil
}

func blocksErr(p *partReader, format string, args ...any) error {
	if p.err != nil {
		return p.err
	}
	return corrupt("blocks", format, args...)
}

// ReadGenesis reads the genesis file from the start of an archive, and
// nothing more: to make a new home for it before the archive is read
// whole. Read checks it again with the rest.
func ReadGenesis(r io.Reader) ([]byte, error) {
	return readSmallEntry(tar.NewReader(r), NameGenesis, maxSmallEntry)
}
