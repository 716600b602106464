package code

import (
	"strings"
	"testing"
)

// Fuzz targets for every parser. Each checks the same contract: no panic; a
// rejection is an *Error with a known code, a position inside the input (or
// one past its end) and a valid UTF-8 message, and comes with the zero ID;
// an accepted input is the canonical form up to case, and formats back to
// something that parses to the same ID.

// fuzzSeeds are identifiers and near-misses shared by the targets.
var fuzzSeeds = append([]string{
	"", "1561301007", "9991301001", "1561301001.04", "1561301001.85.03",
	"1561301001.85.3/a!", "1561301001 ", "156110100x", "1561301001.85.3/SCHOOL-0042",
	"1561301001.85.3.4", "1561301001/学校", "1561301001/ab\xff", "15613010011", "1561301001.",
}, formIDs...)

// checkRoundTrips checks that a valid id survives every form.
func checkRoundTrips(t *testing.T, id ID) {
	t.Helper()
	if err := id.Validate(); err != nil {
		t.Fatalf("%+v: parsed but Validate: %v", id, err)
	}
	s := id.String()
	if b, err := id.AppendText([]byte("x")); err != nil || string(b) != "x"+s {
		t.Fatalf("%+v: AppendText gives %q, String %q", id, b, s)
	}
	if got, err := Parse(s); err != nil || got != id {
		t.Fatalf("Parse(%q) = %+v, %v; want %+v", s, got, err, id)
	}
	if got, err := ParseURN(id.URN()); err != nil || got != id {
		t.Fatalf("ParseURN(%q) = %+v, %v", id.URN(), got, err)
	}
	if id.IsNode() {
		oid, err := id.OID(DefaultOIDArc)
		if err != nil {
			t.Fatalf("%s: OID: %v", s, err)
		}
		if got, err := ParseOID(DefaultOIDArc, oid); err != nil || got != id {
			t.Fatalf("ParseOID(%q) = %+v, %v", oid, got, err)
		}
	}
	name := id.DNSName("cityid.internal.")
	if got, err := ParseDNSName("cityid.internal.", name); err != nil || got != id {
		t.Fatalf("ParseDNSName(%q) = %+v, %v", name, got, err)
	}
	p, sfx := id.Handle()
	if got, err := ParseHandle(p, sfx); err != nil || got != id {
		t.Fatalf("ParseHandle(%q, %q) = %+v, %v", p, sfx, got, err)
	}
	iso := id.ISO15459("MA")
	if got, err := ParseISO15459("MA", iso); err != nil || got != id {
		t.Fatalf("ParseISO15459(%q) = %+v, %v", iso, got, err)
	}
	u := id.ResolverURL("http://127.0.0.1:8680")
	if got, err := ParseResolverURL("http://127.0.0.1:8680", u); err != nil || got != id {
		t.Fatalf("ParseResolverURL(%q) = %+v, %v", u, got, err)
	}
}

// checkResult applies the contract to one parse result.
func checkResult(t *testing.T, input string, id ID, err error, canonical func(ID) string) {
	t.Helper()
	if err != nil {
		checkErrShape(t, input, err)
		if id != (ID{}) {
			t.Fatalf("%q: rejected but returned %+v", input, id)
		}
		return
	}
	if c := canonical(id); asciiLower(input) != asciiLower(c) {
		t.Fatalf("%q accepted as %+v, whose form is %q: not the same text up to case", input, id, c)
	}
	checkRoundTrips(t, id)
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := Parse(s)
		checkResult(t, s, id, err, ID.String)
	})
}

func FuzzParseURN(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add("urn:cityid:" + s)
	}
	f.Add("URN:CityID:1561301001")
	f.Add("urn:isbn:0451450523")
	f.Add("urn:cityid")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseURN(s)
		checkResult(t, s, id, err, ID.URN)
	})
}

func FuzzParseOID(f *testing.F) {
	for _, s := range formIDs {
		if id := mustParse(f, s); id.IsNode() {
			oid, _ := id.OID("1.2.3")
			f.Add("1.2.3", oid)
		}
	}
	for _, s := range []string{"1.2.3", "1.2.3.", "1.2.3.156", "1.2.3.0156.130100", "1.2.3.156.130100.4",
		"1.2.3.156.130100.85.0", "1.2.3.156.130100.85.3.1", "1.2.3.4.1.1.1", "1.2.3.156.130100.85.一"} {
		f.Add("1.2.3", s)
	}
	f.Add(DefaultOIDArc, DefaultOIDArc+".156.130100")
	f.Add("1.40", "1.40.156.130100")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, arc, s string) {
		id, err := ParseOID(arc, s)
		if err != nil && checkArc(arc) != nil {
			checkErrShape(t, arc, err)
			if ErrorCode(err) != ErrBadArc {
				t.Fatalf("bad arc %q gave %v", arc, err)
			}
			return
		}
		checkResult(t, s, id, err, func(id ID) string {
			oid, err := id.OID(arc)
			if err != nil {
				t.Fatalf("%q parsed as %+v but OID: %v", s, id, err)
			}
			return oid
		})
	})
}

