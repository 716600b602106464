package registry

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/cityid/cityid/code"
)

// An export is the registry's state at one height as JSON Lines
// (docs/export.md): a header line, then one line per state entry that a
// new network carries, in the tree's key order. It is how a network
// survives a change that cannot be migrated in place: a new network
// starts from it (Genesis.Import) with the same entries, byte for byte.

// ExportFormat is the header's format name.
const ExportFormat = "cityid-export"

// ExportVersion is the version of the format this code writes and the only
// one it reads. Any change to what a line holds or means (a new field, a
// new kind, a kind carried or no longer carried) makes a new version: a
// reader refuses a version it does not know rather than guess at it.
const ExportVersion = 1

// MaxExportLineBytes bounds one line of an export, header included. The
// largest entry is a record of MaxValues values of MaxValueBytes each,
// about 200 KiB even if every byte were escaped as \u00XX; 1 MiB leaves
// room for admins and names and bounds what a hostile file makes a
// reader buffer.
const MaxExportLineBytes = 1 << 20

// ExportHeader is an export's first line.
type ExportHeader struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	// ChainID and Height say which network's state this is, at which
	// height (store version); AppHash is that version's root hash, the
	// app hash that the header of block Height+1 signs.
	ChainID string `json:"chain_id"`
	Height  int64  `json:"height"`
	AppHash string `json:"app_hash"`
	// Entries is how many lines follow the header; ContentSHA256 is the
	// SHA-256 of those lines, each with its newline. The same entries
	// make the same lines, so two exports hold the same entries exactly
	// when their content hashes are equal: what is "the same" across
	// networks, whose app hashes differ (docs/export.md).
	Entries       uint64 `json:"entries"`
	ContentSHA256 string `json:"content_sha256"`
}

// exportLine is an entry's line: its kind (which its key decides), its
// key as text, and its value: the stored JSON as it is, or for a kind
// whose values are text, a JSON string of it.
type exportLine struct {
	Kind  string          `json:"kind"`
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
}

// entryKind is one kind of state entry: the keys it covers, whether a new
// network carries it, and what an import checks of it. A new kind of
// state entry needs one line in exportKinds: an export meets a key no kind
// covers with an error, never by leaving it out.
type entryKind struct {
	name   string
	prefix string // the keys it covers; the whole key when exact
	exact  bool
	text   bool // the stored value is text, not JSON
	// carried says whether a new network takes the entry; nil: always.
	// Its reason is in docs/export.md.
	carried func(value []byte) bool
	// check is what an import checks of an entry beyond its line's
	// form: the value decodes strictly into its type, and agrees with
	// its key. rest is the key after the prefix.
	check func(rest string, value []byte) error
}

func never([]byte) bool { return false }

// exportKinds is every kind of state entry, in the order of keys.go.
var exportKinds = []entryKind{
	{name: "account", prefix: prefixAccount, text: true, carried: never},
	{name: "authority", prefix: keyAuthority, exact: true, check: checkAuthorityEntry},
	{name: "params", prefix: keyParams, exact: true, check: checkParamsEntry},
	{name: "application", prefix: prefixApplication, carried: decidedApplication, check: checkApplicationEntry},
	{name: "application_seq", prefix: keyAppSeq, exact: true, text: true, check: checkCounter},
	{name: "open_application", prefix: prefixOpen, text: true, carried: never},
	{name: "locode", prefix: prefixLocode, check: checkLocodeEntry},
	{name: "record", prefix: prefixRecord, check: checkRecordEntry},
	{name: "city", prefix: prefixCity, text: true, check: checkCityEntry},
	{name: "unit_seq", prefix: prefixUnitSeq, text: true, check: checkSeqEntry},
	{name: "city_seq", prefix: prefixCitySeq, text: true, check: checkCitySeqEntry},
	{name: "local_seq", prefix: prefixLocalSeq, text: true, check: checkSeqEntry},
	{name: "history", prefix: prefixHistory, check: checkHistoryEntry},
	{name: "child", prefix: prefixChild, text: true, check: checkChildEntry},
	{name: "grant", prefix: prefixGrant, check: checkGrantEntry},
	{name: "grantee", prefix: prefixGrantee, text: true, check: checkGranteeEntry},
	{name: "anchor", prefix: prefixAnchor, check: checkAnchorEntry},
	{name: "anchor_head", prefix: prefixAnchorHead, check: checkAnchorHeadEntry},
	{name: "proposal", prefix: prefixProposal, carried: never},
	{name: "validators", prefix: keyValidators, exact: true, carried: never},
	{name: "upgrade_plan", prefix: keyUpgradePlan, exact: true, carried: never},
	{name: "upgrade_done", prefix: prefixUpgradeDone, check: checkUpgradeDoneEntry},
	{name: "upgrade_version", prefix: keyUpgradeVersion, exact: true, text: true, check: checkCounter},
}

