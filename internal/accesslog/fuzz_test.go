package accesslog

import (
	"encoding/json"
	"testing"
)

// A line read back never panics, and an entry that parses encodes and
// parses again to itself, with the same hash.
func FuzzParseLine(f *testing.F) {
	e := chain(1)[0]
	line, _ := json.Marshal(e)
	f.Add(string(line))
	f.Add(`{"seq":1}`)
	f.Add(`{"seq":-1}`)
	f.Add(`{"seq":1,"x":2}`)
	f.Add("")
	f.Fuzz(func(t *testing.T, line string) {
		e, err := parseLine([]byte(line))
		if err != nil {
			return
		}
		again, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		back, err := parseLine(again)
		if err != nil || back != e || back.ComputeHash() != e.ComputeHash() {
			t.Fatalf("%q: round trip %+v, %v", line, back, err)
		}
	})
}

// File names and datasets map one to one: any dataset FileName accepts
// comes back from DatasetOf, and any name DatasetOf accepts is FileName's.
func FuzzFileName(f *testing.F) {
	for _, s := range []string{dsA, ".x", "a%2Fb", "é/", "x.log"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if checkDataset(s) == nil {
			if back, ok := DatasetOf(FileName(s)); !ok || back != s {
				t.Fatalf("%q → %q → %q %v", s, FileName(s), back, ok)
			}
		}
		if ds, ok := DatasetOf(s); ok && FileName(ds) != s {
			t.Fatalf("%q read as %q, whose name is %q", s, ds, FileName(ds))
		}
	})
}
