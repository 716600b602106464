package code

import "testing"

func TestParseResolverURL(t *testing.T) {
	const base = "http://127.0.0.1:8680"
	want := mustParse(t, "1561301001.85.3/school-0042")
	for _, tt := range []struct{ base, u string }{
		{base, "http://127.0.0.1:8680/r/1561301001.85.3/school-0042"},
		{base + "/", "http://127.0.0.1:8680/r/1561301001.85.3/school-0042"},
		{base + "//", "http://127.0.0.1:8680/r/1561301001.85.3/school-0042"},
		{base, "HTTP://127.0.0.1:8680/R/1561301001.85.3/SCHOOL-0042"},
		{"https://id.example.org/cityid", "https://id.example.org/cityid/r/1561301001.85.3/school-0042"},
	} {
		got, err := ParseResolverURL(tt.base, tt.u)
		if err != nil || got != want {
			t.Errorf("ParseResolverURL(%q, %q) = %+v, %v", tt.base, tt.u, got, err)
		}
	}
	for in, want := range map[string]errCase{
		"":                                            {ErrBadForm, 1, `position 1: URL is not under resolver "http://127.0.0.1:8680/r/"`},
		"https://127.0.0.1:8680/r/1561301001":         {ErrBadForm, 1, ""},
		"http://127.0.0.1:8680/x/1561301001":          {ErrBadForm, 1, ""},
		"http://127.0.0.1:8680/1561301001":            {ErrBadForm, 1, ""},
		"http://127.0.0.1:8680/r/":                    {ErrEmpty, 0, "identifier is empty"},
		"http://127.0.0.1:8680/r/1561301007":          {ErrBadCheckChar, 34, "position 34: check character is 7, want 1"},
		"http://127.0.0.1:8680/r/1561301001?x=1":      {ErrTrailingJunk, 35, "position 35: trailing junk after the city code"},
		"http://127.0.0.1:8680/r/1561301001#frag":     {ErrTrailingJunk, 35, ""},
		"http://127.0.0.1:8680/r/1561301001/a%2Fb":    {ErrBadChar, 37, ""},
		"http://127.0.0.1:8680/r/1561301001/x?utm=qr": {ErrBadChar, 37, ""},
	} {
		_, err := ParseResolverURL(base, in)
		checkErr(t, in, err, want)
	}
	// Positions count characters of a non-ASCII base too.
	_, err := ParseResolverURL("http://例子.cn", "http://例子.cn/r/1561301007")
	checkErr(t, "IDN base", err, errCase{ErrBadCheckChar, 25, ""})
}
