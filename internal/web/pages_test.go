package web_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cityid/cityid/internal/api"
	"github.com/cityid/cityid/internal/apitest"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/web"
)

// Hostile values a person may have written into a record: shown as text,
// never as markup, a link or a script. The registry accepts the first
// three; the last is written into the store directly (spoiled state, or
// a registry that let it through), since a page shows what the ledger
// holds whatever wrote it.
const (
	hostileHTML   = `<script>alert("x")</script><img src=x onerror=alert(1)>`
	hostileJSURL  = "javascript:alert(document.cookie)"
	hostileRTL    = "invoice\u202Egpj.exe"
	hostileRTLOut = "invoice⟨U&#43;202E⟩gpj.exe" // as html/template writes it
)

var hostileLong = strings.Repeat("W", registry.MaxValueBytes)

// story is Shijiazhuang with a unit, objects of every value type, a record
// updated and deactivated (for the timeline), and a record holding hostile
// values; served by the API over a store-backed backend, as a node's HTTP
// listener serves it.
type story struct {
	t   *testing.T
	url string
}

func newStory(t *testing.T) *story {
	t.Helper()
	return newStoryWith(t, api.Options{DNSZone: "cityid.example."})
}

func newStoryWith(t *testing.T, opts api.Options) *story {
	t.Helper()
	l := apitest.NewLedger(t)
	o := l.Send("alice", registry.KindApplyCity, registry.ApplyCity{Country: "156", CityNumber: "130100", Name: "石家庄市", NameEn: "Shijiazhuang", Locode: "CN SJW"})
	l.Send("operator", registry.KindApproveApplication, registry.Decision{Application: o.Application, Hash: o.Hash})
	l.Send("alice", registry.KindRegisterSector, registry.RegisterSector{ID: "1561301001.85"})
	l.Send("alice", registry.KindRegisterUnit, registry.RegisterUnit{Parent: "1561301001.85", Name: "教育局"})
	reg := func(id string, values ...registry.Value) {
		t.Helper()
		l.Send("alice", registry.KindRegister, registry.Register{ID: id, Values: values})
	}
	reg("1561301001.85.1/school-0042",
		registry.Value{Type: "URL", Data: "https://school-0042.example/"},
		registry.Value{Type: "EMAIL", Data: "office@school-0042.example"},
		registry.Value{Type: "GEO", Data: "38.0428,114.5149,80"},
		registry.Value{Type: "TEXT", Data: "第四十二中学"},
		registry.Value{Type: "DATA", Dataset: &registry.Dataset{URI: "https://data.example/exam.csv", SHA256: strings.Repeat("ab", 32), Size: 1234567, MediaType: "text/csv"}},
		registry.Value{Type: "ALIAS", Data: "1561301001.85.1/school-0044"})
	reg("1561301001.85.1/school-0044", registry.Value{Type: "TEXT", Data: "School 44"})
	l.Send("alice", registry.KindGrantAccess, registry.GrantAccess{Dataset: "1561301001.85.1/school-0042", Grantee: "1561301001.85", Scope: "read", Expires: time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC)})
	l.Send("alice", registry.KindUpdate, registry.Update{ID: "1561301001.85.1/school-0044", Version: 1, Values: []registry.Value{{Type: "TEXT", Data: "School 44, new building"}}})
	l.Send("alice", registry.KindDeactivate, registry.SetStatus{ID: "1561301001.85.1/school-0044", Reason: "closed"})
	reg("1561301001.85.1/hostile",
		registry.Value{Type: "TEXT", Data: hostileHTML},
		registry.Value{Type: "TEXT", Data: hostileJSURL},
		registry.Value{Type: "TEXT", Data: hostileLong})
	// An RTL override the registry would refuse, written past it.
	var rec registry.Record
	b, err := l.Store().Get(registry.RecordKey("1561301001.85.1/hostile"))
	if err != nil || json.Unmarshal(b, &rec) != nil {
		t.Fatalf("read back the hostile record: %v", err)
	}
	rec.Values = append(rec.Values, registry.Value{Index: 4, Type: "TEXT", Data: hostileRTL, TTL: 86400})
	spoiled, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Store().Set(registry.RecordKey("1561301001.85.1/hostile"), spoiled); err != nil {
		t.Fatal(err)
	}
	l.Commit()
	return &story{t: t, url: l.Serve(opts)}
}

type reply struct {
	status int
	header http.Header
	body   string
}

