package registry

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/cityid/cityid/code"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// The wire form of a register_batch message (application version 3):
//
//	{"nodes":[{"node":"1561101001.84.1","admins":["…"],"entries":[
//	  ["c110101001001",[["URL","https://…"],["TEXT","多福巷社区居委会"]]],
//	  ["c110101001002",[{"index":7,"type":"TEXT","data":"…","ttl":60}],["<admin>"]]]}]}
//
// A batch is mostly its entries, and every byte of it is hashed into block
// parts, synced to the proposer's WAL, saved in the block store and decoded
// in CheckTx: the node of an entry is said once for its group, and a value
// that takes its position as its index and the default TTL is a pair
// [type, data]. Other values are the object every other kind uses. An
// entry's admins, when it has some, follow its values; a group's admins
// are those of its entries that name none (the signer when neither does).
//
// Decoding is strict as the rest of a body: no unknown member, no repeated
// key, no null where an array or a string belongs, no trailing data. What
// is well formed but wrong (an empty group, a node in two groups, a node
// that does not parse) is left to validate, which refuses it with the
// codes of every other message and names the entry.

// batchGroup is one group of a batch as it was sent: its node's text and
// how many of the batch's entries, from first, are its.
type batchGroup struct {
	node  string
	first int
	n     int
}

// MarshalJSON writes the wire form. The wire lists each node once, so
// the entries travel grouped by node: the groups in the order of their
// node's first entry, the entries of a group in their order. A refusal
// numbers the entries as they travel. An entry whose identifier is not
// <node>/<local-id> has no wire form and is an error.
func (m RegisterBatch) MarshalJSON() ([]byte, error) {
	entries, groups, err := groupsOf(m.Entries)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, 64+100*len(entries))
	b = append(b, `{"nodes":[`...)
	for g, grp := range groups {
		if g > 0 {
			b = append(b, ',')
		}
		group := entries[grp.first : grp.first+grp.n]
		shared := sharedAdmins(group)
		b = append(b, `{"node":`...)
		b = appendQuoted(b, grp.node)
		if shared != nil {
			b = append(b, `,"admins":`...)
			b = appendStrings(b, shared)
		}
		b = append(b, `,"entries":[`...)
		for i, e := range group {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			b = appendQuoted(b, e.ID[strings.IndexByte(e.ID, '/')+1:])
			b = append(b, ',')
			if b, err = appendValues(b, e.Values); err != nil {
				return nil, fmt.Errorf("entry %d (%s): %w", grp.first+i+1, clip(e.ID), err)
			}
			if shared == nil && len(e.Admins) > 0 {
				b = append(b, ',')
				b = appendStrings(b, e.Admins)
			}
			b = append(b, ']')
		}
		b = append(b, "]}"...)
	}
	return append(b, "]}"...), nil
}

// groupsOf orders entries as they travel: grouped by node (what comes
// before an identifier's first '/', in canonical form when it parses),
// the groups in the order of their node's first entry. The groups' node
// is the canonical text; the entries keep their identifiers as given.
func groupsOf(in []BatchEntry) ([]BatchEntry, []batchGroup, error) {
	// byText maps a node's text as given to its group; both maps are only
	// looked up, never iterated.
	byText := make(map[string]int)
	byNode := make(map[string]int)
	var groups []batchGroup
	at := make([]int, len(in)) // the group of each entry
	for i, e := range in {
		text, _, ok := strings.Cut(e.ID, "/")
		if !ok {
			return nil, nil, fmt.Errorf("entry %d (%s): a batch registers objects, <node>/<local-id>", i+1, clip(e.ID))
		}
		g, seen := byText[text]
		if !seen {
			node := text
			if id, err := code.Parse(text); err == nil {
				node = id.String()
			}
			if g, seen = byNode[node]; !seen {
				g = len(groups)
				groups = append(groups, batchGroup{node: node})
				byNode[node] = g
			}
			byText[text] = g
		}
		at[i] = g
		groups[g].n++
	}
	for g := 1; g < len(groups); g++ {
		groups[g].first = groups[g-1].first + groups[g-1].n
	}
	out := make([]BatchEntry, len(in))
	next := make([]int, len(groups))
	for i, e := range in {
		g := at[i]
		out[groups[g].first+next[g]] = e
		next[g]++
	}
	return out, groups, nil
}

// sharedAdmins returns the admins every entry of a group names, when they
// all name the same ones; nil otherwise.
func sharedAdmins(entries []BatchEntry) []string {
	first := entries[0].Admins
	if len(first) == 0 {
		return nil
	}
	for _, e := range entries[1:] {
		if !slices.Equal(e.Admins, first) {
			return nil
		}
	}
	return first
}