// kindOf is the kind of a state key, with the key after its prefix.
func kindOf(key string) (*entryKind, string, bool) {
	for i := range exportKinds {
		k := &exportKinds[i]
		if k.exact {
			if key == k.prefix {
				return k, "", true
			}
		} else if rest, ok := strings.CutPrefix(key, k.prefix); ok {
			return k, rest, true
		}
	}
	return nil, "", false
}

// kindByName is the kind of a line's name.
func kindByName(name string) *entryKind {
	for i := range exportKinds {
		if exportKinds[i].name == name {
			return &exportKinds[i]
		}
	}
	return nil
}

func (k *entryKind) carries(value []byte) bool { return k.carried == nil || k.carried(value) }

// appendExportLine appends an entry's line, newline included: the one
// form an entry has in an export, which an import compares each line
// with.
func appendExportLine(dst []byte, k *entryKind, key, value []byte) ([]byte, error) {
	dst = append(dst, `{"kind":"`...)
	dst = append(dst, k.name...)
	dst = append(dst, `","key":`...)
	dst, err := appendJSONString(dst, key)
	if err != nil {
		return nil, fmt.Errorf("key %q: %w", key, err)
	}
	dst = append(dst, `,"value":`...)
	if k.text {
		if dst, err = appendJSONString(dst, value); err != nil {
			return nil, fmt.Errorf("value of %q: %w", key, err)
		}
	} else {
		dst = append(dst, value...)
	}
	return append(dst, "}\n"...), nil
}

// appendJSONString appends s as encoding/json writes a string. Text that
// is not UTF-8 would not survive the round trip, so it is an error.
func appendJSONString(dst, s []byte) ([]byte, error) {
	// Keys and counters are printable ASCII that encoding/json writes as
	// they are: quoted without a reflective encode.
	plain := true
	for _, c := range s {
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			plain = false
			break
		}
	}
	if plain {
		dst = append(dst, '"')
		dst = append(dst, s...)
		return append(dst, '"'), nil
	}
	if !utf8.Valid(s) {
		return nil, errors.New("not UTF-8 text")
	}
	b, err := json.Marshal(string(s))
	if err != nil {
		return nil, err
	}
	return append(dst, b...), nil
}

