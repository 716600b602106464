package registry

import (
	"github.com/cityid/cityid/code"
)

// RegisterBatch registers up to MaxBatch identifiers in one signed
// transaction, all or nothing: the first bad entry refuses the whole batch,
// and the error names it.
type RegisterBatch struct {
	Entries []BatchEntry `json:"entries"`
	ids     []code.ID
	// heads are the entries' records without their stamps, encoded when
	// the batch is validated (in CheckTx, or on the chain's workers), so
	// that the block's sequential apply does not encode them.
	heads [][]byte
}

// BatchEntry is one identifier of a batch.
type BatchEntry struct {
	ID     string   `json:"id"`
	Values []Value  `json:"values"`
	Admins []string `json:"admins,omitempty"` // default: the signer
}

func (m *RegisterBatch) validate(signer string) *Error {
	if len(m.Entries) == 0 {
		return errorf(CodeInvalid, "entries is empty")
	}
	if len(m.Entries) > MaxBatch {
		return errorf(CodeTooLarge, "%d entries, more than the %d allowed", len(m.Entries), MaxBatch)
	}
	m.ids = make([]code.ID, len(m.Entries))
	m.heads = make([][]byte, len(m.Entries))
	// first maps an identifier to its entry, to name a repeat; it is only
	// looked up, never iterated.
	first := make(map[string]int, len(m.Entries))
	for i := range m.Entries {
		e := &m.Entries[i]
		id, err := code.Parse(e.ID)
		if err != nil {
			return entryError(i, e.ID, invalidID("id", e.ID, err))
		}
		if id.IsNode() {
			return entryError(i, e.ID, errorf(CodeInvalid, "%s is a node code: a batch registers objects, <node>/<local-id>", id))
		}
		if err := checkReservedLocal(id); err != nil {
			return entryError(i, e.ID, err)
		}
		text := id.String()
		if j, dup := first[text]; dup {
			return entryError(i, e.ID, errorf(CodeInvalid, "%s repeats entry %d", text, j+1))
		}
		first[text] = i
		var name string
		if err := normalizeNode(&name, &e.Admins, &e.Values, signer); err != nil {
			return entryError(i, e.ID, err)
		}
		m.ids[i], e.ID = id, text
		m.heads[i] = encodeHead(id, "", e.Admins, e.Values)
	}
	return nil
}

// entryError names the entry an error is about, keeping the error's code.
func entryError(i int, id string, err *Error) *Error {
	return errorf(err.Code, "entry %d (%s): %s", i+1, clip(id), err.Msg)
}

func (m *RegisterBatch) apply(c *txContext) (Outcome, *Error) {
	// Entries of a batch mostly share their node: check each node once.
	checked := make(map[code.ID]*Error)
	for i, id := range m.ids {
		parent, _ := id.Parent()
		err, seen := checked[parent]
		if !seen {
			_, err = c.node(parent)
			checked[parent] = err
		}
		if err != nil {
			return Outcome{}, entryError(i, m.Entries[i].ID, err)
		}
		e := &m.Entries[i]
		if _, err := c.insertEncoded(id, parent, "", e.Admins, e.Values, m.heads[i]); err != nil {
			return Outcome{}, entryError(i, e.ID, err)
		}
	}
	return Outcome{Count: len(m.ids), ID: m.Entries[0].ID, Status: StatusActive, Version: 1}, nil
}
