package registry

import (
	"bytes"
	"encoding/binary"
	"unicode/utf16"
	"unicode/utf8"
)

// RecordFields is what a front end answering at line rate reads of a
// stored record (its identifier, kind, status, version and values),
// scanned from the record's JSON by ScanRecord without decoding the rest.
// The strings are slices of the scanned bytes, or of the scanner's own
// buffer where the JSON escaped something: valid until the next scan
// with the same RecordFields.
type RecordFields struct {
	ID, Kind, Status []byte
	Version          uint64
	Values           []ValueFields

	buf []byte // unescaped strings
}

// ValueFields is one value of RecordFields, its fields as in Value; the
// dataset's fields are set when HasDataset is.
type ValueFields struct {
	Index      uint32
	Type, Data []byte
	TTL        uint32
	HasDataset bool
	URI        []byte
	SHA256     []byte
	Size       int64
	MediaType  []byte
	Public     bool
}

// ScanRecord reads into r the fields of RecordFields from b, a record as
// the registry stores it (putJSON's bytes, which are also the HTTP API's
// record). The DNS front end builds a TXT answer of a million records
// asked at random from these few fields, and decoding a whole record was
// most of the cost of such an answer.
//
// It reads what DecodeState would read into those fields, and reports
// false for anything it is not sure of, for the caller to decode the
// record instead: invalid UTF-8, a control character anywhere (even a
// newline between tokens: putJSON writes none), a name repeated or spelled in another
// case, a null, a number with a sign, fraction, exponent or leading zero
// or out of its field's range, a lone surrogate, nesting deeper than the
// registry writes. It never fails on a record putJSON wrote
// (FuzzScanRecord holds it to DecodeState's reading).
func ScanRecord(b []byte, r *RecordFields) bool {
	r.ID, r.Kind, r.Status, r.Version = nil, nil, nil, 0
	r.Values, r.buf = r.Values[:0], r.buf[:0]
	// No control character anywhere: JSON allows them nowhere but as
	// whitespace, which putJSON's compact output has none of; so the
	// strings below are found by their quotes alone.
	if !utf8.Valid(b) || hasControl(b) {
		return false
	}
	// The buffer holds every unescaped string, so it must not move while
	// slices of it are handed out: room for all of b is enough.
	if cap(r.buf) < len(b) {
		r.buf = make([]byte, 0, len(b))
	}
	s := scanner{b: b, r: r}
	var seen uint8
	ok := s.object(func(name []byte) bool {
		var bit uint8
		switch string(name) {
		case "id":
			bit, r.ID = 1, s.str()
			return seen&bit == 0 && r.ID != nil && s.mark(&seen, bit)
		case "kind":
			bit, r.Kind = 2, s.str()
			return seen&bit == 0 && r.Kind != nil && s.mark(&seen, bit)
		case "status":
			bit, r.Status = 4, s.str()
			return seen&bit == 0 && r.Status != nil && s.mark(&seen, bit)
		case "version":
			v, ok := s.uint(1<<64 - 1)
			r.Version = v
			return ok && seen&8 == 0 && s.mark(&seen, 8)
		case "values":
			return seen&16 == 0 && s.mark(&seen, 16) && s.values()
		}
		return !s.foldsTo(name, "id", "kind", "status", "version", "values") && s.skip(0)
	})
	return ok && s.ws() == len(b)
}

// scanner is ScanRecord's cursor over b.
type scanner struct {
	b []byte
	i int
	r *RecordFields
}

func (s *scanner) mark(seen *uint8, bit uint8) bool { *seen |= bit; return true }

// ws skips JSON's whitespace and returns the offset reached.
func (s *scanner) ws() int {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return s.i
		}
	}
	return s.i
}

// object reads an object, calling member with each name with the cursor
// on its value; member reads the value.
func (s *scanner) object(member func(name []byte) bool) bool {
	return s.items('{', '}', func() bool {
		name := s.str()
		if name == nil {
			return false
		}
		if s.ws(); s.i >= len(s.b) || s.b[s.i] != ':' {
			return false
		}
		s.i++
		s.ws()
		return member(name)
	})
}

