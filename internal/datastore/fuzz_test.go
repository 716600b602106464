package datastore

import (
	"fmt"
	"testing"
)

// A state file never panics the reader, and one it accepts is in range and
// reads back as written.
func FuzzParseState(f *testing.F) {
	for _, s := range []string{"0 0\n", "10 100\n", "100 10\n", "-1 5", "1 2 3", "", "x y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		off, size, err := parseState([]byte(s))
		if err != nil {
			return
		}
		if off < 0 || size < 0 || off > size {
			t.Fatalf("%q accepted as %d of %d", s, off, size)
		}
		o2, s2, err := parseState(fmt.Appendf(nil, "%d %d\n", off, size))
		if err != nil || o2 != off || s2 != size {
			t.Fatalf("%q: round trip %d %d %v", s, o2, s2, err)
		}
	})
}

func FuzzValidName(f *testing.F) {
	f.Add(sum(nil))
	f.Add("../x")
	f.Fuzz(func(t *testing.T, s string) {
		if ValidName(s) && (len(s) != 64 || fmt.Sprintf("%x", mustHex(s)) != s) {
			t.Fatalf("%q taken for a sha256", s)
		}
	})
}

func mustHex(s string) []byte {
	b := make([]byte, len(s)/2)
	for i := range b {
		fmt.Sscanf(s[2*i:2*i+2], "%02x", &b[i])
	}
	return b
}
