package code

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// Published ISO/IEC 7064 MOD 11-2 vectors. The last character of each is the
// check character of the digits before it.
var mod112Vectors = []struct {
	source string
	number string // as published, separators included
}{
	{"ORCID support: structure of the ORCID identifier", "0000-0002-1825-0097"},
	{"ORCID support: structure of the ORCID identifier", "0000-0001-5109-3700"},
	{"ORCID support: structure of the ORCID identifier", "0000-0002-1694-233X"},
	{"ISO/IEC 7064 worked example (python-stdnum iso7064.mod_11_2)", "07940"},
	{"ISO/IEC 7064 worked example (python-stdnum iso7064.mod_11_2)", "079X"},
	{"GB 11643-1999 citizen identity number, sample in the standard", "11010519491231002X"},
	{"GB 11643-1999 citizen identity number, sample in the standard", "440524188001010014"},
	{"DESIGN.md section 1: Shijiazhuang, 156 + 130100", "1561301001"},
}

func TestCheckCharPublishedVectors(t *testing.T) {
	for _, v := range mod112Vectors {
		d := strings.ReplaceAll(v.number, "-", "")
		digits, want := d[:len(d)-1], d[len(d)-1]
		got, err := CheckChar(digits)
		if err != nil {
			t.Errorf("%s (%s): %v", v.number, v.source, err)
			continue
		}
		if got != want {
			t.Errorf("%s (%s): CheckChar(%s) = %c, want %c", v.number, v.source, digits, got, want)
		}
	}
}

func TestCheckCharRequiredVectors(t *testing.T) {
	// The two vectors the design names explicitly.
	if c, _ := CheckChar("000000021825009"); c != '7' {
		t.Errorf("ORCID 0000-0002-1825-0097: got %c, want 7", c)
	}
	if cc, _ := CityCode("156", "130100"); cc != "1561301001" {
		t.Errorf("CityCode(156, 130100) = %q, want 1561301001", cc)
	}
}

// weightedCheck is ISO/IEC 7064's other statement of MOD 11-2, computed
// differently from mod112: with weights 2^(n-i) mod 11 the whole string,
// check character (X = 10) included, sums to 1 mod 11.
func weightedValid(s string) bool {
	sum, w := 0, 1
	for i := len(s) - 1; i >= 0; i-- {
		v := int(s[i] - '0')
		if s[i] == 'X' {
			v = 10
		}
		sum = (sum + v*w) % 11
		w = w * 2 % 11
	}
	return sum == 1
}

func TestCheckCharAgreesWithWeightedSum(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 5000; n++ {
		b := make([]byte, 1+r.IntN(40))
		for i := range b {
			b[i] = byte('0' + r.IntN(10))
		}
		c, err := CheckChar(string(b))
		if err != nil {
			t.Fatal(err)
		}
		if !weightedValid(string(b) + string(c)) {
			t.Fatalf("CheckChar(%s) = %c does not satisfy the weighted sum", b, c)
		}
	}
}

func TestCheckCharDetectsSingleErrors(t *testing.T) {
	// MOD 11-2 detects every single substitution and every adjacent
	// transposition of different digits: for every city code of China's
	// prefecture cities, no such change keeps the check character.
	for _, row := range cnCities(t) {
		digits := "156" + row.gbt2260
		want, _ := CheckChar(digits)
		for i := 0; i < len(digits); i++ {
			for d := byte('0'); d <= '9'; d++ {
				if d == digits[i] {
					continue
				}
				changed := digits[:i] + string(d) + digits[i+1:]
				if c, _ := CheckChar(changed); c == want {
					t.Errorf("substitution %s -> %s keeps check %c", digits, changed, c)
				}
			}
			if i+1 < len(digits) && digits[i] != digits[i+1] {
				swapped := digits[:i] + string(digits[i+1]) + string(digits[i]) + digits[i+2:]
				if c, _ := CheckChar(swapped); c == want {
					t.Errorf("transposition %s -> %s keeps check %c", digits, swapped, c)
				}
			}
		}
	}
}

func TestCheckCharErrors(t *testing.T) {
	tests := []struct {
		in   string
		want errCase
	}{
		{"", errCase{ErrEmpty, 0, "no digits to compute a check character over"}},
		{"12a4", errCase{ErrBadChar, 3, "position 3: character 'a' is not a digit 0-9"}},
		{"12X", errCase{ErrBadChar, 3, ""}},
		{"1 2", errCase{ErrBadChar, 2, "position 2: character ' ' is not a digit 0-9"}},
		{"中1", errCase{ErrBadChar, 1, "position 1: character '中' is not a digit 0-9"}},
		{"1中中x", errCase{ErrBadChar, 2, ""}},
		{"12\xff", errCase{ErrBadChar, 3, `position 3: character '\xff' is not a digit 0-9`}},
	}
	for _, tt := range tests {
		_, err := CheckChar(tt.in)
		checkErr(t, tt.in, err, tt.want)
	}
}

func TestCheckCharLongInput(t *testing.T) {
	// Any number of digits: no overflow on long input.
	s := strings.Repeat("9876543210", 10000)
	c, err := CheckChar(s)
	if err != nil {
		t.Fatal(err)
	}
	if !weightedValid(s + string(c)) {
		t.Errorf("long input: check %c fails the weighted sum", c)
	}
}
