package api_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"flag"
	"fmt"
	"image/png"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	zqr "github.com/makiuchi-d/gozxing/qrcode"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/cityid/cityid/client"
	"github.com/cityid/cityid/internal/api"
	"github.com/cityid/cityid/internal/keyring"
	"github.com/cityid/cityid/internal/node"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/wire"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// fixture is one real node, in process, with a city, a sector, a unit and
// a few identifiers, shared by the tests of this file.
type fixture struct {
	url, home string
	c         *client.Client
	alice     ed25519.PrivateKey
	blockTx   string // a committed transaction's hash
}

var (
	fixOnce sync.Once
	fix     *fixture
	fixErr  error
)

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func setup(t *testing.T) *fixture {
	t.Helper()
	fixOnce.Do(func() { fix, fixErr = start() })
	if fixErr != nil {
		t.Fatal(fixErr)
	}
	return fix
}

func start() (*fixture, error) {
	home, err := os.MkdirTemp("", "cityid-api-test-")
	if err != nil {
		return nil, err
	}
	var addrs [3]string
	for i := range addrs {
		if addrs[i], err = freeAddr(); err != nil {
			return nil, err
		}
	}
	if _, err := node.Init(filepath.Join(home, "n"), node.InitOptions{HTTP: addrs[0], RPC: "tcp://" + addrs[1], P2P: "tcp://" + addrs[2], DNS: "off"}); err != nil {
		return nil, err
	}
	home = filepath.Join(home, "n")
	c, err := node.Load(home)
	if err != nil {
		return nil, err
	}
	run, err := node.Start(context.Background(), c, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	f := &fixture{url: "http://" + run.HTTPAddr, home: home}
	if f.c, err = client.New(f.url); err != nil {
		return nil, err
	}
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(f.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("node not ready")
		}
		time.Sleep(100 * time.Millisecond)
	}
	op, err := keyring.Load(home, node.OperatorKey)
	if err != nil {
		return nil, err
	}
	_, f.alice, _ = ed25519.GenerateKey(nil)
	alice, err := f.c.NewSigner(ctx, f.alice)
	if err != nil {
		return nil, err
	}
	send := func(s *client.Signer, kind string, msg any) (client.TxAnswer, error) {
		ans, err := s.Send(ctx, kind, msg)
		if err != nil {
			return ans, fmt.Errorf("%s: %w", kind, err)
		}
		return ans, nil
	}
	aliceHash, herr := registry.ApplicationHash(registry.KeyText(f.alice.Public().(ed25519.PublicKey)),
		registry.ApplyCity{Country: "156", CityNumber: "130100", Name: "石家庄市", NameEn: "Shijiazhuang", Locode: "CNSJW"})
	if herr != nil {
		return nil, herr
	}
	opS, err := f.c.NewSigner(ctx, op.Private)
	if err != nil {
		return nil, err
	}
	steps := []struct {
		s    *client.Signer
		kind string
		msg  any
	}{
		{alice, registry.KindApplyCity, registry.ApplyCity{Country: "156", CityNumber: "130100", Name: "石家庄市", NameEn: "Shijiazhuang", Locode: "CNSJW"}},
		{opS, registry.KindApproveApplication, registry.Decision{Application: 1, Hash: aliceHash}},
		{alice, registry.KindApplyCity, registry.ApplyCity{Country: "156", CityNumber: "130200", Name: "唐山市"}},
		{alice, registry.KindRegisterSector, registry.RegisterSector{ID: "1561301001.85"}},
		{alice, registry.KindRegisterUnit, registry.RegisterUnit{Parent: "1561301001.85", Name: "Education Bureau"}},
		{alice, registry.KindRegister, registry.Register{ID: "1561301001.85.1/school-0042", Values: []registry.Value{
			{Type: "URL", Data: "https://example.org/school-0042"}, {Type: "EMAIL", Data: "office@school42.example.org"},
			{Type: "TEXT", Data: "No. 42 Primary School"}, {Type: "ALIAS", Data: "1561301001.85.1/NO42"},
		}}},
		{alice, registry.KindRegister, registry.Register{ID: "1561301001.85.1/no-url", Values: []registry.Value{{Type: "TEXT", Data: "no URL here"}}}},
		{alice, registry.KindRegister, registry.Register{ID: "1561301001.85.1/exam-2026", Values: []registry.Value{{Type: "DATA", Dataset: &registry.Dataset{
			URI: "https://data.example.org/exam-2026.csv", SHA256: strings.Repeat("ab", 32), Size: 4096, MediaType: "text/csv"}}}}},
		{alice, registry.KindGrantAccess, registry.GrantAccess{Dataset: "1561301001.85.1/exam-2026", Grantee: "1561301001.85", Expires: time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)}},
		{alice, registry.KindUpdate, registry.Update{ID: "1561301001.85.1/no-url", Version: 1, Values: []registry.Value{{Type: "TEXT", Data: "still no URL"}}}},
	}
	for _, st := range steps {
		ans, err := send(st.s, st.kind, st.msg)
		if err != nil {
			return nil, err
		}
		f.blockTx = ans.Hash
	}
	return f, nil
}

