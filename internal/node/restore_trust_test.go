package node

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/types"

	"github.com/cityid/cityid/internal/backup"
)

// TestRestoreTrust: an archive's own signatures prove only that its own
// validators signed it. Restore trusts its header when the genesis's
// validators signed it, or when --trust-hash names it; a header signed by
// other validators (an invented set, or a set changed since genesis) is
// refused without --trust-hash, and a --trust-hash of another header is
// refused always.
func TestRestoreTrust(t *testing.T) {
	genesisKey, otherKey := ed25519.GenPrivKeyFromSecret([]byte("genesis")), ed25519.GenPrivKeyFromSecret([]byte("invented"))
	doc := &types.GenesisDoc{Validators: []types.GenesisValidator{{PubKey: genesisKey.PubKey(), Power: 10}}}
	archive := func(signer ed25519.PrivKey) *backup.Archive {
		set := types.NewValidatorSet([]*types.Validator{types.NewValidator(signer.PubKey(), 10)})
		return &backup.Archive{Doc: doc, Signed: &types.LightBlock{SignedHeader: &types.SignedHeader{
			Header: &types.Header{ChainID: "c", Height: 4, ValidatorsHash: set.Hash()}}, ValidatorSet: set}}
	}
	if err := trustArchive(archive(genesisKey), ""); err != nil {
		t.Errorf("a header the genesis's validators signed: %v", err)
	}
	forged := archive(otherKey)
	if err := trustArchive(forged, ""); err == nil || !strings.Contains(err.Error(), "--trust-hash") {
		t.Errorf("a header other validators signed, no --trust-hash: %v, want a refusal naming --trust-hash", err)
	}
	if err := trustArchive(forged, forged.Signed.Header.Hash().String()); err != nil {
		t.Errorf("the same, with its hash as --trust-hash: %v", err)
	}
	if err := trustArchive(archive(genesisKey), forged.Signed.Header.Hash().String()); err == nil || !strings.Contains(err.Error(), "not the --trust-hash") {
		t.Errorf("a --trust-hash of another header: %v, want a refusal", err)
	}

	// Through Restore: the fixture's header, by its hash and by another.
	ctx := context.Background()
	res, err := Restore(ctx, filepath.Join(t.TempDir(), "a"), fixture, RestoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Restore(ctx, filepath.Join(t.TempDir(), "b"), fixture, RestoreOptions{TrustHash: strings.ToLower(res.HeaderHash)}); err != nil {
		t.Errorf("restore with the archive's header hash as --trust-hash: %v", err)
	}
	if _, err := Restore(ctx, filepath.Join(t.TempDir(), "c"), fixture, RestoreOptions{TrustHash: forged.Signed.Header.Hash().String()}); err == nil || !strings.Contains(err.Error(), "not the --trust-hash") {
		t.Errorf("restore with another header's hash: %v, want a refusal", err)
	}
}
