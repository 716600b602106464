package client

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/cityid/cityid/code"
)

// utf8BOM starts the CSV files spreadsheets save as "CSV UTF-8": it is no
// part of the header's first cell.
const utf8BOM = "\ufeff"

// A batch file lists identifiers to register, with their values, for
// register_batch transactions (cityid tx register-batch --file). It is
// either
//   - CSV (a name ending .csv): a header "id,TYPE,TYPE,..." naming a value
//     type per column (URL, TEXT, EMAIL, GEO, ALIAS or ns:name), then one
//     identifier a row; an empty cell adds no value;
//   - JSON: an array of {"id": ..., "values": [{"type": ..., "data": ...}],
//     "admins": [...]}.

// BatchFileError is a batch file that cannot be read as one: what to fix,
// and where, for the person who wrote the file. Its message starts with
// the file's name.
type BatchFileError struct{ Err error }

func (e *BatchFileError) Error() string { return e.Err.Error() }
func (e *BatchFileError) Unwrap() error { return e.Err }

// ReadBatchFile reads the batch file at path as CheckBatchFile does.
func ReadBatchFile(path string) ([]BatchEntry, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &BatchFileError{err}
	}
	return CheckBatchFile(path, b)
}

// ParseBatchFile reads the bytes of a batch file named name: CSV when the
// name ends in .csv, else JSON. It checks only what a file can get wrong
// as a file, each with the line or entry to fix (an identifier in every
// row, a type for every value, text that is UTF-8, nothing after the JSON
// array): what the portal's batch.js checks too, which reads a file's
// bytes the same way (decodeBatchFile, then parseBatchFile;
// internal/web's TestBatchFileJSAgreesWithGo).
func ParseBatchFile(name string, b []byte) ([]BatchEntry, error) {
	entries, _, _, err := parseBatchFile(name, b)
	return entries, err
}

// CheckBatchFile is ParseBatchFile, and then every identifier is checked
// before anything is sent (checkBatchIDs): each names an object and
// parses, and none is there twice, or the error names its line. The
// registry judges the values, and the identifiers against the state.
func CheckBatchFile(name string, b []byte) ([]BatchEntry, error) {
	entries, lines, text, err := parseBatchFile(name, b)
	if err != nil {
		return nil, err
	}
	if err := checkBatchIDs(name, text, entries, lines); err != nil {
		return nil, &BatchFileError{err}
	}
	return entries, nil
}

// parseBatchFile is ParseBatchFile, also returning each entry's line for
// a CSV file (nil for JSON) and the text it read (without a BOM).
func parseBatchFile(name string, b []byte) ([]BatchEntry, []int, []byte, error) {
	b = bytes.TrimPrefix(b, []byte(utf8BOM))
	if !utf8.Valid(b) {
		// Decoding would put U+FFFD in its place without a word, and
		// register text the file does not hold.
		line := 1 + bytes.Count(b[:firstInvalidUTF8(b)], []byte("\n"))
		return nil, nil, nil, &BatchFileError{fmt.Errorf("%s line %d is not UTF-8 text: save the file as UTF-8", name, line)}
	}
	var entries []BatchEntry
	var lines []int
	var err error
	if strings.EqualFold(filepath.Ext(name), ".csv") {
		entries, lines, err = parseBatchCSV(name, b)
	} else {
		entries, err = parseBatchJSON(name, b)
	}
	if err != nil {
		return nil, nil, nil, &BatchFileError{err}
	}
	if len(entries) == 0 {
		return nil, nil, nil, &BatchFileError{fmt.Errorf("%s holds no identifiers", name)}
	}
	return entries, lines, b, nil
}

// checkBatchIDs checks every identifier of a batch file before anything
// is sent: each one an object (<node>/<local-id>) that parses, and none
// twice. A file of many transactions would otherwise be refused at its
// first bad identifier after the transactions before it were committed,
// or, for one without a '/', when its transaction is encoded, by its
// place in that transaction rather than its line in the file. lines[i] is
// the file line of a CSV file's entry i; JSON entries' lines are found
// when one is wrong (jsonEntryLine).
func checkBatchIDs(name string, b []byte, entries []BatchEntry, lines []int) error {
	where := func(i int) string {
		if lines != nil {
			return fmt.Sprintf("%s line %d", name, lines[i])
		}
		return fmt.Sprintf("%s line %d, entry %d", name, jsonEntryLine(b, i), i+1)
	}
	// first maps an identifier's canonical form to its entry; it is
	// only looked up.
	first := make(map[string]int, len(entries))
	bad := &BatchIDsError{}
	note := func(row func() error) {
		if bad.Count < BatchBadRows {
			bad.Rows = append(bad.Rows, row())
		}
		bad.Count++
	}
	for i, e := range entries {
		id, err := code.Parse(e.ID)
		if err != nil {
			note(func() error { return fmt.Errorf("%s: identifier %s: %w", where(i), quoteID(e.ID), err) })
			continue
		}
		if id.IsNode() {
			note(func() error {
				return fmt.Errorf("%s: %s is a %s, not an object: a batch registers objects, <node>/<local-id>", where(i), e.ID, id.Kind())
			})
			continue
		}
		text := id.String()
		if j, dup := first[text]; dup {
			note(func() error {
				return fmt.Errorf("%s: %s is registered by %s too: give each identifier once", where(i), e.ID, where(j))
			})
			continue
		}
		first[text] = i
	}
	if bad.Count > 0 {
		return bad
	}
	return nil
}

