package web

import (
	"slices"
	"strings"
	"testing"

	"github.com/cityid/cityid/internal/registry"
)

// Both languages have every word: a page executed with missingkey=error
// fails on a word one of them lacks.
func TestCatalog(t *testing.T) {
	c := catalog()
	keys := func(m map[string]string) []string {
		var out []string
		for k, v := range m {
			if v == "" {
				t.Errorf("%q is empty", k)
			}
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	if en, zh := keys(c[langEn]), keys(c[langZh]); !slices.Equal(en, zh) {
		t.Errorf("the languages have different words:\nen %v\nzh %v", en, zh)
	}
	// Status and kind words are looked up by the ledger's own strings.
	for _, k := range []string{registry.StatusActive, registry.StatusDeactivated, "city", "sector", "unit", "object"} {
		if c[langEn][k] == "" || c[langZh][k] == "" {
			t.Errorf("no word for %q", k)
		}
	}
}

func TestAcceptLanguage(t *testing.T) {
	for h, want := range map[string]string{
		"":                          "en",
		"zh":                        "zh",
		"zh-CN,zh;q=0.9,en;q=0.8":   "zh",
		"en-US,en;q=0.9,zh;q=0.8":   "en",
		"fr,de;q=0.9":               "en",
		"fr, zh-TW;q=0.5, en;q=0.4": "zh",
		"zh;q=0, en;q=0.1":          "en",
		"zh;q=x, en;q=0.1":          "en",
		"EN;q=0.2, ZH-HANS;q=0.3":   "zh",
	} {
		if got := fromAcceptLanguage(h); got != want {
			t.Errorf("%q: %s, want %s", h, got, want)
		}
	}
}

func TestValueViews(t *testing.T) {
	for s, want := range map[string]string{
		"https://a.example/x":      "https://a.example/x",
		"HTTP://a.example/":        "HTTP://a.example/",
		"javascript:alert(1)":      "",
		"JaVaScRiPt:alert(1)":      "",
		"data:text/html,<b>x</b>":  "",
		"ftp://a.example/":         "",
		"//a.example/":             "",
		"https://a.example/\u202e": "",
		"mailto:a@b.example":       "",
	} {
		if got := webURL(s); got != want {
			t.Errorf("webURL(%q) = %q, want %q", s, got, want)
		}
	}
	for s, want := range map[string]geoView{
		"38.0428,114.5149":      {Lat: "38.0428° N", Lon: "114.5149° E"},
		"-33.8688,-151.2093,58": {Lat: "33.8688° S", Lon: "151.2093° W", Alt: "58 m"},
	} {
		if got, ok := viewGeo(s); !ok || got != want {
			t.Errorf("viewGeo(%q) = %+v %v", s, got, ok)
		}
	}
	for _, bad := range []string{"1", "a,b", "1,2,3,4", "--1,2"} {
		if _, ok := viewGeo(bad); ok {
			t.Errorf("viewGeo(%q) accepted", bad)
		}
	}
	for n, want := range map[int64]string{0: "0 B", 999: "999 B", 1000: "1.0 kB", 1234567: "1.2 MB", 5_000_000_000: "5.0 GB"} {
		if got := humanSize(n); got != want {
			t.Errorf("humanSize(%d) = %q, want %q", n, got, want)
		}
	}
	for s, want := range map[string]string{
		"plain 中文":           "plain 中文",
		"a\u202eb":           "a⟨U+202E⟩b",
		"x\u200by\x07z":      "x⟨U+200B⟩y⟨U+0007⟩z",
		"line\nnext\ttabbed": "line\nnext\ttabbed",
	} {
		if got := visible(s); got != want {
			t.Errorf("visible(%q) = %q, want %q", s, got, want)
		}
	}
}

// The timeline says what each version changed, newest first.
func TestTimeline(t *testing.T) {
	v1 := registry.Record{Version: 1, Status: "active", Values: []registry.Value{{Index: 1, Type: "TEXT", Data: "a"}, {Index: 2, Type: "URL", Data: "https://x.example/"}}, Admins: []string{"k1"}}
	v2 := registry.Record{Version: 2, Status: "active", Values: []registry.Value{{Index: 1, Type: "TEXT", Data: "b"}, {Index: 3, Type: "EMAIL", Data: "a@b.example"}}, Admins: []string{"k1"}}
	v3 := registry.Record{Version: 3, Status: "deactivated", Reason: "closed", Values: v2.Values, Admins: []string{"k2"}}
	got := timeline(nil, []registry.Record{v1, v2, v3})
	if len(got) != 3 || got[0].Version != 3 || got[2].Version != 1 {
		t.Fatalf("%+v", got)
	}
	whats := func(cs []change) (out []string) {
		for _, c := range cs {
			out = append(out, c.What)
		}
		return out
	}
	for i, want := range [][]string{{"status", "admins"}, {"changed", "added", "removed"}, {"created"}} {
		if w := whats(got[i].Changes); !slices.Equal(w, want) {
			t.Errorf("version %d: %v, want %v", got[i].Version, w, want)
		}
	}
	// A page that starts after version 1 knows what its first changed
	// only from the version before it.
	if got := timeline(&v1, []registry.Record{v2}); !slices.Equal(whats(got[0].Changes), []string{"changed", "added", "removed"}) {
		t.Errorf("from v1: %+v", got[0].Changes)
	}
	if got := timeline(nil, []registry.Record{v2}); len(got[0].Changes) != 0 {
		t.Errorf("without the version before: %+v", got[0].Changes)
	}
}

// A public dataset says so on its page and in its timeline; making it
// public is a change.
func TestPublicDataset(t *testing.T) {
	ds := registry.Dataset{URI: "https://data.example/open.csv", SHA256: strings.Repeat("ab", 32), Size: 10, MediaType: "text/csv"}
	closed := registry.Value{Index: 1, Type: registry.TypeData, Dataset: &ds}
	open := ds
	open.Public = true
	public := registry.Value{Index: 1, Type: registry.TypeData, Dataset: &open}
	if v := viewValue(closed); v.Data == nil || v.Data.Public {
		t.Errorf("a dataset not public: %+v", v.Data)
	}
	if v := viewValue(public); v.Data == nil || !v.Data.Public {
		t.Errorf("a public dataset: %+v", v.Data)
	}
	v1 := registry.Record{Version: 1, Status: "active", Values: []registry.Value{closed}}
	v2 := registry.Record{Version: 2, Status: "active", Values: []registry.Value{public}}
	got := timeline(nil, []registry.Record{v1, v2})
	if c := got[0].Changes; len(c) != 1 || c[0].What != "changed" || strings.Contains(c[0].Old, "public") || !strings.HasSuffix(c[0].New, ", public)") {
		t.Errorf("made public: %+v", c)
	}
}
