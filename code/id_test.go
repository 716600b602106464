package code

import (
	"strings"
	"testing"
)

func TestParentChain(t *testing.T) {
	id := mustParse(t, "1561301001.85.3/school-0042")
	want := []struct {
		s    string
		kind Kind
		node bool
	}{
		{"1561301001.85.3/school-0042", KindObject, false},
		{"1561301001.85.3", KindUnit, true},
		{"1561301001.85", KindSector, true},
		{"1561301001", KindCity, true},
	}
	for i, w := range want {
		if id.String() != w.s || id.Kind() != w.kind || id.IsNode() != w.node {
			t.Errorf("step %d: %q %s node=%v, want %q %s node=%v", i, id, id.Kind(), id.IsNode(), w.s, w.kind, w.node)
		}
		p, ok := id.Parent()
		if i == len(want)-1 {
			if ok || p != (ID{}) {
				t.Errorf("city has parent %+v, %v", p, ok)
			}
			break
		}
		if !ok {
			t.Fatalf("%q has no parent", id)
		}
		id = p
	}

	// Objects directly under a sector or a city have that node as parent.
	for in, parent := range map[string]string{
		"1561301001.85/x": "1561301001.85",
		"1561301001/x":    "1561301001",
	} {
		p, ok := mustParse(t, in).Parent()
		if !ok || p.String() != parent {
			t.Errorf("Parent(%s) = %q, %v; want %q", in, p, ok, parent)
		}
	}
}

func TestNodeAndCodes(t *testing.T) {
	id := mustParse(t, "156110100X.86.12/H1")
	if got := id.CityCode(); got != "156110100X" {
		t.Errorf("CityCode = %q", got)
	}
	if got := id.NodeCode(); got != "156110100X.86.12" {
		t.Errorf("NodeCode = %q", got)
	}
	if got := id.Node(); got != (ID{"156", "110100", "86", "12", ""}) {
		t.Errorf("Node = %+v", got)
	}
	if got := (ID{}).String(); got != "" {
		t.Errorf("zero ID String = %q, want empty", got)
	}
	// An invalid hand-built ID does not panic and marks the check unknown.
	if got := (ID{Country: "1x6", CityNumber: "130100"}).CityCode(); got != "1x6130100?" {
		t.Errorf("invalid CityCode = %q", got)
	}
}

func TestValidate(t *testing.T) {
	valid := []ID{
		{"156", "130100", "", "", ""},
		{"156", "130100", "85", "3", "school-0042"},
		{"156", "130100", "", "", "x"},
		{"004", "000001", "99", "999999", strings.Repeat("a", 64)},
	}
	for _, id := range valid {
		if err := id.Validate(); err != nil {
			t.Errorf("Validate(%+v): %v", id, err)
		}
	}
	invalid := []struct {
		id   ID
		want errCase
	}{
		{ID{}, errCase{ErrEmpty, 1, "position 1: country is empty"}},
		{ID{"999", "130100", "", "", ""}, errCase{ErrUnknownCountry, 1, "position 1: country 999 is not an ISO 3166-1 numeric code"}},
		{ID{"15", "130100", "", "", ""}, errCase{ErrTooShort, 3, "position 3: country is 2 digits, want 3"}},
		{ID{"1560", "130100", "", "", ""}, errCase{ErrTooLong, 4, "position 4: country is longer than 3 digits"}},
		{ID{"156", "13010", "", "", ""}, errCase{ErrTooShort, 6, "position 6: city number is 5 digits, want 6"}},
		{ID{"156", "13o100", "", "", ""}, errCase{ErrBadChar, 3, "position 3: city number has character 'o' outside 0-9"}},
		{ID{"156", "", "", "", ""}, errCase{ErrEmpty, 1, "position 1: city number is empty"}},
		{ID{"156", "130100", "04", "", ""}, errCase{ErrUnknownSector, 1, "position 1: sector 04 is not an ISIC Rev.4 division"}},
		{ID{"156", "130100", "", "3", ""}, errCase{ErrEmpty, 0, "sector is empty but unit is set: a unit belongs to a sector"}},
		{ID{"156", "130100", "85", "03", ""}, errCase{ErrLeadingZero, 1, "position 1: unit has a leading zero"}},
		{ID{"156", "130100", "85", "3", "School"}, errCase{ErrBadChar, 1, "position 1: local id has uppercase character 'S': the canonical form is lowercase (use ParseLocal)"}},
		{ID{"156", "130100", "85", "3", "a b"}, errCase{ErrBadChar, 2, ""}},
	}
	for _, tt := range invalid {
		checkErr(t, tt.id.Country+"|"+tt.id.CityNumber+"|"+tt.id.Sector+"|"+tt.id.Unit+"|"+tt.id.Local, tt.id.Validate(), tt.want)
	}
}

