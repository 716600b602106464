package registry

import (
	"fmt"
	"time"

	"github.com/cityid/cityid/code"
)

// DefaultScope is a grant's scope when none is given.
const DefaultScope = "read"

// Grant is a dataset owner's permission for another node (a city, sector
// or unit) to read the dataset until Expires, in block time (DESIGN
// section 5). A revoked grant stays on the ledger, marked, for the record.
type Grant struct {
	Dataset string    `json:"dataset"`
	Grantee string    `json:"grantee"`
	Scope   string    `json:"scope"`
	Expires time.Time `json:"expires"`
	Version uint64    `json:"version"`
	Granted Stamp     `json:"granted"`
	Revoked *Stamp    `json:"revoked,omitempty"`
}

// InForce reports whether the grant, by its own terms, is in force at block
// time t: not revoked and not expired. Whether it is live, which depends on
// the records it names too, is LiveAt's.
func (g Grant) InForce(t time.Time) bool { return g.Revoked == nil && t.Before(g.Expires) }

// LiveAt reports whether the grant lets its grantee read, in state r at
// block time t: in force, the dataset still a dataset (it has a DATA
// value), and the dataset, the grantee and every node above either active.
// When it is not, why says why, for the refusal a reader is shown.
func (g Grant) LiveAt(r Reader, t time.Time) (live bool, why string, err error) {
	switch {
	case g.Revoked != nil:
		return false, fmt.Sprintf("the grant was revoked at height %d", g.Revoked.Height), nil
	case !t.Before(g.Expires):
		return false, "the grant expired at " + g.Expires.Format(time.RFC3339), nil
	}
	for _, party := range []struct{ role, id string }{{"dataset", g.Dataset}, {"grantee", g.Grantee}} {
		id, perr := code.Parse(party.id)
		if perr != nil {
			return false, "", fmt.Errorf("grant %s %q: %w", party.role, party.id, perr)
		}
		for cur := id; ; {
			rec, ok, gerr := GetRecord(r, cur.String())
			if gerr != nil {
				return false, "", gerr
			}
			switch {
			case !ok:
				return false, fmt.Sprintf("%s %s: %s is not registered", party.role, id, cur), nil
			case rec.Status != StatusActive && cur == id:
				return false, fmt.Sprintf("the %s %s is deactivated", party.role, id), nil
			case rec.Status != StatusActive:
				return false, fmt.Sprintf("the %s %s is under %s, which is deactivated", party.role, id, cur), nil
			case cur == id && party.role == "dataset" && !hasDataValue(rec):
				return false, fmt.Sprintf("%s has no DATA value any more", id), nil
			}
			up, more := cur.Parent()
			if !more {
				break
			}
			cur = up
		}
	}
	return true, "", nil
}

// DatasetOf returns the dataset a record describes: the descriptor of its
// first DATA value in index order (the order values are stored in), and
// false when it has none. A record is one dataset: what is served for it,
// whether it is public and the SHA-256 its bytes must have are this
// value's.
func DatasetOf(rec Record) (Dataset, bool) {
	for _, v := range rec.Values {
		if v.Type == TypeData && v.Dataset != nil {
			return *v.Dataset, true
		}
	}
	return Dataset{}, false
}

func hasDataValue(rec Record) bool {
	for _, v := range rec.Values {
		if v.Type == TypeData {
			return true
		}
	}
	return false
}

// GrantAccess grants (or renews) a node's access to a dataset.
type GrantAccess struct {
	Dataset string    `json:"dataset"` // an identifier whose record holds a DATA value
	Grantee string    `json:"grantee"` // a node code: city, sector or unit
	Scope   string    `json:"scope,omitempty"`
	Expires time.Time `json:"expires"` // RFC 3339; compared with block time
	dataset code.ID
	grantee code.ID
}

func (m *GrantAccess) validate(string) *Error {
	var err *Error
	if m.dataset, m.grantee, err = grantParties(&m.Dataset, &m.Grantee); err != nil {
		return err
	}
	if m.Scope == "" {
		m.Scope = DefaultScope
	}
	if len(m.Scope) > MaxScopeBytes {
		return errorf(CodeTooLarge, "scope is %d bytes, more than the %d allowed", len(m.Scope), MaxScopeBytes)
	}
	for i := 0; i < len(m.Scope); i++ {
		c := m.Scope[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == ':' || c == '_' || c == '.' || c == '-') {
			return errorf(CodeInvalid, "scope %q: character %d %q is not a lowercase letter, digit, ':', '_', '.' or '-'", clip(m.Scope), i+1, c)
		}
	}
	if m.Expires.IsZero() {
		return errorf(CodeInvalid, "expires is required: the block time (RFC 3339) after which the grant is void")
	}
	// An offset can carry a time written as year 9999 into year 10000 in
	// UTC, which RFC 3339 cannot write: bound it here, and against the
	// block time in apply.
	m.Expires = m.Expires.UTC()
	if y := m.Expires.Year(); y < 1 || y > 9999 {
		return errorf(CodeInvalid, "expires %s is year %d in UTC, outside 0001–9999", m.Expires.Format(time.DateTime), y)
	}
	return nil
}

// grantParties parses a grant's dataset and grantee.
func grantParties(dataset, grantee *string) (code.ID, code.ID, *Error) {
	d, err := code.Parse(*dataset)
	if err != nil {
		return d, code.ID{}, invalidID("dataset", *dataset, err)
	}
	g, err := code.Parse(*grantee)
	if err != nil {
		return d, g, invalidID("grantee", *grantee, err)
	}
	if !g.IsNode() {
		return d, g, errorf(CodeInvalid, "grantee %s is an object: access is granted to a node (city, sector or unit), whose admins sign its requests", g)
	}
	*dataset, *grantee = d.String(), g.String()
	return d, g, nil
}

