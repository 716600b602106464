package chain

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	cfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/types"

	"github.com/cityid/cityid/internal/backup"
)

// BackupSource is what a backup reads from this node (backup.Source):
// CometBFT's headers, validator sets and blocks, and the store's committed
// state, all of heights already committed, so a backup runs beside blocks.
func (n *Node) BackupSource() backup.Source { return backupSource{n} }

type backupSource struct{ n *Node }

var _ backup.Source = backupSource{}

func (s backupSource) GenesisFile() ([]byte, error) {
	b, err := os.ReadFile(s.n.node.Config().GenesisFile())
	if err != nil {
		return nil, fmt.Errorf("read genesis: %w", err)
	}
	return b, nil
}

func (s backupSource) BlockHeights() (base, latest int64) {
	bs := s.n.node.BlockStore()
	return bs.Base(), bs.Height()
}

func (s backupSource) LightBlock(ctx context.Context, h int64) (*types.LightBlock, error) {
	return s.n.lightBlock(ctx, h)
}

func (s backupSource) Validators(ctx context.Context, h int64) (*types.ValidatorSet, error) {
	return s.n.validators(ctx, h)
}

func (s backupSource) ConsensusParams(ctx context.Context, h int64) (types.ConsensusParams, error) {
	r, err := s.n.client.ConsensusParams(ctx, &h)
	if err != nil {
		return types.ConsensusParams{}, notFound(err, "consensus parameters of %d", h)
	}
	return r.ConsensusParams, nil
}

func (s backupSource) Block(h int64) (*types.Block, error) {
	if err := s.n.checkKept("block", h); err != nil {
		return nil, err
	}
	b, _ := s.n.node.BlockStore().LoadBlock(h)
	if b == nil {
		return nil, fmt.Errorf("block %d is not stored", h)
	}
	return b, nil
}

func (s backupSource) StateHash(h int64) ([]byte, error) {
	v, err := s.n.store.At(h)
	if err != nil {
		return nil, err
	}
	return v.Hash(), nil
}

// ExportState uses the one exporter, the one state sync snapshots use.
// While it runs, IAVL refuses to prune that version (Prune retries at a
// later commit).
func (s backupSource) ExportState(h int64, w io.Writer) error { return s.n.store.Export(h, w) }

// lightBlock is the signed header of height h, with its commit (the
// canonical one, or the node's seen commit for the latest block) and
// validator set.
func (n *Node) lightBlock(ctx context.Context, h int64) (*types.LightBlock, error) {
	c, err := n.client.Commit(ctx, &h)
	if err != nil {
		return nil, notFound(err, "commit of block %d", h)
	}
	vals, err := n.validators(ctx, h)
	if err != nil {
		return nil, err
	}
	return &types.LightBlock{SignedHeader: &c.SignedHeader, ValidatorSet: vals}, nil
}

// validatorsPerPage is CometBFT's largest page of /validators.
const validatorsPerPage = 100

// validators is the validator set of height h, with its proposer
// priorities, as CometBFT's light client provider builds it.
func (n *Node) validators(ctx context.Context, h int64) (*types.ValidatorSet, error) {
	var vals []*types.Validator
	perPage := validatorsPerPage
	for page := 1; ; page++ {
		p := page
		r, err := n.client.Validators(ctx, &h, &p, &perPage)
		if err != nil {
			return nil, notFound(err, "validators of block %d", h)
		}
		vals = append(vals, r.Validators...)
		if len(vals) >= r.Total || len(r.Validators) == 0 {
			break
		}
	}
	vs, err := types.ValidatorSetFromExistingValidators(vals)
	if err != nil {
		return nil, fmt.Errorf("validators of block %d: %w", h, err)
	}
	return vs, nil
}

// DBProvider opens CometBFT's databases as a node does: for a restore,
// which writes a stopped node's stores.
func DBProvider(log *slog.Logger) cfg.DBProvider { return dbProvider(log) }