func TestConstructors(t *testing.T) {
	city, err := NewCity("156", "130100")
	if err != nil || city != (ID{Country: "156", CityNumber: "130100"}) {
		t.Fatalf("NewCity = %+v, %v", city, err)
	}
	sector, err := city.WithSector("85")
	if err != nil || sector.String() != "1561301001.85" {
		t.Fatalf("WithSector = %q, %v", sector, err)
	}
	unit, err := sector.WithUnit("3")
	if err != nil || unit.String() != "1561301001.85.3" {
		t.Fatalf("WithUnit = %q, %v", unit, err)
	}
	obj, err := unit.WithLocal("School-0042")
	if err != nil || obj.String() != "1561301001.85.3/school-0042" {
		t.Fatalf("WithLocal = %q, %v", obj, err)
	}
	if obj != mustParse(t, "1561301001.85.3/school-0042") {
		t.Error("built and parsed IDs differ")
	}

	// The With* methods replace what is below the level they set.
	if got, _ := obj.WithSector("86"); got.String() != "1561301001.86" {
		t.Errorf("obj.WithSector(86) = %q", got)
	}
	if got, _ := obj.WithUnit("4"); got.String() != "1561301001.85.4" {
		t.Errorf("obj.WithUnit(4) = %q", got)
	}
	if got, _ := obj.WithLocal("other"); got.String() != "1561301001.85.3/other" {
		t.Errorf("obj.WithLocal(other) = %q", got)
	}
	if got, _ := city.WithLocal("hall"); got.String() != "1561301001/hall" {
		t.Errorf("city.WithLocal(hall) = %q", got)
	}

	errs := []struct {
		name string
		err  error
		want errCase
	}{
		{"CityCode unknown country", second(CityCode("999", "130100")), errCase{ErrUnknownCountry, 1, "position 1: country 999 is not an ISO 3166-1 numeric code"}},
		{"CityCode short number", second(CityCode("156", "1301")), errCase{ErrTooShort, 5, "position 5: city number is 4 digits, want 6"}},
		{"CityCode long number", second(CityCode("156", "1301000")), errCase{ErrTooLong, 7, "position 7: city number is longer than 6 digits"}},
		{"CityCode bad char", second(CityCode("15a", "130100")), errCase{ErrBadChar, 3, "position 3: country has character 'a' outside 0-9"}},
		{"NewCity empty", second(NewCity("", "")), errCase{ErrEmpty, 1, "position 1: country is empty"}},
		{"WithSector 04", second(city.WithSector("04")), errCase{ErrUnknownSector, 1, "position 1: sector 04 is not an ISIC Rev.4 division"}},
		{"WithSector 8", second(city.WithSector("8")), errCase{ErrTooShort, 2, "position 2: sector is 1 digit, want 2"}},
		{"WithSector on invalid id", second(ID{Country: "999", CityNumber: "130100"}.WithSector("85")), errCase{ErrUnknownCountry, 1, ""}},
		{"WithUnit without sector", second(city.WithUnit("3")), errCase{ErrEmpty, 0, "identifier 1561301001 has no sector: a unit belongs to a sector"}},
		{"WithUnit 03", second(sector.WithUnit("03")), errCase{ErrLeadingZero, 1, "position 1: unit has a leading zero"}},
		{"WithUnit 0", second(sector.WithUnit("0")), errCase{ErrLeadingZero, 1, ""}},
		{"WithUnit too long", second(sector.WithUnit("1234567")), errCase{ErrTooLong, 7, ""}},
		{"WithUnit empty", second(sector.WithUnit("")), errCase{ErrEmpty, 1, ""}},
		{"WithLocal bad", second(unit.WithLocal("a!")), errCase{ErrBadChar, 2, "position 2: local id has character '!' outside A-Z a-z 0-9 - _"}},
		{"WithUnit on invalid id", second(ID{Country: "156", CityNumber: "1"}.WithUnit("3")), errCase{ErrTooShort, 2, ""}},
		{"WithLocal on invalid id", second(ID{Country: "156", CityNumber: "130100", Sector: "00"}.WithLocal("x")), errCase{ErrUnknownSector, 1, ""}},
		{"WithLocal empty", second(unit.WithLocal("")), errCase{ErrEmpty, 1, ""}},
	}
	for _, tt := range errs {
		checkErr(t, tt.name, tt.err, tt.want)
	}
}

// second returns the error of a two-value call.
func second[T any](_ T, err error) error { return err }
