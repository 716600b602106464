package code

import (
	_ "embed"
	"encoding/csv"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// The two tables behind the grammar, copied byte for byte from the project's
// reference data (shared/data/iso3166-1.csv and isic-rev4-divisions.csv) so
// that the package needs no files at run time.
var (
	//go:embed data/iso3166-1.csv
	countriesCSV string
	//go:embed data/isic-rev4-divisions.csv
	sectorsCSV string
)

// Country is one ISO 3166-1 entry. Numeric is the country part of a city code.
type Country struct {
	Numeric string `json:"numeric"` // "156"
	Alpha2  string `json:"alpha2"`  // "CN"
	Alpha3  string `json:"alpha3"`  // "CHN"
	NameEn  string `json:"name_en"` // "China"
	NameZh  string `json:"name_zh"` // "中国"
}

// Sector is one ISIC Rev.4 division: the only valid sector values.
type Sector struct {
	Division string `json:"division"` // "85"
	Section  string `json:"section"`  // "P"
	Title    string `json:"title"`    // "Education"
}

// table is a parsed reference table: rows in key order and an index by key.
// It is built once and only read afterwards.
type table[T any] struct {
	rows  []T
	index map[string]int
}

func (t table[T]) lookup(key string) (T, bool) {
	i, ok := t.index[key]
	if !ok {
		var zero T
		return zero, false
	}
	return t.rows[i], true
}

// The tables are parsed on first use. A parse error can only come from a bad
// copy of the embedded files, which TestTables catches; it is a build defect,
// not an input, so it panics rather than leaving every code "unknown".
var (
	countryTable = sync.OnceValue(func() table[Country] {
		t, err := loadTable(countriesCSV, []string{"numeric", "alpha2", "alpha3", "name_en", "name_zh"},
			func(r []string) (string, Country) {
				return r[0], Country{Numeric: r[0], Alpha2: r[1], Alpha3: r[2], NameEn: r[3], NameZh: r[4]}
			}, 3)
		if err != nil {
			panic("code: embedded data/iso3166-1.csv: " + err.Error())
		}
		return t
	})
	sectorTable = sync.OnceValue(func() table[Sector] {
		t, err := loadTable(sectorsCSV, []string{"division", "section", "title"},
			func(r []string) (string, Sector) {
				return r[0], Sector{Division: r[0], Section: r[1], Title: r[2]}
			}, 2)
		if err != nil {
			panic("code: embedded data/isic-rev4-divisions.csv: " + err.Error())
		}
		return t
	})
)

// loadTable parses a CSV with the given header whose first column is a key of
// keyLen digits, unique, and returns its rows sorted by key.
func loadTable[T any](text string, header []string, row func([]string) (string, T), keyLen int) (table[T], error) {
	r := csv.NewReader(strings.NewReader(text))
	r.FieldsPerRecord = len(header)
	recs, err := r.ReadAll()
	if err != nil {
		return table[T]{}, err
	}
	if len(recs) == 0 || !slices.Equal(recs[0], header) {
		return table[T]{}, fmt.Errorf("header is not %v", header)
	}
	type keyed struct {
		key string
		val T
	}
	var ks []keyed
	for _, rec := range recs[1:] {
		k, v := row(rec)
		if len(k) != keyLen || !allDigits(k) {
			return table[T]{}, fmt.Errorf("key %q is not %d digits", k, keyLen)
		}
		ks = append(ks, keyed{k, v})
	}
	slices.SortFunc(ks, func(a, b keyed) int { return strings.Compare(a.key, b.key) })
	t := table[T]{index: make(map[string]int, len(ks))}
	for i, kv := range ks {
		if _, dup := t.index[kv.key]; dup {
			return table[T]{}, fmt.Errorf("key %s appears twice", kv.key)
		}
		t.index[kv.key] = i
		t.rows = append(t.rows, kv.val)
	}
	return t, nil
}

// LookupCountry returns the ISO 3166-1 country with the 3-digit numeric code.
func LookupCountry(numeric string) (Country, bool) { return countryTable().lookup(numeric) }

// LookupSector returns the ISIC Rev.4 division with the 2-digit code.
func LookupSector(division string) (Sector, bool) { return sectorTable().lookup(division) }

// Countries returns every ISO 3166-1 country in numeric order, in a fresh
// slice the caller may change.
func Countries() []Country { return slices.Clone(countryTable().rows) }

// Sectors returns every ISIC Rev.4 division in order, in a fresh slice the
// caller may change.
func Sectors() []Sector { return slices.Clone(sectorTable().rows) }