// get sends GET path with header name, value pairs, following no
// redirect.
func (s *story) get(path string, header ...string) reply {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.url+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return reply{resp.StatusCode, resp.Header, string(b)}
}

// Every page: its status, an HTML content type, the policy, and what it
// must show.
func TestPages(t *testing.T) {
	s := newStory(t)
	for _, c := range []struct {
		path   string
		status int
		want   []string
	}{
		{"/", 200, []string{apitest.ChainID, `id="height"`, "1 of 1 members approve", `action="/search"`}},
		{"/dir", 200, []string{`href="/dir/156"`, "China", "中国", `<td class="num">1</td>`}},
		{"/dir/156", 200, []string{`href="/dir/1561301001"`, "石家庄市", "Shijiazhuang"}},
		{"/dir/1561301001", 200, []string{`href="/dir/1561301001.85"`, "(1 shown)"}},
		{"/dir/1561301001.85.1", 200, []string{`href="/ids/1561301001.85.1/school-0042"`, `href="/ids/1561301001.85.1/hostile"`, "deactivated"}},
		{"/ids/1561301001", 200, []string{"石家庄市", "Shijiazhuang", "CNSJW", "中国 · People&#39;s Republic of China", `href="/ids/1561301001.85"`}},
		{"/ids/1561301001.85.1/school-0042", 200, []string{
			`<a href="https://school-0042.example/" rel="nofollow noopener noreferrer">https://school-0042.example/</a>`,
			`<a href="mailto:office@school-0042.example">`,
			"38.0428° N, 114.5149° E, altitude 80 m",
			"1.2 MB (1234567 bytes)", "text/csv", strings.Repeat("ab", 32),
			`→ <a href="/ids/1561301001.85.1/school-0044" class="id">`,
			"urn:cityid:1561301001.85.1/school-0042", "school-0042.1.85.1561301001.cityid.example", "MA.156.130100.85.1/school-0042",
			`src="/v1/ids/1561301001.85.1/school-0042/qr.svg"`, `href="/v1/ids/1561301001.85.1/school-0042/qr.png" download`,
			`id="parent-link"`, `data-chain="` + apitest.ChainID + `"`, `<script type="module" src="/static/badge.js"></script>`,
			"Who may read this dataset", `<a class="id" href="/ids/1561301001.85">1561301001.85</a> <span class="meta">read</span>`}},
		{"/ids/1561301001.85", 200, []string{"Datasets this node may read", `href="/ids/1561301001.85.1/school-0042"`, "2030-01-02"}},
		{"/ids/1561301001.85.1/SCHOOL-0044", 200, []string{"status-deactivated", "closed",
			"status: active → deactivated", "changed #1 <code>TEXT</code>: <del><bdi>School 44</bdi></del> → <bdi>School 44, new building</bdi>", "registered"}},
		{"/ids/1561301001.85.1/nobody", 404, []string{"1561301001.85.1/nobody", "is not registered"}},
		{"/ids/1561301002.85.1/x", 400, []string{`id="position"`, "bad_check_char", `<mark id="error-char">2</mark>`}},
		{"/dir/1561301001.86", 404, []string{"is not registered"}},
		{"/no/such/page", 404, []string{"There is no page at this address."}},
		// The desks: forms disabled until desk.js, which signs, is ready.
		{"/keys", 200, []string{`id="key-list"`, `<fieldset id="desk" class="desk-all" disabled>`, `<script type="module" src="/static/desk.js"></script>`, "<noscript>"}},
		{"/apply", 200, []string{`id="apply-country"`, `pattern="[0-9]{3}"`, `<fieldset id="desk" class="desk-all" disabled>`, `src="/static/desk.js"`}},
		{"/authority", 200, []string{`id="applications"`, `id="proposals"`, `src="/static/desk.js"`}},
		{"/desk", 200, []string{`id="reg-id"`, `id="batch-file"`, `id="batch-resume" hidden`, `src="/static/desk.js"`}},
		// Labels: the QR code, the identifier, its unit's and city's names;
		// one not registered says so and has no code.
		{"/labels?id=1561301001.85.1/school-0042,1561301001.85.1/nobody", 200, []string{
			`<img src="/v1/ids/1561301001.85.1/school-0042/qr.svg"`, "<code>1561301001.85.1/school-0042</code>",
			`<p class="label-unit"><bdi>教育局</bdi></p>`, `<p class="label-city"><bdi>石家庄市 · Shijiazhuang</bdi></p>`,
			`<div class="label missing">`, "Not registered"}},
		{"/labels?under=1561301001.85.1", 200, []string{"<code>1561301001.85.1/school-0044</code>", "<code>1561301001.85.1/hostile</code>", `value="1561301001.85.1"`}},
		{"/labels?id=1561301002.85.1/x", 400, []string{"bad_check_char"}},
		// The explorer: blocks, transactions decoded, applications and
		// their votes.
		{"/explorer", 200, []string{`href="/applications/1"`, "石家庄市", "1 / 1", "No proposal is open."}},
		{"/explorer?status=pending", 200, []string{`id="applications"`}},
		{"/explorer?status=nope", 400, []string{"is not pending"}},
		{"/applications/1", 200, []string{`id="app-status" class="status-approved"`, `href="/ids/1561301001"`, "CNSJW", "✔ <code>"}},
		{"/applications/9", 404, []string{"does not exist"}},
		{"/txs/zz", 400, []string{"is not 64 hex digits"}},
		{"/trust?chain=c&height=5&hash=" + strings.Repeat("ab", 32), 200, []string{`data-height="5"`, `data-hash="` + strings.Repeat("AB", 32) + `"`, `src="/static/trust.js"`}},
		{"/trust?chain=c&height=x&hash=ab", 400, []string{"is not a positive number"}},
		{"/verify", 200, []string{`id="verify-file"`, `<script type="module" src="/static/verify-page.js"></script>`}},
	} {
		header := []string{"Accept", "text/html"}
		r := s.get(c.path, header...)
		if r.status != c.status {
			t.Errorf("%s: %d, want %d", c.path, r.status, c.status)
		}
		if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", c.path, ct)
		}
		if csp := r.header.Get("Content-Security-Policy"); csp != web.Policy {
			t.Errorf("%s: Content-Security-Policy %q", c.path, csp)
		}
		if r.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", c.path)
		}
		for _, w := range c.want {
			if !strings.Contains(r.body, w) {
				t.Errorf("%s: the page does not show %q", c.path, w)
			}
		}
		// No page has an inline script, a style attribute or anything
		// from another origin.
		for _, bad := range []string{"<script>", "style=", "<style", `src="http`, `href="//`} {
			if strings.Contains(r.body, bad) {
				t.Errorf("%s: the page has %q", c.path, bad)
			}
		}
	}
}

