package backup

import (
	"errors"
	"fmt"
	"time"
)

// The archive is a tar file (POSIX ustar) whose entries come in this
// order, each a regular file:
//
//	genesis.json              the network's genesis file, byte for byte
//	light/last.pb             the light block of H: signed header, commit, validator set
//	light/signed.pb           the light block of H+1, whose app hash is the state's root
//	light/next-validators.pb  the validator set of H+2 (H+1's next validators)
//	consensus-params.pb       the consensus parameters in force at H+1
//	state/00000 …             the state at H, store snapshot format 1, in parts
//	blocks/00000 …            with --blocks: the blocks the node held up to H, in parts
//	manifest.json             what the archive holds, and the SHA-256 of every entry above
//
// The .pb entries are CometBFT v1's protobuf messages (cometbft.types.v1
// LightBlock, ValidatorSet, ConsensusParams). A stream too large for one
// entry (the state, the blocks) is cut into parts of at most PartBytes, so
// that neither writing nor reading ever holds more than one part; the
// parts, concatenated in order, are the stream. The blocks stream is each
// block as a uvarint length and its cometbft.types.v1.Block message, in
// height order. The manifest comes last because it holds the hashes of
// what came before; an archive cut short has none, and is refused.
const (
	Format  = "cityid-backup"
	Version = 1

	NameGenesis        = "genesis.json"
	NameLast           = "light/last.pb"
	NameSigned         = "light/signed.pb"
	NameNextValidators = "light/next-validators.pb"
	NameParams         = "consensus-params.pb"
	StatePrefix        = "state/"
	BlocksPrefix       = "blocks/"
	NameManifest       = "manifest.json"
)

// Bounds on what a reader takes from an archive, so that a damaged or
// hostile one cannot make it allocate without end.
const (
	// PartBytes is the size of a state or blocks part: the snapshot's
	// chunk size (chain's snapshotChunkBytes), a piece small enough to
	// buffer and large enough that a state of millions of records is a
	// few hundred entries.
	PartBytes = 4 << 20
	// maxSmallEntry bounds the genesis, light blocks, validator set and
	// consensus parameters: a genesis of a big network is a few MB.
	maxSmallEntry = 64 << 20
	// maxManifest bounds the manifest: about 100 bytes per part, so a
	// few hundred thousand parts (terabytes of state).
	maxManifest = 64 << 20
	// maxBlockBytes bounds one block in the blocks stream: CometBFT's own
	// bound on a block (types.MaxBlockSizeBytes).
	maxBlockBytes = 100 << 20
)

// Manifest says what an archive holds. Its JSON is the archive's last
// entry; docs/backup.md describes every field.
type Manifest struct {
	Format  string `json:"format"`  // always Format
	Version int    `json:"version"` // of the archive format
	ChainID string `json:"chain_id"`
	// Height is the committed height of the state; HeaderHeight (H+1)
	// is the header that carries its app hash, HeaderHash that header's
	// hash (a light client's trust hash for HeaderHeight).
	Height       int64  `json:"height"`
	AppHash      string `json:"app_hash"` // hex, upper case as CometBFT prints it
	HeaderHeight int64  `json:"header_height"`
	HeaderHash   string `json:"header_hash"`
	HeaderTime   string `json:"header_time"` // the block time of HeaderHeight, RFC 3339
	// StateFormat is the store's snapshot format of the state stream.
	StateFormat uint32 `json:"state_format"`
	StateBytes  int64  `json:"state_bytes"`
	StateSHA256 string `json:"state_sha256"`
	// Blocks is the range of blocks the archive holds; nil without.
	Blocks *BlockRange `json:"blocks,omitempty"`
	// Software is the cityid version that wrote the archive.
	Software string `json:"software"`
	// Files lists every entry before the manifest, in order.
	Files []File `json:"files"`
}

// BlockRange is an inclusive range of heights.
type BlockRange struct {
	From int64 `json:"from"`
	To   int64 `json:"to"`
}

// File is one entry of the archive.
type File struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// ErrCorrupt is what every refusal of an archive's content wraps: an
// archive that does not hash, decode, sign or link as it should.
var ErrCorrupt = errors.New("backup archive refused")

// CorruptError says which part of an archive was refused and why.
type CorruptError struct {
	Part string // the entry, or "archive" for the whole
	Err  error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("%s: %s: %v", ErrCorrupt, e.Part, e.Err)
}

func (e *CorruptError) Unwrap() []error { return []error{ErrCorrupt, e.Err} }

func corrupt(part string, format string, args ...any) error {
	return &CorruptError{Part: part, Err: fmt.Errorf(format, args...)}
}

// partName is the name of part i of a stream under prefix.
func partName(prefix string, i int) string { return fmt.Sprintf("%s%05d", prefix, i) }

// headerTime is how a manifest writes its header's block time, which the
// reader holds the signed header to.
func headerTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
