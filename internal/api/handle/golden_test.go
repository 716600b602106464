package handle_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden answers under testdata/golden/")

// The answers of Handle REST, held byte for byte to golden files: each
// request of the table is sent to the HTTP API that mounts the front end,
// over the story's state, and its status, content type and exact body
// must be what testdata/golden/<name>.golden says. The files show the
// body indented; the body served must be that document, compact, as
// encoding/json wrote it. `go test ./internal/api/handle -run
// TestGoldenAnswers -update` rewrites them; a change of answer then shows
// in the diff.
func TestGoldenAnswers(t *testing.T) {
	base := serve(t)
	for _, c := range []struct{ name, path string }{
		// Found: an object with a value of every type and two admins, the
		// handle as asked (any case), a node by 0.NA/.
		{"object", "1561301001.85.1/school-0042"},
		{"object-any-case", "1561301001.85.1/SCHOOL-0042"},
		{"node", "0.NA/1561301001.85.1"},
		{"city", "0.na/1561301001"},
		{"deactivated", "1561301001.85.1/closed"},
		// ALIAS: shown as HS_ALIAS naming the target's handle.
		{"alias", "1561301001.85.1/old-plate"},
		{"alias-by-type", "1561301001.85.1/school-0042?type=HS_ALIAS"},
		// ?type= and ?index=.
		{"type", "1561301001.85.1/school-0042?type=URL&type=EMAIL"},
		{"type-subtypes", "1561301001.85.1/school-0042?type=hdl:10320."},
		{"type-hs", "1561301001.85.1/school-0042?type=HS_."},
		{"type-user", "1561301001.85.1/school-0042?type=ns:tag&type=DATA"},
		{"index", "1561301001.85.1/school-0042?index=3&index=100"},
		{"index-and-type", "1561301001.85.1/school-0042?index=1&type=GEO"},
		{"values-not-found", "1561301001.85.1/school-0042?type=FAX"},
		{"index-not-found", "1561301001.85.1/school-0042?index=99"},
		// Not found, not ours, bad input.
		{"handle-not-found", "1561301001.85.1/nobody"},
		{"node-not-found", "0.NA/1561301001.86"},
		{"not-responsible", "1561302004.85/x"},
		{"not-a-cityid-prefix", "10.1000/182"},
		{"bad-check-character", "1561301002.85.1/x"},
		{"no-suffix", "1561301001.85.1/"},
		{"trailing-slash", "1561301001.85.1/school-0042/"},
		{"doi", "21.T11148/abc"},
		{"no-slash", "1561301001"},
		{"0na-object", "0.NA/1561301001.85.1/school-0042"},
		{"bad-local-id", "1561301001.85.1/school!"},
		{"bad-index", "1561301001.85.1/school-0042?index=-1"},
		{"bad-index-text", "1561301001.85.1/school-0042?index=three"},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, err := http.Get(base + "/api/handles/" + c.path)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			got, err := goldenText("GET /api/handles/"+c.path, resp, body)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "golden", c.name+".golden")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test ./internal/api/handle -run TestGoldenAnswers -update writes it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s changed (-update rewrites it):\n--- got\n%s--- want\n%s", path, got, want)
			}
		})
	}
}

// goldenText is how a golden file holds an answer: the request, then the
// status and content type, then the body indented. It fails unless the
// body is exactly that document compacted, with one newline after it, so
// that the byte-for-byte wire form is pinned too.
func goldenText(request string, resp *http.Response, body []byte) ([]byte, error) {
	var indented bytes.Buffer
	if err := json.Indent(&indented, body, "", "  "); err != nil {
		return nil, fmt.Errorf("body is not JSON: %v: %q", err, body)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, indented.Bytes()); err != nil {
		return nil, err
	}
	if !bytes.Equal(append(compact.Bytes(), '\n'), body) {
		return nil, fmt.Errorf("body is not compact JSON with one newline: %q", body)
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "%s\n%s %s\n", request, strconv.Itoa(resp.StatusCode), resp.Header.Get("Content-Type"))
	out.Write(bytes.TrimRight(indented.Bytes(), "\n"))
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// goldenAnswer is what one golden file pins: the request's path and
// query, the status and the exact body.
type goldenAnswer struct {
	name, target string
	status       int
	body         []byte
}

// readGoldens reads every golden file.
func readGoldens(t *testing.T) []goldenAnswer {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "golden", "*.golden"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	var out []goldenAnswer
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.SplitN(string(b), "\n", 3)
		if len(lines) < 3 || !strings.HasPrefix(lines[0], "GET ") {
			t.Fatalf("%s: not request, status, body", p)
		}
		g := goldenAnswer{name: strings.TrimSuffix(filepath.Base(p), ".golden"), target: strings.TrimPrefix(lines[0], "GET ")}
		if g.status, err = strconv.Atoi(strings.Fields(lines[1])[0]); err != nil {
			t.Fatalf("%s: status: %v", p, err)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, []byte(lines[2])); err != nil {
			t.Fatalf("%s: body: %v", p, err)
		}
		g.body = append(compact.Bytes(), '\n')
		out = append(out, g)
	}
	return out
}

