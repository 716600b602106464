package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cityid/cityid/client"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/web/webtest"
)

var screenshots = flag.String("screenshots", "", "write the portal's screenshots (PNG) to this folder, as docs/screenshots is made: go test ./internal/web -run TestPortalInBrowser -screenshots ../../docs/screenshots")

// The identifiers the browser test registers on its node.
const (
	bCity    = "1561301001"
	bUnit    = "1561301001.85.1"
	bSchool  = bUnit + "/school-0042"
	bOther   = bUnit + "/school-0044"
	bHostile = bUnit + "/hostile"
	bAbsent  = bUnit + "/school-0043"
)

// startPortalNode starts a real single-validator node on free loopback
// ports, issues Shijiazhuang, and registers records of every value type,
// one with a history, and one with hostile values; it returns the node's
// base URL.
func startPortalNode(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base, home := startNode(t, "cityid-portal")
	_, send := operator(ctx, t, base, home)
	app := send(client.KindApplyCity, client.ApplyCity{Country: "156", CityNumber: "130100", Name: "石家庄市", NameEn: "Shijiazhuang", Locode: "CNSJW"})
	send(client.KindApproveApplication, client.Decision{Application: app.Application, Hash: app.Hash})
	send(client.KindRegisterSector, client.RegisterSector{ID: bCity + ".85"})
	send(client.KindRegisterUnit, client.RegisterUnit{Parent: bCity + ".85", Name: "教育局"})
	send(client.KindRegisterBatch, client.RegisterBatch{Entries: []client.BatchEntry{
		{ID: bSchool, Values: []registry.Value{
			{Type: client.TypeURL, Data: "https://school-0042.example/"},
			{Type: client.TypeEmail, Data: "office@school-0042.example"},
			{Type: client.TypeGeo, Data: "38.0428,114.5149,80"},
			{Type: client.TypeText, Data: "第四十二中学 No. 42 Middle School"},
			{Type: client.TypeData, Dataset: &registry.Dataset{URI: "https://data.example/exam-2026.csv", SHA256: strings.Repeat("5e", 32), Size: 1234567, MediaType: "text/csv"}},
			{Type: client.TypeAlias, Data: bOther},
		}},
		{ID: bOther, Values: []registry.Value{{Type: client.TypeText, Data: "School 44"}}},
		{ID: bHostile, Values: []registry.Value{
			{Type: client.TypeText, Data: hostileHTML},
			{Type: client.TypeText, Data: hostileJSURL},
			{Type: client.TypeText, Data: hostileLong},
		}},
	}})
	send(client.KindUpdate, client.Update{ID: bOther, Version: 1, Values: []registry.Value{{Type: client.TypeText, Data: "School 44, new building"}}})
	send(client.KindDeactivate, client.SetStatus{ID: bOther, Reason: "closed for the summer"})
	return base
}

