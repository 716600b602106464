package registry

import (
	"strings"

	"github.com/cityid/cityid/code"
)

// RegisterBatch registers up to MaxBatch identifiers in one signed
// transaction, all or nothing: the first bad entry refuses the whole batch,
// and the error names it by its position in the batch and its identifier.
//
// Entries is the Go form; on the wire (batch_wire.go) the entries of one
// node travel as a group under it.
type RegisterBatch struct {
	Entries []BatchEntry
	// groups are the groups of the message as decoded; nil for a batch
	// built in Go, which validate groups as MarshalJSON sends it.
	groups []batchGroup
	ids    []code.ID
	// heads are the entries' records without their stamps, encoded when
	// the batch is validated (in CheckTx, or on the chain's workers), so
	// that the block's sequential apply does not encode them.
	heads [][]byte
}

// BatchEntry is one identifier of a batch. Its JSON tags are those of
// the command line's JSON batch files (client.ParseBatchFile); on the wire
// an entry is an array under its group (batch_wire.go).
type BatchEntry struct {
	ID     string   `json:"id"` // <node>/<local-id>
	Values []Value  `json:"values"`
	Admins []string `json:"admins,omitempty"` // default: the group's, else the signer
}

func (m *RegisterBatch) validate(signer string) *Error {
	if len(m.Entries) == 0 && len(m.groups) == 0 {
		return errorf(CodeInvalid, "nodes is empty: a batch registers at least one identifier")
	}
	if len(m.Entries) > MaxBatch {
		return errorf(CodeTooLarge, "%d entries, more than the %d allowed", len(m.Entries), MaxBatch)
	}
	if m.groups == nil { // built in Go: validate it as it would travel
		entries, groups, err := groupsOf(m.Entries)
		if err != nil {
			return errorf(CodeInvalid, "%v", err)
		}
		m.Entries, m.groups = entries, groups
	}
	groups := m.groups
	m.ids = make([]code.ID, len(m.Entries))
	m.heads = make([][]byte, len(m.Entries))
	// seen maps a node to its group, to name a node in two groups; local
	// maps a group's local ids to their entries, to name a repeat (a node
	// is in one group, so a repeated identifier is in one group too).
	// Both are only looked up, never iterated.
	seen := make(map[code.ID]int, len(groups))
	local := make(map[string]int)
	signerAdmins := []string{signer}
	// lastIn and lastOut remember the admins normalized last: a group's
	// admins are one slice shared by its entries, checked once.
	var lastIn, lastOut []string
	for g, grp := range groups {
		if grp.n == 0 {
			return errorf(CodeInvalid, "group %d (%s) has no entries", g+1, clip(grp.node))
		}
		first := m.Entries[grp.first].ID
		node, err := code.Parse(grp.node)
		if err != nil {
			return entryError(grp.first, first, invalidID("node", grp.node, err))
		}
		if !node.IsNode() {
			return entryError(grp.first, first, errorf(CodeInvalid, "node %s is an object: a group's node is a city, a sector or a unit", node))
		}
		if h, dup := seen[node]; dup {
			return entryError(grp.first, first, errorf(CodeInvalid, "node %s is also the node of group %d: list a node's entries in one group", node, h+1))
		}
		seen[node] = g
		nodeText := node.String()
		clear(local)
		for i := grp.first; i < grp.first+grp.n; i++ {
			e := &m.Entries[i]
			id, err := entryID(node, e.ID)
			if err != nil {
				return entryError(i, e.ID, err)
			}
			if err := checkReservedLocal(id); err != nil {
				return entryError(i, e.ID, err)
			}
			if j, dup := local[id.Local]; dup {
				return entryError(i, e.ID, errorf(CodeInvalid, "%s/%s repeats entry %d", nodeText, id.Local, j+1))
			}
			local[id.Local] = i
			switch {
			case len(e.Admins) == 0:
				e.Admins = signerAdmins
			case len(lastIn) == len(e.Admins) && &lastIn[0] == &e.Admins[0]:
				e.Admins = lastOut
			default:
				a, err := normalizeAdmins(e.Admins, signer)
				if err != nil {
					return entryError(i, e.ID, err)
				}
				lastIn, lastOut = e.Admins, a
				e.Admins = a
			}
			v, verr := normalizeValues(e.Values)
			if verr != nil {
				return entryError(i, e.ID, verr)
			}
			e.Values = v
			m.ids[i], e.ID = id, nodeText+"/"+id.Local
			m.heads[i] = encodeHead(id, e.ID, "", e.Admins, e.Values)
		}
	}
	return nil
}

// entryID is the identifier of an entry under node whose text is
// <node>/<local-id> (the node's text has no '/': it parsed as a node). A
// local id that does not parse is named with its position in the whole
// identifier, as code.Parse names it.
func entryID(node code.ID, text string) (code.ID, *Error) {
	l, err := code.ParseLocal(text[strings.IndexByte(text, '/')+1:])
	if err != nil {
		if _, perr := code.Parse(text); perr != nil {
			err = perr
		}
		return code.ID{}, invalidID("id", text, err)
	}
	node.Local = l
	return node, nil
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
		if i == 0 {
			// A record each, and a local sequence per node
			// (advanceLocal); made room for once the signer has been
			// let write under the first node.
			c.st.reserve(len(m.ids) + 1)
		}
		e := &m.Entries[i]
		if _, err := c.insertEncoded(id, e.ID, parent, "", e.Admins, e.Values, m.heads[i]); err != nil {
			return Outcome{}, entryError(i, e.ID, err)
		}
	}
	return Outcome{Count: len(m.ids), ID: m.Entries[0].ID, Status: StatusActive, Version: 1}, nil
}
