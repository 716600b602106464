package registry

import (
	_ "embed"
	"strings"
)

// CountryChina is the ISO 3166-1 numeric code of China, whose city numbers
// are GB/T 2260 division codes.
const CountryChina = "156"

// The GB/T 2260 prefecture- and county-level divisions, copied unchanged
// from shared/data/cn-divisions (cities.csv, counties.csv): the first
// column of each row after the header is a six-digit code.
var (
	//go:embed data/gbt2260-cities.csv
	gbt2260Cities string
	//go:embed data/gbt2260-counties.csv
	gbt2260Counties string
)

// gbt2260Set is the set of GB/T 2260 codes a Chinese city number may be,
// read from the embedded tables when the package loads and never written
// after: a constant table, only looked up.
var gbt2260Set = parseDivisions(gbt2260Cities, gbt2260Counties)

func parseDivisions(tables ...string) map[string]bool {
	set := make(map[string]bool, 4096)
	for _, table := range tables {
		for i, line := range strings.Split(table, "\n") {
			code, _, _ := strings.Cut(strings.TrimSpace(line), ",")
			if i == 0 || len(code) != 6 || strings.Trim(code, "0123456789") != "" {
				continue // the header, or an empty last line
			}
			set[code] = true
		}
	}
	return set
}

// IsDivision reports whether number is a GB/T 2260 prefecture- or
// county-level division code (a city number China has given a city).
func IsDivision(number string) bool { return gbt2260Set[number] }

// checkNationalNumber refuses a hand-picked city number that the country's
// own division table does not have. Only China's table is shipped; other
// countries' numbers are checked for form only.
func checkNationalNumber(country, number string) *Error {
	if country == CountryChina && !IsDivision(number) {
		return errorf(CodeInvalid, "city number %s is not a GB/T 2260 prefecture- or county-level division code: give the city's own code (130100 is Shijiazhuang) or %q to have one allocated", number, AllocateCityNumber)
	}
	return nil
}
