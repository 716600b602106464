package registry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/cityid/cityid/code"
)

// RegisterSector registers a sector (an ISIC Rev.4 division) under a city.
type RegisterSector struct {
	ID     string   `json:"id"`               // e.g. 1561301001.85
	Name   string   `json:"name,omitempty"`   // default: the ISIC title
	Admins []string `json:"admins,omitempty"` // default: the signer
	Values []Value  `json:"values,omitempty"`
	id     code.ID
}

func (m *RegisterSector) validate(signer string) *Error {
	id, err := parseKind("id", m.ID, code.KindSector)
	if err != nil {
		return err
	}
	m.id, m.ID = id, id.String()
	if m.Name == "" {
		s, _ := code.LookupSector(id.Sector)
		m.Name = s.Title
	}
	return normalizeNode(&m.Name, &m.Admins, &m.Values, signer)
}

func (m *RegisterSector) apply(c *txContext) (Outcome, *Error) {
	return c.create(m.id, m.Name, m.Admins, m.Values)
}

// RegisterUnit registers a unit (a department, an operator, a facility)
// under a sector; the registry allocates its number.
type RegisterUnit struct {
	Parent string   `json:"parent"` // the sector, e.g. 1561301001.85
	Name   string   `json:"name"`
	Admins []string `json:"admins,omitempty"`
	Values []Value  `json:"values,omitempty"`
	parent code.ID
}

func (m *RegisterUnit) validate(signer string) *Error {
	id, err := parseKind("parent", m.Parent, code.KindSector)
	if err != nil {
		return err
	}
	m.parent, m.Parent = id, id.String()
	if err := checkName("name", m.Name, true); err != nil {
		return err
	}
	return normalizeNode(&m.Name, &m.Admins, &m.Values, signer)
}

func (m *RegisterUnit) apply(c *txContext) (Outcome, *Error) {
	// Check the parent before allocating, so that an unknown sector says
	// so rather than failing on the allocated identifier.
	if _, err := c.node(m.parent); err != nil {
		return Outcome{}, err
	}
	id, err := c.allocate(unitSeqKey(m.Parent), MaxUnit, "unit number under "+m.Parent, func(n string) (code.ID, error) {
		return m.parent.WithUnit(n)
	})
	if err != nil {
		return Outcome{}, err
	}
	return c.create(id, m.Name, m.Admins, m.Values)
}

// Register registers an identifier with its values. With Allocate, ID is a
// node code and the registry allocates the next free number under it as the
// local id.
type Register struct {
	ID       string   `json:"id"`
	Allocate bool     `json:"allocate,omitempty"`
	Values   []Value  `json:"values"`
	Admins   []string `json:"admins,omitempty"`
	id       code.ID
	// head is the record without its stamps, encoded when the message is
	// validated (in CheckTx, or on the chain's workers) so that the
	// block's sequential apply does not encode it, as a batch's entries;
	// nil with allocate, whose identifier the apply chooses.
	head []byte
}

func (m *Register) validate(signer string) *Error {
	id, err := code.Parse(m.ID)
	if err != nil {
		return invalidID("id", m.ID, err)
	}
	switch {
	case m.Allocate && !id.IsNode():
		return errorf(CodeInvalid, "id %q: with allocate, give the node code to allocate under, without a local id", clip(m.ID))
	case !m.Allocate && id.IsNode():
		return errorf(CodeInvalid, "id %q is a node code: register an object as <node>/<local-id>, or set allocate; sectors and units have their own kinds", clip(m.ID))
	}
	if err := checkReservedLocal(id); err != nil {
		return err
	}
	m.id, m.ID = id, id.String()
	var name string
	if err := normalizeNode(&name, &m.Admins, &m.Values, signer); err != nil {
		return err
	}
	if !m.Allocate {
		m.head = encodeHead(id, m.ID, "", m.Admins, m.Values)
	}
	return nil
}

