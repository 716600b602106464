package store

import (
	"fmt"

	ics23 "github.com/cosmos/ics23/go"
)

// Proof returns key's value in the view (nil when absent) and an ICS23
// commitment proof of it against the view's root hash: an existence proof
// when the key is present, a non-existence proof when it is not.
func (v *View) Proof(key []byte) (value []byte, proof *ics23.CommitmentProof, err error) {
	value, err = v.Get(key) // from the value cache when it holds the key
	if err != nil {
		return nil, nil, fmt.Errorf("prove %q at version %d: %w", key, v.Version(), err)
	}
	if value != nil {
		proof, err = v.tree.GetMembershipProof(key)
	} else {
		proof, err = v.tree.GetNonMembershipProof(key)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("prove %q at version %d: %w", key, v.Version(), err)
	}
	return value, proof, nil
}
