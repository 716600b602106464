package code

import (
	"strconv"
	"strings"
)

// Lengths fixed by the grammar (DESIGN section 1).
const (
	countryLen    = 3  // ISO 3166-1 numeric
	cityNumberLen = 6  // GB/T 2260 in China, else allocated by the registry
	cityCodeLen   = 10 // country + city number + check
	sectorLen     = 2  // ISIC Rev.4 division
	maxUnitLen    = 6  // 1..999999
	maxLocalLen   = 64 // local id
)

// Parse parses an identifier in its text form,
//
//	1561301001               a city
//	1561301001.85            a sector of the city
//	1561301001.85.3          a unit of the sector
//	1561301001.85.3/school-0042  an object (also under a city or a sector)
//
// The check character may be given as 'x' and the local id in any case; the
// ID holds the canonical form, which String returns. Nothing else is
// forgiven: no spaces, no other separators, no trailing text.
//
// Errors are *Error. Each part is checked left to right, its form (characters,
// length) before its meaning (tables, check character), and the first problem
// is reported with its position.
func Parse(s string) (ID, error) {
	id, err := parse(s)
	if err != nil {
		return ID{}, err
	}
	return id, nil
}

func parse(s string) (ID, *Error) {
	if s == "" {
		return ID{}, &Error{Code: ErrEmpty, Msg: "identifier is empty"}
	}
	end := partEnd(s, 0)
	country, number, f := checkCityCode(s[:end])
	if f != nil {
		return ID{}, f.at(s, 0)
	}
	id := ID{Country: country, CityNumber: number}
	if err := parseTail(s, end, &id); err != nil {
		return ID{}, err
	}
	return id, nil
}

// parseTail parses "[.sector[.unit]][/local-id]" starting at byte i of s,
// where s[i] is '.', '/' or the end, into id.
func parseTail(s string, i int, id *ID) *Error {
	if i < len(s) && s[i] == '.' {
		start := i + 1
		i = partEnd(s, start)
		if f := checkSector(s[start:i]); f != nil {
			return f.at(s, start)
		}
		id.Sector = s[start:i]
		if i < len(s) && s[i] == '.' {
			start := i + 1
			i = partEnd(s, start)
			if f := checkUnit(s[start:i]); f != nil {
				return f.at(s, start)
			}
			id.Unit = s[start:i]
			if i < len(s) && s[i] == '.' {
				return &Error{Code: ErrTrailingJunk, Pos: runePos(s, i), Msg: "trailing junk after the unit"}
			}
		}
	}
	if i < len(s) { // s[i] == '/'
		start := i + 1
		if f := checkLocal(s[start:]); f != nil {
			return f.at(s, start)
		}
		id.Local = asciiLower(s[start:])
	}
	return nil
}

// partEnd returns the index of the first '.' or '/' at or after i, or len(s).
func partEnd(s string, i int) int {
	if j := strings.IndexAny(s[i:], "./"); j >= 0 {
		return i + j
	}
	return len(s)
}

// ParseLocal checks one local id and returns it in canonical lowercase.
func ParseLocal(s string) (string, error) {
	if f := checkLocal(s); f != nil {
		return "", f.at(s, 0)
	}
	return asciiLower(s), nil
}

// checkCityCode checks the 10-character city code and splits it.
func checkCityCode(f string) (country, number string, flt *fault) {
	if f == "" {
		return "", "", &fault{ErrEmpty, 0, "city code is empty"}
	}
	for i := 0; i < len(f) && i < cityCodeLen; i++ {
		c := f[i]
		switch {
		case i < countryLen && !isDigit(c):
			return "", "", &fault{ErrBadChar, i, "country has character " + quoteChar(f, i) + " outside 0-9"}
		case i < countryLen+cityNumberLen && !isDigit(c):
			return "", "", &fault{ErrBadChar, i, "city number has character " + quoteChar(f, i) + " outside 0-9"}
		case i == cityCodeLen-1 && !isDigit(c) && c != 'X' && c != 'x':
			return "", "", &fault{ErrBadChar, i, "check character " + quoteChar(f, i) + " is not 0-9 or X"}
		}
	}
	if len(f) < cityCodeLen {
		return "", "", &fault{ErrTooShort, len(f), "city code is " + count(len(f), "character") + ", want 10"}
	}
	if len(f) > cityCodeLen {
		if isDigit(f[cityCodeLen]) {
			return "", "", &fault{ErrTooLong, cityCodeLen, "city code is longer than 10 characters"}
		}
		return "", "", &fault{ErrTrailingJunk, cityCodeLen, "trailing junk after the city code"}
	}
	country, number = f[:countryLen], f[countryLen:countryLen+cityNumberLen]
	if _, ok := LookupCountry(country); !ok {
		return "", "", unknownCountry(country)
	}
	got, want := upperX(f[cityCodeLen-1]), mod112(f[:cityCodeLen-1])
	if got != want {
		return "", "", &fault{ErrBadCheckChar, cityCodeLen - 1,
			"check character is " + string(got) + ", want " + string(want)}
	}
	return country, number, nil
}

