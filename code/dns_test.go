package code

import (
	"strings"
	"testing"
)

func TestDNSName(t *testing.T) {
	const zone = "cityid.internal."
	a62, b2 := strings.Repeat("a", 62), "bb"
	d62 := strings.Repeat("1", 62)
	for in, want := range map[string]string{
		"1561301001":                  "1561301001.cityid.internal.",
		"156110100X":                  "156110100x.cityid.internal.",
		"1561301001.85":               "85.1561301001.cityid.internal.",
		"1561301001.85.3":             "3.85.1561301001.cityid.internal.",
		"1561301001.85.3/school-0042": "school-0042.3.85.1561301001.cityid.internal.",
		"1561301001/city-hall":        "city-hall.1561301001.cityid.internal.",
		// All-digit local ids and those starting with '_' are escaped with
		// one more '_', so they never read as a sector or a unit.
		"1561301001/85":     "_85.1561301001.cityid.internal.",
		"1561301001.85/3":   "_3.85.1561301001.cityid.internal.",
		"1561301001.85.3/4": "_4.3.85.1561301001.cityid.internal.",
		"1561301001/_x":     "__x.1561301001.cityid.internal.",
		"1561301001/x_":     "x_.1561301001.cityid.internal.",
		"1561301001/0042":   "_0042.1561301001.cityid.internal.",
		// Local ids longer than 62 characters take two labels.
		"1561301001/" + a62:                   a62 + ".1561301001.cityid.internal.",
		"1561301001/" + a62 + b2:              a62 + "." + b2 + ".1561301001.cityid.internal.",
		"1561301001/" + d62 + "11":            "_" + d62 + "._11.1561301001.cityid.internal.",
		"1561301001/" + a62 + "1":             a62 + "._1.1561301001.cityid.internal.",
		"1561301001/" + strings.ToUpper(a62):  a62 + ".1561301001.cityid.internal.",
		"1561301001/" + d62[:61] + "a" + "22": d62[:61] + "a._22.1561301001.cityid.internal.",
	} {
		if got := mustParse(t, in).DNSName(zone); got != want {
			t.Errorf("DNSName(%s) =\n %q, want\n %q", in, got, want)
		}
	}

	id := mustParse(t, "156110100X.86.12/H1")
	for zone, want := range map[string]string{
		"cityid.internal.": "h1.12.86.156110100x.cityid.internal.",
		"cityid.internal":  "h1.12.86.156110100x.cityid.internal.",
		"CityID.Internal.": "h1.12.86.156110100x.cityid.internal.",
		"":                 "h1.12.86.156110100x.",
		".":                "h1.12.86.156110100x.",
	} {
		if got := id.DNSName(zone); got != want {
			t.Errorf("DNSName(zone %q) = %q, want %q", zone, got, want)
		}
	}
}

func TestParseDNSName(t *testing.T) {
	want := mustParse(t, "156110100X.86.12/h1")
	for _, tt := range []struct{ zone, name string }{
		{"cityid.internal.", "h1.12.86.156110100x.cityid.internal."},
		{"cityid.internal.", "h1.12.86.156110100x.cityid.internal"},
		{"cityid.internal", "H1.12.86.156110100X.CITYID.INTERNAL."},
		{"CITYID.internal.", "h1.12.86.156110100X.cityid.Internal"},
		{"", "h1.12.86.156110100x."},
		{".", "h1.12.86.156110100x"},
	} {
		got, err := ParseDNSName(tt.zone, tt.name)
		if err != nil || got != want {
			t.Errorf("ParseDNSName(%q, %q) = %+v, %v", tt.zone, tt.name, got, err)
		}
	}
}

