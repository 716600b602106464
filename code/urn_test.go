package code

import "testing"

func TestParseURN(t *testing.T) {
	want := mustParse(t, "1561301001.85.3/school-0042")
	for _, in := range []string{
		"urn:cityid:1561301001.85.3/school-0042",
		"URN:CITYID:1561301001.85.3/school-0042",
		"Urn:CityID:1561301001.85.3/SCHOOL-0042",
	} {
		got, err := ParseURN(in)
		if err != nil || got != want {
			t.Errorf("ParseURN(%q) = %+v, %v", in, got, err)
		}
	}
	for in, want := range map[string]errCase{
		"":                               {ErrBadForm, 1, "position 1: not a URN: want urn:cityid:<identifier>"},
		"cityid:1561301001":              {ErrBadForm, 1, ""},
		"1561301001":                     {ErrBadForm, 1, ""},
		"urn:isbn:0451450523":            {ErrBadForm, 5, "position 5: URN namespace is not cityid: want urn:cityid:<identifier>"},
		"urn:cityid1561301001":           {ErrBadForm, 5, ""},
		"urn:cityid:":                    {ErrEmpty, 0, "identifier is empty"},
		"urn:cityid:1561301007":          {ErrBadCheckChar, 21, "position 21: check character is 7, want 1"},
		"urn:cityid:9991301001":          {ErrUnknownCountry, 12, ""},
		"urn:cityid:1561301001?=x":       {ErrTrailingJunk, 22, "position 22: trailing junk after the city code"},
		"urn:cityid:1561301001/a#f":      {ErrBadChar, 24, ""},
		"urn:cityid:1561301001/学!":       {ErrBadChar, 23, "position 23: local id has character '学' outside A-Z a-z 0-9 - _"},
		"urn:cityid:1561301001.85.3/a b": {ErrBadChar, 29, ""},
	} {
		_, err := ParseURN(in)
		checkErr(t, in, err, want)
	}
}