// checkReservedLocal refuses the local ids that name a node's
// sub-resources in the HTTP API (/v1/ids/{node}/history,
// /v1/ids/{node}/children): an object with such a name could not be told
// apart from them in a URL.
func checkReservedLocal(id code.ID) *Error {
	switch id.Local {
	case "history", "children":
		return errorf(CodeInvalid, "local id %q is reserved: /v1/ids/%s/%s names the node's %s", id.Local, id.NodeCode(), id.Local, id.Local)
	}
	return nil
}

func (m *Register) apply(c *txContext) (Outcome, *Error) {
	if !m.Allocate {
		return c.createEncoded(m.id, m.ID, "", m.Admins, m.Values, m.head)
	}
	if _, err := c.node(m.id); err != nil {
		return Outcome{}, err
	}
	id, err := c.allocate(localSeqKey(m.ID), math.MaxUint64, "local id under "+m.ID, m.id.WithLocal)
	if err != nil {
		return Outcome{}, err
	}
	return c.create(id, "", m.Admins, m.Values)
}

// allocate returns the identifier of the number after the counter at key,
// and advances the counter to it.
func (c *txContext) allocate(key []byte, max uint64, what string, build func(n string) (code.ID, error)) (code.ID, *Error) {
	var id code.ID
	n, err := c.takeNumber(key, max, what, func(n uint64) (bool, *Error) {
		var perr error
		if id, perr = build(strconv.FormatUint(n, 10)); perr != nil {
			return false, invalidID(what, strconv.FormatUint(n, 10), perr)
		}
		return c.exists(RecordKey(id.String()))
	})
	if err != nil {
		return code.ID{}, err
	}
	id, perr := build(strconv.FormatUint(n, 10))
	if perr != nil {
		return code.ID{}, invalidID(what, strconv.FormatUint(n, 10), perr)
	}
	return id, nil
}

// takeNumber takes the number after the counter at key and moves the
// counter to it. The counter is kept standing just before a free number:
// writes that take a number by hand move it on (advanceCounter), so
// allocation itself looks at one number and never probes.
func (c *txContext) takeNumber(key []byte, max uint64, what string, taken func(uint64) (bool, *Error)) (uint64, *Error) {
	if err := c.advanceCounter(key, max, taken); err != nil {
		return 0, err
	}
	last, err := getSeq(c.st, key)
	if err != nil {
		return 0, internal("read counter for "+what, err)
	}
	if last >= max {
		return 0, errorf(CodeExhausted, "no free %s: every number up to %d is taken", what, max)
	}
	if err := putSeq(c.st, key, last+1); err != nil {
		return 0, internal("write counter for "+what, err)
	}
	return last + 1, nil
}

// advanceCounter moves the counter at key past the numbers right after it
// that are taken. Each number is passed once in the counter's life, so the
// reads are paid for by the writes that took the numbers; a counter that
// already stands before a free number costs one read.
func (c *txContext) advanceCounter(key []byte, max uint64, taken func(uint64) (bool, *Error)) *Error {
	last, err := getSeq(c.st, key)
	if err != nil {
		return internal(fmt.Sprintf("read counter %q", key), err)
	}
	n := last
	for n < max {
		t, terr := taken(n + 1)
		if terr != nil {
			return terr
		}
		if !t {
			break
		}
		n++
	}
	if n == last {
		return nil
	}
	if err := putSeq(c.st, key, n); err != nil {
		return internal(fmt.Sprintf("write counter %q", key), err)
	}
	return nil
}