// The policy allows no inline script and no other origin: a browser runs
// nothing but this node's files.
func TestPolicy(t *testing.T) {
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self'", "connect-src 'self'", "base-uri 'none'", "frame-ancestors 'none'", "form-action 'self'"} {
		if !strings.Contains(web.Policy, want) {
			t.Errorf("policy %q lacks %q", web.Policy, want)
		}
	}
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "*", "http:", "https:", "data:"} {
		if strings.Contains(web.Policy, bad) {
			t.Errorf("policy %q allows %q", web.Policy, bad)
		}
	}
}

// Hostile values are text: HTML escaped, a javascript: URL no link, an
// RTL override shown as a visible code point, a long value whole.
func TestHostileValues(t *testing.T) {
	s := newStory(t)
	r := s.get("/ids/1561301001.85.1/hostile")
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	for _, want := range []string{
		"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;",
		"<bdi class=\"text\">javascript:alert(document.cookie)</bdi>",
		hostileRTLOut, hostileLong,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the page does not show %q", want)
		}
	}
	for _, bad := range []string{hostileHTML, `href="javascript:`, "\u202E", "<img src=x"} {
		if strings.Contains(r.body, bad) {
			t.Errorf("the page holds %q unescaped", bad)
		}
	}
}

// /r/{id}: browsers get pages for errors, programs problem+json, and the
// answer says it varies with Accept.
func TestResolverErrors(t *testing.T) {
	s := newStory(t)
	for _, c := range []struct {
		path, accept, ctype string
		status              int
	}{
		{"/r/1561301001.85.1/nobody", "text/html,application/xhtml+xml,*/*;q=0.8", "text/html; charset=utf-8", 404},
		{"/r/1561301001.85.1/nobody", "application/json", "application/problem+json", 404},
		{"/r/1561301001.85.1/nobody", "", "application/problem+json", 404},
		{"/r/1561301002.85.1/x", "text/html", "text/html; charset=utf-8", 400},
		{"/r/1561301002.85.1/x", "*/*", "application/problem+json", 400},
	} {
		var r reply
		if c.accept != "" {
			r = s.get(c.path, "Accept", c.accept)
		} else {
			r = s.get(c.path)
		}
		if r.status != c.status || r.header.Get("Content-Type") != c.ctype || r.header.Get("Vary") != "Accept" {
			t.Errorf("%s (Accept %q): %d %q Vary %q, want %d %q Vary Accept", c.path, c.accept, r.status, r.header.Get("Content-Type"), r.header.Get("Vary"), c.status, c.ctype)
		}
		if strings.HasPrefix(c.ctype, "text/html") && r.header.Get("Content-Security-Policy") != web.Policy {
			t.Errorf("%s: an error page without the policy", c.path)
		}
		if c.status == 404 && strings.HasPrefix(c.ctype, "text/html") && !strings.Contains(r.body, "<code class=\"id\">1561301001.85.1/nobody</code> is not registered.") {
			t.Errorf("%s: the page does not say which identifier is not registered:\n%s", c.path, r.body)
		}
	}
	// A record without a URL still goes to its page.
	if r := s.get("/r/1561301001.85.1/school-0044", "Accept", "text/html"); r.status != http.StatusSeeOther || r.header.Get("Location") != "/ids/1561301001.85.1/school-0044" {
		t.Errorf("no URL: %d %q", r.status, r.header.Get("Location"))
	}
}

