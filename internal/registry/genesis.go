package registry

import (
	"fmt"
	"strings"
)

// Authority is the registry authority: the keys of the registry institutes
// and how many of them must approve a city (M of N).
type Authority struct {
	Members   []string `json:"members"`
	Threshold int      `json:"threshold"`
}

// Params are the network's fixed parameters, set at genesis.
type Params struct {
	// OIDArc is the registry's OID arc: an identifier's OID form is
	// <arc>.<country>.<city number>[.<sector>[.<unit>]].
	OIDArc string `json:"oid_arc"`
	// IAC is the ISO/IEC 15459 issuing agency code of the registry's
	// 15459 form.
	IAC string `json:"iac"`

	// Terms. Zero (or absent from an older genesis) takes the default
	// in limits.go; each bounds how long something written once can
	// stay in force without being written again.

	// MaxGrantDays bounds how far past the block time a grant may expire.
	MaxGrantDays uint64 `json:"max_grant_days,omitempty"`
	// ApplicationBlocks is how many blocks an application stays open
	// for votes; after it, it has expired and its applicant may apply
	// again.
	ApplicationBlocks uint64 `json:"application_blocks,omitempty"`
	// VoteBlocks is how many blocks a vote on an application or a
	// proposal counts for.
	VoteBlocks uint64 `json:"vote_blocks,omitempty"`
}

// GrantTerm is the longest a grant may run, in days.
func (p Params) GrantTerm() uint64 { return orDefault(p.MaxGrantDays, DefaultMaxGrantDays) }

// ApplicationTerm is how many blocks an application stays open.
func (p Params) ApplicationTerm() uint64 {
	return orDefault(p.ApplicationBlocks, DefaultApplicationBlocks)
}

// VoteTerm is how many blocks a vote counts for.
func (p Params) VoteTerm() uint64 { return orDefault(p.VoteBlocks, DefaultVoteBlocks) }

func orDefault(v, def uint64) uint64 {
	if v == 0 {
		return def
	}
	return v
}

// Genesis is the registry's part of the genesis document (CometBFT's
// app_state).
type Genesis struct {
	Authority Authority `json:"authority"`
	Params    Params    `json:"params"`
}

func (a Authority) validate() *Error {
	if len(a.Members) == 0 {
		return errorf(CodeInvalid, "authority has no members")
	}
	if err := checkKeys("authority member", a.Members, MaxAuthority); err != nil {
		return errorf(err.Code, "authority: %s", err.Msg)
	}
	if a.Threshold < 1 || a.Threshold > len(a.Members) {
		return errorf(CodeInvalid, "authority threshold %d is not between 1 and its %d members", a.Threshold, len(a.Members))
	}
	return nil
}

func (p Params) validate() *Error {
	if p.OIDArc == "" {
		return errorf(CodeInvalid, "params: oid_arc is required")
	}
	for i, arc := range strings.Split(p.OIDArc, ".") {
		if arc == "" || strings.Trim(arc, "0123456789") != "" || (len(arc) > 1 && arc[0] == '0') {
			return errorf(CodeInvalid, "params: oid_arc %q: arc %d is not a number without leading zeros", p.OIDArc, i+1)
		}
	}
	if p.IAC == "" || len(p.IAC) > 3 || strings.Trim(p.IAC, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" {
		return errorf(CodeInvalid, "params: iac %q is not 1 to 3 uppercase letters or digits (ISO/IEC 15459-2)", p.IAC)
	}
	if p.MaxGrantDays > MaxGrantDays {
		return errorf(CodeInvalid, "params: max_grant_days %d is more than %d", p.MaxGrantDays, MaxGrantDays)
	}
	if p.ApplicationBlocks > MaxTermBlocks || p.VoteBlocks > MaxTermBlocks {
		return errorf(CodeInvalid, "params: application_blocks and vote_blocks must be at most %d", MaxTermBlocks)
	}
	return nil
}

// InitGenesis validates the registry's genesis state and writes it, with
// the genesis validator set (which CometBFT reads from its genesis file).
func (m *Machine) InitGenesis(kv KV, appState []byte, validators []Validator) error {
	var g Genesis
	if err := decodeStrict(appState, &g); err != nil {
		return fmt.Errorf("genesis app_state: %w", err)
	}
	if err := g.Authority.validate(); err != nil {
		return fmt.Errorf("genesis app_state: %w", err)
	}
	if err := g.Params.validate(); err != nil {
		return fmt.Errorf("genesis app_state: %w", err)
	}
	var vals []Validator
	for i, v := range validators {
		if _, err := ParsePubKey(v.PubKey); err != nil {
			return fmt.Errorf("genesis validator %d: %w", i+1, err)
		}
		if v.Power <= 0 || v.Power > MaxValidatorPower {
			return fmt.Errorf("genesis validator %d: power %d is not between 1 and %d", i+1, v.Power, MaxValidatorPower)
		}
		for _, prev := range validators[:i] {
			if prev.PubKey == v.PubKey {
				return fmt.Errorf("genesis validator %d: key %s is listed twice", i+1, v.PubKey)
			}
		}
		vals = setPower(vals, v.PubKey, v.Power)
	}
	// Everything is checked before anything is written.
	if err := putJSON(kv, AuthorityKey(), g.Authority); err != nil {
		return fmt.Errorf("genesis: %w", err)
	}
	if err := putJSON(kv, ParamsKey(), g.Params); err != nil {
		return fmt.Errorf("genesis: %w", err)
	}
	if err := putJSON(kv, ValidatorsKey(), vals); err != nil {
		return fmt.Errorf("genesis: %w", err)
	}
	return nil
}

// GetAuthority reads the registry authority.
func GetAuthority(r Reader) (Authority, error) {
	var a Authority
	ok, err := getJSON(r, AuthorityKey(), &a)
	if err != nil {
		return a, err
	}
	if !ok {
		return a, fmt.Errorf("state has no authority: was the chain initialised from its genesis?")
	}
	return a, nil
}

// GetParams reads the network's parameters.
func GetParams(r Reader) (Params, error) {
	var p Params
	ok, err := getJSON(r, ParamsKey(), &p)
	if err != nil {
		return p, err
	}
	if !ok {
		return p, fmt.Errorf("state has no params: was the chain initialised from its genesis?")
	}
	return p, nil
}