// advanceLocal moves a node's local-id counter past a numeric local id
// registered by hand, when it is the one the counter would give next, so
// that register with allocate never meets a taken number.
func (c *txContext) advanceLocal(id code.ID) *Error {
	if !decimal(id.Local) {
		// Most local ids are names: ParseUint's error for them would
		// cost two allocations on every register.
		return nil
	}
	n, err := strconv.ParseUint(id.Local, 10, 64)
	if err != nil || strconv.FormatUint(n, 10) != id.Local {
		return nil // not a number the counter could give
	}
	node := id.NodeCode()
	key := localSeqKey(node)
	last, gerr := getSeq(c.st, key)
	if gerr != nil {
		return internal("read local id counter", gerr)
	}
	if n != last+1 {
		return nil
	}
	return c.advanceCounter(key, math.MaxUint64, func(m uint64) (bool, *Error) {
		return c.exists(RecordKey(node + "/" + strconv.FormatUint(m, 10)))
	})
}

// decimal reports whether s is one or more ASCII digits: what ParseUint
// could take as a number in base 10, and more (a leading zero, too many
// digits), which advanceLocal then checks.
func decimal(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// Update replaces an identifier's values. Version is the version the writer
// last saw: if the record has changed since, the update is refused, so two
// writers never overwrite each other silently.
type Update struct {
	ID      string  `json:"id"`
	Values  []Value `json:"values"`
	Version uint64  `json:"version"`
	// Contact changes how to reach a city's registry office, which its
	// application gave (CityInfo): absent (nil) keeps it, "" clears it.
	// Only a city's record has it. Its endpoint is not the city's alone
	// to change: a node keeps the datasets of the cities that name it,
	// so the authority approves a new one (set_city), as it approved the
	// application's.
	Contact *string `json:"contact,omitempty"`
	id      code.ID
}

func (m *Update) validate(string) *Error {
	id, err := code.Parse(m.ID)
	if err != nil {
		return invalidID("id", m.ID, err)
	}
	m.id, m.ID = id, id.String()
	if m.Version == 0 {
		return errorf(CodeInvalid, "version is required: the version you last saw (a record starts at 1)")
	}
	values, verr := normalizeValues(m.Values)
	if verr != nil {
		return verr
	}
	m.Values = values
	if m.Contact != nil && id.Kind() != code.KindCity {
		return errorf(CodeInvalid, "contact belongs to a city's record: %s is not a city", m.ID)
	}
	if m.Contact != nil {
		return checkName("contact", *m.Contact, false)
	}
	return nil
}

func (m *Update) apply(c *txContext) (Outcome, *Error) {
	prev, _, err := c.writable(m.id, m.Version)
	rec := prev
	if err != nil {
		return Outcome{}, err
	}
	if rec.Status != StatusActive {
		return Outcome{}, errorf(CodeInactive, "%s is deactivated: reactivate it before updating", rec.ID)
	}
	rec.Values = m.Values
	if m.Contact != nil {
		if rec.City == nil {
			return Outcome{}, errorf(CodeInvalid, "%s holds no city part to change", rec.ID)
		}
		city := *rec.City // prev keeps its own, for the history
		city.Contact = *m.Contact
		rec.City = &city
	}
	return c.save(prev, rec)
}

// SetStatus deactivates or reactivates an identifier (kinds deactivate and
// reactivate). A deactivated identifier still resolves, with its status; no
// identifier is registered under a deactivated node.
type SetStatus struct {
	ID      string `json:"id"`
	Version uint64 `json:"version,omitempty"` // if set, the version the writer last saw
	Reason  string `json:"reason,omitempty"`
	id      code.ID
	active  bool
}

func (m *SetStatus) validate(string) *Error {
	id, err := code.Parse(m.ID)
	if err != nil {
		return invalidID("id", m.ID, err)
	}
	m.id, m.ID = id, id.String()
	return checkName("reason", m.Reason, false)
}

func (m *SetStatus) apply(c *txContext) (Outcome, *Error) {
	prev, l, err := c.writable(m.id, m.Version)
	rec := prev
	if err != nil {
		return Outcome{}, err
	}
	switch {
	case m.active && rec.Status == StatusActive:
		return Outcome{}, errorf(CodeAlreadyActive, "%s is already active", rec.ID)
	case !m.active && rec.Status == StatusDeactivated:
		return Outcome{}, errorf(CodeAlreadyInactive, "%s is already deactivated", rec.ID)
	case m.active && m.id.Kind() == code.KindCity:
		// A city deactivated by its admins or suspended by the
		// authority is restored by the authority, M of N (set_city).
		return Outcome{}, errorf(CodeUnauthorized, "%s is a city: the registry authority reactivates a city (set_city)", rec.ID)
	case m.active && !l.parentAdmin:
		// A deactivation is lifted from above: otherwise the admins
		// of a unit deactivated for misuse would lift it themselves.
		parent, _ := m.id.Parent()
		return Outcome{}, errorf(CodeUnauthorized, "key %s is not an admin of %s or of any node above it: a deactivation is lifted by an admin of the parent", c.signer, parent)
	}
	rec.Status = StatusDeactivated
	if m.active {
		rec.Status = StatusActive
	}
	rec.Reason = m.Reason
	return c.save(prev, rec)
}

// parseKind parses an identifier that must be of one kind.
func parseKind(field, text string, kind code.Kind) (code.ID, *Error) {
	id, err := code.Parse(text)
	if err != nil {
		return id, invalidID(field, text, err)
	}
	if id.Kind() != kind {
		return id, errorf(CodeInvalid, "%s %q is %s, want %s", field, clip(text), article(string(id.Kind())), article(string(kind)))
	}
	return id, nil
}

// article puts "a" or "an" before a kind's name (city, sector, unit,
// object: only "object" is said with a vowel).
func article(kind string) string {
	if kind == string(code.KindObject) {
		return "an " + kind
	}
	return "a " + kind
}

// normalizeNode validates the common fields of a new record.
func normalizeNode(name *string, admins *[]string, values *[]Value, signer string) *Error {
	if err := checkName("name", *name, false); err != nil {
		return err
	}
	a, err := normalizeAdmins(*admins, signer)
	if err != nil {
		return err
	}
	v, err := normalizeValues(*values)
	if err != nil {
		return err
	}
	*admins, *values = a, v
	return nil
}

// GetRecord reads an identifier's record; ok is false when it does not exist.
func GetRecord(r Reader, id string) (Record, bool, error) {
	var rec Record
	ok, err := getJSON(r, RecordKey(id), &rec)
	return rec, ok, err
}

// record reads an identifier's record. Within a block, decoded records are
// kept by their exact bytes: the nodes above an identifier are read by
// nearly every transaction, and decoding them is most of a registration's
// cost. A record that changed has other bytes, so the cache never answers
// with a stale one. In a block's apply a record read from the block's
// state is not even read again (settled) until a transaction writes it,
// which the apply tells the cache (blockCache.wrote); one the transaction
// wrote itself is always read. Records it returns share their slices with
// the cache: callers replace a record's slices, never modify them in
// place.
func (c *txContext) record(id string) (Record, bool, *Error) {
	var buf [128]byte // the key on the stack: a settled record needs no other
	mine := c.st.has(append(append(buf[:0], prefixRecord...), id...))
	if c.cache != nil && !mine {
		if e, ok := c.cache.records[id]; ok && c.cache.settled(e) {
			return e.rec, true, nil
		}
	}
	b, err := c.st.Get(RecordKey(id))
	if err != nil {
		return Record{}, false, internal("read record "+id, err)
	}
	if b == nil {
		return Record{}, false, nil
	}
	if c.cache != nil {
		if e, ok := c.cache.records[id]; ok && bytes.Equal(e.raw, b) {
			if c.cache.settles && !mine && !c.cache.settled(e) {
				// Read from the state under the transactions again
				// (after a rebase, or first read from a
				// transaction's own writes): settled from now on.
				c.cache.put(id, e.raw, e.rec, true)
			}
			return e.rec, true, nil
		}
	}
	var rec Record
	if err := DecodeState(b, &rec); err != nil {
		return rec, false, internal("decode record "+id, err)
	}
	if c.cache != nil {
		c.cache.put(id, b, rec, c.cache.settles && !mine)
	}
	return rec, true, nil
}

// blockCache holds what one block's transactions read again and again. It
// is only looked up, never iterated, so it cannot make the result depend on
// map order.
type blockCache struct {
	records map[string]cachedRecord
	// settles is set when every write under the cache's transactions
	// passes through wrote (a block's apply): a record read from the
	// state under them, not from a transaction's own writes, is then
	// settled, and answered without a read until a transaction writes
	// it. Without it every answer is checked against a read.
	settles bool
	epoch   uint64 // raised by rebase
}

type cachedRecord struct {
	raw []byte
	rec Record
	// settled: the state under the transactions holds raw (settles), as
	// long as the cache's base is the one of the entry (epoch).
	settled bool
	epoch   uint64
}

// maxCachedRecords bounds a block's record cache; when full it starts over.
const maxCachedRecords = 4096

func newBlockCache() *blockCache { return &blockCache{records: make(map[string]cachedRecord)} }

func (b *blockCache) put(id string, raw []byte, rec Record, settled bool) {
	if len(b.records) >= maxCachedRecords {
		clear(b.records)
	}
	b.records[id] = cachedRecord{raw: raw, rec: rec, settled: settled, epoch: b.epoch}
}

// settled reports whether e is answered without a read.
func (b *blockCache) settled(e cachedRecord) bool { return e.settled && e.epoch == b.epoch }

// rebase unsettles every record: the state under the transactions is
// another. Records stay, to be compared with what is read.
func (b *blockCache) rebase() { b.epoch++ }

// wrote unsettles the records among keys, which a transaction has just
// written to the state under the cache's transactions.
func (b *blockCache) wrote(keys []string) {
	for _, k := range keys {
		if id, ok := strings.CutPrefix(k, prefixRecord); ok {
			delete(b.records, id)
		}
	}
}

// lineage is what a walk from an identifier up to its city finds: the
// identifier's record, who of the signer's keys may act on it, and the
// first deactivated record on the way.
type lineage struct {
	rec         Record
	selfAdmin   bool   // the signer is an admin of the record itself
	parentAdmin bool   // the signer is an admin of a node above it
	inactive    *Error // the first deactivated ancestor (not the record itself), or nil
}

// lineage walks from id up to its city once, reading every record on the
// way. found is false when id itself is not registered; a missing node
// above it is not_found.
func (c *txContext) lineage(id code.ID) (lineage, bool, *Error) {
	return c.lineageText(id, id.String())
}

// lineageText is lineage with id's text (id.String()): the text of each
// node above is a prefix of it (nodeTextLen), not made again.
func (c *txContext) lineageText(id code.ID, text string) (lineage, bool, *Error) {
	var l lineage
	found := false
	for cur := id; ; {
		rec, ok, err := c.record(text)
		if err != nil {
			return l, false, err
		}
		switch {
		case !ok && cur == id:
			// The caller says what a missing identifier means.
			return l, false, nil
		case !ok:
			return l, found, errorf(CodeNotFound, "%s is not registered", cur)
		case cur == id:
			l.rec, found = rec, true
			l.selfAdmin = contains(rec.Admins, c.signer)
		default:
			l.parentAdmin = l.parentAdmin || contains(rec.Admins, c.signer)
			if rec.Status != StatusActive && l.inactive == nil {
				l.inactive = errorf(CodeInactive, "%s is deactivated, and with it everything under it, %s included", cur, id)
			}
		}
		up, more := cur.Parent()
		if !more {
			break
		}
		cur, text = up, text[:nodeTextLen(up)]
	}
	return l, found, nil
}

// nodeTextLen is the length of a node's text (node.String(), node without
// a local id): its city code (country, city number and check character),
// then each of its sector and unit after a dot. The text of a node above
// an identifier is the identifier's text up to that length.
func nodeTextLen(node code.ID) int {
	n := len(node.Country) + len(node.CityNumber) + 1
	if node.Sector != "" {
		n += 1 + len(node.Sector)
		if node.Unit != "" {
			n += 1 + len(node.Unit)
		}
	}
	return n
}

// governed walks id's lineage and checks what every change of id or under
// it needs: id is registered (missing names it as "<missing><id>"), the
// signer is an admin of it or of a node above it, and no node above it is
// deactivated. Whether id itself must be active is the caller's to say.
func (c *txContext) governed(id code.ID, missing string) (lineage, *Error) {
	return c.governedText(id, id.String(), missing)
}

// governedText is governed with id's text (id.String()).
func (c *txContext) governedText(id code.ID, text, missing string) (lineage, *Error) {
	l, found, err := c.lineageText(id, text)
	if err != nil {
		return l, err
	}
	if !found {
		return l, errorf(CodeNotFound, "%s%s is not registered", missing, id)
	}
	if !l.selfAdmin && !l.parentAdmin {
		return l, errorf(CodeUnauthorized, "key %s is not an admin of %s or of any node above it", c.signer, id)
	}
	if l.inactive != nil {
		return l, l.inactive
	}
	return l, nil
}

// node returns the active node nodeID, under which something is to be
// created, after checking that the signer may write under it: every node
// up to the city exists, the signer is an admin of one of them, and none
// is deactivated, however far up.
func (c *txContext) node(nodeID code.ID) (Record, *Error) {
	return c.nodeText(nodeID, nodeID.String())
}

// nodeText is node with nodeID's text (nodeID.String()).
func (c *txContext) nodeText(nodeID code.ID, text string) (Record, *Error) {
	l, err := c.governedText(nodeID, text, "parent ")
	if err != nil {
		return l.rec, err
	}
	if l.rec.Status != StatusActive {
		return l.rec, errorf(CodeInactive, "parent %s is deactivated", nodeID)
	}
	return l.rec, nil
}

// create writes a new record at version 1 under its active parent.
func (c *txContext) create(id code.ID, name string, admins []string, values []Value) (Outcome, *Error) {
	return c.createEncoded(id, id.String(), name, admins, values, nil)
}

// createEncoded is create with id's text (id.String()) and the record's
// stampless part encoded ahead (head, from encodeHead; nil to encode it
// here).
func (c *txContext) createEncoded(id code.ID, text, name string, admins []string, values []Value, head []byte) (Outcome, *Error) {
	parentID, ok := id.Parent()
	if !ok {
		return Outcome{}, errorf(CodeInvalid, "%s has no parent: cities are issued by approving an application", id)
	}
	if _, err := c.nodeText(parentID, text[:nodeTextLen(parentID)]); err != nil {
		return Outcome{}, err
	}
	return c.insertEncoded(id, text, parentID, name, admins, values, head)
}

// insert writes a new record whose parent has been checked.
func (c *txContext) insert(id, parentID code.ID, name string, admins []string, values []Value) (Outcome, *Error) {
	return c.insertEncoded(id, id.String(), parentID, name, admins, values, nil)
}

// insertEncoded is insert with id's text (id.String()) and the record's
// stampless part encoded ahead (head, from encodeHead; nil to encode it
// here): a batch encodes its records while it is prepared, on any core,
// and the block's sequential apply only adds the stamps.
func (c *txContext) insertEncoded(id code.ID, text string, parentID code.ID, name string, admins []string, values []Value, head []byte) (Outcome, *Error) {
	key := RecordKey(text)
	if c.ahead.unregistered(key, c.st) {
		// Known absent without a read (ahead.go).
	} else if ok, err := c.exists(key); err != nil {
		return Outcome{}, err
	} else if ok {
		return Outcome{}, errorf(CodeExists, "%s is already registered", text)
	}
	st := c.stamp()
	stamp := c.stampJSON()
	if head != nil && stamp != nil {
		// The record is made from its head when it is read or
		// written to the store (write.stamp).
		c.st.put(key, write{value: head, stamp: c.heldStamp()})
	} else {
		rec := Record{
			ID: text, Kind: id.Kind(), Status: StatusActive, Version: 1, Name: name,
			Values: values, Admins: admins, Created: st, Updated: st,
		}
		if err := putJSON(c.st, key, rec); err != nil {
			return Outcome{}, internal("write record", err)
		}
	}
	if id.IsNode() {
		// Objects are found under their node by key prefix; sectors and
		// units, whose keys interleave with their objects', by this index.
		if err := c.st.Set(childKey(parentID.String(), text), []byte(id.Kind())); err != nil {
			return Outcome{}, internal("write child index", err)
		}
	} else if err := c.advanceLocal(id); err != nil {
		return Outcome{}, err
	}
	return Outcome{ID: text, Version: 1, Status: StatusActive}, nil
}

// recordHead is a Record without its stamps, in the same order with the
// same names (TestRecordHeadMatchesRecord): encoding/json writes a struct's
// fields one after the other, so a record's encoding is its head's with
// the stamps appended (withStamps).
type recordHead struct {
	ID      string    `json:"id"`
	Kind    code.Kind `json:"kind"`
	Status  string    `json:"status"`
	Reason  string    `json:"reason,omitempty"`
	Version uint64    `json:"version"`
	Name    string    `json:"name,omitempty"`
	City    *CityInfo `json:"city,omitempty"`
	Values  []Value   `json:"values"`
	Admins  []string  `json:"admins"`
}

// encodeHead encodes the stampless part of the record insert writes for
// id, whose text (id.String()) is text; nil if it cannot be encoded
// (insert then reports why).
func encodeHead(id code.ID, text, name string, admins []string, values []Value) []byte {
	size := 96 + len(text) + len(name) // the names and the fixed fields
	for _, v := range values {
		size += 48 + len(v.Type) + len(v.Data)
	}
	for _, a := range admins {
		size += 3 + len(a)
	}
	if b, ok := appendRecordHead(make([]byte, 0, size), text, id.Kind(), name, admins, values); ok {
		return b
	}
	b, err := json.Marshal(recordHead{ID: text, Kind: id.Kind(), Status: StatusActive, Version: 1, Name: name, Values: values, Admins: admins})
	if err != nil {
		return nil
	}
	return b
}

// withStamps completes a record's head with its created and updated
// stamps, both stamp.
func withStamps(head, stamp []byte) []byte {
	const created, updated = `,"created":`, `,"updated":`
	b := make([]byte, 0, len(head)+len(created)+len(updated)+2*len(stamp))
	b = append(b, head[:len(head)-1]...) // without its closing brace
	b = append(b, created...)
	b = append(b, stamp...)
	b = append(b, updated...)
	b = append(b, stamp...)
	return append(b, '}')
}

// writable returns a record the signer may change (governed), at the
// expected version when one is given.
func (c *txContext) writable(id code.ID, version uint64) (Record, lineage, *Error) {
	l, err := c.governed(id, "")
	if err != nil {
		return l.rec, l, err
	}
	if version != 0 && version != l.rec.Version {
		return l.rec, l, errorf(CodeVersionMismatch, "%s is at version %d, not %d: resolve it again and retry", id, l.rec.Version, version)
	}
	return l.rec, l, nil
}

// save writes a changed record as its next version, keeping the version it
// replaces in the identifier's history: history stays resolvable whatever
// the node prunes and on a node that joined by state sync.
func (c *txContext) save(prev, rec Record) (Outcome, *Error) {
	if err := putJSON(c.st, historyKey(prev.ID, prev.Version), prev); err != nil {
		return Outcome{}, internal("write history", err)
	}
	rec.Version++
	rec.Updated = c.stamp()
	if err := putJSON(c.st, RecordKey(rec.ID), rec); err != nil {
		return Outcome{}, internal("write record", err)
	}
	return Outcome{ID: rec.ID, Version: rec.Version, Status: rec.Status}, nil
}