// The search box takes every form of an identifier, in any case, and
// points at the character where a mistyped one goes wrong.
func TestSearch(t *testing.T) {
	s := newStory(t)
	const want = "/ids/1561301001.85.1/school-0042"
	for _, q := range []string{
		"1561301001.85.1/school-0042",
		"  1561301001.85.1/SCHOOL-0042 ",
		"urn:cityid:1561301001.85.1/school-0042",
		"URN:CITYID:1561301001.85.1/school-0042",
		"school-0042.1.85.1561301001.cityid.example",
		"school-0042.1.85.1561301001.cityid.example.",
		"MA.156.130100.85.1/school-0042",
		"ma.156.130100.85.1/School-0042",
		"http://127.0.0.1:8680/r/1561301001.85.1/school-0042",
		"https://ids.example.org/r/1561301001.85.1/school-0042",
	} {
		r := s.get("/search?q=" + urlQuery(q))
		if r.status != http.StatusSeeOther || r.header.Get("Location") != want {
			t.Errorf("search %q: %d → %q, want 303 → %s", q, r.status, r.header.Get("Location"), want)
		}
	}
	for _, c := range []struct {
		q, reason, pos, mark string
	}{
		{"1561301002.85.1/school-0042", "bad_check_char", "10", `<mark id="error-char">2</mark>`},
		{" 1561301002", "bad_check_char", "11", `<mark id="error-char">2</mark>`},
		{"1561301001.04", "unknown_sector", "12", `<mark id="error-char">0</mark>`},
		{"urn:cityid:1561301001.85.01", "leading_zero", "26", `<mark id="error-char">0</mark>`},
		{"1561301001.85.1/school!", "bad_char", "23", `<mark id="error-char">!</mark>`},
	} {
		r := s.get("/search?q=" + urlQuery(c.q))
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, c.reason) ||
			!strings.Contains(r.body, `<strong id="position">`+c.pos+`</strong>`) || !strings.Contains(r.body, c.mark) {
			t.Errorf("search %q: %d, want 400 %s at %s (%s):\n%s", c.q, r.status, c.reason, c.pos, c.mark, r.body)
		}
	}
	// A node's handle, as the Handle REST names it.
	if r := s.get("/search?q=0.NA/1561301001.85"); r.status != http.StatusSeeOther || r.header.Get("Location") != "/ids/1561301001.85" {
		t.Errorf("search 0.NA/1561301001.85: %d → %q", r.status, r.header.Get("Location"))
	}
	if r := s.get("/search?q=0.NA/1561301002"); r.status != http.StatusBadRequest || !strings.Contains(r.body, `<strong id="position">15</strong>`) {
		t.Errorf("search 0.NA/1561301002: %d, want 400 at 15\n%s", r.status, r.body)
	}
	if r := s.get("/search?q="); r.status != http.StatusSeeOther || r.header.Get("Location") != "/" {
		t.Errorf("an empty search: %d %q", r.status, r.header.Get("Location"))
	}
}