func get(t *testing.T, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// The document and the server agree: every route served is documented,
// and every documented route is served (it answers, and not with the
// catch-all "no route").
func TestOpenAPIRoutes(t *testing.T) {
	f := setup(t)
	resp, body := get(t, f.url+"/v1/openapi.json")
	if resp.StatusCode != 200 {
		t.Fatalf("openapi.json: %d", resp.StatusCode)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	sort.Strings(documented)
	if fmt.Sprint(documented) != fmt.Sprint(api.Paths()) {
		t.Fatalf("served document %v differs from the route table %v", documented, api.Paths())
	}
	// Every served pattern covers at least one documented operation.
	srv := api.New(nil, api.Options{})
	for _, p := range srv.Patterns() {
		method, path, _ := strings.Cut(p, " ")
		prefix, wild := strings.CutSuffix(path, "...}")
		if wild {
			prefix = prefix[:strings.LastIndexByte(prefix, '{')]
		}
		covered := false
		for _, d := range documented {
			dm, dp, _ := strings.Cut(d, " ")
			if dm == method && (dp == path || wild && strings.HasPrefix(dp, prefix)) {
				covered = true
			}
		}
		if !covered {
			t.Errorf("served route %q is not documented", p)
		}
	}
	// Every documented operation is served.
	for _, d := range documented {
		method, path, _ := strings.Cut(d, " ")
		if method != "GET" {
			continue
		}
		url := f.url + fill(path, f)
		resp, body := get(t, url)
		if resp.StatusCode == 404 && strings.Contains(string(body), "no route") {
			t.Errorf("documented %s is not served (%s)", d, url)
		}
	}
}

// fill puts real values in a documented path.
func fill(path string, f *fixture) string {
	return strings.NewReplacer(
		"{id}", "1561301001.85.1/school-0042", "{n}", "1", "{h}", "2", "{hash}", f.blockTx,
		"{key}", registry.KeyText(f.alice.Public().(ed25519.PublicKey)),
		"{prefix}", "1561301001.85.1", "{suffix}", "school-0042",
	).Replace(path)
}

// Real answers match the document's schemas.
func TestResponsesMatchSchemas(t *testing.T) {
	f := setup(t)
	_, body := get(t, f.url+"/v1/openapi.json")
	var doc any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	comp := jsonschema.NewCompiler()
	comp.DefaultDraft(jsonschema.Draft2020)
	if err := comp.AddResource("openapi.json", doc); err != nil {
		t.Fatal(err)
	}
	alicePub := registry.KeyText(f.alice.Public().(ed25519.PublicKey))
	for _, c := range []struct {
		url    string
		status int
		schema string
	}{
		{"/v1/ids/1561301001.85.1/school-0042", 200, "RecordAnswer"},
		{"/v1/ids/1561301001.85.1/school-0042?proof=true", 200, "RecordAnswer"},
		{"/v1/ids/1561301001.85.1/school-0042?height=3", 404, "Problem"},
		{"/v1/ids/1561301001.85.1/nobody?proof=true", 404, "Problem"},
		{"/v1/ids/1561301001.85.1/x!", 400, "Problem"},
		{"/v1/ids/1561301001.85.1/no-url/history", 200, "History"},
		{"/v1/ids/1561301001/children", 200, "Children"},
		{"/v1/ids/1561301001.85.1/children?limit=1", 200, "Children"},
		{"/v1/cities", 200, "CityList"},
		{"/v1/applications", 200, "ApplicationList"},
		{"/v1/applications?status=pending", 200, "ApplicationList"},
		{"/v1/applications/1", 200, "ApplicationAnswer"},
		{"/v1/grants?dataset=1561301001.85.1/exam-2026", 200, "GrantList"},
		{"/v1/grants?grantee=1561301001.85", 200, "GrantList"},
		{"/v1/validators", 200, "ValidatorList"},
		{"/v1/proposals", 200, "ProposalList"},
		{"/v1/accounts/" + alicePub, 200, "Account"},
		{"/v1/blocks/2", 200, "BlockInfo"},
		{"/v1/blocks/latest", 200, "BlockInfo"},
		{"/v1/blocks/99999999", 404, "Problem"},
		{"/v1/txs/" + f.blockTx, 200, "TxInfo"},
		{"/v1/light/2", 200, "LightBlock"},
		{"/v1/status", 200, "StatusAnswer"},
		{"/api/handles/1561301001.85.1/school-0042", 200, "HandleAnswer"},
		{"/api/handles/1561302004/x", 400, "HandleAnswer"},
		{"/healthz", 200, "Health"},
		{"/readyz", 200, "Health"},
	} {
		t.Run(c.url, func(t *testing.T) {
			resp, body := get(t, f.url+c.url)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, body)
			}
			sch, err := comp.Compile("openapi.json#/components/schemas/" + c.schema)
			if err != nil {
				t.Fatal(err)
			}
			v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
			if err != nil {
				t.Fatalf("not JSON: %v", err)
			}
			if err := sch.Validate(v); err != nil {
				t.Errorf("answer does not match %s: %v\n%s", c.schema, err, body)
			}
		})
	}
}

