package registry

import (
	_ "embed"
	"strings"
)

// CountryChina is the ISO 3166-1 numeric code of China, whose city numbers
// are GB/T 2260 division codes.
const CountryChina = "156"

//go:embed data/gbt2260.txt
var gbt2260Text string

// gbt2260Set is the set of GB/T 2260 codes a Chinese city number may be,
// read from the embedded table when the package loads and never written
// after: a constant table, only looked up.
var gbt2260Set = parseDivisions(gbt2260Text)

func parseDivisions(text string) map[string]bool {
	set := make(map[string]bool, 4096)
	for _, line := range strings.Split(text, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			set[line] = true
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
		return errorf(CodeInvalid, "city number %s is not a GB/T 2260 prefecture- or county-level division code: give the city's own code (130100 is Shijiazhuang) or %q to have a number allocated", number, AllocateCityNumber)
	}
	return nil
}