// str reads a string, nil when there is none: a slice of b, or of the
// buffer when it holds escapes. An empty string is a non-nil empty slice.
func (s *scanner) str() []byte {
	if s.ws(); s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil
	}
	start := s.i + 1
	end := bytes.IndexByte(s.b[start:], '"')
	if end < 0 {
		return nil
	}
	end += start
	if bytes.IndexByte(s.b[start:end], '\\') >= 0 {
		return s.escaped(start)
	}
	s.i = end + 1
	return s.b[start:end:end]
}

// hasControl reports whether b holds a byte below 0x20, eight bytes at a
// time: a word has one when subtracting 0x20 from each byte borrows
// into a byte whose top bit was clear.
func hasControl(b []byte) bool {
	const ones, highs = 0x2020202020202020, 0x8080808080808080
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		if (x-ones)&^x&highs != 0 {
			return true
		}
	}
	for ; i < len(b); i++ {
		if b[i] < 0x20 {
			return true
		}
	}
	return false
}

// escaped reads the string from start, which holds a backslash, into the
// buffer.
func (s *scanner) escaped(start int) []byte {
	from := len(s.r.buf)
	buf := s.r.buf
	for j := start; j < len(s.b); {
		c := s.b[j]
		switch {
		case c == '"':
			s.i, s.r.buf = j+1, buf
			return buf[from:len(buf):len(buf)]
		case c < 0x20:
			return nil
		case c != '\\':
			buf = append(buf, c)
			j++
			continue
		}
		if j+1 >= len(s.b) {
			return nil
		}
		j += 2
		switch s.b[j-1] {
		case '"', '\\', '/':
			buf = append(buf, s.b[j-1])
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := hex4(s.b, j)
			if !ok {
				return nil
			}
			j += 4
			if utf16.IsSurrogate(r) {
				// Only a pair: a lone surrogate is where the decoders
				// part ways.
				if j+6 > len(s.b) || s.b[j] != '\\' || s.b[j+1] != 'u' {
					return nil
				}
				lo, ok := hex4(s.b, j+2)
				if r = utf16.DecodeRune(r, lo); !ok || r == utf8.RuneError {
					return nil
				}
				j += 6
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return nil
		}
	}
	return nil
}

func hex4(b []byte, j int) (rune, bool) {
	if j+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[j : j+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// uint reads a non-negative integer no larger than max.
func (s *scanner) uint(max uint64) (uint64, bool) {
	s.ws()
	start := s.i
	var v uint64
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		d := uint64(s.b[s.i] - '0')
		if v > (max-d)/10 {
			return 0, false
		}
		v = v*10 + d
		s.i++
	}
	n := s.i - start
	if n == 0 || n > 1 && s.b[start] == '0' {
		return 0, false
	}
	if s.i < len(s.b) {
		switch s.b[s.i] {
		case '.', 'e', 'E':
			return 0, false
		}
	}
	return v, true
}

// values reads the values array into r.Values.
func (s *scanner) values() bool {
	if s.ws(); s.i < len(s.b) && s.b[s.i] == 'n' {
		return s.literal("null") // no values (putJSON writes a nil slice so)
	}
	return s.array(func() bool {
		s.r.Values = append(s.r.Values, ValueFields{})
		return s.value(&s.r.Values[len(s.r.Values)-1])
	})
}

// array reads an array, calling item with the cursor on each item; item
// reads it.
func (s *scanner) array(item func() bool) bool { return s.items('[', ']', item) }

// items reads what open and close enclose, item after item separated by
// commas, calling item for each.
func (s *scanner) items(open, close byte, item func() bool) bool {
	if s.ws(); s.i >= len(s.b) || s.b[s.i] != open {
		return false
	}
	s.i++
	if s.ws(); s.i < len(s.b) && s.b[s.i] == close {
		s.i++
		return true
	}
	for {
		if !item() {
			return false
		}
		if s.ws(); s.i >= len(s.b) {
			return false
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case close:
			s.i++
			return true
		default:
			return false
		}
	}
}

func (s *scanner) value(v *ValueFields) bool {
	var seen uint8
	return s.object(func(name []byte) bool {
		switch string(name) {
		case "index":
			n, ok := s.uint(1<<32 - 1)
			v.Index = uint32(n)
			return ok && seen&1 == 0 && s.mark(&seen, 1)
		case "type":
			v.Type = s.str()
			return v.Type != nil && seen&2 == 0 && s.mark(&seen, 2)
		case "data":
			v.Data = s.str()
			return v.Data != nil && seen&4 == 0 && s.mark(&seen, 4)
		case "ttl":
			n, ok := s.uint(1<<32 - 1)
			v.TTL = uint32(n)
			return ok && seen&8 == 0 && s.mark(&seen, 8)
		case "dataset":
			v.HasDataset = true
			return seen&16 == 0 && s.mark(&seen, 16) && s.dataset(v)
		}
		return !s.foldsTo(name, "index", "type", "data", "ttl", "dataset") && s.skip(0)
	})
}

func (s *scanner) dataset(v *ValueFields) bool {
	var seen uint8
	return s.object(func(name []byte) bool {
		switch string(name) {
		case "uri":
			v.URI = s.str()
			return v.URI != nil && seen&1 == 0 && s.mark(&seen, 1)
		case "sha256":
			v.SHA256 = s.str()
			return v.SHA256 != nil && seen&2 == 0 && s.mark(&seen, 2)
		case "size":
			// Size is an int64; a negative one is never stored.
			n, ok := s.uint(1<<63 - 1)
			v.Size = int64(n)
			return ok && seen&4 == 0 && s.mark(&seen, 4)
		case "media_type":
			v.MediaType = s.str()
			return v.MediaType != nil && seen&8 == 0 && s.mark(&seen, 8)
		case "public":
			// putJSON writes true only (omitempty); false reads the same.
			if s.ws(); s.i < len(s.b) && s.b[s.i] == 'f' {
				v.Public = false
				return s.literal("false") && seen&16 == 0 && s.mark(&seen, 16)
			}
			v.Public = true
			return s.literal("true") && seen&16 == 0 && s.mark(&seen, 16)
		}
		return !s.foldsTo(name, "uri", "sha256", "size", "media_type", "public") && s.skip(0)
	})
}

// foldsTo reports whether name is one of names in another case, which
// encoding/json v1 would read into the field and v2 would not.
func (s *scanner) foldsTo(name []byte, names ...string) bool {
	for _, n := range names {
		if len(name) != len(n) {
			continue
		}
		same := true
		for i := range len(n) {
			c := name[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != n[i] {
				same = false
				break
			}
		}
		if same {
			return true
		}
	}
	return false
}

// maxScanDepth bounds the nesting skip follows: the registry's records
// nest three deep.
const maxScanDepth = 8

// skip passes over one value of any kind.
func (s *scanner) skip(depth int) bool {
	if depth > maxScanDepth {
		return false
	}
	if s.ws(); s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		return s.str() != nil
	case c == '{':
		return s.object(func([]byte) bool { return s.skip(depth + 1) })
	case c == '[':
		return s.array(func() bool { return s.skip(depth + 1) })
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		return s.number()
	}
	return false
}

func (s *scanner) literal(lit string) bool {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return false
	}
	s.i += len(lit)
	return true
}

// number passes over a JSON number (RFC 8259's grammar).
func (s *scanner) number() bool {
	digits := func() int {
		n := 0
		for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if s.b[s.i] == '-' {
		s.i++
	}
	start := s.i
	if n := digits(); n == 0 || n > 1 && s.b[start] == '0' {
		return false
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if digits() == 0 {
			return false
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if digits() == 0 {
			return false
		}
	}
	return true
}
