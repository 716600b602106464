package registry

import "github.com/cityid/cityid/code"

// Transfer gives a city, sector, unit or identifier new admin keys. The
// signer must be an admin of it or of a node above it, as for any change.
type Transfer struct {
	ID      string   `json:"id"`
	Admins  []string `json:"admins"`
	Version uint64   `json:"version,omitempty"` // if set, the version the writer last saw
	id      code.ID
}

func (m *Transfer) validate(string) *Error {
	id, err := code.Parse(m.ID)
	if err != nil {
		return invalidID("id", m.ID, err)
	}
	m.id, m.ID = id, id.String()
	if len(m.Admins) == 0 {
		return errorf(CodeInvalid, "admins is empty: a transfer names the new admin keys")
	}
	if err := checkKeys("admin", m.Admins, MaxAdmins); err != nil {
		return err
	}
	return nil
}

func (m *Transfer) apply(c *txContext) (Outcome, *Error) {
	prev, l, err := c.writable(m.id, m.Version)
	rec := prev
	if err != nil {
		return Outcome{}, err
	}
	if rec.Status != StatusActive && !l.parentAdmin {
		// A deactivated record's own admins can do nothing with it; an
		// admin above it may give it new keys before reactivating it,
		// the way out of a leaked key.
		return Outcome{}, errorf(CodeInactive, "%s is deactivated: its own admins cannot hand it over; an admin of the node above can", rec.ID)
	}
	rec.Admins = m.Admins
	return c.save(prev, rec)
}