// TestPortalInBrowser drives the portal in Debian's Chromium, at a
// desktop's and a phone's width, against a real node: search in any form
// to a record's page, an unknown identifier's page, a mistyped one's
// error position, the language switch, the directory, and hostile values
// shown as text. One browser and one node serve every case.
func TestPortalInBrowser(t *testing.T) {
	b := webtest.Start(t)
	base := startPortalNode(t)
	spoiled := newStory(t) // a record with an RTL override, which no node accepts
	shots := *screenshots
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, screen := range webtest.Screens() {
		t.Run(screen.Name, func(t *testing.T) {
			ctx := b.Tab(t, screen, 90*time.Second)
			console := webtest.WatchConsole(ctx)
			shot := func(name string, full bool) {
				t.Helper()
				if _, err := webtest.SaveScreenshot(ctx, shots, name+"-"+screen.Name, full); err != nil {
					t.Error(err)
				}
			}
			p := &person{t: t, ctx: ctx, base: base}

			// Search: an upper-case URN goes to the record's page.
			p.open("/")
			p.see("#chain-id", "cityid-portal")
			p.see("#authority", "1 of 1 members approve")
			p.styled()
			p.accessible()
			shot("home", false)
			p.search("URN:CITYID:" + strings.ToUpper(bSchool))
			p.see("#record-id", bSchool)
			p.at("/ids/" + bSchool)
			p.see(".value-url a", "https://school-0042.example/")
			p.see(".value-geo", "38.0428° N, 114.5149° E, altitude 80 m")
			p.see(".value-data", "1.2 MB (1234567 bytes)")
			p.see(".value-alias a", bOther)
			p.see("#forms-list", "urn:cityid:"+bSchool)
			// The badge checks the answer in the browser: the first visit
			// pins the trust root and says so.
			p.see("#badge", "Verified at height")
			p.see("#badge", "by validators 1 of 1")
			p.see("#badge", "Trust root: chain cityid-portal")
			p.fits()
			p.accessible()
			shot("record", true)
			// A trust root this chain never had is not replaced silently:
			// NOT VERIFIED, until the person trusts the chain again.
			p.eval(`localStorage.setItem("cityid.trust.cityid-portal", JSON.stringify({chain: "cityid-portal", height: 1, hash: "` + strings.Repeat("AB", 32) + `", pinned: "before"}))`)
			p.open("/ids/" + bSchool)
			p.see("#badge", "NOT VERIFIED")
			p.see("#badge", "not the one this browser trusted")
			p.click("#badge .repin")
			p.see("#badge", "Verified at height")
			// A later visit verifies from the pinned root, by bisection,
			// and in good time.
			start := time.Now()
			p.open("/ids/" + bOther)
			p.see("#badge", "Verified at height")
			t.Logf("%s: the badge's verdict %v after the page was asked for (loopback, shared machine)", screen.Name, time.Since(start).Round(time.Millisecond))

			// A deactivated record, with its timeline, by its alias.
			p.open("/ids/" + bSchool)
			p.click(".value-alias a")
			p.see("#record-id", bOther)
			p.see("#record-status", "deactivated")
			p.see(".timeline", "status: active → deactivated")
			p.see(".timeline", "School 44, new building")
			p.see("#badge", "Verified at height")

			// An unknown identifier, as its QR code's URL opens it.
			// A scanned code of a record with no URL to follow: its page,
			// verified.
			p.open("/r/" + bOther)
			p.at("/ids/" + bOther)
			p.see("#badge", "Verified at height")

			p.open("/r/" + bAbsent)
			p.see("#problem-title", "Not found")
			p.see("#problem", bAbsent+" is not registered.")
			p.see("#badge", "Verified absent at height")
			p.fits()
			p.accessible()
			shot("unknown", false)

			// A mistyped identifier: the check character is wrong.
			p.open("/")
			p.search("1561301002.85.1/school-0042")
			p.see("#problem-title", "Not an identifier")
			p.see("#position", "10")
			p.see("#error-char", "2")
			p.fits()
			p.accessible()
			shot("mistyped", false)

			// The directory: countries, cities, a city's sectors.
			p.open("/dir")
			p.click(`a[href="/dir/156"]`)
			p.see("#dir-list", "石家庄市 · Shijiazhuang")
			p.click(`a.id[href="/dir/` + bCity + `"]`)
			p.see("#dir-list", bCity+".85")
			p.open("/dir/" + bUnit)
			p.see("#dir-list", bHostile)
			p.fits()
			p.accessible()
			shot("directory", false)

			// The language: switch to Chinese, which the cookie keeps.
			p.open("/ids/" + bCity)
			p.see("#record-name", "石家庄市 · Shijiazhuang")
			p.click("#lang-switch")
			p.see("h2#values", "值")
			p.see("#record-name", "石家庄市 · Shijiazhuang")
			shot("city-zh", false)
			p.open("/")
			p.see("h2#net", "网络")
			p.accessible()
			shot("home-zh", false)
			p.click("#lang-switch")
			p.see("h2#net", "Network")

			// Hostile values are text: no element, link or script made of
			// them, and a long one wraps within the screen.
			p.open("/ids/" + bHostile)
			p.see("table.values", hostileHTML)
			p.see("table.values", hostileJSURL)
			p.count("table.values img, table.values script, a[href^='javascript']", 0)
			p.fits()
			p.base = spoiled.url
			p.open("/ids/" + bHostile)
			p.see("table.values", "invoice⟨U+202E⟩gpj.exe")
			p.fits()

			// A proxy that alters one byte of what the node answers: the
			// badge says NOT VERIFIED, and why. Each proxy is its own
			// origin, so the browser pins its root anew through it.
			for _, c := range []struct {
				name, want string
				proxy      string
			}{
				{"value", "NOT VERIFIED", tampering(t, base, tamperValue)},
				{"signature", "NOT VERIFIED", tampering(t, base, tamperSignature)},
				{"header", "NOT VERIFIED", tampering(t, base, tamperHeader)},
			} {
				p.base = c.proxy
				p.open("/ids/" + bSchool)
				p.see("#record-id", bSchool)
				p.see("#badge", c.want)
				verdict, _ := p.eval(`document.getElementById("badge").dataset.verdict`).(string)
				t.Logf("a proxy that alters a byte of the %s: badge %s", c.name, verdict)
				if c.name == "value" && verdict != "failed:root_mismatch" && verdict != "failed:value_mismatch" && verdict != "failed:record_mismatch" {
					t.Errorf("an altered value: badge %q", verdict)
				}
				if c.name == "signature" && verdict != "failed:signature" {
					t.Errorf("an altered signature: badge %q", verdict)
				}
				if c.name == "header" && verdict != "failed:header_hash" {
					t.Errorf("an altered header: badge %q", verdict)
				}
			}
			p.base = base

			for _, m := range console.Take() {
				if strings.Contains(m, "Content Security Policy") || strings.Contains(m, "Refused to") || strings.Contains(strings.ToLower(m), "exception") {
					t.Errorf("console: %s", m)
				}
			}
		})
	}
}

