package code

// urnPrefix is the URN scheme and namespace of CityID identifiers.
const urnPrefix = "urn:cityid:"

// URN returns the identifier as a URN: urn:cityid:1561301001.85.3/school-0042.
func (id ID) URN() string { return urnPrefix + id.String() }

// ParseURN parses the URN form. "urn:" and the namespace "cityid" are
// case-insensitive (RFC 8141); the rest is parsed as by Parse, with error
// positions counted in the whole URN. RFC 8141 r-, q- and f-components
// ("?+", "?=", "#") are not part of an identifier and are rejected.
func ParseURN(s string) (ID, error) {
	if !hasPrefixFold(s, "urn:") {
		return ID{}, &Error{Code: ErrBadForm, Pos: 1, Msg: "not a URN: want urn:cityid:<identifier>"}
	}
	if !hasPrefixFold(s, urnPrefix) {
		return ID{}, &Error{Code: ErrBadForm, Pos: 5, Msg: "URN namespace is not cityid: want urn:cityid:<identifier>"}
	}
	id, err := parse(s[len(urnPrefix):])
	if err != nil {
		return ID{}, shift(err, len(urnPrefix))
	}
	return id, nil
}
