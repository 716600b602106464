package code

import (
	"math/big"
	"strings"
	"testing"
)

func TestDefaultOIDArcIsTheUUID(t *testing.T) {
	// X.667: 2.25.<the UUID as one unsigned decimal integer>.
	const uuid = "cfed20b8-5080-43a8-b12f-f205db459813"
	n, ok := new(big.Int).SetString(strings.ReplaceAll(uuid, "-", ""), 16)
	if !ok {
		t.Fatal("bad UUID")
	}
	if want := "2.25." + n.String(); DefaultOIDArc != want {
		t.Errorf("DefaultOIDArc = %s, want %s", DefaultOIDArc, want)
	}
	if err := checkArc(DefaultOIDArc); err != nil {
		t.Errorf("DefaultOIDArc: %v", err)
	}
}

func TestOID(t *testing.T) {
	const arc = "1.2.3"
	for in, want := range map[string]string{
		"1561301001":           "1.2.3.156.130100",
		"1561301001.85":        "1.2.3.156.130100.85",
		"1561301001.85.3":      "1.2.3.156.130100.85.3",
		"156110100X.86.12":     "1.2.3.156.110100.86.12",
		"0040000014.01.1":      "1.2.3.4.1.1.1", // X.660 arcs have no leading zeros
		"1561301001.37.999999": "1.2.3.156.130100.37.999999",
	} {
		id := mustParse(t, in)
		got, err := id.OID(arc)
		if err != nil || got != want {
			t.Errorf("OID(%s) = %q, %v; want %q", in, got, err, want)
		}
		if back, err := ParseOID(arc, want); err != nil || back != id {
			t.Errorf("ParseOID(%s) = %+v, %v; want %s", want, back, err, in)
		}
	}

	obj := mustParse(t, "1561301001.85.3/school-0042")
	_, err := obj.OID(arc)
	checkErr(t, "object OID", err, errCase{ErrNotANode, 0, "identifier 1561301001.85.3/school-0042 has a local id: only node codes have an OID"})
	_, err = mustParse(t, "1561301001").OID("1.02")
	checkErr(t, "bad arc", err, errCase{ErrBadArc, 3, "position 3: OID arc has a component with a leading zero"})
	_, err = ID{Country: "999", CityNumber: "130100"}.OID(arc)
	checkErr(t, "invalid id", err, errCase{ErrUnknownCountry, 1, ""})
}

func TestParseOIDErrors(t *testing.T) {
	const arc = "1.2.3"
	for in, want := range map[string]errCase{
		"":                         {ErrEmpty, 0, "OID is empty"},
		"1.2.4.156.130100":         {ErrBadForm, 1, "position 1: OID is not under the registry arc 1.2.3"},
		"1.2.30.156.130100":        {ErrBadForm, 1, ""},
		"1.2.3":                    {ErrTooShort, 6, "position 6: OID is the registry arc itself: no country and city number follow"},
		"1.2.3.":                   {ErrEmpty, 7, "position 7: country arc is empty"},
		"1.2.3.156":                {ErrTooShort, 10, "position 10: OID has no city number arc after the country"},
		"1.2.3.156.":               {ErrEmpty, 11, "position 11: city number arc is empty"},
		"1.2.3.0156.130100":        {ErrLeadingZero, 7, "position 7: country arc has a leading zero"},
		"1.2.3.1560.130100":        {ErrTooLong, 10, "position 10: country arc is longer than 3 digits"},
		"1.2.3.999.130100":         {ErrUnknownCountry, 7, "position 7: country 999 is not an ISO 3166-1 numeric code"},
		"1.2.3.0.130100":           {ErrUnknownCountry, 7, "position 7: country 000 is not an ISO 3166-1 numeric code"},
		"1.2.3.156.1301000":        {ErrTooLong, 17, ""},
		"1.2.3.156.0130100":        {ErrLeadingZero, 11, ""},
		"1.2.3.156.130100.4":       {ErrUnknownSector, 18, "position 18: sector 04 is not an ISIC Rev.4 division"},
		"1.2.3.156.130100.05":      {ErrLeadingZero, 18, "position 18: sector arc has a leading zero"},
		"1.2.3.156.130100.100":     {ErrTooLong, 20, ""},
		"1.2.3.156.130100.85.0":    {ErrLeadingZero, 21, "position 21: unit 0 is not allowed: units start at 1"},
		"1.2.3.156.130100.85.03":   {ErrLeadingZero, 21, ""},
		"1.2.3.156.130100.85.3.1":  {ErrTrailingJunk, 22, "position 22: trailing junk after the unit arc"},
		"1.2.3.156.130100.85.3.":   {ErrTrailingJunk, 22, ""},
		"1.2.3.156.130100.85.3a":   {ErrBadChar, 22, "position 22: unit arc has character 'a' outside 0-9"},
		"1.2.3.156.130100..3":      {ErrEmpty, 18, ""},
		"1.2.3.156.13010X":         {ErrBadChar, 16, ""},
		"1.2.3.156.130100.85.3 ":   {ErrBadChar, 22, ""},
		"1.2.3.156.130100.85.一":    {ErrBadChar, 21, "position 21: unit arc has character '一' outside 0-9"},
		"1.2.3.156.130100.85.1e3":  {ErrBadChar, 22, ""},
		"1.2.3.156.130100.85.3/ab": {ErrBadChar, 22, ""},
	} {
		_, err := ParseOID(arc, in)
		checkErr(t, in, err, want)
	}
}

func TestOIDArcs(t *testing.T) {
	for _, good := range []string{"0.0", "0.39", "1.39", "2.999", "2.25", DefaultOIDArc, "1.3.6.1.4.1.99999", "2.40"} {
		if err := checkArc(good); err != nil {
			t.Errorf("checkArc(%q): %v", good, err)
		}
	}
	for bad, want := range map[string]errCase{
		"":        {ErrBadArc, 0, "OID arc is empty"},
		"1":       {ErrBadArc, 2, "position 2: OID arc needs at least two components"},
		"3.1":     {ErrBadArc, 1, "position 1: OID arc must start with 0, 1 or 2"},
		"10.1":    {ErrBadArc, 1, ""},
		"1.40":    {ErrBadArc, 3, "position 3: OID arc second component must be below 40 under 1"},
		"0.400":   {ErrBadArc, 3, ""},
		"01.2":    {ErrBadArc, 1, "position 1: OID arc has a component with a leading zero"},
		"1..2":    {ErrBadArc, 3, "position 3: OID arc has an empty component"},
		"1.2.":    {ErrBadArc, 5, ""},
		".1.2":    {ErrBadArc, 1, ""},
		"1.a":     {ErrBadArc, 3, "position 3: OID arc has character 'a' outside 0-9 and '.'"},
		"urn:1.2": {ErrBadArc, 1, ""},
	} {
		checkErr(t, bad, checkArc(bad), want)
		_, err := ParseOID(bad, "1.2.156.130100")
		checkErr(t, bad, err, want)
	}
}
