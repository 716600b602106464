package web

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/cityid/cityid/internal/wire"
)

//go:embed templates/*.html
var templateFiles embed.FS

// Policy is the Content-Security-Policy of every page: scripts, styles,
// images and fetches from this node only, no inline script or style, no
// plugins, no framing, forms posted only here. The pages work without
// script; the verification badge is a module file (static/badge.js).
const Policy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// Bounds of the pages, with their reasons.
const (
	// pageSize is how many entries a directory page lists: a phone's
	// screenful or three, one Source read each at most.
	pageSize = 50
	// recordChildren is how many children a record's page lists before
	// it links to the directory.
	recordChildren = 20
	// timelineVersions is how many of a record's latest versions its page
	// shows; the JSON history has them all.
	timelineVersions = 50
	// maxCountryScan bounds the cities read to count them by country on
	// the directory's first page (ISO 3166-1 has 249 countries; the
	// registry a few thousand cities at most).
	maxCountryScan = 20000
)

// Options of the portal. The zero value takes the defaults.
type Options struct {
	Logger *slog.Logger
}

// Portal serves the portal's pages and static files. Its handlers are
// mounted by internal/api's route table (the one list of routes); it
// reads only through its Source.
type Portal struct {
	src   Source
	log   *slog.Logger
	pages map[string]*template.Template
	words map[string]map[string]string
}

// New returns the portal over src.
func New(src Source, opts Options) *Portal {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Portal{src: src, log: opts.Logger, pages: map[string]*template.Template{}, words: catalog()}
	for _, name := range []string{"home", "record", "dir", "problem", "keys", "apply", "authority", "desk", "labels", "explorer", "block", "tx", "application", "verify", "trust"} {
		// The templates are the binary's own: a parse error is a build
		// defect that every test of the package finds, not an input.
		p.pages[name] = template.Must(template.New(name+".html").Option("missingkey=error").Funcs(templateFuncs()).
			ParseFS(templateFiles, "templates/layout.html", "templates/"+name+".html"))
	}
	return p
}

// templateFuncs are the templates' helpers: pure, over text they are
// given.
func templateFuncs() template.FuncMap {
	return template.FuncMap{
		// short is a hash's first 12 characters, for a timeline.
		"short": func(s string) string {
			if len(s) > 12 {
				return s[:12] + "…"
			}
			return s
		},
	}
}

// page is what every page's template gets.
type page struct {
	// L is the words of the page's language.
	L    map[string]string
	Lang string
	// Switch is this page's address in the other language.
	Switch string
	Title  string
	// Query is what the search box holds.
	Query string
	// Data is the page's own content.
	Data any
}

// render answers a page with status, under the portal's headers.
func (p *Portal) render(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) {
	lang := chooseLang(w, r)
	pg := page{L: p.words[lang], Lang: lang, Switch: switchURL(r, lang), Title: title, Data: data}
	// A page's content says what its search box holds.
	if q, ok := data.(interface{ query() string }); ok {
		pg.Query = q.query()
	}
	// The page is made whole before its status is sent, so a template
	// that fails is a 500, never a 200 with half a page.
	var buf bytes.Buffer
	if err := p.pages[name].ExecuteTemplate(&buf, "layout", pg); err != nil {
		p.log.Error("page", "page", name, "path", r.URL.Path, "err", err)
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString("internal error; the node's log has the details\n")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
	}
	setPageHeaders(w.Header())
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// setPageHeaders are the headers of every page: the policy, no sniffing,
// no referrer to the sites a record links to, and the language's inputs
// in Vary so a cache keeps each language apart.
func setPageHeaders(h http.Header) {
	h.Set("Content-Security-Policy", Policy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Add("Vary", "Accept-Language")
	h.Add("Vary", "Cookie")
	h.Set("Cache-Control", "no-cache")
}

// switchURL is the request's address with ?lang= set to the other
// language.
func switchURL(r *http.Request, lang string) string {
	other := langZh
	if lang == langZh {
		other = langEn
	}
	q := r.URL.Query()
	q.Set("lang", other)
	return (&url.URL{Path: r.URL.Path, RawQuery: q.Encode()}).String()
}

// Problem answers a problem about the identifier asked (as the person
// gave it, or canonical once it parsed) as a page, with its HTTP status:
// for a browser at /r/{id}, where an API client gets problem+json.
func (p *Portal) Problem(w http.ResponseWriter, r *http.Request, prob wire.Problem, asked string) {
	p.problem(w, r, prob, asked)
}

// problemData is the error page's content.
type problemData struct {
	Problem wire.Problem
	// ID is the identifier asked for, when it parsed (not registered).
	ID string
	// Text is what was asked, when it did not parse, with the character
	// at the problem's position apart.
	Text               string
	Before, At, After  string
	NotFound, ParseErr bool
	// Missing: something not found that is no identifier (a block, a
	// transaction, an application), which the detail names.
	Missing bool
	// ChainID is set for an identifier not registered: the badge checks
	// the proof of its absence.
	ChainID string
}

// query: the search box holds what was asked, to be corrected.
func (d problemData) query() string { return d.Text }

func (p *Portal) problem(w http.ResponseWriter, r *http.Request, prob wire.Problem, text string) {
	p.showProblem(w, r, prob, text, false)
}

// showProblem is problem; missing says a read found no block,
// transaction or application, which the problem's detail names.
func (p *Portal) showProblem(w http.ResponseWriter, r *http.Request, prob wire.Problem, text string, missing bool) {
	status := wire.HTTPStatus(prob.Code)
	prob.Status = status
	d := problemData{Problem: prob, Text: text, NotFound: prob.Code == wire.CodeNotFound, ParseErr: prob.Position > 0 || prob.Reason != ""}
	d.Missing = d.NotFound && missing
	if d.NotFound && text != "" {
		d.ID = text
		if st, err := p.src.Status(r.Context()); err == nil {
			d.ChainID = st.ChainID
		}
	}
	if d.ParseErr && text != "" {
		d.Before, d.At, d.After = splitAt(text, prob.Position)
	}
	p.render(w, r, status, "problem", p.words[pickLang(r)]["Error"], d)
}

// splitAt cuts s around its pos'th character (1-based; one past the end
// for something missing at the end).
func splitAt(s string, pos int) (before, at, after string) {
	rs := []rune(s)
	if pos < 1 {
		return s, "", ""
	}
	if pos > len(rs) {
		return s, " ", ""
	}
	return string(rs[:pos-1]), string(rs[pos-1 : pos]), string(rs[pos:])
}

// NotFound is the page of an address that has none.
func (p *Portal) NotFound(w http.ResponseWriter, r *http.Request) {
	p.problem(w, r, wire.Problem{Code: wire.CodeNotFound, Detail: "no page " + r.URL.Path}, "")
}

// Static serves the files under static/ (badge.js, verify.js,
// portal.css), the same on every node.
func (p *Portal) Static(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	if name == "" || strings.HasSuffix(name, "/") || !fs.ValidPath(name) {
		p.NotFound(w, r)
		return
	}
	b, err := fs.ReadFile(Static(), name)
	if err != nil {
		p.NotFound(w, r)
		return
	}
	switch path.Ext(name) {
	case ".js", ".mjs":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	case ".css":
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	case ".svg":
		w.Header().Set("Content-Type", "image/svg+xml")
	default:
		w.Header().Set("Content-Type", "application/octet-stream")
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Security-Policy", Policy)
	_, _ = w.Write(b)
}