func TestParseDNSNameErrors(t *testing.T) {
	const zone = "cityid.internal."
	a62 := strings.Repeat("a", 62)
	for in, want := range map[string]errCase{
		"":                                                      {ErrEmpty, 0, "DNS name is empty"},
		"1561301001.example.org.":                               {ErrOutsideZone, 0, `name is not under zone "cityid.internal."`},
		"1561301001.xcityid.internal.":                          {ErrOutsideZone, 0, ""},
		"cityid.internal.example.org":                           {ErrOutsideZone, 0, ""},
		"internal.":                                             {ErrOutsideZone, 0, ""},
		"cityid.internal.":                                      {ErrEmpty, 0, `name is the zone apex "cityid.internal.", not an identifier`},
		"CITYID.INTERNAL":                                       {ErrEmpty, 0, ""},
		".1561301001.cityid.internal.":                          {ErrEmpty, 1, "position 1: DNS name has an empty label"},
		"a..1561301001.cityid.internal.":                        {ErrEmpty, 3, ""},
		".cityid.internal.":                                     {ErrEmpty, 1, ""},
		"1561301007.cityid.internal.":                           {ErrBadCheckChar, 10, "position 10: check character is 7, want 1"},
		"学校.1561301007.cityid.internal.":                        {ErrBadCheckChar, 13, "position 13: check character is 7, want 1"},
		"9991301001.cityid.internal.":                           {ErrUnknownCountry, 1, ""},
		"1561301001x.cityid.internal.":                          {ErrTrailingJunk, 11, "position 11: trailing junk after the city code"},
		"school.cityid.internal.":                               {ErrBadChar, 1, "position 1: country has character 's' outside 0-9"},
		"04.1561301001.cityid.internal.":                        {ErrUnknownSector, 1, "position 1: sector 04 is not an ISIC Rev.4 division"},
		"8.1561301001.cityid.internal.":                         {ErrTooShort, 2, ""},
		"03.85.1561301001.cityid.internal":                      {ErrLeadingZero, 1, "position 1: unit has a leading zero"},
		"1234567.85.1561301001.cityid.internal":                 {ErrTooLong, 7, ""},
		"4.3.85.1561301001.cityid.internal":                     {ErrBadForm, 1, "position 1: label 4 is all digits where a local id goes: write it as _4"},
		"_school.1561301001.cityid.internal":                    {ErrBadForm, 1, "position 1: local id label has an unneeded '_' escape: only all-digit labels and labels starting with '_' are escaped"},
		"_.1561301001.cityid.internal":                          {ErrBadForm, 1, ""},
		"_1a.1561301001.cityid.internal":                        {ErrBadForm, 1, ""},
		"a!.1561301001.cityid.internal":                         {ErrBadChar, 2, "position 2: local id has character '!' outside A-Z a-z 0-9 - _"},
		"_1!.1561301001.cityid.internal":                        {ErrBadForm, 1, ""},
		"__!.1561301001.cityid.internal":                        {ErrBadChar, 3, ""},
		"a_b-学.1561301001.cityid.internal":                      {ErrBadChar, 5, "position 5: local id has character '学' outside A-Z a-z 0-9 - _"},
		"aaa.bbb.1561301001.cityid.internal":                    {ErrBadForm, 1, "position 1: a local id is split into labels of 62 characters, and this label has 3"},
		a62 + ".bbb.1561301001.cityid.internal":                 {ErrTooLong, 66, "position 66: local id is longer than 64 characters"},
		"_" + a62[:61] + "1.x.1561301001.cityid.internal":       {ErrBadForm, 1, ""},
		a62 + "a.1561301001.cityid.internal":                    {ErrBadForm, 1, ""},
		strings.Repeat("a", 64) + ".1561301001.cityid.internal": {ErrTooLong, 64, "position 64: DNS label is longer than 63 characters"},
	} {
		_, err := ParseDNSName(zone, in)
		checkErr(t, in, err, want)
	}
	// Under the root zone.
	for in, want := range map[string]errCase{
		".":           {ErrEmpty, 0, "DNS name has no labels"},
		"..":          {ErrEmpty, 1, "position 1: DNS name has an empty label"},
		"1561301001.": {},
	} {
		_, err := ParseDNSName("", in)
		if want.code == "" {
			if err != nil {
				t.Errorf("ParseDNSName(root, %q): %v", in, err)
			}
			continue
		}
		checkErr(t, in, err, want)
	}
}