// The Handle REST shape, pinned by golden files.
func TestHandleGolden(t *testing.T) {
	f := setup(t)
	for _, c := range []struct {
		name, path string
		status     int
	}{
		{"object", "/api/handles/1561301001.85.1/school-0042", 200},
		{"node", "/api/handles/0.NA/1561301001.85.1", 200},
		{"type-filter", "/api/handles/1561301001.85.1/school-0042?type=URL&type=EMAIL", 200},
		{"index-filter", "/api/handles/1561301001.85.1/school-0042?index=3&index=100", 200},
		{"values-not-found", "/api/handles/1561301001.85.1/school-0042?type=GEO", 200},
		{"handle-not-found", "/api/handles/1561301001.85.1/nobody", 404},
		{"invalid-handle", "/api/handles/1561301002.85.1/x", 400},
		{"not-responsible", "/api/handles/1561302004.85/x", 400},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := get(t, f.url+c.path)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, body)
			}
			golden(t, filepath.Join("testdata", "handle-"+c.name+".json"), normalize(t, body))
			readAsHandleClient(t, body)
		})
	}
}

// normalize replaces what changes between runs (keys, times) so golden
// files hold the shape and the stable content.
func normalize(t *testing.T, body []byte) []byte {
	t.Helper()
	var a wire.HandleAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatal(err)
	}
	for i := range a.Values {
		a.Values[i].Timestamp = "2026-01-01T00:00:00Z"
		if a.Values[i].Type == "HS_PUBKEY" {
			a.Values[i].Data.Value = "<admin public key>"
		}
	}
	b, _ := json.MarshalIndent(a, "", "  ")
	return append(b, '\n')
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/api -run %s -update)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s changed:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// readAsHandleClient reads an answer by the rules of the Handle REST API's
// documentation (the handle proxy's REST-API.txt): responseCode an integer,
// handle the handle asked for, values with an integer index, a type, data
// of a known format (string, hex, base64: a string; admin: {handle, index,
// permissions}), a ttl (an integer or an ISO 8601 time) and an ISO 8601
// timestamp; message optional.
func readAsHandleClient(t *testing.T, body []byte) {
	t.Helper()
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		t.Fatal(err)
	}
	var code int
	if err := json.Unmarshal(top["responseCode"], &code); err != nil {
		t.Fatalf("responseCode: %v", err)
	}
	var handle string
	if err := json.Unmarshal(top["handle"], &handle); err != nil || handle == "" {
		t.Fatalf("handle: %q %v", handle, err)
	}
	for k := range top {
		switch k {
		case "responseCode", "handle", "values", "message":
		default:
			t.Errorf("member %q is not in the Handle REST answer", k)
		}
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
			t.Fatalf("value %d is not index, type, data, timestamp: %s", i, mustJSON(v))
		}
		if _, err := time.Parse(time.RFC3339, ts); err != nil {
			t.Errorf("value %d timestamp %q is not ISO 8601", i, ts)
		}
		var ttl int
		var ttlTime string
		if json.Unmarshal(v["ttl"], &ttl) != nil && json.Unmarshal(v["ttl"], &ttlTime) != nil {
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

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// The QR code of an identifier decodes to its resolver URL, and the
// resolver URL sends a browser to its first URL value or to its page.
func TestQRAndResolver(t *testing.T) {
	f := setup(t)
	resp, body := get(t, f.url+"/v1/ids/1561301001.85.1/school-0042/qr.png?size=300&level=Q")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("qr.png: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	img, err := png.Decode(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	bmp, _ := gozxing.NewBinaryBitmapFromImage(img)
	res, err := zqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := f.url + "/r/1561301001.85.1/school-0042"
	if res.GetText() != want {
		t.Fatalf("the QR code says %q, want %q", res.GetText(), want)
	}
	if resp, body := get(t, f.url+"/v1/ids/1561301001.85.1/school-0042/qr.svg"); resp.StatusCode != 200 || !bytes.HasPrefix(body, []byte("<svg")) {
		t.Fatalf("qr.svg: %d %.40s", resp.StatusCode, body)
	}
	for _, c := range []struct{ path, want string }{
		{"/v1/ids/1561301001.85.1/nobody/qr.png", "404"},
		{"/v1/ids/1561301001.85.1/school-0042/qr.png?size=10", "400"},
		{"/v1/ids/1561301001.85.1/school-0042/qr.png?level=Z", "400"},
	} {
		if resp, _ := get(t, f.url+c.path); fmt.Sprint(resp.StatusCode) != c.want {
			t.Errorf("%s: %d, want %s", c.path, resp.StatusCode, c.want)
		}
	}
	// Scanning: a browser goes to the first URL value.
	resp, _ = get(t, want, "Accept", "text/html")
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "https://example.org/school-0042" {
		t.Fatalf("/r/ with a URL value: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// No URL value: the record's page.
	resp, _ = get(t, f.url+"/r/1561301001.85.1/no-url", "Accept", "text/html")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ids/1561301001.85.1/no-url" {
		t.Fatalf("/r/ without a URL value: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body = get(t, f.url+"/ids/1561301001.85.1/no-url")
	if resp.StatusCode != 200 || !strings.Contains(string(body), "still no URL") || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("record page: %d %s", resp.StatusCode, body)
	}
	// A program gets JSON.
	resp, body = get(t, want, "Accept", "application/json")
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"id":"1561301001.85.1/school-0042"`) {
		t.Fatalf("/r/ asking for JSON: %d %s", resp.StatusCode, body)
	}
}

// Bounds and CORS: a page of another origin may read; bodies, headers and
// list sizes are bounded with a clear answer.
func TestLimitsAndCORS(t *testing.T) {
	f := setup(t)
	resp, _ := get(t, f.url+"/v1/cities", "Origin", "https://portal.example.org")
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("no CORS header on a GET")
	}
	req, _ := http.NewRequest(http.MethodOptions, f.url+"/v1/txs", nil)
	req.Header.Set("Origin", "https://portal.example.org")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type")
	pre, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	pre.Body.Close()
	if pre.StatusCode != 204 || !strings.Contains(pre.Header.Get("Access-Control-Allow-Methods"), "POST") || !strings.Contains(pre.Header.Get("Access-Control-Allow-Headers"), "Content-Type") {
		t.Errorf("preflight: %d %v", pre.StatusCode, pre.Header)
	}
	big := bytes.Repeat([]byte(" "), registry.MaxTxBytes+8<<10)
	post, err := http.Post(f.url+"/v1/txs", "application/json", bytes.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(post.Body)
	post.Body.Close()
	if post.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), `"code":"too_large"`) {
		t.Errorf("oversize body: %d %s", post.StatusCode, b)
	}
	req, _ = http.NewRequest(http.MethodGet, f.url+"/v1/status", nil)
	req.Header.Set("X-Big", strings.Repeat("x", 64<<10))
	hresp, err := http.DefaultClient.Do(req)
	if err == nil {
		hresp.Body.Close()
		if hresp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("oversize header: %d", hresp.StatusCode)
		}
	}
	if resp, body := get(t, f.url+"/v1/cities?limit=5000"); resp.StatusCode != 400 || !strings.Contains(string(body), "limit") {
		t.Errorf("limit 5000: %d %s", resp.StatusCode, body)
	}
	if resp, body := get(t, f.url+"/v1/cities?limit=1"); resp.StatusCode != 200 || !strings.Contains(string(body), `"city_code":"1561301001"`) || strings.Contains(string(body), `"next"`) {
		t.Errorf("one city, a page of one: %d %s", resp.StatusCode, body)
	}
	// Answers are compact; ?pretty indents them for people, with the same content.
	_, compact := get(t, f.url+"/v1/cities?limit=1")
	for _, q := range []string{"pretty", "pretty=true", "pretty=1"} {
		resp, body := get(t, f.url+"/v1/cities?limit=1&"+q)
		var a, b any
		if resp.StatusCode != 200 || !strings.Contains(string(body), "\n  \"cities\": [") ||
			json.Unmarshal(body, &a) != nil || json.Unmarshal(compact, &b) != nil || !reflect.DeepEqual(a, b) {
			t.Errorf("?%s: %d %s, want the indented form of %s", q, resp.StatusCode, body, compact)
		}
	}
	if _, body := get(t, f.url+"/v1/cities?limit=1&pretty=false"); !bytes.Equal(body, compact) {
		t.Errorf("?pretty=false: %s, want %s", body, compact)
	}
	// Every JSON answer takes it, problems and light blocks too; a bad value is refused.
	for _, path := range []string{"/v1/ids/1561301001.85.1/nobody?pretty", "/v1/light/1?pretty", "/api/handles/1561301001.85.1/nobody?pretty"} {
		resp, body := get(t, f.url+path)
		if resp.StatusCode == 0 || !bytes.HasPrefix(body, []byte("{\n  \"")) || !json.Valid(body) || resp.Header.Get("Content-Length") != "" && resp.Header.Get("Content-Length") != fmt.Sprint(len(body)) {
			t.Errorf("%s: %d %q, want indented JSON", path, resp.StatusCode, body)
		}
	}
	if resp, body := get(t, f.url+"/v1/cities?pretty=yes"); resp.StatusCode != 400 || !strings.Contains(string(body), `pretty \"yes\" is not true or false`) {
		t.Errorf("?pretty=yes: %d %s, want 400 naming the parameter", resp.StatusCode, body)
	}
	if resp, body := get(t, f.url+"/v1/ids/1561301001.85.1/qr.png?pretty"); resp.StatusCode != 200 || !bytes.HasPrefix(body, []byte("\x89PNG")) {
		t.Errorf("?pretty on a PNG: %d, %d bytes, want the PNG untouched", resp.StatusCode, len(body))
	}
}

// /metrics counts what the node answered.
func TestMetrics(t *testing.T) {
	f := setup(t)
	before := metric(t, f, `cityid_requests_total{interface="handle",status="404"}`)
	get(t, f.url+"/api/handles/1561301001.85.1/nobody")
	get(t, f.url+"/api/handles/1561301001.85.1/nobody")
	if after := metric(t, f, `cityid_requests_total{interface="handle",status="404"}`); after != before+2 {
		t.Errorf("handle 404s: %v then %v, want +2", before, after)
	}
	if n := metric(t, f, `cityid_transactions_total{kind="register",result="ok"}`); n < 3 {
		t.Errorf("committed registers: %v, want at least 3", n)
	}
	if h := metric(t, f, `cityid_height`); h < 10 {
		t.Errorf("height %v", h)
	}
	// A record resolved twice is read from the tree at most once.
	lookups, misses := metric(t, f, `cityid_value_cache_lookups_total`), metric(t, f, `cityid_value_cache_misses_total`)
	for range 2 {
		if resp, _ := get(t, f.url+"/v1/ids/1561301001.85.1/school-0042"); resp.StatusCode != 200 {
			t.Fatalf("resolve: %d", resp.StatusCode)
		}
	}
	if l, m := metric(t, f, `cityid_value_cache_lookups_total`), metric(t, f, `cityid_value_cache_misses_total`); l < lookups+2 || m-misses > l-lookups-1 {
		t.Errorf("value cache: lookups %v → %v, misses %v → %v; want 2 more lookups, at least one of them a hit", lookups, l, misses, m)
	}
	if max := metric(t, f, `cityid_value_cache_max_bytes`); max < 1<<30 {
		t.Errorf("value cache capacity %v, want the default 1 GiB", max)
	}
}

func metric(t *testing.T, f *fixture, name string) float64 {
	t.Helper()
	_, body := get(t, f.url+"/metrics")
	for _, line := range strings.Split(string(body), "\n") {
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			var v float64
			fmt.Sscan(rest, &v)
			return v
		}
	}
	return 0
}

// The resolver follows ALIAS values to a URL, a bounded number of hops,
// and reports a loop.
func TestResolverFollowsAliases(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	s, err := f.c.NewSigner(ctx, f.alice)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []registry.Register{
		{ID: "1561301001.85.1/old-plate", Values: []registry.Value{{Type: "ALIAS", Data: "1561301001.85.1/school-0042"}}},
		{ID: "1561301001.85.1/loop-a", Values: []registry.Value{{Type: "ALIAS", Data: "1561301001.85.1/loop-b"}}},
		{ID: "1561301001.85.1/loop-b", Values: []registry.Value{{Type: "ALIAS", Data: "1561301001.85.1/loop-a"}}},
		{ID: "1561301001.85.1/dangling", Values: []registry.Value{{Type: "ALIAS", Data: "1561301001.85.1/gone"}}},
	} {
		if _, err := s.Send(ctx, registry.KindRegister, m); err != nil {
			t.Fatal(err)
		}
	}
	resp, _ := get(t, f.url+"/r/1561301001.85.1/old-plate", "Accept", "text/html")
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "https://example.org/school-0042" {
		t.Errorf("alias to a record with a URL: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := get(t, f.url+"/r/1561301001.85.1/loop-a", "Accept", "text/html")
	if resp.StatusCode != http.StatusLoopDetected || !strings.Contains(string(body), "alias_loop") {
		t.Errorf("alias loop: %d %s", resp.StatusCode, body)
	}
	resp, _ = get(t, f.url+"/r/1561301001.85.1/dangling", "Accept", "text/html")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ids/1561301001.85.1/dangling" {
		t.Errorf("dangling alias: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}