// Export writes the state r holds as an export whose header says chainID,
// height and appHash, and returns the header. It walks r twice, first to
// count and hash the entries for the header and then to write them, so it
// needs r immutable (a committed version) and keeps one entry in memory
// at a time. A key of no known kind is an error.
func Export(w io.Writer, r Ranger, chainID string, height int64, appHash []byte) (ExportHeader, error) {
	h := ExportHeader{
		Format: ExportFormat, Version: ExportVersion, ChainID: chainID, Height: height,
		AppHash: strings.ToUpper(hex.EncodeToString(appHash)),
	}
	sum := sha256.New()
	n, err := walkExport(r, func(line []byte) error { _, err := sum.Write(line); return err })
	if err != nil {
		return h, fmt.Errorf("export: %w", err)
	}
	h.Entries, h.ContentSHA256 = n, hex.EncodeToString(sum.Sum(nil))
	head, err := json.Marshal(h)
	if err != nil {
		return h, fmt.Errorf("export: header: %w", err)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.Write(append(head, '\n')); err != nil {
		return h, fmt.Errorf("export: write: %w", err)
	}
	sum.Reset()
	n2, err := walkExport(r, func(line []byte) error {
		sum.Write(line)
		_, err := bw.Write(line)
		return err
	})
	if err != nil {
		return h, fmt.Errorf("export: write: %w", err)
	}
	if n2 != n || hex.EncodeToString(sum.Sum(nil)) != h.ContentSHA256 {
		return h, fmt.Errorf("export: the state changed between its two walks (%d entries, then %d): export a committed version", n, n2)
	}
	if err := bw.Flush(); err != nil {
		return h, fmt.Errorf("export: write: %w", err)
	}
	return h, nil
}

// walkExport calls fn with the line of every entry a new network carries,
// in key order, and returns how many.
func walkExport(r Ranger, fn func(line []byte) error) (uint64, error) {
	var (
		n    uint64
		line []byte
		ferr error
	)
	err := r.Iterate(nil, nil, func(key, value []byte) bool {
		k, _, ok := kindOf(string(key))
		if !ok {
			ferr = fmt.Errorf("state key %q is of no kind an export knows: add its kind to exportKinds (internal/registry/export.go)", key)
			return false
		}
		if !k.carries(value) {
			return true
		}
		if line, ferr = appendExportLine(line[:0], k, key, value); ferr != nil {
			return false
		}
		if ferr = fn(line); ferr != nil {
			return false
		}
		n++
		return true
	})
	if err != nil {
		return n, err
	}
	return n, ferr
}

// ExportError is an export refused: what is wrong, and on which line
// (1 is the header; 0 for the file as a whole).
type ExportError struct {
	Line int
	Msg  string
}

func (e *ExportError) Error() string {
	if e.Line == 0 {
		return "export: " + e.Msg
	}
	return fmt.Sprintf("export line %d: %s", e.Line, e.Msg)
}

// ExportSummary is what checking an export learns: its header, the
// authority and params it carries (the new genesis shows them), and the
// SHA-256 of the whole file, which the genesis names.
type ExportSummary struct {
	Header    ExportHeader
	Authority Authority
	Params    Params
	SHA256    string
}

// ReadExport reads an export from r, checks every line, and calls put
// with each entry's key and value in order (put may be nil: check only).
// An export is refused, with the line and what is wrong, when a line is
// not in the one form Export writes, names a kind that is not its key's or
// that a new network does not carry, holds a value that does not decode
// strictly or disagrees with its key, comes out of key order or repeats a
// key, when the authority or params are missing, or when the count or
// content hash disagree with the header. put is called before the end is
// checked: a caller that writes must discard what it wrote when ReadExport
// fails. put owns the key and value it is given.
func ReadExport(r io.Reader, put func(key, value []byte) error) (ExportSummary, error) {
	var s ExportSummary
	file := sha256.New()
	br := bufio.NewReaderSize(io.TeeReader(r, file), MaxExportLineBytes+1)
	head, err := readExportLine(br, 1)
	if err != nil {
		return s, err
	}
	if err := decodeStrict(bytes.TrimSuffix(head, []byte("\n")), &s.Header); err != nil {
		return s, &ExportError{1, fmt.Sprintf("header: %v", err)}
	}
	if err := s.Header.check(); err != nil {
		return s, &ExportError{1, err.Error()}
	}
	if canon, err := json.Marshal(s.Header); err != nil || !bytes.Equal(append(canon, '\n'), head) {
		return s, &ExportError{1, "the header is not in the form an export writes (spacing, field order or escapes differ)"}
	}
	var (
		content         = sha256.New()
		prev            []byte
		n               uint64
		canon           []byte
		compact         bytes.Buffer
		haveAuth, haveP bool
	)
	for lineNo := 2; ; lineNo++ {
		raw, err := readExportLine(br, lineNo)
		if err == io.EOF {
			break
		}
		if err != nil {
			return s, err
		}
		fail := func(format string, a ...any) error {
			return &ExportError{lineNo, fmt.Sprintf(format, a...)}
		}
		l, ok := splitExportLine(raw)
		if !ok {
			if err := decodeStrict(raw[:len(raw)-1], &l); err != nil {
				return s, fail("%v", err)
			}
			return s, fail("not in the form an export writes: {\"kind\":…,\"key\":…,\"value\":…} with no space")
		}
		k, rest, ok := kindOf(l.Key)
		switch {
		case kindByName(l.Kind) == nil:
			return s, fail("unknown kind %q", l.Kind)
		case !ok:
			return s, fail("key %q is of no kind an export knows", l.Key)
		case k.name != l.Kind:
			return s, fail("key %q is a %s entry, not %s", l.Key, k.name, l.Kind)
		}
		value := []byte(l.Value)
		if !k.text && !isCompactJSON(&compact, value) {
			return s, fail("%s value is not compact JSON", k.name)
		}
		if k.text {
			var text string
			if err := json.Unmarshal(l.Value, &text); err != nil {
				return s, fail("%s value is not a JSON string", k.name)
			}
			value = []byte(text)
		}
		if !k.carries(value) {
			return s, fail("a new network does not carry %s entries like %q (docs/export.md)", k.name, l.Key)
		}
		if canon, err = appendExportLine(canon[:0], k, []byte(l.Key), value); err != nil {
			return s, fail("%v", err)
		}
		if !bytes.Equal(canon, raw) {
			return s, fail("not in the form an export writes (spacing, field order, escapes or a value's own form differ): want %.200s", canon)
		}
		if prev != nil {
			switch c := bytes.Compare([]byte(l.Key), prev); {
			case c == 0:
				return s, fail("key %q repeats the line before", l.Key)
			case c < 0:
				return s, fail("key %q is out of order: it must come after %q", l.Key, prev)
			}
		}
		prev = append(prev[:0], l.Key...)
		if k.check != nil {
			if err := k.check(rest, value); err != nil {
				return s, fail("%s %q: %v", k.name, l.Key, err)
			}
		}
		switch k.name {
		case "authority":
			haveAuth = DecodeState(value, &s.Authority) == nil
		case "params":
			haveP = DecodeState(value, &s.Params) == nil
		}
		content.Write(raw)
		n++
		if put != nil {
			// A JSON value lies in the reader's buffer, which the next
			// lines overwrite; a store keeps the slices it is given.
			if err := put([]byte(l.Key), bytes.Clone(value)); err != nil {
				return s, fmt.Errorf("import line %d: %w", lineNo, err)
			}
		}
	}
	switch {
	case n != s.Header.Entries:
		return s, &ExportError{0, fmt.Sprintf("the header says %d entries, the file holds %d", s.Header.Entries, n)}
	case hex.EncodeToString(content.Sum(nil)) != s.Header.ContentSHA256:
		return s, &ExportError{0, fmt.Sprintf("the entries' SHA-256 is %x, the header says %s: the file was changed after it was written", content.Sum(nil), s.Header.ContentSHA256)}
	case !haveAuth:
		return s, &ExportError{0, "no authority entry"}
	case !haveP:
		return s, &ExportError{0, "no params entry"}
	}
	s.SHA256 = hex.EncodeToString(file.Sum(nil))
	return s, nil
}

// readExportLine reads one line, its newline included; io.EOF at the end
// of the file.
func readExportLine(br *bufio.Reader, lineNo int) ([]byte, error) {
	raw, err := br.ReadSlice('\n')
	switch {
	case err == io.EOF && len(raw) == 0:
		if lineNo == 1 {
			return nil, &ExportError{1, "the file is empty"}
		}
		return nil, io.EOF
	case err == io.EOF:
		return nil, &ExportError{lineNo, "the last line has no newline: the file was cut short"}
	case errors.Is(err, bufio.ErrBufferFull):
		return nil, &ExportError{lineNo, fmt.Sprintf("longer than %d bytes", MaxExportLineBytes)}
	case err != nil:
		return nil, fmt.Errorf("read export line %d: %w", lineNo, err)
	}
	return raw, nil
}

func (h ExportHeader) check() error {
	switch {
	case h.Format != ExportFormat:
		return fmt.Errorf("format %q is not %q", h.Format, ExportFormat)
	case h.Version != ExportVersion:
		return fmt.Errorf("format version %d: this cityid reads version %d only; use the cityid that wrote it, or one that reads it", h.Version, ExportVersion)
	case h.ChainID == "":
		return errors.New("no chain_id")
	case h.Height < 1:
		return fmt.Errorf("height %d is not a block height", h.Height)
	case !isHexText(h.AppHash, 64, true):
		return fmt.Errorf("app_hash %q is not 64 upper-case hex digits", h.AppHash)
	case !isHexText(h.ContentSHA256, 64, false):
		return fmt.Errorf("content_sha256 %q is not 64 lower-case hex digits", h.ContentSHA256)
	}
	return nil
}

// isCompactJSON is whether v is JSON without insignificant space, as
// encoding/json writes it; b is a buffer to reuse.
func isCompactJSON(b *bytes.Buffer, v []byte) bool {
	b.Reset()
	return json.Compact(b, v) == nil && bytes.Equal(b.Bytes(), v)
}

// splitExportLine takes a line apart where it is in the one form Export
// writes: {"kind":"<kind>","key":<JSON string>,"value":<value>} and a
// newline. Reading each line with encoding/json was most of an import's
// time; the line is compared with the form its parts make afterwards in
// any case, so a line this accepts in another form is still refused.
func splitExportLine(raw []byte) (exportLine, bool) {
	var l exportLine
	rest, ok := bytes.CutPrefix(raw, []byte(`{"kind":"`))
	if !ok {
		return l, false
	}
	i := bytes.IndexByte(rest, '"')
	if i < 0 {
		return l, false
	}
	l.Kind, rest = string(rest[:i]), rest[i+1:]
	if rest, ok = bytes.CutPrefix(rest, []byte(`,"key":`)); !ok || len(rest) == 0 || rest[0] != '"' {
		return l, false
	}
	// The key's closing quote: the first one no backslash escapes.
	end, escaped := -1, false
	for j := 1; j < len(rest); j++ {
		if rest[j] == '\\' {
			escaped = true
			j++
		} else if rest[j] == '"' {
			end = j
			break
		}
	}
	if end < 0 {
		return l, false
	}
	if escaped {
		if json.Unmarshal(rest[:end+1], &l.Key) != nil {
			return l, false
		}
	} else {
		// Without escapes the key is the text between the quotes;
		// anything encoding/json would have escaped differently fails
		// the comparison with the canonical line.
		l.Key = string(rest[1:end])
	}
	rest = rest[end+1:]
	if rest, ok = bytes.CutPrefix(rest, []byte(`,"value":`)); !ok {
		return l, false
	}
	if l.Value, ok = bytes.CutSuffix(rest, []byte("}\n")); !ok {
		return l, false
	}
	return l, true
}

func isHexText(s string, n int, upper bool) bool {
	if len(s) != n {
		return false
	}
	digits := "0123456789abcdef"
	if upper {
		digits = "0123456789ABCDEF"
	}
	return strings.Trim(s, digits) == ""
}

// decodeEntry decodes an entry's value strictly: no unknown, repeated or
// differently cased member names, valid UTF-8. It is encoding/json/v2's
// engine (DecodeState's) with unknown members refused, three times
// encoding/json's speed on a record: decoding each value was most of an
// import's time.
func decodeEntry(b []byte, v any) error {
	return jsonv2.Unmarshal(b, v, jsonv2.RejectUnknownMembers(true))
}

// The checks of each kind's entries. A value must decode strictly into
// its type (no unknown or repeated fields) and name what its key names.

func checkAuthorityEntry(_ string, v []byte) error {
	var a Authority
	if err := decodeEntry(v, &a); err != nil {
		return err
	}
	if err := a.validate(); err != nil {
		return err
	}
	return nil
}

func checkParamsEntry(_ string, v []byte) error {
	var p Params
	if err := decodeEntry(v, &p); err != nil {
		return err
	}
	if err := p.validate(); err != nil {
		return err
	}
	return nil
}

// decidedApplication is whether an application is decided: an open one
// (pending, or pending past its last height) is not carried, since its
// expiry and its votes' terms are heights of the network it came from.
func decidedApplication(v []byte) bool {
	var a struct {
		Status string `json:"status"`
	}
	return DecodeState(v, &a) == nil && a.Status != AppPending
}

func checkApplicationEntry(rest string, v []byte) error {
	var a Application
	if err := decodeEntry(v, &a); err != nil {
		return err
	}
	if rest != fmt.Sprintf("%020d", a.ID) {
		return fmt.Errorf("holds application %d", a.ID)
	}
	return nil
}

// checkCounter checks a counter: a decimal number without leading zeros.
func checkCounter(_ string, v []byte) error {
	n, err := strconv.ParseUint(string(v), 10, 64)
	if err != nil || strconv.FormatUint(n, 10) != string(v) {
		return fmt.Errorf("value %q is not a counter", v)
	}
	return nil
}

// checkID checks that s is a canonical identifier of one of the kinds.
func checkID(what, s string, kinds ...code.Kind) error {
	id, err := code.Parse(s)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if id.String() != s {
		return fmt.Errorf("%s %q is not canonical (%s)", what, s, id)
	}
	if len(kinds) > 0 {
		for _, k := range kinds {
			if id.Kind() == k {
				return nil
			}
		}
		return fmt.Errorf("%s %q is a %s", what, s, id.Kind())
	}
	return nil
}

func checkSeqEntry(rest string, v []byte) error {
	if err := checkID("node", rest); err != nil {
		return err
	}
	return checkCounter(rest, v)
}

func checkCitySeqEntry(rest string, v []byte) error {
	if len(rest) != 3 || strings.Trim(rest, "0123456789") != "" {
		return fmt.Errorf("country %q is not three digits", rest)
	}
	return checkCounter(rest, v)
}

func checkLocodeEntry(rest string, v []byte) error {
	var c locodeClaim
	if err := decodeEntry(v, &c); err != nil {
		return err
	}
	if rest == "" {
		return errors.New("no UN/LOCODE")
	}
	return checkID("city", c.City, code.KindCity)
}

func checkRecordAt(id string, v []byte) (Record, error) {
	var r Record
	if err := decodeEntry(v, &r); err != nil {
		return r, err
	}
	if err := checkID("identifier", id); err != nil {
		return r, err
	}
	if r.ID != id {
		return r, fmt.Errorf("holds the record of %q", r.ID)
	}
	return r, nil
}

func checkRecordEntry(rest string, v []byte) error {
	_, err := checkRecordAt(rest, v)
	return err
}

func checkHistoryEntry(rest string, v []byte) error {
	id, version, ok := strings.Cut(rest, sep)
	if !ok {
		return errors.New("no version")
	}
	r, err := checkRecordAt(id, v)
	if err != nil {
		return err
	}
	if version != fmt.Sprintf("%020d", r.Version) {
		return fmt.Errorf("holds version %d", r.Version)
	}
	return nil
}

func checkCityEntry(rest string, v []byte) error {
	if err := checkID("city", rest, code.KindCity); err != nil {
		return err
	}
	if len(v) == 0 {
		return errors.New("no name")
	}
	return nil
}

func checkChildEntry(rest string, v []byte) error {
	node, child, ok := strings.Cut(rest, sep)
	if !ok {
		return errors.New("no child")
	}
	if err := checkID("node", node); err != nil {
		return err
	}
	if err := checkID("child", child); err != nil {
		return err
	}
	if id, _ := code.Parse(child); string(id.Kind()) != string(v) {
		return fmt.Errorf("value %q is not the child's kind %s", v, id.Kind())
	}
	return nil
}

func checkGrantEntry(rest string, v []byte) error {
	var g Grant
	if err := decodeEntry(v, &g); err != nil {
		return err
	}
	if rest != g.Dataset+sep+g.Grantee {
		return fmt.Errorf("holds the grant of %q to %q", g.Dataset, g.Grantee)
	}
	if err := checkID("dataset", g.Dataset); err != nil {
		return err
	}
	return checkID("grantee", g.Grantee)
}

func checkGranteeEntry(rest string, v []byte) error {
	grantee, dataset, ok := strings.Cut(rest, sep)
	if !ok {
		return errors.New("no dataset")
	}
	if err := checkID("grantee", grantee); err != nil {
		return err
	}
	if err := checkID("dataset", dataset); err != nil {
		return err
	}
	if len(v) == 0 {
		return errors.New("no scope")
	}
	return nil
}

func checkAnchorAt(dataset string, v []byte) (Anchor, error) {
	var a Anchor
	if err := decodeEntry(v, &a); err != nil {
		return a, err
	}
	if err := checkID("dataset", dataset); err != nil {
		return a, err
	}
	if a.Dataset != dataset {
		return a, fmt.Errorf("holds an anchor of %q", a.Dataset)
	}
	return a, nil
}

func checkAnchorEntry(rest string, v []byte) error {
	dataset, entries, ok := strings.Cut(rest, sep)
	if !ok {
		return errors.New("no count of entries")
	}
	a, err := checkAnchorAt(dataset, v)
	if err != nil {
		return err
	}
	if entries != fmt.Sprintf("%020d", a.Entries) {
		return fmt.Errorf("holds the anchor at %d entries", a.Entries)
	}
	return nil
}

// upgradeDoneEntry is the form of an upgrade's record: UpgradeDone's
// fields (upgrade.go).
type upgradeDoneEntry struct {
	Name       string `json:"name"`
	Height     int64  `json:"height"`
	Info       string `json:"info,omitempty"`
	AppVersion uint64 `json:"app_version"`
}

func checkUpgradeDoneEntry(rest string, v []byte) error {
	var d upgradeDoneEntry
	if err := decodeEntry(v, &d); err != nil {
		return err
	}
	if d.Name == "" || d.Name != rest {
		return fmt.Errorf("holds the record of upgrade %q", d.Name)
	}
	return nil
}

func checkAnchorHeadEntry(rest string, v []byte) error {
	_, err := checkAnchorAt(rest, v)
	return err
}
