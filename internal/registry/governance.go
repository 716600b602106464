package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"

	"github.com/cityid/cityid/code"
)

// Governance: the registry authority changes itself (set_authority), the
// validator set (set_validator), a city (set_city) and the software
// (set_upgrade, upgrade.go) by the same M-of-N rule that issues city
// codes. A proposal is identified by what it proposes: every member signs
// the same message, each signature counts as an approval, and the change is
// made when approvals from current members reach the current threshold.

// Proposal is a governance change waiting for approvals.
type Proposal struct {
	ID        string        `json:"id"`
	Kind      string        `json:"kind"`
	Authority *SetAuthority `json:"authority,omitempty"`
	Validator *SetValidator `json:"validator,omitempty"`
	City      *SetCity      `json:"city,omitempty"`
	Upgrade   *SetUpgrade   `json:"upgrade,omitempty"`
	Approvals []Vote        `json:"approvals"`
	Proposed  Stamp         `json:"proposed"`
}

// SetAuthority replaces the registry authority's members and threshold.
type SetAuthority struct {
	Members   []string `json:"members"`
	Threshold int      `json:"threshold"`
}

func (m *SetAuthority) validate(string) *Error {
	a := Authority{Members: m.Members, Threshold: m.Threshold}
	if err := a.validate(); err != nil {
		return err
	}
	// One proposal whatever order the members are listed in.
	m.Members = append([]string(nil), m.Members...)
	sort.Strings(m.Members)
	return nil
}

func (m *SetAuthority) apply(c *txContext) (Outcome, *Error) {
	return c.propose(KindSetAuthority, m, Proposal{Authority: m}, func() *Error {
		if err := putJSON(c.st, AuthorityKey(), Authority{Members: m.Members, Threshold: m.Threshold}); err != nil {
			return internal("write authority", err)
		}
		return nil
	})
}

// SetValidator adds a validator, changes its voting power, or removes it
// (power 0). PubKey is the validator's CometBFT Ed25519 key, in hex.
type SetValidator struct {
	PubKey string `json:"pub_key"`
	Power  int64  `json:"power"`
}

func (m *SetValidator) validate(string) *Error {
	if _, err := ParsePubKey(m.PubKey); err != nil {
		return errorf(CodeBadPubKey, "validator %s", AsError(err).Msg)
	}
	if m.Power < 0 || m.Power > MaxValidatorPower {
		return errorf(CodeInvalid, "power %d is not between 0 (remove) and %d", m.Power, MaxValidatorPower)
	}
	return nil
}

func (m *SetValidator) apply(c *txContext) (Outcome, *Error) {
	if err := c.requireMember(); err != nil {
		return Outcome{}, err
	}
	// Check now that the change can be made, so no member approves a
	// proposal that could never apply; and check again when it applies.
	if err := c.checkValidatorChange(m); err != nil {
		return Outcome{}, err
	}
	return c.propose(KindSetValidator, m, Proposal{Validator: m}, func() *Error {
		if err := c.checkValidatorChange(m); err != nil {
			return err
		}
		vals, err := Validators(c.st)
		if err != nil {
			return internal("read validators", err)
		}
		vals = setPower(vals, m.PubKey, m.Power)
		if err := putJSON(c.st, ValidatorsKey(), vals); err != nil {
			return internal("write validators", err)
		}
		c.validators = append(c.validators, ValidatorUpdate{PubKey: m.PubKey, Power: m.Power})
		return nil
	})
}

// checkValidatorChange refuses a change CometBFT would refuse, or one that
// would leave the network without validators.
func (c *txContext) checkValidatorChange(m *SetValidator) *Error {
	vals, err := Validators(c.st)
	if err != nil {
		return internal("read validators", err)
	}
	var total int64
	present := false
	for _, v := range vals {
		if v.PubKey == m.PubKey {
			present = true
			continue
		}
		total += v.Power
	}
	switch {
	case m.Power == 0 && !present:
		return errorf(CodeNotFound, "%s is not a validator", m.PubKey)
	case m.Power == 0 && total == 0:
		return errorf(CodeInvalid, "removing %s would leave no validator", m.PubKey)
	case m.Power > 0 && !present && len(vals) >= MaxValidators:
		return errorf(CodeTooLarge, "the network has %d validators, the most allowed", len(vals))
	}
	return nil
}

// requireMember refuses a signer who is not a member of the registry
// authority, before anything else is judged (application version 6): a
// key with no right gets the refusal that matters, unauthorized, and
// learns nothing of the state a change is checked against (the pending
// upgrade plan, the upgrade lead, the validator set, a city's status)
// from which other refusal it would have got. propose judges the rights
// again; the second read is of two small keys, and governance is rare.
func (c *txContext) requireMember() *Error {
	_, _, err := c.authority()
	return err
}

