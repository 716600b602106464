package code

import (
	"strings"
	"testing"
)

// formIDs covers every kind, the X check character, the smallest country
// and city number, the edges of sector, unit and local id, and local ids
// that look like node parts.
var formIDs = []string{
	"1561301001",
	"156110100X",
	"0040000014",
	"1560000004", // city number 000000: OID arc 0
	"8409999996.85.3",
	"1561301001.85",
	"1561301001.01",
	"1561301001.99",
	"1561301001.85.3",
	"1561301001.37.999999",
	"156110100X.86.12",
	"1561301001.85.3/school-0042",
	"1561301001.85/school-0042",
	"1561301001/city-hall",
	"1561301001/85",
	"1561301001.85/3",
	"1561301001.85.3/4",
	"1561301001/_x",
	"1561301001/__",
	"1561301001/-",
	"1561301001/0042",
	"1561301001/" + strings.Repeat("a", 62),
	"1561301001/" + strings.Repeat("a", 63),
	"1561301001/" + strings.Repeat("b", 62) + "99",
	"1561301001.85.3/" + strings.Repeat("7", 64),
	"1561301001.85.3/" + strings.Repeat("_", 64),
}

func TestFormsRoundTrip(t *testing.T) {
	zones := []string{"cityid.internal.", "cityid.internal", "Example.ORG.", "", "."}
	iacs := []string{"MA", "ma", "LA", "0"}
	bases := []string{"http://127.0.0.1:8680", "http://127.0.0.1:8680/", "https://id.example.org/resolver"}
	arcs := []string{DefaultOIDArc, "1.2.156.9999", "0.0", "2.999"}

	for _, s := range formIDs {
		id := mustParse(t, s)
		if got, err := ParseURN(id.URN()); err != nil || got != id {
			t.Errorf("%s: ParseURN(%q) = %+v, %v", s, id.URN(), got, err)
		}
		for _, arc := range arcs {
			oid, err := id.OID(arc)
			if !id.IsNode() {
				if ErrorCode(err) != ErrNotANode {
					t.Errorf("%s: OID gave %q, %v; want not_a_node", s, oid, err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: OID(%s): %v", s, arc, err)
				continue
			}
			if got, err := ParseOID(arc, oid); err != nil || got != id {
				t.Errorf("%s: ParseOID(%q) = %+v, %v", s, oid, got, err)
			}
		}
		for _, zone := range zones {
			name := id.DNSName(zone)
			if !strings.HasSuffix(name, ".") || name != strings.ToLower(name) {
				t.Errorf("%s: DNSName(%q) = %q is not lowercase and fully qualified", s, zone, name)
			}
			for _, l := range strings.Split(strings.TrimSuffix(name, "."), ".") {
				if len(l) > 63 || l == "" {
					t.Errorf("%s: DNSName(%q) = %q has a bad label %q", s, zone, name, l)
				}
			}
			for _, n := range []string{name, strings.TrimSuffix(name, "."), strings.ToUpper(name)} {
				if got, err := ParseDNSName(zone, n); err != nil || got != id {
					t.Errorf("%s: ParseDNSName(%q, %q) = %+v, %v", s, zone, n, got, err)
				}
			}
		}
		prefix, suffix := id.Handle()
		if got, err := ParseHandle(prefix, suffix); err != nil || got != id {
			t.Errorf("%s: ParseHandle(%q, %q) = %+v, %v", s, prefix, suffix, got, err)
		}
		for _, iac := range iacs {
			f := id.ISO15459(iac)
			if got, err := ParseISO15459(iac, f); err != nil || got != id {
				t.Errorf("%s: ParseISO15459(%q, %q) = %+v, %v", s, iac, f, got, err)
			}
		}
		for _, base := range bases {
			u := id.ResolverURL(base)
			if got, err := ParseResolverURL(base, u); err != nil || got != id {
				t.Errorf("%s: ParseResolverURL(%q, %q) = %+v, %v", s, base, u, got, err)
			}
		}
	}
}

func TestFormsOfTheDesignExample(t *testing.T) {
	id := mustParse(t, "1561301001.85.3/school-0042")
	node := id.Node()
	opts := DefaultFormOptions()
	oid, err := node.OID("1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	prefix, suffix := id.Handle()
	nprefix, nsuffix := node.Handle()
	for _, tt := range []struct{ name, got, want string }{
		{"URN", id.URN(), "urn:cityid:1561301001.85.3/school-0042"},
		{"OID", oid, "1.2.3.156.130100.85.3"},
		{"DNS", id.DNSName("cityid.internal."), "school-0042.3.85.1561301001.cityid.internal."},
		{"DNS zone without dot", id.DNSName("cityid.internal"), "school-0042.3.85.1561301001.cityid.internal."},
		{"Handle prefix", prefix, "1561301001.85.3"},
		{"Handle suffix", suffix, "school-0042"},
		{"node Handle prefix", nprefix, "1561301001.85.3"},
		{"node Handle suffix", nsuffix, ""},
		{"ISO 15459", id.ISO15459("MA"), "MA.156.130100.85.3/school-0042"},
		{"ISO 15459 lowercase iac", id.ISO15459("ma"), "MA.156.130100.85.3/school-0042"},
		{"resolver URL", id.ResolverURL(opts.ResolverBase), "http://127.0.0.1:8680/r/1561301001.85.3/school-0042"},
		{"resolver URL, base with slash", id.ResolverURL("http://127.0.0.1:8680/"), "http://127.0.0.1:8680/r/1561301001.85.3/school-0042"},
	} {
		if tt.got != tt.want {
			t.Errorf("%s = %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

func TestDefaultFormOptions(t *testing.T) {
	want := FormOptions{
		OIDArc:       "2.25.276381433122953422118134796889549543443",
		Zone:         "cityid.internal.",
		IAC:          "MA",
		ResolverBase: "http://127.0.0.1:8680",
	}
	if got := DefaultFormOptions(); got != want {
		t.Errorf("DefaultFormOptions() = %+v, want %+v", got, want)
	}
}
