package httpsig

import (
	"fmt"
	"reflect"
	"testing"
)

// serializeDictionary is the RFC 8941 4.1.2 serialization of a parsed
// dictionary, for the round-trip property of the parser.
func serializeDictionary(dict []member) (string, error) {
	var b []byte
	var err error
	for i, m := range dict {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, m.key...)
		switch {
		case m.inner:
			b = append(b, '=')
			b, err = appendInnerList(b, m.list, m.params)
		case m.item.bare.kind == kindBool && m.item.bare.bool:
			b, err = appendParams(b, m.item.params)
		default:
			b = append(b, '=')
			if b, err = appendBare(b, m.item.bare); err == nil {
				b, err = appendParams(b, m.item.params)
			}
		}
		if err != nil {
			return "", err
		}
	}
	return string(b), nil
}

func TestParseDictionary(t *testing.T) {
	cases := []struct{ in, canonical string }{
		{``, ``},
		{`   `, ``},
		{`a=1`, `a=1`},
		{`a=1 ,	b=2`, `a=1, b=2`},
		{`a=-0`, `a=0`},
		{`a=999999999999999`, `a=999999999999999`},
		{`a=1.250, b=-0.5, c=123456789012.1`, `a=1.25, b=-0.5, c=123456789012.1`},
		{`a="q\"b\\c"`, `a="q\"b\\c"`},
		{`a=:AQID:, b=::`, `a=:AQID:, b=::`},
		{`a=?0, b=?1, c`, `a=?0, b, c`},
		{`a=*tok/en:x`, `a=*tok/en:x`},
		{`a=(  1   "x" ), b=()`, `a=(1 "x"), b=()`},
		{`a=(1;x 2);p=3;q`, `a=(1;x 2);p=3;q`},
		{`a;p=1`, `a;p=1`},
		{`a=1;p; q=?1`, `a=1;p;q`},
		{`a=1, b=2, a=3`, `a=3, b=2`},
		{`a=1;p=1;p=2`, `a=1;p=2`},
		{`sig1=("@method" "@target-uri");created=1;keyid="k"`, `sig1=("@method" "@target-uri");created=1;keyid="k"`},
	}
	for _, c := range cases {
		dict, err := parseDictionary(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		got, err := serializeDictionary(dict)
		if err != nil || got != c.canonical {
			t.Errorf("%q serializes as %q, %v; want %q", c.in, got, err, c.canonical)
		}
	}
}

func TestParseDictionaryRefuses(t *testing.T) {
	for _, in := range []string{
		`a=`, `a=1,`, `a=1, `, `,a=1`, `A=1`, `1a=1`, `a=1 b=2`, `a=1;`, `a=1;P=2`,
		`a="\x"`, `a="unterminated`, "a=\"tab\there\"", "a=\"\xc3\xa9\"",
		`a=:AQI:`, `a=:AQID`, `a=:A?ID:`, `a=:AR==:`,
		`a=1234567890123456`, `a=1234567890123.1`, `a=1.2345`, `a=1.`, `a=-`, `a=--1`,
		`a=(1 2`, `a=(1,2)`, `a=(1)(2)`, `a=((1))`, `a=?2`, `a=?`, `a=@`, `a=(1)x`,
	} {
		if dict, err := parseDictionary(in); err == nil {
			t.Errorf("%q parsed as %+v", in, dict)
		}
	}
}

// FuzzParseDictionary: never panics; what parses serializes, and the
// serialization parses to the same dictionary and serializes to itself.
func FuzzParseDictionary(f *testing.F) {
	for _, s := range []string{
		`sig1=("@method" "@target-uri" "@authority");created=1764909000;nonce="x";alg="ed25519";keyid="ab";tag="cityid"`,
		`sig1=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:`,
		`a=1.5, b=?0, c=tok, d=(1 2);x`, `a="\"\\"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		dict, err := parseDictionary(in)
		if err != nil {
			return
		}
		out, err := serializeDictionary(dict)
		if err != nil {
			t.Fatalf("%q parsed but does not serialize: %v", in, err)
		}
		again, err := parseDictionary(out)
		if err != nil {
			t.Fatalf("%q serializes as %q, which does not parse: %v", in, out, err)
		}
		if !reflect.DeepEqual(normalize(dict), normalize(again)) {
			t.Fatalf("%q: %+v, after a round trip %+v", in, dict, again)
		}
		if out2, _ := serializeDictionary(again); out2 != out {
			t.Fatalf("%q serializes as %q, then %q", in, out, out2)
		}
	})
}

// normalize makes empty and nil slices alike for comparison.
func normalize(dict []member) []member {
	out := make([]member, len(dict))
	for i, m := range dict {
		m.item.params = nonNil(m.item.params)
		m.params = nonNil(m.params)
		if m.list == nil {
			m.list = []item{}
		}
		for j := range m.list {
			m.list[j].params = nonNil(m.list[j].params)
			if m.list[j].bare.raw == nil && m.list[j].bare.kind == kindBytes {
				m.list[j].bare.raw = []byte{}
			}
		}
		if m.item.bare.raw == nil && m.item.bare.kind == kindBytes {
			m.item.bare.raw = []byte{}
		}
		out[i] = m
	}
	return out
}

func nonNil(p []param) []param {
	if p == nil {
		return []param{}
	}
	for i := range p {
		if p[i].val.kind == kindBytes && p[i].val.raw == nil {
			p[i].val.raw = []byte{}
		}
	}
	return p
}

// Members, inner-list items and parameters are bounded, so a megabyte of
// header is refused after a few members, not searched for repeats.
func TestParseDictionaryBounds(t *testing.T) {
	repeat := func(part, sep string, n int) string {
		s := make([]byte, 0, n*(len(part)+len(sep)))
		for i := 0; i < n; i++ {
			if i > 0 {
				s = append(s, sep...)
			}
			s = append(s, fmt.Sprintf(part, i)...)
		}
		return string(s)
	}
	cases := []struct {
		in string
		ok bool
	}{
		{repeat("m%d=1", ", ", maxSignatures), true},
		{repeat("m%d=1", ", ", maxSignatures+1), false},
		{repeat("a=%d", ", ", 100000), true}, // one member, repeated: the last wins
		{"a=(" + repeat(`"c%d"`, " ", maxComponents) + ")", true},
		{"a=(" + repeat(`"c%d"`, " ", maxComponents+1) + ")", false},
		{"a=1;" + repeat("p%d", ";", maxParams), true},
		{"a=1;" + repeat("p%d", ";", maxParams+1), false},
		{"a=();" + repeat("p%d", ";", maxParams+1), false},
		{repeat("m%d", ", ", 100000), false},
	}
	for _, c := range cases {
		_, err := parseDictionary(c.in)
		if (err == nil) != c.ok {
			t.Errorf("%.40q… (%d bytes): %v, want ok %v", c.in, len(c.in), err, c.ok)
		}
	}
}
