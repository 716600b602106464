package registry

import (
	"net/url"
	"testing"
)

// plainWebURLCases are URLs on either side of plainWebURL's form: those it
// takes (plain) must parse with their host and pass checkURLParsed; the
// others go to the parser, which takes some of them and refuses others.
var plainWebURLCases = []struct {
	s     string
	plain bool
}{
	{"https://sjz.example.org/s/00000001", true},
	{"http://a", true},
	{"https://a.b-c_d~e/", true},
	{"https://x/p:a@b/!$&'()*+,;=~._-", true},
	{"https://X.Example.ORG/Path", true},
	{"", false},
	{"https://", false},
	{"https:///x", false},
	{"https://x:8080/", false},
	{"https://u@x/", false},
	{"https://x/?q=1", false},
	{"https://x/#f", false},
	{"https://x/%41", false},
	{"https://x/a b", false},
	{"https://[::1]/", false},
	{"HTTPS://x/", false},
	{"ftp://x/", false},
	{"https:x", false},
	{"https://x/\x7f", false},
	{"https://x/\u00e9", false},
	{"https://x\\y/", false},
	{"https://x/\u200e", false},
	{"mailto:a@b", false},
}

// TestPlainWebURL checks plainWebURL's verdict on each case and that what
// it takes, the parser takes alike.
func TestPlainWebURL(t *testing.T) {
	for _, c := range plainWebURLCases {
		if got := plainWebURL(c.s); got != c.plain {
			t.Errorf("plainWebURL(%q) = %v, want %v", c.s, got, c.plain)
		}
		if c.plain {
			checkPlainAgrees(t, c.s)
		}
	}
}

// FuzzPlainWebURL: every URL plainWebURL takes, url.Parse takes with a
// host, and checkURLParsed does not refuse.
func FuzzPlainWebURL(f *testing.F) {
	for _, c := range plainWebURLCases {
		f.Add(c.s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if plainWebURL(s) {
			checkPlainAgrees(t, s)
		}
	})
}

func checkPlainAgrees(t *testing.T, s string) {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatalf("plainWebURL took %q, which url.Parse refuses: %v", s, err)
	}
	if u.Host == "" || u.Scheme != "http" && u.Scheme != "https" {
		t.Fatalf("plainWebURL took %q: url.Parse reads scheme %q, host %q", s, u.Scheme, u.Host)
	}
	if err := checkURLParsed(s); err != nil {
		t.Fatalf("plainWebURL took %q, which checkURLParsed refuses: %s", s, err.Msg)
	}
}