// The language: ?lang= first (and remembered in a cookie), then the
// cookie, then Accept-Language, then English; names shown in both.
func TestLanguage(t *testing.T) {
	s := newStory(t)
	for _, c := range []struct {
		header   []string
		query    string
		lang     string
		cookie   bool
		switchTo string
	}{
		{nil, "", "en", false, "?lang=zh"},
		{[]string{"Accept-Language", "zh-CN,zh;q=0.9,en;q=0.8"}, "", "zh-CN", false, "?lang=en"},
		{[]string{"Accept-Language", "fr, en;q=0.5, zh;q=0.7"}, "", "zh-CN", false, "?lang=en"},
		{[]string{"Accept-Language", "zh;q=0.4, en"}, "", "en", false, "?lang=zh"},
		{[]string{"Accept-Language", "en"}, "?lang=zh", "zh-CN", true, "?lang=en"},
		{[]string{"Accept-Language", "zh", "Cookie", "lang=en"}, "", "en", false, "?lang=zh"},
		{[]string{"Cookie", "lang=zh"}, "?lang=en", "en", true, "?lang=zh"},
	} {
		r := s.get("/ids/1561301001"+c.query, c.header...)
		if !strings.Contains(r.body, `<html lang="`+c.lang+`">`) {
			t.Errorf("%v %s: not in %s", c.header, c.query, c.lang)
		}
		if got := r.header.Get("Set-Cookie") != ""; got != c.cookie {
			t.Errorf("%v %s: Set-Cookie %q", c.header, c.query, r.header.Get("Set-Cookie"))
		}
		if !strings.Contains(r.body, `href="/ids/1561301001`+c.switchTo+`"`) {
			t.Errorf("%v %s: no switch to %s", c.header, c.query, c.switchTo)
		}
		if v := r.header.Values("Vary"); !strings.Contains(strings.Join(v, ","), "Accept-Language") || !strings.Contains(strings.Join(v, ","), "Cookie") {
			t.Errorf("Vary %v", v)
		}
		// The city's names in both languages, whichever the page's.
		if !strings.Contains(r.body, "石家庄市") || !strings.Contains(r.body, "Shijiazhuang") {
			t.Errorf("%v %s: the city's names are not both shown", c.header, c.query)
		}
	}
	// An error page in the chosen language sets the cookie once.
	if r := s.get("/ids/1561301001.85.1/nobody?lang=zh"); len(r.header.Values("Set-Cookie")) != 1 || !strings.Contains(r.body, "尚未注册") {
		t.Errorf("an error page with ?lang=zh: Set-Cookie %v", r.header.Values("Set-Cookie"))
	}
	if r := s.get("/", "Accept-Language", "zh"); !strings.Contains(r.body, "智慧城市标识注册系统") || !strings.Contains(r.body, "网络") {
		t.Error("the home page in Chinese lacks its Chinese words")
	}
}

// The static files: the ones the pages name, with their types; nothing
// else, and no listing.
func TestStatic(t *testing.T) {
	s := newStory(t)
	for _, c := range []struct{ path, ctype string }{
		{"/static/portal.css", "text/css; charset=utf-8"},
		{"/static/badge.js", "text/javascript; charset=utf-8"},
		{"/static/verify.js", "text/javascript; charset=utf-8"},
	} {
		r := s.get(c.path)
		if r.status != http.StatusOK || r.header.Get("Content-Type") != c.ctype || r.header.Get("X-Content-Type-Options") != "nosniff" || len(r.body) == 0 {
			t.Errorf("%s: %d %q", c.path, r.status, r.header.Get("Content-Type"))
		}
	}
	for _, p := range []string{"/static/", "/static/nothing.js", "/static/../static/portal.css", "/static/%2e%2e/portal.go"} {
		if r := s.get(p); r.status != http.StatusNotFound && r.status != http.StatusTemporaryRedirect {
			t.Errorf("%s: %d", p, r.status)
		}
	}
}

func urlQuery(s string) string {
	return strings.NewReplacer("%", "%25", "&", "%26", "+", "%2B", " ", "+", "#", "%23", "?", "%3F").Replace(s)
}