func FuzzParseDNSName(f *testing.F) {
	for _, s := range formIDs {
		id := mustParse(f, s)
		f.Add("cityid.internal.", id.DNSName("cityid.internal."))
		f.Add("", id.DNSName(""))
	}
	for _, s := range []string{"", "cityid.internal.", "1561301001.example.org.", "4.3.85.1561301001.cityid.internal",
		"_school.1561301001.cityid.internal", "aaa.bbb.1561301001.cityid.internal", "学校.1561301007.cityid.internal.",
		".1561301001.cityid.internal.", "a..1561301001.cityid.internal."} {
		f.Add("cityid.internal.", s)
	}
	f.Add(".", "1561301001")
	f.Add("..", "1561301001...")
	f.Fuzz(func(t *testing.T, zone, name string) {
		id, err := ParseDNSName(zone, name)
		if err == nil {
			// The name is the canonical one up to case and the final dot.
			got := asciiLower(strings.TrimSuffix(name, "."))
			want := strings.TrimSuffix(id.DNSName(zone), ".")
			if got != want {
				t.Fatalf("ParseDNSName(%q, %q) = %+v, whose name is %q", zone, name, id, want)
			}
			checkRoundTrips(t, id)
			if again, err := ParseDNSName(zone, id.DNSName(zone)); err != nil || again != id {
				t.Fatalf("zone %q: ParseDNSName(DNSName) = %+v, %v", zone, again, err)
			}
			return
		}
		checkResult(t, name, id, err, nil)
	})
}

func FuzzParseISO15459(f *testing.F) {
	for _, s := range fuzzSeeds {
		if id, err := Parse(s); err == nil {
			f.Add("MA", id.ISO15459("MA"))
		}
	}
	for _, s := range []string{"", "MA.", "MA.156", "MA.156/x", "MA.1561301001", "MA.999.130100", "MA.156.130100.04",
		"MA.156.130100.85.3.4", "ma.156.130100.85.3/SCHOOL-0042", "MA.中56.130100"} {
		f.Add("MA", s)
	}
	f.Add("", "MA.156.130100")
	f.Add("M-A", "M-A.156.130100")
	f.Fuzz(func(t *testing.T, iac, s string) {
		id, err := ParseISO15459(iac, s)
		if err != nil && checkIAC(iac) != nil {
			checkErrShape(t, iac, err)
			return
		}
		checkResult(t, s, id, err, func(id ID) string { return id.ISO15459(iac) })
	})
}

func FuzzParseResolverURL(f *testing.F) {
	const base = "http://127.0.0.1:8680"
	for _, s := range fuzzSeeds {
		f.Add(base, base+"/r/"+s)
	}
	f.Add(base+"/", base+"/r/1561301001?x=1")
	f.Add("http://例子.cn", "http://例子.cn/r/1561301007")
	f.Fuzz(func(t *testing.T, b, u string) {
		id, err := ParseResolverURL(b, u)
		checkResult(t, u, id, err, func(id ID) string { return id.ResolverURL(b) })
	})
}

func FuzzParseHandle(f *testing.F) {
	f.Add("1561301001.85.3", "school-0042")
	f.Add("1561301001.85.3", "")
	f.Add("1561301001/x", "")
	f.Add("1561301001", "a!")
	f.Fuzz(func(t *testing.T, prefix, suffix string) {
		id, err := ParseHandle(prefix, suffix)
		if err != nil {
			// The position counts in whichever part the message names.
			in := prefix
			if strings.Contains(err.Error(), "handle suffix") {
				in = suffix
			}
			checkErrShape(t, in, err)
			return
		}
		p, s := id.Handle()
		if asciiLower(p) != asciiLower(prefix) || asciiLower(s) != asciiLower(suffix) {
			t.Fatalf("ParseHandle(%q, %q) = %+v, whose handle is %q %q", prefix, suffix, id, p, s)
		}
		checkRoundTrips(t, id)
	})
}
