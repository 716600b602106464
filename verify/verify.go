// Package verify checks CityID proofs: that a key holds a value, or holds
// nothing, in the ledger state whose root (the app hash) a block header
// signs. It is a few pure functions over ICS23 commitment proofs for the
// IAVL tree, with typed errors that say which part failed, in the manner of
// transparency-dev's merkle package. It does no I/O and trusts nothing: the
// caller brings a root it trusts (from a light-client-verified header).
package verify

import (
	"bytes"
	"errors"
	"fmt"

	ics23 "github.com/cosmos/ics23/go"
)

// ProofType is the only proof type this package checks: an ICS23
// commitment proof over an IAVL tree, as CometBFT proof ops name it.
const ProofType = "ics23:iavl"

// Errors. Each failure wraps one of these, so a caller can tell why.
var (
	// ErrMalformed: the proof bytes do not decode.
	ErrMalformed = errors.New("malformed proof")
	// ErrWrongType: the proof is of another type than ProofType.
	ErrWrongType = errors.New("wrong proof type")
	// ErrWrongKind: an existence proof where absence was to be proved, or
	// the other way round.
	ErrWrongKind = errors.New("wrong kind of proof")
	// ErrInvalid: the proof's structure does not follow the IAVL spec (its
	// steps do not hash the way an IAVL tree hashes).
	ErrInvalid = errors.New("proof does not follow the IAVL spec")
)

// RootMismatchError: the proof leads to another root than the trusted one.
// Either the value, the key or the proof was changed, or the root is not
// the state the proof was made against.
type RootMismatchError struct {
	Expected, Calculated []byte
}

func (e *RootMismatchError) Error() string {
	return fmt.Sprintf("proof leads to root %X, not the trusted app hash %X", e.Calculated, e.Expected)
}

// KeyMismatchError: the proof is about another key.
type KeyMismatchError struct {
	Expected, Got []byte
}

func (e *KeyMismatchError) Error() string {
	return fmt.Sprintf("proof is for key %q, not %q", e.Got, e.Expected)
}

// ValueMismatchError: the proof proves another value than the one given.
type ValueMismatchError struct {
	Expected, Got []byte
}

func (e *ValueMismatchError) Error() string {
	return fmt.Sprintf("proof proves a %d-byte value that differs from the %d bytes given", len(e.Got), len(e.Expected))
}

// Decode decodes a protobuf-encoded ICS23 commitment proof of typ.
func Decode(typ string, proof []byte) (*ics23.CommitmentProof, error) {
	if typ != ProofType {
		return nil, fmt.Errorf("%w: %q, want %q", ErrWrongType, typ, ProofType)
	}
	var p ics23.CommitmentProof
	if err := p.Unmarshal(proof); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return &p, nil
}

// Existence checks that key holds value in the state whose root is root.
func Existence(root, key, value []byte, p *ics23.CommitmentProof) error {
	exist := p.GetExist()
	if exist == nil {
		return fmt.Errorf("%w: want an existence proof", ErrWrongKind)
	}
	if !bytes.Equal(exist.Key, key) {
		return &KeyMismatchError{Expected: key, Got: exist.Key}
	}
	if !bytes.Equal(exist.Value, value) {
		return &ValueMismatchError{Expected: value, Got: exist.Value}
	}
	calculated, err := exist.Calculate()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if !bytes.Equal(calculated, root) {
		return &RootMismatchError{Expected: root, Calculated: calculated}
	}
	// The path hashes to the root; now check that it hashes the way an
	// IAVL tree does, so no other structure can pass for one.
	if err := exist.Verify(ics23.IavlSpec, root, key, value); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return nil
}

// Absence checks that key holds nothing in the state whose root is root.
func Absence(root, key []byte, p *ics23.CommitmentProof) error {
	non := p.GetNonexist()
	if non == nil {
		return fmt.Errorf("%w: want a non-existence proof", ErrWrongKind)
	}
	if !bytes.Equal(non.Key, key) {
		return &KeyMismatchError{Expected: key, Got: non.Key}
	}
	// Each neighbour must itself be proved against the root; then ics23
	// checks that they are adjacent and that key falls between them.
	for _, n := range []*ics23.ExistenceProof{non.Left, non.Right} {
		if n == nil {
			continue
		}
		calculated, err := n.Calculate()
		if err != nil {
			return fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		if !bytes.Equal(calculated, root) {
			return &RootMismatchError{Expected: root, Calculated: calculated}
		}
	}
	if err := non.Verify(ics23.IavlSpec, root, key); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return nil
}
