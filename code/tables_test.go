package code

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestTablesLoad(t *testing.T) {
	// The loaders panic on a bad embedded copy; call them directly so a
	// broken file fails here with its own message.
	if _, err := loadTable(countriesCSV, []string{"numeric", "alpha2", "alpha3", "name_en", "name_zh"},
		func(r []string) (string, Country) { return r[0], Country{} }, 3); err != nil {
		t.Fatalf("countries: %v", err)
	}
	if _, err := loadTable(sectorsCSV, []string{"division", "section", "title"},
		func(r []string) (string, Sector) { return r[0], Sector{} }, 2); err != nil {
		t.Fatalf("sectors: %v", err)
	}
}

func TestLoadTableRejectsBadData(t *testing.T) {
	row := func(r []string) (string, Sector) { return r[0], Sector{Division: r[0]} }
	hdr := []string{"division", "section", "title"}
	for name, text := range map[string]string{
		"wrong header":  "div,section,title\n01,A,x\n",
		"short key":     "division,section,title\n1,A,x\n",
		"duplicate key": "division,section,title\n01,A,x\n01,A,y\n",
		"missing field": "division,section,title\n01,A\n",
		"empty":         "",
	} {
		if _, err := loadTable(text, hdr, row, 2); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestCountries(t *testing.T) {
	cs := Countries()
	if len(cs) != 250 {
		t.Errorf("%d countries, want 250", len(cs))
	}
	if !slices.IsSortedFunc(cs, func(a, b Country) int { return strings.Compare(a.Numeric, b.Numeric) }) {
		t.Error("Countries() is not in numeric order")
	}
	num, a2, a3 := regexp.MustCompile(`^\d{3}$`), regexp.MustCompile(`^[A-Z]{2}$`), regexp.MustCompile(`^[A-Z]{3}$`)
	seen2, seen3 := map[string]bool{}, map[string]bool{}
	for _, c := range cs {
		if !num.MatchString(c.Numeric) || !a2.MatchString(c.Alpha2) || !a3.MatchString(c.Alpha3) || c.NameEn == "" || c.NameZh == "" {
			t.Errorf("malformed row %+v", c)
		}
		if seen2[c.Alpha2] || seen3[c.Alpha3] {
			t.Errorf("duplicate alpha code in %+v", c)
		}
		seen2[c.Alpha2], seen3[c.Alpha3] = true, true
		if got, ok := LookupCountry(c.Numeric); !ok || got != c {
			t.Errorf("LookupCountry(%s) = %+v, %v", c.Numeric, got, ok)
		}
	}

	known := []Country{
		{"156", "CN", "CHN", "People's Republic of China", "中国"},
		{"004", "AF", "AFG", "Afghanistan", "阿富汗"},
		{"840", "US", "USA", "United States of America", "美国"},
		{"092", "VG", "VGB", "Virgin Islands, British", "英属维尔京群岛"}, // quoted field with a comma
	}
	for _, want := range known {
		got, ok := LookupCountry(want.Numeric)
		if !ok || got != want {
			t.Errorf("LookupCountry(%s) = %+v, %v; want %+v", want.Numeric, got, ok, want)
		}
	}
	for _, bad := range []string{"000", "999", "", "15", "1560", "CHN", "156\r"} {
		if c, ok := LookupCountry(bad); ok {
			t.Errorf("LookupCountry(%q) = %+v, want not found", bad, c)
		}
	}
}

func TestSectors(t *testing.T) {
	ss := Sectors()
	if len(ss) != 88 {
		t.Errorf("%d divisions, want 88", len(ss))
	}
	if !slices.IsSortedFunc(ss, func(a, b Sector) int { return strings.Compare(a.Division, b.Division) }) {
		t.Error("Sectors() is not in order")
	}
	sec := regexp.MustCompile(`^[A-U]$`)
	for _, s := range ss {
		if !sec.MatchString(s.Section) || s.Title == "" {
			t.Errorf("malformed row %+v", s)
		}
	}
	known := []Sector{
		{"85", "P", "Education"},
		{"86", "Q", "Human health activities"},
		{"36", "E", "Water collection, treatment and supply"},
		{"37", "E", "Sewerage"},
		{"84", "O", "Public administration and defence; compulsory social security"},
		{"01", "A", "Crop and animal production, hunting and related service activities"},
		// 99 is a real ISIC Rev.4 division (section U).
		{"99", "U", "Activities of extraterritorial organizations and bodies"},
	}
	for _, want := range known {
		got, ok := LookupSector(want.Division)
		if !ok || got != want {
			t.Errorf("LookupSector(%s) = %+v, %v; want %+v", want.Division, got, ok, want)
		}
	}
	// The gaps in ISIC Rev.4's numbering are not divisions.
	for _, gap := range []string{"00", "04", "34", "40", "44", "48", "54", "57", "67", "76", "83", "89", "", "5", "085"} {
		if s, ok := LookupSector(gap); ok {
			t.Errorf("LookupSector(%q) = %+v, want not a division", gap, s)
		}
	}
}

func TestTablesAreFreshCopies(t *testing.T) {
	cs := Countries()
	cs[0].NameEn = "changed"
	ss := Sectors()
	ss[0].Title = "changed"
	if Countries()[0].NameEn == "changed" || Sectors()[0].Title == "changed" {
		t.Error("changing a returned slice changed the table")
	}
}
