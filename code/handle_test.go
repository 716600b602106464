package code

import "testing"

func TestParseHandle(t *testing.T) {
	for _, tt := range []struct{ prefix, suffix, want string }{
		{"1561301001.85.3", "school-0042", "1561301001.85.3/school-0042"},
		{"1561301001.85.3", "SCHOOL-0042", "1561301001.85.3/school-0042"},
		{"1561301001.85.3", "", "1561301001.85.3"},
		{"156110100x", "", "156110100X"},
		{"1561301001", "hall", "1561301001/hall"},
	} {
		got, err := ParseHandle(tt.prefix, tt.suffix)
		if err != nil || got.String() != tt.want {
			t.Errorf("ParseHandle(%q, %q) = %q, %v; want %q", tt.prefix, tt.suffix, got, err, tt.want)
		}
	}
	for _, tt := range []struct {
		prefix, suffix string
		want           errCase
	}{
		{"1561301001/x", "", errCase{ErrNotANode, 11, "position 11: handle prefix must be a node code: the local id goes in the suffix"}},
		{"1561301001.85/x", "y", errCase{ErrNotANode, 14, ""}},
		{"1561301007", "x", errCase{ErrBadCheckChar, 10, "position 10: check character is 7, want 1"}},
		{"", "x", errCase{ErrEmpty, 0, ""}},
		{"20.500.12345", "x", errCase{ErrTooShort, 3, ""}},
		{"1561301001", "a!", errCase{ErrBadChar, 2, "position 2: handle suffix: local id has character '!' outside A-Z a-z 0-9 - _"}},
		{"1561301001", "a/b", errCase{ErrBadChar, 2, ""}},
	} {
		_, err := ParseHandle(tt.prefix, tt.suffix)
		checkErr(t, tt.prefix+" "+tt.suffix, err, tt.want)
	}
}
