package node

import (
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cityid/cityid/internal/api"
)

// [http.limits] is written with its defaults, documented, read back as
// edited, and a file without the section (from an older node) keeps the
// defaults.
func TestHTTPLimitsConfig(t *testing.T) {
	home := filepath.Join(t.TempDir(), "h")
	if _, err := Init(home, InitOptions{}); err != nil {
		t.Fatal(err)
	}
	c, err := Load(home)
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig(home).HTTP.Limits
	if !reflect.DeepEqual(c.HTTP.Limits, want) {
		t.Fatalf("limits read back as %+v, want the defaults %+v", c.HTTP.Limits, want)
	}
	lim, err := c.HTTP.Limits.APILimits()
	if err != nil || !reflect.DeepEqual(lim, api.DefaultLimits()) {
		t.Fatalf("api limits %+v, %v; want api.DefaultLimits %+v", lim, err, api.DefaultLimits())
	}
	file := filepath.Join(home, "config", "cityid.toml")
	body, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range []string{"[http.limits]", "writes_per_second = 10", "Default: 10.", "write_burst = 50", "Default: 50.",
		"reads_per_second = 20", "Default: 20.", "read_burst = 100", "Default: 100.", "trusted_proxies = []", "Default: []"} {
		if !strings.Contains(string(body), doc) {
			t.Errorf("cityid.toml does not say %q:\n%s", doc, body)
		}
	}
	edited := strings.NewReplacer("writes_per_second = 10", "writes_per_second = 0", "read_burst = 100", "read_burst = 7",
		"reads_per_second = 20", "reads_per_second = 2.5", "trusted_proxies = []", `trusted_proxies = ["10.1.2.3", "192.168.0.0/16", "2001:db8::/48"]`).Replace(string(body))
	if err := os.WriteFile(file, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = Load(home)
	if err != nil {
		t.Fatal(err)
	}
	lim, err = c.HTTP.Limits.APILimits()
	wantLim := api.Limits{
		Writes:      api.Rate{PerSecond: 0, Burst: 50},
		CostlyReads: api.Rate{PerSecond: 2.5, Burst: 7},
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.1.2.3/32"), netip.MustParsePrefix("192.168.0.0/16"),
			netip.MustParsePrefix("2001:db8::/48")},
	}
	if err != nil || !reflect.DeepEqual(lim, wantLim) {
		t.Fatalf("edited limits: %+v, %v; want %+v", lim, err, wantLim)
	}
	// An older file, without the section.
	if err := os.WriteFile(file, []byte("[http]\nlisten = \"127.0.0.1:8680\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err = Load(home); err != nil || !reflect.DeepEqual(c.HTTP.Limits, want) {
		t.Fatalf("without [http.limits]: %+v, %v; want the defaults", c.HTTP.Limits, err)
	}
	for _, bad := range []struct{ body, want string }{
		{"[http.limits]\nwrites_per_second = -1\n", "http.limits.writes_per_second -1 is not 0 (no limit) or between 0.01 and"},
		{"[http.limits]\nreads_per_second = 0.001\n", "http.limits.reads_per_second 0.001"},
		{"[http.limits]\nwrite_burst = 0\n", "http.limits.write_burst 0 is not between 1 and"},
		{"[http.limits]\nread_burst = 2000000\n", "http.limits.read_burst 2000000"},
		{"[http.limits]\ntrusted_proxies = [\"proxy.example.org\"]\n", `"proxy.example.org" is not an IP address or a CIDR prefix`},
	} {
		if err := os.WriteFile(file, []byte(bad.body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(home); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("config %q: %v, want an error mentioning %q", bad.body, err, bad.want)
		}
	}
}
