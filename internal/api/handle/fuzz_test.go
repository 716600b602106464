package handle_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cityid/cityid/internal/api"
	"github.com/cityid/cityid/internal/api/handle"
	"github.com/cityid/cityid/internal/wire"
)

// status is the HTTP status each Handle response code is sent with, as
// the Handle.net REST API sends them.
var status = map[int]int{
	handle.CodeSuccess: http.StatusOK, handle.CodeValuesNotFound: http.StatusOK, handle.CodeHandleNotFound: http.StatusNotFound,
	handle.CodeInvalidHandle: http.StatusBadRequest, handle.CodeInvalidValue: http.StatusBadRequest, handle.CodeNotResponsible: http.StatusBadRequest,
}

// FuzzHandle sends GET /api/handles/{handle}?{query} to the HTTP API that
// mounts the front end, as a client's request line would carry it, and
// checks the answer: never a 5xx; a redirect only to the clean path;
// otherwise one JSON document, a Handle answer whose responseCode is one
// of Handle's, sent with its HTTP status, naming the handle asked for,
// with values only on success, each matching the ?index= or ?type= asked
// for. ?pretty that is not a boolean is the one problem+json answer.
func FuzzHandle(f *testing.F) {
	s := api.New(story(f).Backend(), api.Options{})
	for _, h := range []string{
		"1561301001.85.1/school-0042", "1561301001.85.1/SCHOOL-0042", "0.NA/1561301001.85.1", "0.na/1561301001",
		"0.NA/1561301001.85.1/school-0042", "1561301001.85.1/nobody", "1561302004.85/x", "1561301002.85.1/x",
		"x", "", "/", "1561301001.85.1/", "1561301001.85.1/a%2Fb", "1561301001.85.1/%ff", "1561301001.85.1/../x",
	} {
		f.Add(h, "")
	}
	for _, q := range []string{
		"type=URL&type=EMAIL", "index=3&index=100", "type=HS_", "type=HS_.", "type=hdl:10320.", "index=-1",
		"index=99999999999999999999", "pretty", "pretty=nope", "pretty=true&type=URL", "index=1&type=ALIAS",
		"type=", "index=", "index=+5", "type=%ff", "a=%zz&type=URL",
	} {
		f.Add("1561301001.85.1/school-0042", q)
	}
	f.Fuzz(func(t *testing.T, h, query string) {
		target := "/api/handles/" + h
		if query != "" {
			target += "?" + query
		}
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader("GET " + target + " HTTP/1.1\r\nHost: node.example\r\n\r\n")))
		if err != nil {
			return // the server answers 400 before any handler
		}
		req.RemoteAddr = "192.0.2.1:1234"
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		res := w.Result()
		body := w.Body.Bytes()
		if res.StatusCode >= 500 {
			t.Fatalf("%s: %d %s", target, res.StatusCode, body)
		}
		if res.StatusCode >= 300 && res.StatusCode < 400 {
			if loc := res.Header.Get("Location"); loc == "" || !strings.HasPrefix(req.URL.Path, "/api/handles") {
				t.Fatalf("%s: redirect %d to %q", target, res.StatusCode, loc)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("%s: %d, not JSON: %q", target, res.StatusCode, body)
		}
		if ct := res.Header.Get("Content-Type"); ct == "application/problem+json" {
			var p wire.Problem
			if err := json.Unmarshal(body, &p); err != nil || p.Code == "" || p.Status != res.StatusCode {
				t.Fatalf("%s: problem %s", target, body)
			}
			if !req.URL.Query().Has("pretty") {
				t.Fatalf("%s: a problem, not a Handle answer: %s", target, body)
			}
			return
		} else if ct != "application/json" {
			t.Fatalf("%s: content type %q", target, ct)
		}
		var a handle.HandleAnswer
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&a); err != nil {
			t.Fatalf("%s: not a Handle answer: %v: %s", target, err, body)
		}
		want, known := status[a.ResponseCode]
		if !known || want != res.StatusCode {
			t.Fatalf("%s: responseCode %d with HTTP %d", target, a.ResponseCode, res.StatusCode)
		}
		if a.Handle != jsonText(strings.TrimPrefix(req.URL.Path, "/api/handles/")) {
			t.Fatalf("%s: answer for handle %q", target, a.Handle)
		}
		if (a.ResponseCode == handle.CodeSuccess) != (len(a.Values) > 0) || a.ResponseCode != handle.CodeSuccess && a.Message == "" {
			t.Fatalf("%s: responseCode %d, %d values, message %q", target, a.ResponseCode, len(a.Values), a.Message)
		}
		q := req.URL.Query()
		for _, v := range a.Values {
			if v.Type == "" || v.Data.Value == nil || (v.Data.Format != "string" && v.Data.Format != "hex" && v.Data.Format != "admin") {
				t.Fatalf("%s: value %+v", target, v)
			}
			if _, err := time.Parse(time.RFC3339, v.Timestamp); err != nil {
				t.Fatalf("%s: value %d timestamp %q", target, v.Index, v.Timestamp)
			}
			if (q.Has("index") || q.Has("type")) && !wanted(v, q["index"], q["type"]) {
				t.Fatalf("%s: value %d of type %s was not asked for", target, v.Index, v.Type)
			}
		}
	})
}

// wanted is whether a value matches one of the indexes or types asked
// for, as Handle's REST API reads them (a type ending in '.' names its
// sub-types too), written apart from the front end's filter.
func wanted(v handle.HandleValue, indexes, types []string) bool {
	for _, i := range indexes {
		if n, err := strconv.Atoi(i); err == nil && n == v.Index {
			return true
		}
	}
	for _, t := range types {
		if t == v.Type || strings.HasSuffix(t, ".") && (strings.HasPrefix(v.Type, t) || v.Type+"." == t) {
			return true
		}
	}
	return false
}

// jsonText is s as JSON carries it: each byte that is not UTF-8 becomes
// U+FFFD, as encoding/json writes it.
func jsonText(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r) // range yields U+FFFD for each such byte
	}
	return b.String()
}
