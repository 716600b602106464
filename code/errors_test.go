package code

import (
	"errors"
	"fmt"
	"testing"
	"unicode/utf8"
)

// allCodes is every error code; a test below checks each is a distinct
// snake_case string, and the fuzz targets check that no other code escapes.
var allCodes = []string{
	ErrBadCheckChar, ErrUnknownCountry, ErrUnknownSector, ErrLeadingZero,
	ErrTooLong, ErrEmpty, ErrBadChar, ErrTrailingJunk, ErrTooShort,
	ErrNotANode, ErrOutsideZone, ErrBadForm, ErrBadArc,
}

// errCase is one expected rejection: code, position and, if msg is not "",
// the exact text of Error().
type errCase struct {
	code string
	pos  int
	msg  string
}

// checkErr fails t unless err is an *Error with the code and position of
// want (and its text, when want has one).
func checkErr(t *testing.T, input string, err error, want errCase) {
	t.Helper()
	if err == nil {
		t.Errorf("%q: no error, want %s at %d", input, want.code, want.pos)
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Errorf("%q: error %v is %T, not *Error", input, err, err)
		return
	}
	if e.Code != want.code || e.Pos != want.pos {
		t.Errorf("%q: got %s at %d (%v), want %s at %d", input, e.Code, e.Pos, err, want.code, want.pos)
	}
	if want.msg != "" && err.Error() != want.msg {
		t.Errorf("%q: message %q, want %q", input, err.Error(), want.msg)
	}
}

// checkErrShape is the invariant every rejection keeps, for the fuzz
// targets: an *Error with a known code, a position inside the input or one
// past its end, and a message in valid UTF-8.
func checkErrShape(t *testing.T, input string, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%q: error %v is %T, not *Error", input, err, err)
	}
	known := false
	for _, c := range allCodes {
		known = known || e.Code == c
	}
	if !known {
		t.Fatalf("%q: unknown code %q", input, e.Code)
	}
	if e.Pos < 0 || e.Pos > utf8.RuneCountInString(input)+1 {
		t.Fatalf("%q: position %d outside 0..%d", input, e.Pos, utf8.RuneCountInString(input)+1)
	}
	if e.Msg == "" || !utf8.ValidString(e.Error()) {
		t.Fatalf("%q: bad message %q", input, e.Error())
	}
}

func TestErrorText(t *testing.T) {
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{Code: ErrBadCheckChar, Pos: 10, Msg: "check character is 7, want 1"}, "position 10: check character is 7, want 1"},
		{&Error{Code: ErrEmpty, Msg: "identifier is empty"}, "identifier is empty"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestErrorCodesDistinct(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range allCodes {
		if seen[c] {
			t.Errorf("code %q appears twice", c)
		}
		seen[c] = true
		for _, r := range c {
			if !('a' <= r && r <= 'z' || r == '_') {
				t.Errorf("code %q is not snake_case", c)
			}
		}
	}
	if len(seen) != 13 {
		t.Errorf("%d codes, want 13", len(seen))
	}
}

func TestErrorsAsIsAndCode(t *testing.T) {
	_, err := Parse("1561301007")
	wrapped := fmt.Errorf("registering: %w", err)

	var e *Error
	if !errors.As(wrapped, &e) || e.Code != ErrBadCheckChar {
		t.Fatalf("errors.As: got %v", e)
	}
	if !errors.Is(wrapped, &Error{Code: ErrBadCheckChar}) {
		t.Error("errors.Is with the same code: false")
	}
	if errors.Is(wrapped, &Error{Code: ErrBadChar}) {
		t.Error("errors.Is with another code: true")
	}
	if got := ErrorCode(wrapped); got != ErrBadCheckChar {
		t.Errorf("ErrorCode = %q", got)
	}
	if got := ErrorCode(errors.New("other")); got != "" {
		t.Errorf("ErrorCode(other) = %q, want empty", got)
	}
	if got := ErrorCode(nil); got != "" {
		t.Errorf("ErrorCode(nil) = %q, want empty", got)
	}
}

func TestParseReturnsNilInterface(t *testing.T) {
	// A nil *Error inside a non-nil error interface is a classic Go bug; every
	// entry point must return a true nil on success.
	id := mustParse(t, "1561301001.85.3/school-0042")
	if _, err := Parse(id.String()); err != nil {
		t.Errorf("Parse: %v", err)
	}
	if _, err := ParseURN(id.URN()); err != nil {
		t.Errorf("ParseURN: %v", err)
	}
	if err := id.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if _, err := ParseLocal("a"); err != nil {
		t.Errorf("ParseLocal: %v", err)
	}
	if _, err := CheckChar("1"); err != nil {
		t.Errorf("CheckChar: %v", err)
	}
}

func mustParse(t testing.TB, s string) ID {
	t.Helper()
	id, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return id
}