func (m *GrantAccess) apply(c *txContext) (Outcome, *Error) {
	if !m.Expires.After(c.block.Time) {
		return Outcome{}, errorf(CodeInvalid, "expires %s is not after the block time %s", m.Expires.Format(time.RFC3339), c.block.Time.UTC().Format(time.RFC3339))
	}
	params, perr := GetParams(c.st)
	if perr != nil {
		return Outcome{}, internal("read params", perr)
	}
	days := params.GrantTerm()
	if limit := c.block.Time.UTC().AddDate(0, 0, int(days)); m.Expires.After(limit) {
		return Outcome{}, errorf(CodeInvalid, "expires %s is more than %d days after the block time %s: renew a grant rather than make it longer",
			m.Expires.Format(time.RFC3339), days, c.block.Time.UTC().Format(time.RFC3339))
	}
	ds, err := c.dataset(m.dataset)
	if err != nil {
		return Outcome{}, err
	}
	if ds.Status != StatusActive {
		return Outcome{}, errorf(CodeInactive, "dataset %s is deactivated", m.Dataset)
	}
	// The grantee and every node above it must be active too: a grant to
	// a node under a deactivated city would be dead on arrival.
	gl, found, err := c.lineage(m.grantee)
	if err != nil {
		return Outcome{}, err
	}
	if !found {
		return Outcome{}, errorf(CodeNotFound, "grantee %s is not registered", m.Grantee)
	}
	if gl.rec.Status != StatusActive {
		return Outcome{}, errorf(CodeInactive, "grantee %s is deactivated", m.Grantee)
	}
	if gl.inactive != nil {
		return Outcome{}, errorf(CodeInactive, "grantee: %s", gl.inactive.Msg)
	}
	g, _, err := c.grant(m.Dataset, m.Grantee)
	if err != nil {
		return Outcome{}, err
	}
	g = Grant{Dataset: m.Dataset, Grantee: m.Grantee, Scope: m.Scope, Expires: m.Expires, Version: g.Version + 1, Granted: c.stamp()}
	if err := putJSON(c.st, GrantKey(m.Dataset, m.Grantee), g); err != nil {
		return Outcome{}, internal("write grant", err)
	}
	if err := c.st.Set(granteeKey(m.Grantee, m.Dataset), []byte(m.Scope)); err != nil {
		return Outcome{}, internal("write grantee index", err)
	}
	return Outcome{ID: m.Dataset, Version: g.Version, Status: "granted"}, nil
}

// RevokeAccess revokes a grant; it takes effect with the block.
type RevokeAccess struct {
	Dataset string `json:"dataset"`
	Grantee string `json:"grantee"`
	dataset code.ID
}

func (m *RevokeAccess) validate(string) *Error {
	var err *Error
	m.dataset, _, err = grantParties(&m.Dataset, &m.Grantee)
	return err
}

func (m *RevokeAccess) apply(c *txContext) (Outcome, *Error) {
	// Whatever became of the dataset's record since (its DATA value
	// dropped, the record deactivated), its admins can revoke its grants.
	l, found, err := c.lineage(m.dataset)
	if err != nil {
		return Outcome{}, err
	}
	if !found {
		return Outcome{}, errorf(CodeNotFound, "dataset %s is not registered", m.Dataset)
	}
	if !l.selfAdmin && !l.parentAdmin {
		return Outcome{}, errorf(CodeUnauthorized, "key %s is not an admin of %s or of any node above it", c.signer, m.Dataset)
	}
	g, found, err := c.grant(m.Dataset, m.Grantee)
	if err != nil {
		return Outcome{}, err
	}
	if !found {
		return Outcome{}, errorf(CodeNotFound, "%s has no grant to %s", m.Grantee, m.Dataset)
	}
	if g.Revoked != nil {
		return Outcome{}, errorf(CodeAlreadyInactive, "the grant of %s to %s was revoked at height %d", m.Dataset, m.Grantee, g.Revoked.Height)
	}
	st := c.stamp()
	g.Revoked = &st
	g.Version++
	if err := putJSON(c.st, GrantKey(m.Dataset, m.Grantee), g); err != nil {
		return Outcome{}, internal("write grant", err)
	}
	if err := c.st.Delete(granteeKey(m.Grantee, m.Dataset)); err != nil {
		return Outcome{}, internal("delete grantee index", err)
	}
	return Outcome{ID: m.Dataset, Version: g.Version, Status: "revoked"}, nil
}

// dataset returns the record of a dataset the signer administers: an
// identifier with a DATA value, with no deactivated node above it.
func (c *txContext) dataset(id code.ID) (Record, *Error) {
	l, err := c.governed(id, "dataset ")
	if err != nil {
		return l.rec, err
	}
	if !hasDataValue(l.rec) {
		return l.rec, errorf(CodeInvalid, "%s has no DATA value: only a dataset's access is granted", id)
	}
	return l.rec, nil
}

func (c *txContext) grant(dataset, grantee string) (Grant, bool, *Error) {
	var g Grant
	ok, err := getJSON(c.st, GrantKey(dataset, grantee), &g)
	if err != nil {
		return g, false, internal("read grant", err)
	}
	return g, ok, nil
}

// GetGrant reads a grant; ok is false when there is none.
func GetGrant(r Reader, dataset, grantee string) (Grant, bool, error) {
	var g Grant
	ok, err := getJSON(r, GrantKey(dataset, grantee), &g)
	return g, ok, err
}