// The record and directory pages are costly reads, limited per client as
// their JSON answers are; past the limit a browser gets a page that says
// so, a program problem+json, both with Retry-After.
func TestRateLimitedPages(t *testing.T) {
	s := newStoryWith(t, api.Options{DNSZone: "cityid.example.", Limits: &api.Limits{CostlyReads: api.Rate{PerSecond: 0.01, Burst: 2}}})
	for _, p := range []string{"/ids/1561301001", "/dir"} {
		if r := s.get(p, "Accept", "text/html"); r.status != http.StatusOK {
			t.Fatalf("%s within the burst: %d", p, r.status)
		}
	}
	r := s.get("/ids/1561301001", "Accept", "text/html")
	if r.status != http.StatusTooManyRequests || r.header.Get("Content-Type") != "text/html; charset=utf-8" ||
		r.header.Get("Retry-After") == "" || r.header.Get("Content-Security-Policy") != web.Policy || !strings.Contains(r.body, "too many costly reads") {
		t.Errorf("past the burst, a browser: %d %v\n%s", r.status, r.header, r.body)
	}
	r = s.get("/dir/156")
	if r.status != http.StatusTooManyRequests || r.header.Get("Content-Type") != "application/problem+json" || r.header.Get("Retry-After") == "" {
		t.Errorf("past the burst, a program: %d %v", r.status, r.header)
	}
	// The search page and the static files are not limited.
	for _, p := range []string{"/", "/static/portal.css", "/search?q=1561301001"} {
		if r := s.get(p, "Accept", "text/html"); r.status == http.StatusTooManyRequests {
			t.Errorf("%s is limited", p)
		}
	}
}

// maxScanPageBytes is issue 11's budget of everything the page a scanned
// QR code opens loads, verifier included, compressed.
const maxScanPageBytes = 1 << 20

// The record page and everything it loads (style sheet, icon, badge,
// verifier, QR image, and the answer and light block the badge fetches)
// stay within the budget, gzipped as a node's reverse proxy would send
// them; the figure is logged.
func TestRecordPageWeight(t *testing.T) {
	s := newStory(t)
	const id = "1561301001.85.1/school-0042"
	page := s.get("/ids/" + id)
	if page.status != http.StatusOK {
		t.Fatalf("page: %d", page.status)
	}
	// What the page names with src= and href= on this node, and what
	// badge.js fetches (the light block is not served without a chain:
	// its size is bounded below by a generous allowance).
	loads := []string{"/ids/" + id, "/v1/ids/" + id + "?proof=true"}
	for _, attr := range []string{`src="`, `href="/static/`} {
		rest := page.body
		for {
			i := strings.Index(rest, attr)
			if i < 0 {
				break
			}
			rest = rest[i+len(attr):]
			ref := rest[:strings.IndexByte(rest, '"')]
			if strings.HasPrefix(attr, "href") {
				ref = "/static/" + ref
			}
			loads = append(loads, strings.ReplaceAll(ref, "&amp;", "&"))
		}
	}
	const lightBlockAllowance = 64 << 10 // a light block of a few dozen validators, gzipped
	total, raw := lightBlockAllowance, 0
	seen := map[string]bool{}
	for i := 0; i < len(loads); i++ {
		ref := loads[i]
		if seen[ref] {
			loads = append(loads[:i], loads[i+1:]...)
			i--
			continue
		}
		seen[ref] = true
		r := s.get(ref)
		if r.status != http.StatusOK {
			t.Errorf("%s: %d", ref, r.status)
			continue
		}
		// A module's imports load too (verify.js by badge.js; keys.js,
		// data.js... by dataset.js on a dataset's page).
		if strings.HasSuffix(ref, ".js") {
			for rest := r.body; ; {
				i := strings.Index(rest, "from './")
				if i < 0 {
					break
				}
				rest = rest[i+len("from './"):]
				loads = append(loads, "/static/"+rest[:strings.IndexByte(rest, '\'')])
			}
		}
		var zipped bytes.Buffer
		zw := gzip.NewWriter(&zipped)
		_, _ = zw.Write([]byte(r.body))
		_ = zw.Close()
		total += zipped.Len()
		raw += len(r.body)
	}
	t.Logf("a scanned record's page loads %d files, %d bytes, %d gzipped with %d allowed for a light block (budget %d)", len(loads), raw, total, lightBlockAllowance, maxScanPageBytes)
	if !seen["/static/verify.js"] || !seen["/static/accesslog.js"] {
		t.Errorf("the page loads %v: the scan missed verify.js or dataset.js's imports", loads)
	}
	if len(loads) < 6 {
		t.Errorf("the page loads only %v: the scan missed files", loads)
	}
	if total > maxScanPageBytes {
		t.Errorf("%d bytes gzipped, over the budget of %d", total, maxScanPageBytes)
	}
}