// person is a test's hands and eyes in a tab: each step fails the test
// with what it saw.
type person struct {
	t    *testing.T
	ctx  context.Context
	base string
}

// stepTimeout bounds one step: a page on loopback shows in well under a
// second, so a step that waits longer waits for something that will not
// come.
const stepTimeout = 15 * time.Second

func (p *person) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		loc, _ := chromedp.Run(p.ctx, chromedp.Location())
		p.t.Fatalf("%s (at %s): %v", what, loc, err)
	}
}

func (p *person) open(path string) {
	p.t.Helper()
	p.do("open "+path, chromedp.Navigate(p.base+path), chromedp.WaitReady(chromedp.CSS("body")))
}

// search types text into the search box and presses Enter.
func (p *person) search(text string) {
	p.t.Helper()
	p.do("search "+text, chromedp.WaitVisible(chromedp.ID("q")), chromedp.SendKeys(chromedp.ID("q"), text+"\r"))
	p.do("wait for the answer", chromedp.WaitReady(chromedp.CSS("main h1")))
}

func (p *person) click(sel string) {
	p.t.Helper()
	p.do("click "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)), chromedp.WaitReady(chromedp.CSS("main h1")))
}

// see waits until the element is visible and its text, as shown,
// contains want.
func (p *person) see(sel, want string) {
	p.t.Helper()
	var got string
	for deadline := time.Now().Add(stepTimeout); ; {
		p.do("see "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
		// A script changing the element's text while it is read makes
		// the read fail (the DOM nodes read are gone): read again.
		text, err := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			got = "(read failed: " + err.Error() + ")"
		} else if got = text; strings.Contains(got, want) {
			return
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	loc, _ := chromedp.Run(p.ctx, chromedp.Location())
	p.t.Fatalf("%s at %s shows %q, want %q", sel, loc, clip(got), clip(want))
}

func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

// at checks the address the browser shows.
func (p *person) at(path string) {
	p.t.Helper()
	loc, err := chromedp.Run(p.ctx, chromedp.Location())
	if err != nil || loc != p.base+path {
		p.t.Fatalf("at %q (%v), want %q", loc, err, p.base+path)
	}
}

func (p *person) eval(expr string) any {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[any](expr))
	if err != nil {
		p.t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// fits checks that nothing is wider than the screen: no sideways scroll.
func (p *person) fits() {
	p.t.Helper()
	if v := p.eval(`document.documentElement.scrollWidth <= window.innerWidth`); v != true {
		w := p.eval(`[document.documentElement.scrollWidth, window.innerWidth]`)
		p.t.Errorf("the page is wider than the screen: %v", w)
	}
}

// styled checks that the style sheet loaded under the policy.
func (p *person) styled() {
	p.t.Helper()
	if v := p.eval(`getComputedStyle(document.querySelector("header.top")).display`); v != "flex" {
		p.t.Errorf("the header is %v: portal.css did not apply", v)
	}
}

func (p *person) count(sel string, want int) {
	p.t.Helper()
	v := p.eval(fmt.Sprintf(`document.querySelectorAll(%q).length`, sel))
	if n, ok := v.(float64); !ok || int(n) != want {
		p.t.Errorf("%s: %v elements, want %d", sel, v, want)
	}
}

// tampering is a reverse proxy to the node at base that passes every
// answer through alter; it stops when the test ends.
func tampering(t *testing.T, base string, alter func(path string, body []byte) []byte) string {
	t.Helper()
	target, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		body = alter(resp.Request.URL.Path+"?"+resp.Request.URL.RawQuery, body)
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
		return nil
	}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	return srv.URL
}

// tamperValue changes one byte of the record's stored value in a proof
// answer (and the record shown with it, so that only the proof can tell).
func tamperValue(path string, body []byte) []byte {
	if !strings.HasPrefix(path, "/v1/ids/") || !strings.Contains(path, "proof=true") {
		return body
	}
	var ans map[string]any
	if json.Unmarshal(body, &ans) != nil {
		return body
	}
	proof, _ := ans["proof"].(map[string]any)
	value, _ := proof["value"].(string)
	raw, err := base64.StdEncoding.DecodeString(value)
	if err != nil {
		return body
	}
	changed := bytes.Replace(raw, []byte("school-0042.example"), []byte("school-0043.example"), 1)
	proof["value"] = base64.StdEncoding.EncodeToString(changed)
	var rec any
	if json.Unmarshal(changed, &rec) == nil {
		ans["record"] = rec
	}
	out, err := json.Marshal(ans)
	if err != nil {
		return body
	}
	return out
}

// tamperSignature changes one byte of the first commit signature of
// every light block.
func tamperSignature(path string, body []byte) []byte {
	if !strings.HasPrefix(path, "/v1/light/") {
		return body
	}
	const field = `"signature":"`
	i := bytes.Index(body, []byte(field))
	if i < 0 {
		return body
	}
	out := bytes.Clone(body)
	j := i + len(field) + 4 // a character inside the base64, not its padding
	if out[j] == 'A' {
		out[j] = 'B'
	} else {
		out[j] = 'A'
	}
	return out
}

// tamperHeader alters one hex digit of the app hash in every header the
// node serves (/v1/light/{h}): the header is no longer the one its
// validators signed.
func tamperHeader(path string, body []byte) []byte {
	if !strings.HasPrefix(path, "/v1/light/") {
		return body
	}
	const field = `"app_hash":"`
	i := bytes.Index(body, []byte(field))
	if i < 0 {
		return body
	}
	out := bytes.Clone(body)
	j := i + len(field)
	if out[j] == '0' {
		out[j] = '1'
	} else {
		out[j] = '0'
	}
	return out
}

// axe is axe-core (MPL-2.0, the accessibility engine of issue 11's
// check), installed by npm ci into testdata/axe as its package-lock.json
// pins it when it is not there yet, and read once.
var axe = sync.OnceValues(func() (string, error) {
	dir := filepath.Join("testdata", "axe")
	path := filepath.Join(dir, "node_modules", "axe-core", "axe.min.js")
	if _, err := os.Stat(path); err != nil {
		npm, err := exec.LookPath("npm")
		if err != nil {
			return "", fmt.Errorf("the accessibility check needs axe-core, which npm installs (npm comes with Node.js: apt-get install nodejs npm): %w", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("npm ci in %s: %w\n%s", dir, err, out)
		}
	}
	b, err := os.ReadFile(path)
	return string(b), err
})

// accessible runs axe-core on the page as it is shown and fails on any
// serious or critical violation.
func (p *person) accessible() {
	p.t.Helper()
	src, err := axe()
	if err != nil {
		p.t.Fatal(err)
	}
	// Evaluated through the DevTools protocol, which the page's policy
	// does not govern: the page itself never loads axe.
	if _, err := chromedp.Run(p.ctx, chromedp.Evaluate[any](src)); err != nil {
		p.t.Fatalf("load axe-core: %v", err)
	}
	found, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]string](`axe.run(document, {resultTypes: ["violations"]}).then((r) => r.violations
		.filter((v) => v.impact === "serious" || v.impact === "critical")
		.map((v) => v.id + " (" + v.impact + "): " + v.help + " at " + v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")))`, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("axe-core: %v", err)
	}
	loc, _ := chromedp.Run(p.ctx, chromedp.Location())
	for _, v := range found {
		p.t.Errorf("accessibility at %s: %s", loc, v)
	}
}