// appendValues writes values, each as a pair when the pair reads back to
// the same value after normalizeValues: no dataset, the default TTL, and
// as its index its position (given, or the one normalizeValues assigns
// when no value has an index). Other values are objects, with the index
// normalizeValues would assign written out, so that a list of pairs and
// objects means what the list of objects meant.
func appendValues(b []byte, values []Value) ([]byte, error) {
	noneIndexed := true
	for _, v := range values {
		if v.Index != 0 {
			noneIndexed = false
			break
		}
	}
	b = append(b, '[')
	for i, v := range values {
		if i > 0 {
			b = append(b, ',')
		}
		if noneIndexed {
			v.Index = uint32(i + 1)
		}
		if v.Dataset == nil && (v.TTL == 0 || v.TTL == DefaultTTL) && v.Index == uint32(i+1) {
			b = append(b, '[')
			b = appendQuoted(b, v.Type)
			b = append(b, ',')
			b = appendQuoted(b, v.Data)
			b = append(b, ']')
			continue
		}
		o, err := marshalCompact(v)
		if err != nil {
			return nil, fmt.Errorf("value %d: %w", i+1, err)
		}
		b = append(b, o...)
	}
	return append(b, ']'), nil
}

func appendStrings(b []byte, s []string) []byte {
	b = append(b, '[')
	for i, x := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendQuoted(b, x)
	}
	return append(b, ']')
}

// appendQuoted writes s as a JSON string in its shortest form (RFC 8785),
// which, like marshalCompact, leaves <, > and & as they are. Text that is
// not UTF-8 is written with U+FFFD, as encoding/json writes it.
func appendQuoted(b []byte, s string) []byte {
	q, _ := jsontext.AppendQuote(b, s) // the error says only that U+FFFD was written
	return q
}

// UnmarshalJSON reads the wire form (decode). Both of encoding/json's
// engines call it, so they read a batch alike.
func (m *RegisterBatch) UnmarshalJSON(b []byte) error {
	return m.decode(b)
}

// decode reads a message in the wire form into m, replacing what m held.
func (m *RegisterBatch) decode(b []byte) error {
	*m = RegisterBatch{}
	// A bytes.Buffer is read in place, with no copy (the decoder never
	// writes to it: FuzzDecodeRegisterBatch checks).
	r := batchReader{d: jsontext.NewDecoder(bytes.NewBuffer(b))}
	if err := r.message(m); err != nil {
		*m = RegisterBatch{}
		return err
	}
	if _, err := r.d.ReadToken(); err != io.EOF {
		return fmt.Errorf("trailing data after the JSON value at byte %d", r.d.InputOffset()+1)
	}
	return nil
}

// batchReader reads the wire form token by token: a batch is up to 5,000
// entries and megabytes of JSON, which reflection-driven decoding reads
// several times slower.
type batchReader struct {
	d *jsontext.Decoder
}

// errNull is the error for null where a batch wants an array or a
// string: one spelling of an absent member is enough.
var errNull = errors.New("null is not allowed here")

func (r *batchReader) message(m *RegisterBatch) error {
	return r.object("msg", func(key string) error {
		if key != "nodes" {
			return fmt.Errorf("msg: unknown member %q", clip(key))
		}
		return r.array("nodes", func(int) error { return r.group(m) })
	})
}

func (r *batchReader) group(m *RegisterBatch) error {
	g := batchGroup{first: len(m.Entries)}
	var admins []string
	where := fmt.Sprintf("group %d", len(m.groups)+1)
	err := r.object(where, func(key string) error {
		switch key {
		case "node":
			s, err := r.str()
			if err != nil {
				return fmt.Errorf("%s: node: %w", where, err)
			}
			g.node = s
			return nil
		case "admins":
			a, err := r.strs()
			if err != nil {
				return fmt.Errorf("%s: admins: %w", where, err)
			}
			admins = a
			return nil
		case "entries":
			return r.array(where+": entries", func(int) error { return r.entry(m, g.node) })
		}
		return fmt.Errorf("%s: unknown member %q", where, clip(key))
	})
	if err != nil {
		return err
	}
	// The members may come in any order: the node and the group's admins
	// reach the entries once the whole group is read.
	g.n = len(m.Entries) - g.first
	for i := g.first; i < len(m.Entries); i++ {
		e := &m.Entries[i]
		e.ID = g.node + "/" + e.ID
		if e.Admins == nil {
			e.Admins = admins
		}
	}
	m.groups = append(m.groups, g)
	return nil
}

