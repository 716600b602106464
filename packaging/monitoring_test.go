package packaging

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cityid/cityid/internal/testnode"
	"github.com/cityid/cityid/internal/testnode/debian"
)

// The monitoring files, in packaging/monitoring.
const (
	alertsFile     = "alerts.yml"
	alertsTests    = "alerts_test.yml"
	promConfigFile = "prometheus.example.yml"
	dashboardFile  = "dashboard.json"
)

// TestAlertRules: promtool (Debian's prometheus package, installed when
// missing) accepts the rules and the example configuration, and the unit
// tests of alerts_test.yml pass: each alert fires on its fault.
func TestAlertRules(t *testing.T) {
	promtool := debian.Require(t, "promtool", "prometheus")
	dir := filepath.Join("monitoring")
	for _, args := range [][]string{
		{"check", "rules", alertsFile},
		{"test", "rules", alertsTests},
		{"check", "config", promConfigFile},
	} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	// Every alert has a unit test that expects it to fire.
	rules, err := os.ReadFile(filepath.Join(dir, alertsFile))
	if err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile(filepath.Join(dir, alertsTests))
	if err != nil {
		t.Fatal(err)
	}
	alerts := regexp.MustCompile(`(?m)^\s*- alert: (\w+)$`).FindAllStringSubmatch(string(rules), -1)
	if len(alerts) < 7 {
		t.Fatalf("%s has %d alerts, want the seven of docs/operations.md or more", alertsFile, len(alerts))
	}
	fires := regexp.MustCompile(`alertname: (\w+)\n\s*exp_alerts:\n\s*- exp_labels`).FindAllStringSubmatch(string(tests), -1)
	for _, a := range alerts {
		if !slices.ContainsFunc(fires, func(f []string) bool { return f[1] == a[1] }) {
			t.Errorf("no test in %s expects %s to fire", alertsTests, a[1])
		}
	}
}

// TestDashboard: the Grafana dashboard is JSON Grafana imports: panels
// with unique IDs, each with a query on the dashboard's Prometheus
// datasource variable.
func TestDashboard(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("monitoring", dashboardFile))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Title      string `json:"title"`
		UID        string `json:"uid"`
		Templating struct {
			List []struct{ Name, Type string } `json:"list"`
		} `json:"templating"`
		Panels []struct {
			ID         int    `json:"id"`
			Title      string `json:"title"`
			Datasource struct{ Type, UID string }
			Targets    []struct {
				Expr       string `json:"expr"`
				Datasource struct{ UID string }
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if d.Title == "" || d.UID == "" || len(d.Templating.List) != 1 || d.Templating.List[0].Type != "datasource" {
		t.Fatalf("dashboard %q (uid %q), templating %+v: want a title, a uid and one datasource variable", d.Title, d.UID, d.Templating.List)
	}
	ds := "${" + d.Templating.List[0].Name + "}"
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d twice", p.ID)
		}
		ids[p.ID] = true
		if p.Datasource.Type != "prometheus" || p.Datasource.UID != ds || len(p.Targets) == 0 {
			t.Errorf("panel %q: datasource %+v, %d queries; want prometheus %s and a query", p.Title, p.Datasource, len(p.Targets), ds)
		}
		for _, q := range p.Targets {
			if q.Expr == "" || q.Datasource.UID != ds {
				t.Errorf("panel %q: query %q on %q", p.Title, q.Expr, q.Datasource.UID)
			}
		}
	}
	if len(d.Panels) < 10 {
		t.Errorf("%d panels", len(d.Panels))
	}
}

// metricName is a name of CityID's or CometBFT's metrics as the
// monitoring files write them (in queries, and in the texts that point an
// operator at a metric).
var metricName = regexp.MustCompile(`\b(?:cityid|cometbft)_[a-z0-9_]+\b`)

// TestMonitoredMetricsExported: every metric that an alert rule or a
// dashboard panel names is exported by a real running node, from its
// API's /metrics or from CometBFT's endpoint as docs/operations.md
// configures it, and the disk gauges tell the home's room.
func TestMonitoredMetricsExported(t *testing.T) {
	named := map[string][]string{} // metric → files naming it
	for _, f := range []string{alertsFile, dashboardFile} {
		b, err := os.ReadFile(filepath.Join("monitoring", f))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range metricName.FindAllString(string(b), -1) {
			if !slices.Contains(named[m], f) {
				named[m] = append(named[m], f)
			}
		}
	}
	if len(named) < 10 {
		t.Fatalf("the monitoring files name %d metrics: %v", len(named), named)
	}

	bin := testnode.Build(t)
	n := testnode.New(t, bin)
	n.DNS = ""
	if _, stderr, code := n.CLI("init"); code != 0 {
		t.Fatalf("cityid init: %s", stderr)
	}
	comet := testnode.FreeAddr(t)
	n.EditConfig("config.toml", "instrumentation", "prometheus", "true")
	n.EditConfig("config.toml", "instrumentation", "prometheus_listen_addr", strconv.Quote(comet))
	n.Start()
	// A write makes a block with a transaction, so that every series of
	// a working node has been set at least once.
	if _, stderr, code := n.CLI("tx", "apply-city", "--country", "156", "--city-number", "130100", "--name", "石家庄市", "--from", "operator"); code != 0 {
		t.Fatalf("cityid tx apply-city: %s", stderr)
	}
	exported := map[string]float64{}
	for _, url := range []string{n.URL() + "/metrics", "http://" + comet + "/metrics"} {
		for k, v := range scrape(t, url) {
			exported[k] = v
		}
	}
	var missing []string
	for m, files := range named {
		if _, ok := exported[m]; !ok {
			missing = append(missing, fmt.Sprintf("%s (in %s)", m, strings.Join(files, ", ")))
		}
	}
	slices.Sort(missing)
	for _, m := range missing {
		t.Errorf("a running node does not export %s", m)
	}
	free, size := exported["cityid_disk_free_bytes"], exported["cityid_disk_size_bytes"]
	if free <= 0 || size < free {
		t.Errorf("disk free %g of %g bytes: want some room on a disk larger than it", free, size)
	}
	if len(missing) == 0 {
		t.Logf("%d metrics named by the alerts and the dashboard, all exported", len(named))
	}
}

// scrape reads a Prometheus text exposition: each series' name and the
// value of its last sample.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("scrape %s: %s\n%s", url, resp.Status, b)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, rest, _ := strings.Cut(line, " ")
		if i := strings.IndexByte(name, '{'); i >= 0 {
			name = line[:i]
			if j := strings.LastIndexByte(line, '}'); j >= 0 {
				rest = strings.TrimSpace(line[j+1:])
			}
		}
		v, _ := strconv.ParseFloat(strings.Fields(rest + " 0")[0], 64)
		out[name] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	if len(out) == 0 {
		t.Fatalf("scrape %s: no series", url)
	}
	return out
}
