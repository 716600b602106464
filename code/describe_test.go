package code

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/describe")

// TestDescribeGolden pins the JSON that `cityid id parse` prints: its field
// names are a wire format other programs read.
func TestDescribeGolden(t *testing.T) {
	for name, in := range map[string]string{
		"city":          "156110100X",
		"sector":        "1561301001.85",
		"unit":          "1561301001.85.3",
		"object":        "1561301001.85.3/school-0042",
		"city-object":   "1561301001/85",
		"other-country": "0040000014.99.1/_x",
	} {
		t.Run(name, func(t *testing.T) {
			got, err := json.MarshalIndent(Describe(mustParse(t, in), DefaultFormOptions()), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", "describe", name+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Describe(%s) differs from %s:\n%s\nwant:\n%s", in, path, got, want)
			}
		})
	}
}

func TestDescribeFields(t *testing.T) {
	d := Describe(mustParse(t, "1561301001.85.3/school-0042"), DefaultFormOptions())
	if d.Canonical != "1561301001.85.3/school-0042" || d.Kind != KindObject || d.Check != "1" ||
		d.CityCode != "1561301001" || d.NodeCode != "1561301001.85.3" || d.Unit != "3" || d.LocalID != "school-0042" {
		t.Errorf("Describe = %+v", d)
	}
	if d.Country.Alpha3 != "CHN" || d.Country.NameZh != "中国" {
		t.Errorf("country = %+v", d.Country)
	}
	if d.Sector == nil || *d.Sector != (Sector{"85", "P", "Education"}) {
		t.Errorf("sector = %+v", d.Sector)
	}
	if d.Forms.OID != "" {
		t.Errorf("object has OID %q", d.Forms.OID)
	}
	n := Describe(mustParse(t, "1561301001"), DefaultFormOptions())
	if n.Sector != nil || n.Forms.OID != DefaultOIDArc+".156.130100" {
		t.Errorf("city: sector %+v, OID %q", n.Sector, n.Forms.OID)
	}
	// A bad arc in the options drops the OID rather than failing.
	if b := Describe(mustParse(t, "1561301001"), FormOptions{OIDArc: "x"}); b.Forms.OID != "" {
		t.Errorf("bad arc gave OID %q", b.Forms.OID)
	}
	// An invalid hand-built id does not panic.
	_ = Describe(ID{Country: "999", Sector: "04"}, DefaultFormOptions())
	_ = Describe(ID{}, FormOptions{})
}