// Every golden answer reads as a Handle client reads an answer by the
// rules of the Handle REST API's documentation (the handle proxy's
// REST-API.txt): responseCode an integer, handle the handle asked for, no
// member but responseCode, handle, values and message; on success values
// with an integer index, a type, data of a format a client knows (string,
// hex, base64: a string; admin: {handle, index, permissions} with twelve
// permission bits), a ttl (an integer or an ISO 8601 time) and an ISO
// 8601 timestamp. An -update that took an answer outside those rules
// fails here, not in a client.
func TestGoldensReadAsHandleClient(t *testing.T) {
	for _, g := range readGoldens(t) {
		t.Run(g.name, func(t *testing.T) { readAsHandleClient(t, g.body) })
	}
}

func readAsHandleClient(t *testing.T, body []byte) {
	t.Helper()
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		t.Fatal(err)
	}
	for k := range top {
		switch k {
		case "responseCode", "handle", "values", "message":
		default:
			t.Errorf("member %q is not in the Handle REST answer", k)
		}
	}
	var code int
	if err := json.Unmarshal(top["responseCode"], &code); err != nil {
		t.Fatalf("responseCode: %v", err)
	}
	var h string
	if err := json.Unmarshal(top["handle"], &h); err != nil || h == "" {
		t.Fatalf("handle: %q %v", h, err)
	}
	if code != 1 {
		return
	}
	var values []map[string]json.RawMessage
	if err := json.Unmarshal(top["values"], &values); err != nil || len(values) == 0 {
		t.Fatalf("values: %v", err)
	}
	for i, v := range values {
		var index int
		var typ, ts string
		var data struct {
			Format string          `json:"format"`
			Value  json.RawMessage `json:"value"`
		}
		if json.Unmarshal(v["index"], &index) != nil || json.Unmarshal(v["type"], &typ) != nil || typ == "" ||
			json.Unmarshal(v["data"], &data) != nil || json.Unmarshal(v["timestamp"], &ts) != nil {
			t.Fatalf("value %d is not index, type, data, timestamp: %v", i, v)
		}
		if _, err := time.Parse(time.RFC3339, ts); err != nil {
			t.Errorf("value %d timestamp %q is not ISO 8601", i, ts)
		}
		var ttl int
		var ttlTime string
		if json.Unmarshal(v["ttl"], &ttl) != nil && (json.Unmarshal(v["ttl"], &ttlTime) != nil || !isTime(ttlTime)) {
			t.Errorf("value %d ttl %s is neither an integer nor a time", i, v["ttl"])
		}
		switch data.Format {
		case "string", "hex", "base64":
			var s string
			if json.Unmarshal(data.Value, &s) != nil {
				t.Errorf("value %d (%s): %s data is not a string", i, typ, data.Format)
			}
		case "admin":
			var a struct {
				Handle      string `json:"handle"`
				Index       int    `json:"index"`
				Permissions string `json:"permissions"`
			}
			if json.Unmarshal(data.Value, &a) != nil || a.Handle == "" || len(a.Permissions) != 12 || strings.Trim(a.Permissions, "01") != "" {
				t.Errorf("value %d: admin data %s", i, data.Value)
			}
		default:
			t.Errorf("value %d: format %q is not one a Handle client knows", i, data.Format)
		}
	}
}

func isTime(s string) bool {
	_, err := time.Parse(time.RFC3339, s)
	return err == nil
}
