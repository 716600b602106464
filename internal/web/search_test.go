package web

import (
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/cityid/cityid/code"
)

// FuzzParseAny: whatever a person types, the search box never panics; a
// refusal points inside the text (or one past its end), and an
// identifier it accepts is valid, in canonical form.
func FuzzParseAny(f *testing.F) {
	for _, s := range []string{
		"1561301001.85.1/school-0042", " urn:cityid:1561301001 ", "school-0042.1.85.1561301001.cityid.internal.",
		"MA.156.130100.85.1/x", "http://127.0.0.1:8680/r/1561301001.85.1/x", "https://a/r/", "0.NA/1561301001.85",
		"1561301002", "", "urn:", "0.na/", "http://", "ma.", ".cityid.internal", "\u202e1561301001",
	} {
		f.Add(s)
	}
	opts := code.DefaultFormOptions()
	f.Fuzz(func(t *testing.T, s string) {
		id, err := parseAny(s, opts)
		if err != nil {
			var ce *code.Error
			if errors.As(err, &ce) && (ce.Pos < 0 || ce.Pos > utf8.RuneCountInString(s)+1) {
				t.Errorf("%q: position %d outside the text (%d characters)", s, ce.Pos, utf8.RuneCountInString(s))
			}
			return
		}
		if back, err := code.Parse(id.String()); err != nil || back != id {
			t.Errorf("%q: accepted %v, whose canonical text does not parse back (%v)", s, id, err)
		}
	})
}
