package registry

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"testing"
)

// TestCNCityTable checks the embedded GB/T 2260 table against the
// reference data it was made from: every prefecture- and county-level code
// of shared/data/cn-divisions, and nothing else.
func TestCNCityTable(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "data", "cn-divisions")
	want := map[string]bool{}
	for _, name := range []string{"cities.csv", "counties.csv"} {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("the reference data must sit beside the repository: %v", err)
		}
		rows, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, row := range rows[1:] {
			want[row[0]] = true
		}
	}
	got := gbt2260Set
	if len(got) != len(want) {
		t.Errorf("embedded table has %d codes, the reference %d", len(got), len(want))
	}
	for c := range want {
		if !got[c] {
			t.Errorf("embedded table lacks %s", c)
		}
	}
	for _, tc := range []struct {
		number string
		ok     bool
	}{{"130100", true}, {"130181", true}, {"110100", true}, {"130000", false}, {"999999", false}, {"13010", false}} {
		if IsDivision(tc.number) != tc.ok {
			t.Errorf("IsDivision(%s) = %v, want %v", tc.number, !tc.ok, tc.ok)
		}
	}
}
