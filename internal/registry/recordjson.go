package registry

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/cityid/cityid/code"
)

// appendRecordHead appends what json.Marshal writes for a new record's
// head (recordHead: ID id, Kind kind, Status active, Version 1, Name
// name, Values values, Admins admins, no reason, no city), written
// directly: every register transaction encodes one, in CheckTx and in its
// block's preparation, and encoding/json's reflection was a sixth of a
// register's decode. It handles the common content only: the strings
// appendPlainString writes, and values without a dataset. For anything else it reports false and the caller
// asks encoding/json, so the bytes are encoding/json's either way
// (TestAppendRecordHead, FuzzAppendRecordHead).
func appendRecordHead(b []byte, id string, kind code.Kind, name string, admins []string, values []Value) ([]byte, bool) {
	var ok bool
	b = append(b, `{"id":`...)
	if b, ok = appendPlainString(b, id); !ok {
		return nil, false
	}
	b = append(b, `,"kind":`...)
	if b, ok = appendPlainString(b, string(kind)); !ok {
		return nil, false
	}
	b = append(b, `,"status":"`+StatusActive+`","version":1`...)
	if name != "" {
		b = append(b, `,"name":`...)
		if b, ok = appendPlainString(b, name); !ok {
			return nil, false
		}
	}
	b = append(b, `,"values":`...)
	if values == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, v := range values {
			if v.Dataset != nil {
				return nil, false
			}
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"index":`...)
			b = strconv.AppendUint(b, uint64(v.Index), 10)
			b = append(b, `,"type":`...)
			if b, ok = appendPlainString(b, v.Type); !ok {
				return nil, false
			}
			if v.Data != "" {
				b = append(b, `,"data":`...)
				if b, ok = appendPlainString(b, v.Data); !ok {
					return nil, false
				}
			}
			b = append(b, `,"ttl":`...)
			b = strconv.AppendUint(b, uint64(v.TTL), 10)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"admins":`...)
	if admins == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, a := range admins {
			if i > 0 {
				b = append(b, ',')
			}
			if b, ok = appendPlainString(b, a); !ok {
				return nil, false
			}
		}
		b = append(b, ']')
	}
	return append(b, '}'), true
}

// appendPlainString appends s quoted as encoding/json writes it, for the
// strings records hold: printable ASCII, with '"' and '\\' escaped and
// '<', '>', '&' written as encoding/json's HTML-safe \u escapes, and
// valid UTF-8 beyond ASCII as it is (a city's names are mostly not
// ASCII: 多福巷社区居委会). It reports false for what it leaves to
// encoding/json: control characters, invalid UTF-8, and U+2028 and
// U+2029, which encoding/json escapes.
func appendPlainString(b []byte, s string) ([]byte, bool) {
	b = append(b, '"')
	from := 0 // s[from:i] is still to be appended as it is
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 || r == '\u2028' || r == '\u2029' {
				return b, false
			}
			i += n
			continue
		}
		var esc string
		switch {
		case c < 0x20 || c == 0x7f:
			return b, false
		case c == '"':
			esc = `\"`
		case c == '\\':
			esc = `\\`
		case c == '<':
			esc = `\u003c`
		case c == '>':
			esc = `\u003e`
		case c == '&':
			esc = `\u0026`
		default:
			i++
			continue
		}
		b = append(append(b, s[from:i]...), esc...)
		i++
		from = i
	}
	b = append(b, s[from:]...)
	return append(b, '"'), true
}

// encodeStamp is json.Marshal(st), nil when that fails, written directly
// when the transaction hash is plain text (it is CometBFT's hex): every
// registration encodes one in CheckTx and again in its block
// (TestEncodeStamp holds the bytes to encoding/json's).
func encodeStamp(st Stamp) []byte {
	return appendStamp(make([]byte, 0, stampSize(st)), st)
}

// stampSize is about the size of st's encoding.
func stampSize(st Stamp) int { return 64 + len(time.RFC3339Nano) + len(st.Tx) }

// appendStamp is encodeStamp appending to b; nil when encodeStamp is.
func appendStamp(b []byte, st Stamp) []byte {
	b = append(b, `{"height":`...)
	b = strconv.AppendInt(b, st.Height, 10)
	b = append(b, `,"time":"`...)
	// time.Time's MarshalJSON is its MarshalText quoted, and refuses
	// the same times.
	b, err := st.Time.AppendText(b)
	if err != nil {
		return nil
	}
	b = append(b, `","tx":`...)
	b, ok := appendPlainString(b, st.Tx)
	if !ok {
		if b, err = json.Marshal(st); err != nil {
			return nil
		}
		return b
	}
	return append(b, '}')
}