// BatchBadRows is how many bad rows of a batch file a refusal lists (the
// portal's batch.js lists as many, BAD_ROWS); it counts them all.
const BatchBadRows = 20

// BatchIDsError is a batch file's bad identifiers: Rows says what is wrong
// with each of the first BatchBadRows, naming its line (a parse error
// wraps code's *Error); Count is how many rows are bad. Its message, and
// what it unwraps to, are the first row's, as the portal's message is.
type BatchIDsError struct {
	Rows  []error
	Count int
}

func (e *BatchIDsError) Error() string { return e.Rows[0].Error() }
func (e *BatchIDsError) Unwrap() error { return e.Rows[0] }

// jsonEntryLine is the line on which the i-th element (from 0) of the
// JSON array in b starts; 0 when it cannot be found.
func jsonEntryLine(b []byte, i int) int {
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil {
		return 0
	}
	for k := 0; dec.More(); k++ {
		if k == i {
			// The offset is the end of what came before: the element
			// starts after the blanks and the comma.
			off := int(dec.InputOffset())
			for off < len(b) && strings.IndexByte(" \t\r\n,", b[off]) >= 0 {
				off++
			}
			return 1 + bytes.Count(b[:off], []byte("\n"))
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return 0
		}
	}
	return 0
}

func parseBatchJSON(name string, b []byte) ([]BatchEntry, error) {
	var entries []BatchEntry
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&entries); err != nil {
		return nil, fmt.Errorf("%s: not a JSON array of {id, values, admins}: %v", name, err)
	}
	// Two arrays one after the other would otherwise send the first alone.
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%s: more after the JSON array that ends at byte %d: one array of {id, values, admins}", name, dec.InputOffset())
	}
	for i, e := range entries {
		if strings.TrimSpace(e.ID) == "" {
			return nil, fmt.Errorf("%s: entry %d has no id", name, i+1)
		}
		if e.Values == nil {
			entries[i].Values = []Value{}
		}
		if len(e.Admins) == 0 {
			entries[i].Admins = nil // the signer's, or --admin's
		}
		for j, v := range e.Values {
			if v.Type == "" {
				return nil, fmt.Errorf("%s: entry %d (%s): value %d has no type", name, i+1, e.ID, j+1)
			}
		}
	}
	return entries, nil
}

// parseBatchCSV returns the entries of a CSV batch file and the line of
// each.
func parseBatchCSV(name string, b []byte) ([]BatchEntry, []int, error) {
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: read the header row: %v", name, err)
	}
	if len(header) == 0 || !strings.EqualFold(strings.TrimSpace(header[0]), "id") {
		return nil, nil, fmt.Errorf(`%s: the header row must start with "id", then one value type per column (e.g. id,URL,TEXT)`, name)
	}
	types := make([]string, len(header))
	for i, h := range header[1:] {
		t := strings.TrimSpace(h)
		if !strings.Contains(t, ":") {
			t = strings.ToUpper(t)
		}
		types[i+1] = t
	}
	var entries []BatchEntry
	var lines []int
	for {
		row, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %v", name, err)
		}
		line, _ := r.FieldPos(0)
		if len(row) > len(header) {
			return nil, nil, fmt.Errorf("%s line %d: %d cells, but the header names %d columns", name, line, len(row), len(header))
		}
		e := BatchEntry{ID: strings.TrimSpace(row[0]), Values: []Value{}}
		if e.ID == "" {
			return nil, nil, fmt.Errorf("%s line %d: no id in the first cell", name, line)
		}
		for i := 1; i < len(row); i++ {
			if row[i] == "" {
				continue
			}
			if types[i] == "" {
				// A trailing empty column, as spreadsheets save them, is
				// fine while its cells are empty.
				return nil, nil, fmt.Errorf("%s line %d: cell %d has a value, but the header names no type for column %d", name, line, i+1, i+1)
			}
			e.Values = append(e.Values, Value{Type: types[i], Data: row[i]})
		}
		entries = append(entries, e)
		lines = append(lines, line)
	}
	return entries, lines, nil
}

// firstInvalidUTF8 is the offset of the first byte of b that is not part
// of a UTF-8 character; len(b) when there is none.
func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(b)
}

// idQuoted is how many characters of an identifier a refusal quotes: more
// than any identifier has (85), so only a hostile file's is clipped,
// rather than tens of megabytes written to a terminal. The portal's
// batch.js (ID_QUOTED, quoteID) clips alike, so both say the same.
const idQuoted = 200

// quoteID is id quoted as %q does, its first idQuoted characters only.
func quoteID(id string) string {
	n := 0
	for i := range id {
		if n == idQuoted {
			return fmt.Sprintf("%q and %d more characters", id[:i], utf8.RuneCountInString(id[i:]))
		}
		n++
	}
	return fmt.Sprintf("%q", id)
}
