package code

import (
	"errors"
	"strconv"
	"unicode/utf8"
)

// Stable error codes. Every interface maps them the same way: the CLI prints
// them, the HTTP API returns them in problem+json, the DNS front end maps them
// to an RCODE. They never change once published; add new ones instead.
const (
	ErrBadCheckChar   = "bad_check_char"  // the check character does not match the nine digits before it
	ErrUnknownCountry = "unknown_country" // the country is not an ISO 3166-1 numeric code
	ErrUnknownSector  = "unknown_sector"  // the sector is not an ISIC Rev.4 division
	ErrLeadingZero    = "leading_zero"    // a unit (or an OID arc) starts with 0
	ErrTooLong        = "too_long"        // a part has more characters than the grammar allows
	ErrTooShort       = "too_short"       // a part has fewer characters than the grammar needs
	ErrEmpty          = "empty"           // the input, or a part of it, is empty
	ErrBadChar        = "bad_char"        // a character outside the grammar of its part
	ErrTrailingJunk   = "trailing_junk"   // something follows a complete part where nothing may
	ErrNotANode       = "not_a_node"      // a node code was needed but the identifier has a local id
	ErrOutsideZone    = "outside_zone"    // a DNS name that is not under the configured zone
	ErrBadForm        = "bad_form"        // the wrong scheme, prefix or layout for the form being parsed
	ErrBadArc         = "bad_arc"         // the configured OID arc is not a valid OID
)

// Error is the one error type of this package. Use errors.As to get at it, or
// ErrorCode to get just its code.
type Error struct {
	// Code is one of the Err* constants.
	Code string
	// Pos is the 1-based position, in characters (runes, not bytes), of the
	// problem in the text the function was given; one past the end when
	// something is missing at the end. Functions that take the parts of an
	// identifier separately (CityCode, NewCity, the With* methods, Validate)
	// count within the part that the message names. Pos is 0 when the problem
	// has no single place, such as an empty input or a name outside the zone.
	Pos int
	// Msg says what is wrong, in words; it is valid UTF-8 and quotes odd
	// characters.
	Msg string
}

// Error returns "position 10: check character is 7, want 1", or only the
// message when Pos is 0.
func (e *Error) Error() string {
	if e.Pos == 0 {
		return e.Msg
	}
	return "position " + strconv.Itoa(e.Pos) + ": " + e.Msg
}

// Is reports whether target is an *Error with the same Code, so that
// errors.Is(err, &code.Error{Code: code.ErrBadCheckChar}) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// ErrorCode returns the Code of the *Error in err's chain, or "" when there is
// none.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// fault is a problem found inside one part of an identifier, before the caller
// knows where that part sits in its input. off is a byte offset in the part.
type fault struct {
	code string
	off  int
	msg  string
}

// at turns a fault in the part that starts at byte start of s into an *Error
// with a rune position in s.
func (f *fault) at(s string, start int) *Error {
	return &Error{Code: f.code, Pos: runePos(s, start+f.off), Msg: f.msg}
}

// runePos is the 1-based rune position of byte offset i in s. Offsets past the
// end count as one past the last rune, so a missing part is reported there.
func runePos(s string, i int) int {
	if i > len(s) {
		i = len(s)
	}
	if i < 0 {
		i = 0
	}
	return utf8.RuneCountInString(s[:i]) + 1
}

// shift moves an error's position right by n runes, for a parser that handed
// the tail of its input to another one. Errors without a position keep 0.
func shift(err *Error, n int) *Error {
	if err != nil && err.Pos > 0 {
		err.Pos += n
	}
	return err
}

// quoteChar quotes the character at byte i of s for a message: valid runes as
// Go rune literals ('!', '中', ' '), a byte that is not valid UTF-8 as '\xff'.
// It never splits a UTF-8 sequence.
func quoteChar(s string, i int) string {
	r, size := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && size <= 1 {
		const hex = "0123456789abcdef"
		b := s[i]
		return `'\x` + string(hex[b>>4]) + string(hex[b&0xf]) + `'`
	}
	return strconv.QuoteRune(r)
}
