package code

// CheckChar returns the ISO/IEC 7064 MOD 11-2 check character of digits:
// '0'-'9', or 'X' for the value 10. digits may be of any length (the city
// code uses nine: country and city number) and must be ASCII digits only.
//
// It is the check of ORCID iDs, ISNIs and China's resident ID numbers:
// CheckChar("000000021825009") is '7' (ORCID 0000-0002-1825-0097).
func CheckChar(digits string) (byte, error) {
	if digits == "" {
		return 0, &Error{Code: ErrEmpty, Msg: "no digits to compute a check character over"}
	}
	for i := 0; i < len(digits); i++ {
		if !isDigit(digits[i]) {
			return 0, &Error{Code: ErrBadChar, Pos: runePos(digits, i),
				Msg: "character " + quoteChar(digits, i) + " is not a digit 0-9"}
		}
	}
	return mod112(digits), nil
}

// mod112 computes the MOD 11-2 check over a string already known to be ASCII
// digits. ISO/IEC 7064 pure system: p = (p + d) * 2 mod 11 for each digit,
// then the check value c is the one that makes (p + c) ≡ 1 (mod 11).
func mod112(digits string) byte {
	p := 0
	for i := 0; i < len(digits); i++ {
		p = (p + int(digits[i]-'0')) * 2 % 11
	}
	c := (12 - p) % 11
	if c == 10 {
		return 'X'
	}
	return byte('0' + c)
}

// isDigit reports whether c is an ASCII digit.
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// allDigits reports whether s is non-empty and all ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}
