package code

// ISO15459 returns the identifier in the ISO/IEC 15459 shape used by carriers
// that expect an issuing agency code first (the MA code system is one):
//
//	<IAC>.<country>.<city-number>[.<sector>[.<unit>]][/<local-id>]
//	MA.156.130100.85.3/school-0042
//
// There is no check character in this form: the issuing agency prefix takes
// its place. iac is written in uppercase.
func (id ID) ISO15459(iac string) string {
	s := asciiUpper(iac) + "." + id.Country + "." + id.CityNumber
	if id.Sector != "" {
		s += "." + id.Sector
		if id.Unit != "" {
			s += "." + id.Unit
		}
	}
	if id.Local != "" {
		s += "/" + id.Local
	}
	return s
}

// ParseISO15459 parses the ISO/IEC 15459 form issued under iac. The agency
// code and the local id are case-insensitive. A malformed iac (ISO/IEC
// 15459-2: one to three letters and digits) is ErrBadForm with a position in
// iac; all other positions count in s.
func ParseISO15459(iac, s string) (ID, error) {
	id, err := parseISO15459(iac, s)
	if err != nil {
		return ID{}, err
	}
	return id, nil
}

func parseISO15459(iac, s string) (ID, *Error) {
	if err := checkIAC(iac); err != nil {
		return ID{}, err
	}
	if s == "" {
		return ID{}, &Error{Code: ErrEmpty, Msg: "ISO/IEC 15459 identifier is empty"}
	}
	prefix := iac + "."
	if !hasPrefixFold(s, prefix) {
		return ID{}, &Error{Code: ErrBadForm, Pos: 1,
			Msg: "not an identifier of issuing agency " + asciiUpper(iac) + ": want " + asciiUpper(iac) + ".<country>.<city number>..."}
	}
	i := len(prefix)
	end := partEnd(s, i)
	if f := checkCountry(s[i:end]); f != nil {
		return ID{}, f.at(s, i)
	}
	id := ID{Country: s[i:end]}
	if end == len(s) || s[end] != '.' {
		return ID{}, &Error{Code: ErrTooShort, Pos: runePos(s, end), Msg: "no city number after the country"}
	}
	i = end + 1
	end = partEnd(s, i)
	if f := checkCityNumber(s[i:end]); f != nil {
		return ID{}, f.at(s, i)
	}
	id.CityNumber = s[i:end]
	if err := parseTail(s, end, &id); err != nil {
		return ID{}, err
	}
	return id, nil
}

// checkIAC checks an issuing agency code: 1 to 3 ASCII letters or digits.
func checkIAC(iac string) *Error {
	if iac == "" {
		return &Error{Code: ErrBadForm, Msg: "issuing agency code is empty"}
	}
	for i := 0; i < len(iac); i++ {
		c := iac[i]
		if !isDigit(c) && !('a' <= c && c <= 'z') && !('A' <= c && c <= 'Z') {
			return &Error{Code: ErrBadForm, Pos: runePos(iac, i),
				Msg: "issuing agency code has character " + quoteChar(iac, i) + " outside A-Z 0-9"}
		}
	}
	if len(iac) > 3 {
		return &Error{Code: ErrBadForm, Pos: 4, Msg: "issuing agency code is longer than 3 characters"}
	}
	return nil
}

// asciiUpper uppercases ASCII letters only.
func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - ('a' - 'A')
		}
	}
	return string(b)
}
