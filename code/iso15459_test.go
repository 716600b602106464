package code

import "testing"

func TestParseISO15459(t *testing.T) {
	want := mustParse(t, "1561301001.85.3/school-0042")
	for _, tt := range []struct{ iac, s string }{
		{"MA", "MA.156.130100.85.3/school-0042"},
		{"ma", "MA.156.130100.85.3/school-0042"},
		{"MA", "ma.156.130100.85.3/SCHOOL-0042"},
	} {
		got, err := ParseISO15459(tt.iac, tt.s)
		if err != nil || got != want {
			t.Errorf("ParseISO15459(%q, %q) = %+v, %v", tt.iac, tt.s, got, err)
		}
	}
	for in, want := range map[string]errCase{
		"":                         {ErrEmpty, 0, "ISO/IEC 15459 identifier is empty"},
		"MB.156.130100":            {ErrBadForm, 1, "position 1: not an identifier of issuing agency MA: want MA.<country>.<city number>..."},
		"MA156.130100":             {ErrBadForm, 1, ""},
		"1561301001":               {ErrBadForm, 1, ""},
		"MA.":                      {ErrEmpty, 4, "position 4: country is empty"},
		"MA.156":                   {ErrTooShort, 7, "position 7: no city number after the country"},
		"MA.156/x":                 {ErrTooShort, 7, ""},
		"MA.1561301001":            {ErrTooLong, 7, "position 7: country is longer than 3 digits"},
		"MA.999.130100":            {ErrUnknownCountry, 4, "position 4: country 999 is not an ISO 3166-1 numeric code"},
		"MA.156.13010":             {ErrTooShort, 13, "position 13: city number is 5 digits, want 6"},
		"MA.156.":                  {ErrEmpty, 8, ""},
		"MA.156.1301001":           {ErrTooLong, 14, ""},
		"MA.156.130100.04":         {ErrUnknownSector, 15, "position 15: sector 04 is not an ISIC Rev.4 division"},
		"MA.156.130100.85.03":      {ErrLeadingZero, 18, ""},
		"MA.156.130100.85.3.4":     {ErrTrailingJunk, 19, "position 19: trailing junk after the unit"},
		"MA.156.130100.85.3/a!":    {ErrBadChar, 21, ""},
		"MA.156.130100.85.3/学":     {ErrBadChar, 20, ""},
		"MA.中56.130100":            {ErrBadChar, 4, "position 4: country has character '中' outside 0-9"},
		"MA.156.130100 ":           {ErrBadChar, 14, "position 14: city number has character ' ' outside 0-9"},
		"MA.156.130100.85.3/" + "": {ErrEmpty, 20, ""},
	} {
		_, err := ParseISO15459("MA", in)
		checkErr(t, in, err, want)
	}
	for iac, want := range map[string]errCase{
		"":     {ErrBadForm, 0, "issuing agency code is empty"},
		"M-A":  {ErrBadForm, 2, "position 2: issuing agency code has character '-' outside A-Z 0-9"},
		"ABCD": {ErrBadForm, 4, "position 4: issuing agency code is longer than 3 characters"},
		"MA.":  {ErrBadForm, 3, ""},
	} {
		_, err := ParseISO15459(iac, "MA.156.130100")
		checkErr(t, iac, err, want)
	}
}
