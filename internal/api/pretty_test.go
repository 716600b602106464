package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/cityid/cityid/internal/api"
)

// Answers are compact JSON; ?pretty (present, true or 1) indents any JSON
// answer, problems and Handle answers too, with the same content; false
// or 0 is compact; anything else is refused; a PNG is left alone.
func TestPretty(t *testing.T) {
	s := serveStory(t, api.Options{})
	for _, path := range []string{"/v1/ids/1561301001.85.1/school-0042", "/v1/ids/1561301001.85.1/nobody", "/api/handles/1561301001.85.1/school-0042", "/v1/cities"} {
		compact := s.get(path)
		if bytes.Contains(compact.body, []byte("\n  ")) {
			t.Errorf("%s: not compact: %s", path, compact.body)
		}
		sep := "?"
		for _, q := range []string{"pretty", "pretty=true", "pretty=1"} {
			r := s.get(path + sep + q)
			var a, b any
			if r.status != compact.status || !bytes.HasPrefix(r.body, []byte("{\n  \"")) ||
				json.Unmarshal(r.body, &a) != nil || json.Unmarshal(compact.body, &b) != nil || !reflect.DeepEqual(a, b) ||
				r.header.Get("Content-Type") != compact.header.Get("Content-Type") ||
				r.header.Get("Content-Length") != "" && r.header.Get("Content-Length") != strconv.Itoa(len(r.body)) {
				t.Errorf("%s?%s: %d %s, want the indented form of %d %s", path, q, r.status, r.body, compact.status, compact.body)
			}
		}
		for _, q := range []string{"pretty=false", "pretty=0"} {
			if r := s.get(path + sep + q); !bytes.Equal(r.body, compact.body) {
				t.Errorf("%s?%s: %s, want %s", path, q, r.body, compact.body)
			}
		}
	}
	s.problem("/v1/cities?pretty=yes", http.StatusBadRequest, CodeBadRequest, `pretty "yes" is not true or false`)
	if r := s.get("/v1/ids/1561301001.85.1/school-0042/qr.png?pretty"); r.status != http.StatusOK || !bytes.HasPrefix(r.body, []byte("\x89PNG")) {
		t.Errorf("?pretty on a PNG: %d, %d bytes, want the PNG untouched", r.status, len(r.body))
	}
}

// A page of any origin may read every answer (CORS "*"), and a preflight
// for a write is answered without reaching a handler.
func TestCORS(t *testing.T) {
	s := serveStory(t, api.Options{})
	for _, path := range []string{"/v1/cities", "/v1/ids/1561301001.85.1/nobody", "/api/handles/1561301001.85.1/school-0042"} {
		if r := s.get(path, "Origin", "https://portal.example.org"); r.header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("%s: no CORS header", path)
		}
	}
	req, _ := http.NewRequest(http.MethodOptions, s.url+"/v1/txs", nil)
	req.Header.Set("Origin", "https://portal.example.org")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "POST") ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Content-Type") || resp.Header.Get("Access-Control-Max-Age") == "" {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	// Another city's portal may ask a dataset with a signature and a
	// range, and read the receipt and digests of the answer.
	req, _ = http.NewRequest(http.MethodOptions, s.url+"/v1/data/1561301001.85.1/exam-2026", nil)
	req.Header.Set("Origin", "https://portal.example.org")
	req.Header.Set("Access-Control-Request-Method", "PUT")
	req.Header.Set("Access-Control-Request-Headers", "signature, signature-input, content-range")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	allow := resp.Header.Get("Access-Control-Allow-Headers")
	if resp.StatusCode != http.StatusNoContent || !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "PUT") ||
		!strings.Contains(allow, "Signature-Input") || !strings.Contains(allow, "Content-Range") || !strings.Contains(allow, "Range") {
		t.Errorf("preflight of a dataset's upload: %d %v", resp.StatusCode, resp.Header)
	}
	if !strings.Contains(allow, "If-Range") {
		t.Errorf("preflight of a dataset's resumed download: If-Range not allowed in %q", allow)
	}
	// What data.js reads of another node's answers (its header comment
	// says so): the receipt, an upload's Range, the digests.
	for _, path := range []string{"/v1/data/1561301001.85.1/exam-2026", "/v1/access-log/1561301001.85.1/exam-2026"} {
		expose := s.get(path, "Origin", "https://portal.example.org").header.Get("Access-Control-Expose-Headers")
		for _, h := range []string{"CityID-Access-Log", "Range", "Repr-Digest", "Content-Digest"} {
			if !strings.Contains(expose, h) {
				t.Errorf("%s: %s is not exposed to another origin (%q)", path, h, expose)
			}
		}
	}
}