// ProposalID is the id of a proposal: what it proposes, hashed, so every
// member who signs the same change approves the same proposal.
func ProposalID(kind string, msg any) (string, *Error) {
	canon, err := marshalCompact(msg)
	if err != nil {
		return "", errorf(CodeInvalid, "proposal cannot be encoded: %v", err)
	}
	sum := sha256.Sum256(append([]byte(kind+"\x00"), canon...))
	return hex.EncodeToString(sum[:16]), nil
}

// propose records the signer's approval of a proposal and, when live
// approvals (of current members, cast within the vote term) reach the
// threshold, calls execute and removes the proposal.
func (c *txContext) propose(kind string, msg any, p Proposal, execute func() *Error) (Outcome, *Error) {
	auth, params, aerr := c.authority()
	if aerr != nil {
		return Outcome{}, aerr
	}
	id, ierr := ProposalID(kind, msg)
	if ierr != nil {
		return Outcome{}, ierr
	}
	var stored Proposal
	found, gerr := getJSON(c.st, ProposalKey(id), &stored)
	if gerr != nil {
		return Outcome{}, internal("read proposal", gerr)
	}
	if found {
		p = stored
	} else {
		p.ID, p.Kind, p.Approvals, p.Proposed = id, kind, []Vote{}, c.stamp()
	}
	live := liveVotes{members: auth.Members, height: c.block.Height, term: params.VoteTerm()}
	renewed := false
	for _, v := range p.Approvals {
		renewed = renewed || v.Member == c.signer && live.counts(v)
	}
	// A member's approval is recorded at the height it was given last, so
	// a member renews one that is about to lapse by approving again.
	p.Approvals = append(withoutMember(p.Approvals, c.signer), Vote{Member: c.signer, Height: c.block.Height})
	out := Outcome{Proposal: id, Approvals: live.count(p.Approvals), Threshold: auth.Threshold, Status: AppPending}
	// A member who already approved may ask again: after the authority
	// changed, the approvals given may now be enough.
	if renewed && out.Approvals < auth.Threshold {
		return Outcome{}, errorf(CodeAlreadyVoted, "key %s has already approved proposal %s", c.signer, id)
	}
	if out.Approvals < auth.Threshold {
		if err := putJSON(c.st, ProposalKey(id), p); err != nil {
			return Outcome{}, internal("write proposal", err)
		}
		return out, nil
	}
	if err := execute(); err != nil {
		return Outcome{}, err
	}
	if found {
		if err := c.st.Delete(ProposalKey(id)); err != nil {
			return Outcome{}, internal("delete proposal", err)
		}
	}
	out.Status = "applied"
	return out, nil
}

// withdrawProposalVote takes back the signer's approval of a proposal; a
// proposal left with no approval is removed.
func (c *txContext) withdrawProposalVote(id string) (Outcome, *Error) {
	auth, params, aerr := c.authority()
	if aerr != nil {
		return Outcome{}, aerr
	}
	var p Proposal
	found, err := getJSON(c.st, ProposalKey(id), &p)
	if err != nil {
		return Outcome{}, internal("read proposal", err)
	}
	if !found {
		return Outcome{}, errorf(CodeNotFound, "proposal %s does not exist", id)
	}
	n := len(p.Approvals)
	p.Approvals = withoutMember(p.Approvals, c.signer)
	if len(p.Approvals) == n {
		return Outcome{}, errorf(CodeNotFound, "key %s has not approved proposal %s", c.signer, id)
	}
	live := liveVotes{members: auth.Members, height: c.block.Height, term: params.VoteTerm()}
	out := Outcome{Proposal: id, Approvals: live.count(p.Approvals), Threshold: auth.Threshold, Status: AppPending}
	if len(p.Approvals) == 0 {
		out.Status = "withdrawn"
		if err := c.st.Delete(ProposalKey(id)); err != nil {
			return Outcome{}, internal("delete proposal", err)
		}
		return out, nil
	}
	if err := putJSON(c.st, ProposalKey(id), p); err != nil {
		return Outcome{}, internal("write proposal", err)
	}
	return out, nil
}

