package backup

import (
	"bytes"
	"fmt"

	cmtproto "github.com/cometbft/cometbft/api/cometbft/types/v1"
	"github.com/cometbft/cometbft/types"
)

// proofParts are what proves an archive's state: the genesis, the light
// blocks of H and H+1, the validator set of H+2 and the consensus
// parameters of H+1: what CometBFT's state sync fetches through its light
// client to bootstrap a node at H, here kept with the state.
type proofParts struct {
	genesis []byte
	last    *types.LightBlock
	signed  *types.LightBlock
	next    *types.ValidatorSet
	params  types.ConsensusParams
}

// check verifies that the parts belong together: both headers are of the
// genesis's chain, each commit is signed by more than two thirds of its
// validator set (every signature checked), H+1 links to H, and the next
// validator set and the parameters are the ones header H+1 names. It
// returns the genesis. It says nothing of whether the validator set is the
// network's: that a validator set signed is all an archive can show, so
// the operator compares the header hash with a node they trust
// (docs/backup.md).
func (p proofParts) check() (doc *types.GenesisDoc, err error) {
	err = guarded("headers", func() error {
		doc, err = p.checkParts()
		return err
	})
	return doc, err
}

func (p proofParts) checkParts() (*types.GenesisDoc, error) {
	doc, err := decodeGenesis(p.genesis)
	if err != nil {
		return nil, corrupt(NameGenesis, "%v", err)
	}
	chainID := doc.ChainID
	for _, lb := range []struct {
		name string
		b    *types.LightBlock
	}{{NameLast, p.last}, {NameSigned, p.signed}} {
		if lb.b == nil || lb.b.SignedHeader == nil || lb.b.ValidatorSet == nil {
			return nil, corrupt(lb.name, "no signed header or validator set")
		}
		// The header's chain, the commit's height and block ID, and the
		// validator set's hash against the header's.
		if err := lb.b.ValidateBasic(chainID); err != nil {
			return nil, corrupt(lb.name, "%v", err)
		}
		c := lb.b.Commit
		if err := types.VerifyCommitLightAllSignatures(chainID, lb.b.ValidatorSet, c.BlockID, lb.b.Height, c); err != nil {
			return nil, corrupt(lb.name, "commit of height %d: %v", lb.b.Height, err)
		}
	}
	last, signed := p.last, p.signed
	if last.Height < doc.InitialHeight {
		return nil, corrupt(NameLast, "height %d is before the genesis's initial height %d", last.Height, doc.InitialHeight)
	}
	if signed.Height != last.Height+1 {
		return nil, corrupt(NameSigned, "header %d does not follow header %d", signed.Height, last.Height)
	}
	if !bytes.Equal(signed.LastBlockID.Hash, last.Hash()) {
		return nil, corrupt(NameSigned, "header %d names block %X before it, not header %d's hash %X", signed.Height, signed.LastBlockID.Hash, last.Height, last.Hash())
	}
	if !bytes.Equal(last.NextValidatorsHash, signed.ValidatorSet.Hash()) {
		return nil, corrupt(NameSigned, "validator set of %d is not the one header %d names", signed.Height, last.Height)
	}
	if p.next == nil {
		return nil, corrupt(NameNextValidators, "no validator set")
	}
	if err := p.next.ValidateBasic(); err != nil {
		return nil, corrupt(NameNextValidators, "%v", err)
	}
	if !bytes.Equal(p.next.Hash(), signed.NextValidatorsHash) {
		return nil, corrupt(NameNextValidators, "validator set hashes to %X, header %d names %X", p.next.Hash(), signed.Height, signed.NextValidatorsHash)
	}
	if err := p.params.ValidateBasic(); err != nil {
		return nil, corrupt(NameParams, "%v", err)
	}
	if !bytes.Equal(p.params.Hash(), signed.ConsensusHash) {
		return nil, corrupt(NameParams, "parameters hash to %X, header %d names %X", p.params.Hash(), signed.Height, signed.ConsensusHash)
	}
	return doc, nil
}

// entry is one small entry of an archive.
type entry struct {
	name string
	data []byte
}

// encode gives the parts' entries, in archive order.
func (p proofParts) encode() ([]entry, error) {
	out := []entry{{NameGenesis, p.genesis}}
	for _, lb := range []struct {
		name string
		b    *types.LightBlock
	}{{NameLast, p.last}, {NameSigned, p.signed}} {
		pb, err := lb.b.ToProto()
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", lb.name, err)
		}
		bz, err := pb.Marshal()
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", lb.name, err)
		}
		out = append(out, entry{lb.name, bz})
	}
	vpb, err := p.next.ToProto()
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", NameNextValidators, err)
	}
	vbz, err := vpb.Marshal()
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", NameNextValidators, err)
	}
	ppb := p.params.ToProto()
	pbz, err := ppb.Marshal()
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", NameParams, err)
	}
	return append(out, entry{NameNextValidators, vbz}, entry{NameParams, pbz}), nil
}

// guarded runs fn and makes a panic in it a refusal of part. CometBFT
// v1.0.1 trusts what it decodes in places: ValidatorFromProto dereferences
// a validator's missing public key, and ed25519.PubKey.Address (which
// GenesisDoc.ValidateAndComplete calls) panics on a key of the wrong size.
// An archive is input, so every decode and check of its parts runs here
// (FuzzRead found both).
func guarded(part string, fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = corrupt(part, "malformed: %v", r)
		}
	}()
	return fn()
}

// decodeGenesis is types.GenesisDocFromJSON, guarded.
func decodeGenesis(b []byte) (doc *types.GenesisDoc, err error) {
	err = guarded(NameGenesis, func() error {
		doc, err = types.GenesisDocFromJSON(b)
		return err
	})
	return doc, err
}

func decodeLightBlock(name string, bz []byte) (lb *types.LightBlock, err error) {
	err = guarded(name, func() error {
		var pb cmtproto.LightBlock
		if err := pb.Unmarshal(bz); err != nil {
			return corrupt(name, "%v", err)
		}
		if lb, err = types.LightBlockFromProto(&pb); err != nil {
			return corrupt(name, "%v", err)
		}
		return nil
	})
	return lb, err
}

func decodeValidators(name string, bz []byte) (vs *types.ValidatorSet, err error) {
	err = guarded(name, func() error {
		var pb cmtproto.ValidatorSet
		if err := pb.Unmarshal(bz); err != nil {
			return corrupt(name, "%v", err)
		}
		if vs, err = types.ValidatorSetFromProto(&pb); err != nil {
			return corrupt(name, "%v", err)
		}
		return nil
	})
	return vs, err
}

func decodeParams(name string, bz []byte) (p types.ConsensusParams, err error) {
	err = guarded(name, func() error {
		var pb cmtproto.ConsensusParams
		if err := pb.Unmarshal(bz); err != nil {
			return corrupt(name, "%v", err)
		}
		p = types.ConsensusParamsFromProto(pb)
		return nil
	})
	return p, err
}
