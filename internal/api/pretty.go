package api

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"strings"
)

// prettyParam reads ?pretty: present, true or 1 ask for indented JSON
// (as the Handle.net REST API offers); false or 0 for compact. Anything
// else is a 400, as for every other boolean parameter.
func prettyParam(w http.ResponseWriter, r *http.Request) (pretty, ok bool) {
	if !strings.Contains(r.URL.RawQuery, "pretty") {
		return false, true
	}
	q := r.URL.Query()
	if !q.Has("pretty") {
		return false, true
	}
	v := q.Get("pretty")
	if v == "" {
		return true, true
	}
	return boolParam(w, v, "pretty")
}

// prettyWriter holds an answer back and sends it indented when it is
// JSON: one place gives ?pretty to every JSON answer of the API, records,
// problems, light blocks and this document alike, and the usual compact
// path pays nothing for it.
type prettyWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (p *prettyWriter) WriteHeader(status int) {
	if p.status == 0 {
		p.status = status
	}
}

func (p *prettyWriter) Write(b []byte) (int, error) {
	if p.status == 0 {
		p.status = http.StatusOK
	}
	return p.body.Write(b)
}

// finish sends the held answer, indented if it is JSON.
func (p *prettyWriter) finish() {
	if p.status == 0 {
		p.status = http.StatusOK
	}
	body := p.body.Bytes()
	if isJSON(p.Header().Get("Content-Type")) {
		var out bytes.Buffer
		if json.Indent(&out, bytes.TrimSpace(body), "", "  ") == nil {
			out.WriteByte('\n')
			body = out.Bytes()
			p.Header().Del("Content-Length")
		}
	}
	p.ResponseWriter.WriteHeader(p.status)
	_, _ = p.ResponseWriter.Write(body)
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}
