package code

import (
	"strings"
)

// OID returns a node code as an object identifier under the registry's arc:
// <arc>.156.130100.85.3. Each part is written as a number, without leading
// zeros as X.660 dot notation requires (country 004 is arc 4, sector 01 is
// arc 1); ParseOID pads them back, since every part has a fixed width.
//
// Objects (identifiers with a local id) have no OID: the error code is
// ErrNotANode. An invalid arc gives ErrBadArc, an invalid id its Validate
// error.
func (id ID) OID(arc string) (string, error) {
	if err := checkArc(arc); err != nil {
		return "", err
	}
	if err := id.validate(); err != nil {
		return "", err
	}
	if !id.IsNode() {
		return "", &Error{Code: ErrNotANode, Msg: "identifier " + id.String() + " has a local id: only node codes have an OID"}
	}
	s := arc + "." + trimZeros(id.Country) + "." + trimZeros(id.CityNumber)
	if id.Sector != "" {
		s += "." + trimZeros(id.Sector)
		if id.Unit != "" {
			s += "." + id.Unit
		}
	}
	return s, nil
}

// trimZeros writes a digit string as a number: "004" is "4", "000" is "0".
func trimZeros(s string) string {
	t := strings.TrimLeft(s, "0")
	if t == "" {
		return "0"
	}
	return t
}

// oidPart describes one arc after the registry's arc.
type oidPart struct {
	name  string
	width int
}

// oidPartCount is the number of arcs a node code can have after the
// registry's arc: country, city number, sector, unit.
const oidPartCount = 4

// oidParts returns the n-th arc's description (a function, not a package
// variable, so that there is no mutable global state).
func oidParts(n int) oidPart {
	switch n {
	case 0:
		return oidPart{"country", countryLen}
	case 1:
		return oidPart{"city number", cityNumberLen}
	case 2:
		return oidPart{"sector", sectorLen}
	}
	return oidPart{"unit", maxUnitLen}
}

// ParseOID parses the OID form of a node code under arc, padding each arc to
// its width and computing the check character. Error positions count in s.
func ParseOID(arc, s string) (ID, error) {
	id, err := parseOID(arc, s)
	if err != nil {
		return ID{}, err
	}
	return id, nil
}

func parseOID(arc, s string) (ID, *Error) {
	if err := checkArc(arc); err != nil {
		return ID{}, err
	}
	if s == "" {
		return ID{}, &Error{Code: ErrEmpty, Msg: "OID is empty"}
	}
	if s == arc {
		return ID{}, &Error{Code: ErrTooShort, Pos: runePos(s, len(s)), Msg: "OID is the registry arc itself: no country and city number follow"}
	}
	if !strings.HasPrefix(s, arc+".") {
		return ID{}, &Error{Code: ErrBadForm, Pos: 1, Msg: "OID is not under the registry arc " + arc}
	}
	var vals [oidPartCount]string
	n := 0
	for i := len(arc) + 1; ; n++ {
		end := strings.IndexByte(s[i:], '.')
		if end < 0 {
			end = len(s)
		} else {
			end += i
		}
		if n == oidPartCount {
			return ID{}, &Error{Code: ErrTrailingJunk, Pos: runePos(s, i-1), Msg: "trailing junk after the unit arc"}
		}
		v, f := checkOIDPart(oidParts(n), s[i:end])
		if f != nil {
			return ID{}, f.at(s, i)
		}
		vals[n] = v
		if end == len(s) {
			n++
			break
		}
		i = end + 1
	}
	if n < 2 {
		return ID{}, &Error{Code: ErrTooShort, Pos: runePos(s, len(s)), Msg: "OID has no city number arc after the country"}
	}
	return ID{Country: vals[0], CityNumber: vals[1], Sector: vals[2], Unit: vals[3]}, nil
}

// checkOIDPart checks one arc and returns it padded to the part's width.
func checkOIDPart(p oidPart, f string) (string, *fault) {
	if f == "" {
		return "", &fault{ErrEmpty, 0, p.name + " arc is empty"}
	}
	for i := 0; i < len(f); i++ {
		if !isDigit(f[i]) {
			return "", &fault{ErrBadChar, i, p.name + " arc has character " + quoteChar(f, i) + " outside 0-9"}
		}
	}
	if p.name == "unit" {
		if flt := checkUnit(f); flt != nil {
			return "", flt
		}
		return f, nil
	}
	if len(f) > 1 && f[0] == '0' {
		return "", &fault{ErrLeadingZero, 0, p.name + " arc has a leading zero"}
	}
	if len(f) > p.width {
		return "", &fault{ErrTooLong, p.width, p.name + " arc is longer than " + count(p.width, "digit")}
	}
	v := strings.Repeat("0", p.width-len(f)) + f
	switch p.name {
	case "country":
		if _, ok := LookupCountry(v); !ok {
			return "", unknownCountry(v)
		}
	case "sector":
		if _, ok := LookupSector(v); !ok {
			return "", unknownSector(v)
		}
	}
	return v, nil
}

// checkArc checks that arc is an OID in dot notation that can hold a
// registry: at least two arcs, each a number without leading zeros, the first
// 0, 1 or 2 and the second below 40 under 0 and 1 (X.660).
func checkArc(arc string) *Error {
	bad := func(off int, msg string) *Error {
		return &Error{Code: ErrBadArc, Pos: runePos(arc, off), Msg: "OID arc " + msg}
	}
	if arc == "" {
		return &Error{Code: ErrBadArc, Msg: "OID arc is empty"}
	}
	var parts []string
	for i, start := 0, 0; i <= len(arc); i++ {
		if i < len(arc) && arc[i] != '.' {
			if !isDigit(arc[i]) {
				return bad(i, "has character "+quoteChar(arc, i)+" outside 0-9 and '.'")
			}
			continue
		}
		p := arc[start:i]
		switch {
		case p == "":
			return bad(i, "has an empty component")
		case len(p) > 1 && p[0] == '0':
			return bad(start, "has a component with a leading zero")
		}
		parts = append(parts, p)
		start = i + 1
	}
	switch {
	case len(parts) < 2:
		return bad(len(arc), "needs at least two components")
	case len(parts[0]) > 1 || parts[0][0] > '2':
		return bad(0, "must start with 0, 1 or 2")
	case parts[0] != "2" && (len(parts[1]) > 2 || parts[1] >= "40" && len(parts[1]) == 2):
		return bad(len(parts[0])+1, "second component must be below 40 under "+parts[0])
	}
	return nil
}