// entry reads one entry into m.Entries, its ID holding only the local id
// until its group is read whole. node, when the group named it before its
// entries, names the entry in errors.
func (r *batchReader) entry(m *RegisterBatch, node string) error {
	i := len(m.Entries) + 1
	if k := r.d.PeekKind(); k != '[' {
		return fmt.Errorf("entry %d: want [local-id, values] or [local-id, values, admins], not %s", i, kindName(k))
	}
	if _, err := r.d.ReadToken(); err != nil {
		return fmt.Errorf("entry %d: %w", i, err)
	}
	local, err := r.str()
	if err != nil {
		return fmt.Errorf("entry %d: local id: %w", i, err)
	}
	// where names the entry in an error; made only for one.
	where := func() string { return fmt.Sprintf("entry %d (%s)", i, clip(node+"/"+local)) }
	if k := r.d.PeekKind(); k != '[' {
		return fmt.Errorf("%s: want its values, an array, after the local id, not %s", where(), kindName(k))
	}
	if _, err := r.d.ReadToken(); err != nil {
		return fmt.Errorf("%s: %w", where(), err)
	}
	e := BatchEntry{ID: local, Values: []Value{}}
	for r.d.PeekKind() != ']' {
		v, err := r.value(len(e.Values))
		if err != nil {
			return fmt.Errorf("%s: value %d: %w", where(), len(e.Values)+1, err)
		}
		e.Values = append(e.Values, v)
	}
	if _, err := r.d.ReadToken(); err != nil { // the values' ']'
		return fmt.Errorf("%s: %w", where(), err)
	}
	if r.d.PeekKind() == '[' {
		// Given, even empty: an empty list is the signer, not the group's.
		if e.Admins, err = r.strs(); err != nil {
			return fmt.Errorf("%s: admins: %w", where(), err)
		}
	}
	if k := r.d.PeekKind(); k != ']' {
		return fmt.Errorf("%s: an entry is [local-id, values] or [local-id, values, admins]; want ] after them, not %s", where(), kindName(k))
	}
	if _, err := r.d.ReadToken(); err != nil {
		return fmt.Errorf("%s: %w", where(), err)
	}
	m.Entries = append(m.Entries, e)
	return nil
}

// value reads one value at position pos: a pair [type, data], or an
// object read as every other message reads a value.
func (r *batchReader) value(pos int) (Value, error) {
	switch k := r.d.PeekKind(); k {
	case '[':
		if _, err := r.d.ReadToken(); err != nil {
			return Value{}, err
		}
		t, err := r.str()
		if err != nil {
			return Value{}, fmt.Errorf("type: %w", err)
		}
		data, err := r.str()
		if err != nil {
			return Value{}, fmt.Errorf("data: %w", err)
		}
		if k := r.d.PeekKind(); k != ']' {
			return Value{}, fmt.Errorf(`a pair is ["TYPE","data"]; want ] after the data, not %s`, kindName(k))
		}
		if _, err := r.d.ReadToken(); err != nil {
			return Value{}, err
		}
		return Value{Index: uint32(pos + 1), Type: t, Data: data}, nil
	case '{':
		var v Value
		if err := jsonv2.UnmarshalDecode(r.d, &v, jsonv2.RejectUnknownMembers(true)); err != nil {
			return Value{}, err
		}
		return v, nil
	default:
		return Value{}, fmt.Errorf(`want ["TYPE","data"] or an object, not %s`, kindName(k))
	}
}

// object reads an object whose members member reads, given each key.
func (r *batchReader) object(what string, member func(key string) error) error {
	if k := r.d.PeekKind(); k != '{' {
		return fmt.Errorf("%s: want an object, not %s", what, kindName(k))
	}
	if _, err := r.d.ReadToken(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	for r.d.PeekKind() == '"' {
		t, err := r.d.ReadToken()
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if err := member(t.String()); err != nil {
			return err
		}
	}
	if _, err := r.d.ReadToken(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// array reads an array whose elements elem reads, given each position.
func (r *batchReader) array(what string, elem func(i int) error) error {
	if k := r.d.PeekKind(); k != '[' {
		return fmt.Errorf("%s: want an array, not %s", what, kindName(k))
	}
	if _, err := r.d.ReadToken(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	for i := 0; r.d.PeekKind() != ']'; i++ {
		if r.d.PeekKind() == 0 {
			_, err := r.d.ReadToken()
			return fmt.Errorf("%s: %w", what, err)
		}
		if err := elem(i); err != nil {
			return err
		}
	}
	_, err := r.d.ReadToken()
	return err
}

func (r *batchReader) str() (string, error) {
	if k := r.d.PeekKind(); k != '"' {
		if k == 'n' {
			return "", errNull
		}
		return "", fmt.Errorf("want a string, not %s", kindName(k))
	}
	t, err := r.d.ReadToken()
	if err != nil {
		return "", err
	}
	return t.String(), nil
}

// strs reads an array of strings; an empty array is an empty, non-nil
// slice.
func (r *batchReader) strs() ([]string, error) {
	out := []string{}
	err := r.array("", func(int) error {
		s, err := r.str()
		if err != nil {
			return err
		}
		out = append(out, s)
		return nil
	})
	return out, err
}

// kindName names what the decoder found, for an error.
func kindName(k jsontext.Kind) string {
	switch k {
	case 0:
		return "the end of the input or invalid JSON"
	case 'n':
		return "null"
	case 't', 'f':
		return "a boolean"
	case '"':
		return "a string"
	case '0':
		return "a number"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case ']':
		return "the end of the array"
	case '}':
		return "the end of the object"
	}
	return k.String()
}
