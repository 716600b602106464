package registry

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCNCityTable checks the embedded GB/T 2260 tables: every row of both
// files is a code in the set and nothing else is, the city table is the
// same as the bench's own copy of the reference data, and known codes are
// in or out.
func TestCNCityTable(t *testing.T) {
	want := map[string]bool{}
	for _, table := range []string{gbt2260Cities, gbt2260Counties} {
		rows, err := csv.NewReader(strings.NewReader(table)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if rows[0][0] != "gbt2260" {
			t.Fatalf("header %v, want gbt2260 first", rows[0])
		}
		for _, row := range rows[1:] {
			want[row[0]] = true
		}
	}
	if len(gbt2260Set) != len(want) || len(want) < 3300 {
		t.Errorf("set has %d codes, the tables %d (want about 3,320)", len(gbt2260Set), len(want))
	}
	for c := range want {
		if !gbt2260Set[c] {
			t.Errorf("set lacks %s", c)
		}
	}
	bench, err := os.ReadFile(filepath.Join("..", "bench", "testdata", "cities.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if string(bench) != gbt2260Cities {
		t.Error("data/gbt2260-cities.csv differs from internal/bench/testdata/cities.csv: both are copies of shared/data/cn-divisions/cities.csv")
	}
	for _, tc := range []struct {
		number string
		ok     bool
	}{{"130100", true}, {"130181", true}, {"110100", true}, {"130000", false}, {"999999", false}, {"13010", false}, {"gbt226", false}} {
		if IsDivision(tc.number) != tc.ok {
			t.Errorf("IsDivision(%s) = %v, want %v", tc.number, !tc.ok, tc.ok)
		}
	}
}
