package code

import (
	"encoding/csv"
	"os"
	"strings"
	"testing"
)

func TestParseValid(t *testing.T) {
	long := strings.Repeat("a", 64)
	tests := []struct {
		in        string
		want      ID
		canonical string
		kind      Kind
	}{
		{"1561301001", ID{"156", "130100", "", "", ""}, "1561301001", KindCity},
		{"1561301001.85", ID{"156", "130100", "85", "", ""}, "1561301001.85", KindSector},
		{"1561301001.85.3", ID{"156", "130100", "85", "3", ""}, "1561301001.85.3", KindUnit},
		{"1561301001.85.3/school-0042", ID{"156", "130100", "85", "3", "school-0042"}, "1561301001.85.3/school-0042", KindObject},
		{"1561301001.85/school-0042", ID{"156", "130100", "85", "", "school-0042"}, "1561301001.85/school-0042", KindObject},
		{"1561301001/city-hall", ID{"156", "130100", "", "", "city-hall"}, "1561301001/city-hall", KindObject},
		{"1561301001.85.3/SCHOOL-0042", ID{"156", "130100", "85", "3", "school-0042"}, "1561301001.85.3/school-0042", KindObject},
		{"1561301001.37.999999/Sewage_Plant-7", ID{"156", "130100", "37", "999999", "sewage_plant-7"}, "1561301001.37.999999/sewage_plant-7", KindObject},
		{"156110100X", ID{"156", "110100", "", "", ""}, "156110100X", KindCity},
		{"156110100x", ID{"156", "110100", "", "", ""}, "156110100X", KindCity},
		{"156110100x.86.12/H1", ID{"156", "110100", "86", "12", "h1"}, "156110100X.86.12/h1", KindObject},
		{"1561301001.99", ID{"156", "130100", "99", "", ""}, "1561301001.99", KindSector},
		{"0040000014.01.1/_", ID{"004", "000001", "01", "1", "_"}, "0040000014.01.1/_", KindObject},
		{"1561301001/" + long, ID{"156", "130100", "", "", long}, "1561301001/" + long, KindObject},
		{"1561301001/0042", ID{"156", "130100", "", "", "0042"}, "1561301001/0042", KindObject},
		{"1561301001.85/3", ID{"156", "130100", "85", "", "3"}, "1561301001.85/3", KindObject},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Parse(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
		if s := got.String(); s != tt.canonical {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.in, s, tt.canonical)
		}
		if k := got.Kind(); k != tt.kind {
			t.Errorf("Parse(%q).Kind() = %q, want %q", tt.in, k, tt.kind)
		}
		if again := mustParse(t, got.String()); again != got {
			t.Errorf("Parse(String()) of %q = %+v, want %+v", tt.in, again, got)
		}
		if err := got.Validate(); err != nil {
			t.Errorf("Parse(%q).Validate(): %v", tt.in, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	long := strings.Repeat("a", 64)
	tests := []struct {
		in   string
		want errCase
	}{
		// The messages of the design, exactly.
		{"1561301007", errCase{ErrBadCheckChar, 10, "position 10: check character is 7, want 1"}},
		{"9991301001", errCase{ErrUnknownCountry, 1, "position 1: country 999 is not an ISO 3166-1 numeric code"}},
		{"1561301001.04", errCase{ErrUnknownSector, 12, "position 12: sector 04 is not an ISIC Rev.4 division"}},
		{"1561301001.85.03", errCase{ErrLeadingZero, 15, "position 15: unit has a leading zero"}},
		{"1561301001.85.3/a!", errCase{ErrBadChar, 18, "position 18: local id has character '!' outside A-Z a-z 0-9 - _"}},
		{"1561301001 ", errCase{ErrTrailingJunk, 11, "position 11: trailing junk after the city code"}},

		// Empty input and empty parts.
		{"", errCase{ErrEmpty, 0, "identifier is empty"}},
		{".85", errCase{ErrEmpty, 1, "position 1: city code is empty"}},
		{"/x", errCase{ErrEmpty, 1, "position 1: city code is empty"}},
		{"1561301001.", errCase{ErrEmpty, 12, "position 12: sector is empty"}},
		{"1561301001.85.", errCase{ErrEmpty, 15, "position 15: unit is empty"}},
		{"1561301001/", errCase{ErrEmpty, 12, "position 12: local id is empty"}},
		{"1561301001.85/", errCase{ErrEmpty, 15, "position 15: local id is empty"}},
		{"1561301001..3", errCase{ErrEmpty, 12, ""}},

		// City code.
		{" 1561301001", errCase{ErrBadChar, 1, "position 1: country has character ' ' outside 0-9"}},
		{"\t1561301001", errCase{ErrBadChar, 1, `position 1: country has character '\t' outside 0-9`}},
		{"urn:cityid:1561301001", errCase{ErrBadChar, 1, "position 1: country has character 'u' outside 0-9"}},
		{"156a301001", errCase{ErrBadChar, 4, "position 4: city number has character 'a' outside 0-9"}},
		{"15613010X1", errCase{ErrBadChar, 9, "position 9: city number has character 'X' outside 0-9"}},
		{"156130100Y", errCase{ErrBadChar, 10, "position 10: check character 'Y' is not 0-9 or X"}},
		{"156", errCase{ErrTooShort, 4, "position 4: city code is 3 characters, want 10"}},
		{"1", errCase{ErrTooShort, 2, "position 2: city code is 1 character, want 10"}},
		{"156130100", errCase{ErrTooShort, 10, "position 10: city code is 9 characters, want 10"}},
		{"156130100.85", errCase{ErrTooShort, 10, ""}},
		{"15613010011", errCase{ErrTooLong, 11, "position 11: city code is longer than 10 characters"}},
		{"1561301000001", errCase{ErrTooLong, 11, ""}}, // a 7-digit city number: length first, not the check
		{"1561301001x", errCase{ErrTrailingJunk, 11, "position 11: trailing junk after the city code"}},
		{"1561301001\n", errCase{ErrTrailingJunk, 11, ""}},
		{"1561301001 .85", errCase{ErrTrailingJunk, 11, ""}},
		{"1561301001-85", errCase{ErrTrailingJunk, 11, ""}},
		{"0001301001", errCase{ErrUnknownCountry, 1, "position 1: country 000 is not an ISO 3166-1 numeric code"}},
		{"1561101001", errCase{ErrBadCheckChar, 10, "position 10: check character is 1, want X"}},
		{"156130100X", errCase{ErrBadCheckChar, 10, "position 10: check character is X, want 1"}},
		{"156130100x", errCase{ErrBadCheckChar, 10, "position 10: check character is X, want 1"}},
		{"1561301002.85.3/school-0042", errCase{ErrBadCheckChar, 10, ""}},

		// Sector.
		{"1561301001.00", errCase{ErrUnknownSector, 12, "position 12: sector 00 is not an ISIC Rev.4 division"}},
		{"1561301001.34", errCase{ErrUnknownSector, 12, ""}},
		{"1561301001.89", errCase{ErrUnknownSector, 12, ""}},
		{"1561301001.8", errCase{ErrTooShort, 13, "position 13: sector is 1 digit, want 2"}},
		{"1561301001.855", errCase{ErrTooLong, 14, "position 14: sector is longer than 2 digits"}},
		{"1561301001.8a", errCase{ErrBadChar, 13, "position 13: sector has character 'a' outside 0-9"}},
		{"1561301001.85 ", errCase{ErrBadChar, 14, "position 14: sector has character ' ' outside 0-9"}},
		{"1561301001.P", errCase{ErrBadChar, 12, ""}},

		// Unit.
		{"1561301001.85.0", errCase{ErrLeadingZero, 15, "position 15: unit 0 is not allowed: units start at 1"}},
		{"1561301001.85.0x", errCase{ErrLeadingZero, 15, ""}},
		{"1561301001.85.1234567", errCase{ErrTooLong, 21, "position 21: unit is longer than 6 digits"}},
		{"1561301001.85.3a", errCase{ErrBadChar, 16, "position 16: unit has character 'a' outside 0-9"}},
		{"1561301001.85.3.4", errCase{ErrTrailingJunk, 16, "position 16: trailing junk after the unit"}},
		{"1561301001.85.3.", errCase{ErrTrailingJunk, 16, ""}},
		{"1561301001.85.-3", errCase{ErrBadChar, 15, ""}},

		// Local id.
		{"1561301001/" + long + "a", errCase{ErrTooLong, 76, "position 76: local id is longer than 64 characters"}},
		{"1561301001/a/b", errCase{ErrBadChar, 13, "position 13: local id has character '/' outside A-Z a-z 0-9 - _"}},
		{"1561301001/a.b", errCase{ErrBadChar, 13, ""}},
		{"1561301001.85.3/school-0042 ", errCase{ErrBadChar, 28, "position 28: local id has character ' ' outside A-Z a-z 0-9 - _"}},
		{"1561301001/a%2F", errCase{ErrBadChar, 13, ""}},

		// Positions count characters, not bytes, and messages never split one.
		{"中1561301001", errCase{ErrBadChar, 1, "position 1: country has character '中' outside 0-9"}},
		{"1561301001/学校", errCase{ErrBadChar, 12, "position 12: local id has character '学' outside A-Z a-z 0-9 - _"}},
		{"1561301001/ab\xff", errCase{ErrBadChar, 14, `position 14: local id has character '\xff' outside A-Z a-z 0-9 - _`}},
		{"1561301001/a\u00e9", errCase{ErrBadChar, 13, "position 13: local id has character 'é' outside A-Z a-z 0-9 - _"}},
		{"1561301001/a\u212a", errCase{ErrBadChar, 13, "position 13: local id has character '\u212a' outside A-Z a-z 0-9 - _"}}, // Kelvin sign is not 'k'
		{"1561301001/" + strings.Repeat("\u00e9", 3), errCase{ErrBadChar, 12, ""}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		checkErr(t, tt.in, err, tt.want)
		if err != nil && got != (ID{}) {
			t.Errorf("Parse(%q) failed but returned %+v, want the zero ID", tt.in, got)
		}
	}
}

func TestParseCaseInsensitive(t *testing.T) {
	want := mustParse(t, "1561301001.85.3/school-0042")
	for _, in := range []string{
		"1561301001.85.3/SCHOOL-0042",
		"1561301001.85.3/School-0042",
		"1561301001.85.3/sChOoL-0042",
	} {
		if got := mustParse(t, in); got != want {
			t.Errorf("Parse(%q) = %+v, want %+v", in, got, want)
		}
	}
	x := mustParse(t, "156110100X/A")
	if got := mustParse(t, "156110100x/a"); got != x {
		t.Errorf("lowercase x: got %+v, want %+v", got, x)
	}
	if x.String() != "156110100X/a" {
		t.Errorf("canonical form %q, want 156110100X/a", x.String())
	}
}

func TestParseLocal(t *testing.T) {
	for in, want := range map[string]string{
		"school-0042":           "school-0042",
		"SCHOOL-0042":           "school-0042",
		"_":                     "_",
		"-":                     "-",
		"Z9":                    "z9",
		strings.Repeat("Q", 64): strings.Repeat("q", 64),
	} {
		got, err := ParseLocal(in)
		if err != nil || got != want {
			t.Errorf("ParseLocal(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, want := range map[string]errCase{
		"":                      {ErrEmpty, 1, "position 1: local id is empty"},
		"a!":                    {ErrBadChar, 2, "position 2: local id has character '!' outside A-Z a-z 0-9 - _"},
		"a b":                   {ErrBadChar, 2, ""},
		"ö":                     {ErrBadChar, 1, "position 1: local id has character 'ö' outside A-Z a-z 0-9 - _"},
		strings.Repeat("a", 65): {ErrTooLong, 65, "position 65: local id is longer than 64 characters"},
	} {
		_, err := ParseLocal(in)
		checkErr(t, in, err, want)
	}
}

// cnCity is one row of testdata/cn-cities.csv: a prefecture-level division
// of China (GB/T 2260, copied from shared/data/cn-divisions/cities.csv) and
// its city code as computed by an independent implementation (Python) of
// MOD 11-2 when the file was made.
type cnCity struct {
	gbt2260, name, province, cityCode string
}

func cnCities(t testing.TB) []cnCity {
	t.Helper()
	f, err := os.Open("testdata/cn-cities.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var rows []cnCity
	for _, r := range recs[1:] {
		rows = append(rows, cnCity{r[0], r[1], r[2], r[3]})
	}
	return rows
}

func TestChineseCityCodes(t *testing.T) {
	rows := cnCities(t)
	if len(rows) != 342 {
		t.Fatalf("%d cities in testdata, want 342", len(rows))
	}
	xs := 0
	for _, c := range rows {
		got, err := CityCode("156", c.gbt2260)
		if err != nil || got != c.cityCode {
			t.Errorf("%s %s: CityCode = %q, %v; want %q", c.gbt2260, c.name, got, err, c.cityCode)
			continue
		}
		id := mustParse(t, c.cityCode)
		if id.Country != "156" || id.CityNumber != c.gbt2260 || id.String() != c.cityCode {
			t.Errorf("%s: Parse(%s) = %+v", c.name, c.cityCode, id)
		}
		if strings.HasSuffix(got, "X") {
			xs++
			if lower := mustParse(t, strings.ToLower(got)); lower != id {
				t.Errorf("%s: lowercase x parses to %+v", got, lower)
			}
		}
	}
	if xs != 29 {
		t.Errorf("%d city codes end in X, want 29", xs)
	}
}

func TestCityCodeWithX(t *testing.T) {
	// Real cities whose check character is X.
	for number, name := range map[string]string{
		"110100": "北京市 (city districts)",
		"130400": "邯郸市 Handan",
		"350200": "厦门市 Xiamen",
		"540100": "拉萨市 Lhasa",
	} {
		cc, err := CityCode("156", number)
		if err != nil || cc != "156"+number+"X" {
			t.Errorf("%s: CityCode = %q, %v; want 156%sX", name, cc, err, number)
		}
	}
}