func unknownCountry(c string) *fault {
	return &fault{ErrUnknownCountry, 0, "country " + c + " is not an ISO 3166-1 numeric code"}
}

func unknownSector(s string) *fault {
	return &fault{ErrUnknownSector, 0, "sector " + s + " is not an ISIC Rev.4 division"}
}

// checkDigits checks a part of exactly n ASCII digits.
func checkDigits(name, f string, n int) *fault {
	if f == "" {
		return &fault{ErrEmpty, 0, name + " is empty"}
	}
	for i := 0; i < len(f); i++ {
		if !isDigit(f[i]) {
			return &fault{ErrBadChar, i, name + " has character " + quoteChar(f, i) + " outside 0-9"}
		}
	}
	if len(f) < n {
		return &fault{ErrTooShort, len(f), name + " is " + count(len(f), "digit") + ", want " + strconv.Itoa(n)}
	}
	if len(f) > n {
		return &fault{ErrTooLong, n, name + " is longer than " + count(n, "digit")}
	}
	return nil
}

// checkCountry checks a 3-digit ISO 3166-1 numeric country code.
func checkCountry(f string) *fault {
	if flt := checkDigits("country", f, countryLen); flt != nil {
		return flt
	}
	if _, ok := LookupCountry(f); !ok {
		return unknownCountry(f)
	}
	return nil
}

// checkCityNumber checks a 6-digit city number.
func checkCityNumber(f string) *fault { return checkDigits("city number", f, cityNumberLen) }

// checkSector checks a 2-digit ISIC Rev.4 division.
func checkSector(f string) *fault {
	if flt := checkDigits("sector", f, sectorLen); flt != nil {
		return flt
	}
	if _, ok := LookupSector(f); !ok {
		return unknownSector(f)
	}
	return nil
}

// checkUnit checks a unit number: 1 to 6 digits, no leading zero.
func checkUnit(f string) *fault {
	switch {
	case f == "":
		return &fault{ErrEmpty, 0, "unit is empty"}
	case f == "0":
		return &fault{ErrLeadingZero, 0, "unit 0 is not allowed: units start at 1"}
	case f[0] == '0':
		return &fault{ErrLeadingZero, 0, "unit has a leading zero"}
	}
	for i := 0; i < len(f); i++ {
		if !isDigit(f[i]) {
			return &fault{ErrBadChar, i, "unit has character " + quoteChar(f, i) + " outside 0-9"}
		}
	}
	if len(f) > maxUnitLen {
		return &fault{ErrTooLong, maxUnitLen, "unit is longer than 6 digits"}
	}
	return nil
}

// checkLocal checks a local id in any case.
func checkLocal(f string) *fault {
	if f == "" {
		return &fault{ErrEmpty, 0, "local id is empty"}
	}
	for i := 0; i < len(f); i++ {
		if !isLocalChar(f[i]) {
			return &fault{ErrBadChar, i, "local id has character " + quoteChar(f, i) + " outside A-Z a-z 0-9 - _"}
		}
	}
	if len(f) > maxLocalLen {
		return &fault{ErrTooLong, maxLocalLen, "local id is longer than 64 characters"}
	}
	return nil
}

func isLocalChar(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-' || c == '_'
}

// upperX maps the check character 'x' to its canonical 'X'.
func upperX(c byte) byte {
	if c == 'x' {
		return 'X'
	}
	return c
}

// asciiLower lowercases ASCII letters only: the grammar and DNS are ASCII
// case-insensitive, and Unicode case folding must not turn, say, the Kelvin
// sign into a 'k'.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// hasPrefixFold reports whether s starts with prefix, ignoring ASCII case.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && asciiLower(s[:len(prefix)]) == asciiLower(prefix)
}

// hasSuffixFold reports whether s ends with suffix, ignoring ASCII case.
func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && asciiLower(s[len(s)-len(suffix):]) == asciiLower(suffix)
}

// count formats "1 digit", "2 digits".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
