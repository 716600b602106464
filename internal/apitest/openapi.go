package apitest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/cityid/cityid/internal/api"
)

// Document is the OpenAPI document an API handler publishes at
// /v1/openapi.json, loaded and validated by kin-openapi, with a router
// that matches requests to its operations.
type Document struct {
	Spec   *openapi3.T
	routes []docRoute
}

// docRoute is one path template of the document, as a pattern: an id
// takes slashes (its '/' is part of the path, as the document says), any
// other parameter does not.
type docRoute struct {
	template string
	re       *regexp.Regexp
	names    []string
	literal  int // characters outside parameters: the more, the more specific
}

var (
	docOnce sync.Once
	doc     *Document
	docErr  error
)

// LoadDocument fetches h's OpenAPI document and checks that it is a valid
// OpenAPI document; the document is the same for every handler of a
// build, so it is loaded once.
func LoadDocument(h http.Handler) (*Document, error) {
	docOnce.Do(func() { doc, docErr = loadDocument(h) })
	return doc, docErr
}

func loadDocument(h http.Handler) (*Document, error) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/openapi.json", nil))
	if rec.Code != http.StatusOK {
		return nil, fmt.Errorf("GET /v1/openapi.json: %d", rec.Code)
	}
	loader := openapi3.NewLoader()
	spec, err := loader.LoadFromData(rec.Body.Bytes())
	if err != nil {
		return nil, fmt.Errorf("load the OpenAPI document: %w", err)
	}
	if err := spec.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("the OpenAPI document is not valid: %w", err)
	}
	d := &Document{Spec: spec}
	param := regexp.MustCompile(`\{([^}]+)\}`)
	for _, tmpl := range spec.Paths.InMatchingOrder() {
		var names []string
		var pattern strings.Builder
		pattern.WriteString("^")
		last := 0
		for _, loc := range param.FindAllStringSubmatchIndex(tmpl, -1) {
			pattern.WriteString(regexp.QuoteMeta(tmpl[last:loc[0]]))
			name := tmpl[loc[2]:loc[3]]
			names = append(names, name)
			if name == "id" || name == "suffix" {
				pattern.WriteString("(.+)")
			} else {
				pattern.WriteString("([^/]+)")
			}
			last = loc[1]
		}
		pattern.WriteString(regexp.QuoteMeta(tmpl[last:]) + "$")
		d.routes = append(d.routes, docRoute{template: tmpl, re: regexp.MustCompile(pattern.String()), names: names,
			literal: len(param.ReplaceAllString(tmpl, ""))})
	}
	sort.SliceStable(d.routes, func(i, j int) bool { return d.routes[i].literal > d.routes[j].literal })
	return d, nil
}

// Route finds the operation of a request: nil when the document has none
// (a path that is no route, or a method it does not take).
func (d *Document) Route(r *http.Request) (*routers.Route, map[string]string) {
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	for _, rt := range d.routes {
		m := rt.re.FindStringSubmatch(r.URL.Path)
		if m == nil {
			continue
		}
		item := d.Spec.Paths.Value(rt.template)
		op := item.GetOperation(method)
		if op == nil {
			continue
		}
		params := map[string]string{}
		for i, n := range rt.names {
			params[n] = m[i+1]
		}
		return &routers.Route{Spec: d.Spec, Path: rt.template, PathItem: item, Method: method, Operation: op}, params
	}
	return nil, nil
}

// CheckResponse checks one answer against the document: its status is one
// the operation documents, and its headers and body are what the document
// says for it. A request for no documented operation is not checked (ok is
// false).
func (d *Document) CheckResponse(r *http.Request, status int, header http.Header, body []byte) (ok bool, err error) {
	route, params := d.Route(r)
	if route == nil {
		return false, nil
	}
	if r.Method == http.MethodHead {
		// A HEAD answer has the GET's headers and no body.
		return true, nil
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
		Status:  status,
		Header:  header,
		Body:    io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	return true, openapi3filter.ValidateResponse(context.Background(), in)
}

// Validated wraps an API handler so that every answer it gives during
// the test is checked against the document the API publishes: an answer
// outside the document fails the test. The answer reaches the client
// after it was checked.
func Validated(t testing.TB, h http.Handler) http.Handler {
	// The document is the build's, the same for every server: read from
	// a server of its own, so that h counts no request of the test's.
	d, err := LoadDocument(api.New(nil, api.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		// The checker reads the request after the handler did: keep its
		// body.
		var reqBody []byte
		if r.Body != nil {
			reqBody, _ = io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(reqBody))
		}
		h.ServeHTTP(rec, r)
		res := rec.Result()
		body := rec.Body.Bytes()
		check := r.Clone(r.Context())
		check.Body = io.NopCloser(bytes.NewReader(reqBody))
		if _, err := d.CheckResponse(check, res.StatusCode, res.Header, body); err != nil {
			t.Errorf("%s %s: the answer %d is not what the OpenAPI document says: %v\n%s", r.Method, r.URL, res.StatusCode, err, clip(body))
		}
		for k, v := range res.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(res.StatusCode)
		_, _ = w.Write(body)
	})
}

func clip(b []byte) []byte {
	if len(b) > 500 {
		return append(b[:500:500], "…"...)
	}
	return b
}

// ValidatingTransport is an http.RoundTripper that checks every answer a
// real node gives a test against the published document, as Validated
// does for a handler: for tests that talk to a node they did not build.
func ValidatingTransport(t testing.TB) http.RoundTripper {
	d, err := LoadDocument(api.New(nil, api.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err != nil {
			return resp, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		if _, cerr := d.CheckResponse(r, resp.StatusCode, resp.Header, body); cerr != nil {
			t.Errorf("%s %s: the node's answer %d is not what the OpenAPI document says: %v\n%s", r.Method, r.URL, resp.StatusCode, cerr, clip(body))
		}
		return resp, nil
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