// SetCity is the registry authority's hand on a city (kind set_city), M of
// N like every governance change: it suspends a city (status
// "deactivated"), restores it ("active"), or gives it new admin keys, the
// way out of a leaked city key. At least one of Status and Admins is set.
type SetCity struct {
	City   string   `json:"city"`
	Status string   `json:"status,omitempty"` // "active" or "deactivated"
	Admins []string `json:"admins,omitempty"` // the city's new admin keys
	// Endpoint is the city's node's new URL ("" clears it; absent keeps
	// it). The authority approves it as it approved the application's:
	// a node keeps the datasets of the cities that name it, so a city
	// may not name another institute's node by itself.
	Endpoint *string `json:"endpoint,omitempty"`
	Reason   string  `json:"reason,omitempty"`
	city     code.ID
}

func (m *SetCity) validate(string) *Error {
	id, err := parseKind("city", m.City, code.KindCity)
	if err != nil {
		return err
	}
	m.city, m.City = id, id.String()
	switch m.Status {
	case "", StatusActive, StatusDeactivated:
	default:
		return errorf(CodeInvalid, "status %q is neither %q nor %q", clip(m.Status), StatusActive, StatusDeactivated)
	}
	if m.Status == "" && len(m.Admins) == 0 && m.Endpoint == nil {
		return errorf(CodeInvalid, "set_city changes nothing: give a status, new admins, an endpoint, or more than one")
	}
	if m.Endpoint != nil {
		if err := checkEndpoint(*m.Endpoint); err != nil {
			return err
		}
	}
	if len(m.Admins) > 0 {
		if err := checkKeys("admin", m.Admins, MaxAdmins); err != nil {
			return err
		}
	}
	return checkName("reason", m.Reason, false)
}

func (m *SetCity) apply(c *txContext) (Outcome, *Error) {
	if err := c.requireMember(); err != nil {
		return Outcome{}, err
	}
	// Check now that the change can be made, so no member approves a
	// proposal that could never apply; and check again when it applies.
	if _, err := c.cityChange(m); err != nil {
		return Outcome{}, err
	}
	var written Outcome
	out, err := c.propose(KindSetCity, m, Proposal{City: m}, func() *Error {
		prev, err := c.cityChange(m)
		if err != nil {
			return err
		}
		rec := prev
		if m.Status != "" {
			rec.Status = m.Status
		}
		if len(m.Admins) > 0 {
			rec.Admins = m.Admins
		}
		if m.Endpoint != nil && rec.City != nil {
			city := *rec.City // prev keeps its own, for the history
			city.Endpoint = *m.Endpoint
			rec.City = &city
		}
		rec.Reason = m.Reason
		written, err = c.save(prev, rec)
		return err
	})
	if err != nil {
		return out, err
	}
	out.ID, out.Version = m.City, written.Version
	return out, nil
}

// cityChange reads the city a set_city changes and refuses a change that
// would change nothing.
func (c *txContext) cityChange(m *SetCity) (Record, *Error) {
	rec, ok, err := c.record(m.City)
	if err != nil {
		return rec, err
	}
	if !ok {
		return rec, errorf(CodeNotFound, "city %s is not registered", m.City)
	}
	if m.Endpoint != nil {
		if rec.City == nil {
			return rec, errorf(CodeInvalid, "%s holds no city part to change", m.City)
		}
		if *m.Endpoint != rec.City.Endpoint {
			return rec, nil
		}
		if m.Status == "" && len(m.Admins) == 0 {
			return rec, errorf(CodeInvalid, "%s's endpoint is already %q: set_city changes nothing", m.City, *m.Endpoint)
		}
	}
	if len(m.Admins) == 0 && m.Status == rec.Status {
		if m.Status == StatusActive {
			return rec, errorf(CodeAlreadyActive, "%s is already active", m.City)
		}
		return rec, errorf(CodeAlreadyInactive, "%s is already deactivated", m.City)
	}
	return rec, nil
}

// Validator is a member of the validator set as the registry records it.
type Validator struct {
	PubKey string `json:"pub_key"`
	Power  int64  `json:"power"`
}

// Validators reads the validator set, ordered by key.
func Validators(r Reader) ([]Validator, error) {
	var vals []Validator
	if _, err := getJSON(r, ValidatorsKey(), &vals); err != nil {
		return nil, err
	}
	return vals, nil
}

// setPower returns vals with pub's power set (0 removes it), kept in key
// order.
func setPower(vals []Validator, pub string, power int64) []Validator {
	out := make([]Validator, 0, len(vals)+1)
	for _, v := range vals {
		if v.PubKey != pub {
			out = append(out, v)
		}
	}
	if power > 0 {
		out = append(out, Validator{PubKey: pub, Power: power})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PubKey < out[j].PubKey })
	return out
}
