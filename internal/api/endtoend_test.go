package api_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	zqr "github.com/makiuchi-d/gozxing/qrcode"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/cityid/cityid/client"
	"github.com/cityid/cityid/internal/api"
	"github.com/cityid/cityid/internal/apitest"
	"github.com/cityid/cityid/internal/node"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/testnode"
)

// The one end-to-end test of the API: a real node, in process, assembled
// by node.Start as the cityid command assembles it, with a city, a
// sector, a unit and a few identifiers. It holds what only a node has:
// blocks, transactions and light blocks (the OpenAPI document's routes
// and schemas), the HTTP server's own settings, the resolver URL taken
// from the node's address, and the counters the chain and the store feed
// into /metrics. Everything the handlers decide is tested per feature
// over apitest (served_test.go), which needs no node.
//
// It runs beside the package's other slow tests (t.Parallel): it waits
// mostly on blocks, they on Retry-After.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	f := startNode(t)
	t.Run("OpenAPIRoutes", f.openAPIRoutes)
	t.Run("ResponsesMatchSchemas", f.responsesMatchSchemas)
	t.Run("HeaderSize", f.headerSize)
	t.Run("QRCodeAtNodeAddress", f.qrAtNodeAddress)
	t.Run("PrettyLightBlock", f.prettyLightBlock)
	t.Run("Metrics", f.metrics)
	t.Run("RefusalCarriesParseReason", f.refusalCarriesParseReason)
}

// refusalCarriesParseReason: a transaction refused for an identifier that
// does not parse says why and where as fields, as a read of one does,
// though CheckTx hands the node only a code and a message.
func (f *nodeFixture) refusalCarriesParseReason(t *testing.T) {
	ctx := context.Background()
	cl, err := client.New(f.url)
	if err != nil {
		t.Fatal(err)
	}
	s, err := cl.NewSigner(ctx, f.alice)
	if err != nil {
		t.Fatal(err)
	}
	// 1561301001 checks to 1; a 2 in its place is a wrong check character.
	_, err = s.Send(ctx, registry.KindRegister, registry.Register{ID: "1561301002.85.1/x", Values: []registry.Value{{Type: "TEXT", Data: "x"}}})
	var e *client.Error
	if !errors.As(err, &e) {
		t.Fatalf("a register of 1561301002.85.1/x: %v, want a refusal", err)
	}
	p := e.Problem
	if p.Status != http.StatusBadRequest || p.Code != registry.CodeInvalidID || p.Reason != "bad_check_char" || p.Position != 10 {
		t.Errorf("refusal %d %s reason %q position %d (%s), want 400 invalid_id bad_check_char at 10", p.Status, p.Code, p.Reason, p.Position, p.Detail)
	}
}

// nodeFixture is the running node and what the tests need to name in it.
type nodeFixture struct {
	url     string
	alice   ed25519.PrivateKey
	blockTx string // a committed transaction's hash
}

// startNode starts a node in a temporary home on loopback addresses the
// test chooses, stops it when the test ends, and commits the fixture's
// transactions through the public client.
func startNode(t *testing.T) *nodeFixture {
	t.Helper()
	home := filepath.Join(t.TempDir(), "n")
	if _, err := node.Init(home, node.InitOptions{HTTP: "127.0.0.1:0", RPC: "tcp://" + testnode.FreeAddr(t), P2P: "tcp://" + testnode.FreeAddr(t), DNS: "off"}); err != nil {
		t.Fatal(err)
	}
	c, err := node.Load(home)
	if err != nil {
		t.Fatal(err)
	}
	// Blocks 20 ms apart, not the default 200: the fixture waits on ten
	// commits, and nothing this test checks depends on the pace.
	c.Comet.Consensus.TimeoutCommit = 20 * time.Millisecond
	run, err := node.Start(context.Background(), c, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := run.Stop(); err != nil {
			t.Errorf("stop the node: %v", err)
		}
	})
	f := &nodeFixture{url: "http://" + run.HTTPAddr}
	cl, err := client.New(f.url)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(f.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the node is not ready after 30 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	ctx := context.Background()
	op, err := node.LoadKey(home, node.OperatorKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, f.alice, err = ed25519.GenerateKey(nil); err != nil {
		t.Fatal(err)
	}
	alice, err := cl.NewSigner(ctx, f.alice)
	if err != nil {
		t.Fatal(err)
	}
	operator, err := cl.NewSigner(ctx, op.Private)
	if err != nil {
		t.Fatal(err)
	}
	sjz := registry.ApplyCity{Country: "156", CityNumber: "130100", Name: "石家庄市", NameEn: "Shijiazhuang", Locode: "CNSJW"}
	sjzHash, herr := registry.ApplicationHash(registry.KeyText(f.alice.Public().(ed25519.PublicKey)), sjz)
	if herr != nil { // a *registry.Error: kept out of err, where a nil one would not be nil
		t.Fatal(herr)
	}
	var lastHeight int64
	for _, st := range []struct {
		s    *client.Signer
		kind string
		msg  any
	}{
		{alice, registry.KindApplyCity, sjz},
		{operator, registry.KindApproveApplication, registry.Decision{Application: 1, Hash: sjzHash}},
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
	} {
		ans, err := st.s.Send(ctx, st.kind, st.msg)
		if err != nil {
			t.Fatalf("%s: %v", st.kind, err)
		}
		f.blockTx, lastHeight = ans.Hash, ans.Height
		// A client told "committed" reads its transaction at once,
		// though CometBFT indexes it a moment later.
		if resp, body := f.get(t, "/v1/txs/"+ans.Hash); resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /v1/txs/%s right after its commit: %d %s", ans.Hash, resp.StatusCode, body)
		}
	}
	f.settle(t, lastHeight)
	return f
}

// settle waits for the block after the last transaction's (the one that
// carries its app hash), which follows at once; an idle chain makes none
// after it until the next write. Meanwhile GET /v1/blocks/latest
// must answer: CometBFT stores a block before the results of executing it,
// and the API shows the latest block whose results are stored.
func (f *nodeFixture) settle(t *testing.T, lastHeight int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, body := f.get(t, "/v1/blocks/latest")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /v1/blocks/latest after the commit of height %d: %d %s", lastHeight, resp.StatusCode, body)
		}
		var latest struct {
			Height int64 `json:"height"`
		}
		if json.Unmarshal(body, &latest) == nil && latest.Height > lastHeight {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("10 s after the last commit (height %d), the latest block is %s", lastHeight, body)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// get sends GET path to the node (with header name, value pairs) and does
// not follow redirects.
func (f *nodeFixture) get(t *testing.T, path string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: apitest.ValidatingTransport(t)}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// The document and the server agree: every route served is documented,
// and every documented route is served (it answers, and not with the
// catch-all "no route").
func (f *nodeFixture) openAPIRoutes(t *testing.T) {
	resp, body := f.get(t, "/v1/openapi.json")
	if resp.StatusCode != http.StatusOK {
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
		path = strings.TrimSuffix(path, "{$}") // "/{$}" serves "/" alone
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
		if method != http.MethodGet {
			continue
		}
		resp, body := f.get(t, f.fill(path))
		if resp.StatusCode == http.StatusNotFound && strings.Contains(string(body), "no route") {
			t.Errorf("documented %s is not served (%s)", d, f.fill(path))
		}
	}
}

// fill puts real values in a documented path.
func (f *nodeFixture) fill(path string) string {
	return strings.NewReplacer(
		"{id}", "1561301001.85.1/school-0042", "{n}", "1", "{h}", "2", "{hash}", f.blockTx,
		"{key}", registry.KeyText(f.alice.Public().(ed25519.PublicKey)),
		"{prefix}", "1561301001.85.1", "{suffix}", "school-0042", "{path}", "1561301001", "{file}", "portal.css",
	).Replace(path)
}

// Real answers match the document's schemas.
func (f *nodeFixture) responsesMatchSchemas(t *testing.T) {
	_, body := f.get(t, "/v1/openapi.json")
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
		{"/v1/anchors/1561301001.85.1/school-0042", 200, "AnchorList"},
		{"/v1/anchors/1561301001.85.1/school-0042?proof=true", 200, "AnchorList"},
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
			resp, body := f.get(t, c.url)
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

// The node's HTTP server bounds a request's headers: 64 KiB of them is
// refused with 431 before any handler (an httptest server has Go's
// default of 1 MiB, so only a node shows this).
func (f *nodeFixture) headerSize(t *testing.T) {
	req, err := http.NewRequest(http.MethodGet, f.url+"/v1/status", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Big", strings.Repeat("x", 64<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("oversize header: %v, want a 431 answer", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("oversize header: %d, want 431", resp.StatusCode)
	}
}

// With no public_url configured, a QR code names the resolver URL at the
// node's own address, and that URL resolves.
func (f *nodeFixture) qrAtNodeAddress(t *testing.T) {
	resp, body := f.get(t, "/v1/ids/1561301001.85.1/school-0042/qr.png")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("qr.png: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	img, err := png.Decode(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := zqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatal(err)
	}
	const path = "/r/1561301001.85.1/school-0042"
	if res.GetText() != f.url+path {
		t.Fatalf("the QR code says %q, want %q", res.GetText(), f.url+path)
	}
	if resp, _ := f.get(t, path, "Accept", "text/html"); resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "https://example.org/school-0042" {
		t.Errorf("scanning it: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// ?pretty indents a light block too (CometBFT's JSON, passed through),
// with a Content-Length, if any, of what is sent.
func (f *nodeFixture) prettyLightBlock(t *testing.T) {
	_, compact := f.get(t, "/v1/light/1")
	resp, body := f.get(t, "/v1/light/1?pretty")
	var a, b any
	if resp.StatusCode != http.StatusOK || !bytes.HasPrefix(body, []byte("{\n  \"")) || json.Unmarshal(body, &a) != nil || json.Unmarshal(compact, &b) != nil ||
		!reflect.DeepEqual(a, b) || resp.Header.Get("Content-Length") != "" && resp.Header.Get("Content-Length") != strconv.Itoa(len(body)) {
		t.Errorf("/v1/light/1?pretty: %d %q, want the indented form of %q", resp.StatusCode, body, compact)
	}
}

// /metrics counts what the chain committed, by kind and result, and the
// state's value cache as the node wires it: a record resolved twice is
// read from the tree at most once, under the default capacity.
func (f *nodeFixture) metrics(t *testing.T) {
	if n := f.metric(t, `cityid_transactions_total{kind="register",result="ok"}`); n < 3 {
		t.Errorf("committed registers: %v, want at least 3", n)
	}
	if h := f.metric(t, `cityid_height`); h < 10 {
		t.Errorf("height %v, want at least the fixture's 10 blocks", h)
	}
	lookups, misses := f.metric(t, `cityid_value_cache_lookups_total`), f.metric(t, `cityid_value_cache_misses_total`)
	for range 2 {
		if resp, _ := f.get(t, "/v1/ids/1561301001.85.1/school-0042"); resp.StatusCode != http.StatusOK {
			t.Fatalf("resolve: %d", resp.StatusCode)
		}
	}
	if l, m := f.metric(t, `cityid_value_cache_lookups_total`), f.metric(t, `cityid_value_cache_misses_total`); l < lookups+2 || m-misses > l-lookups-1 {
		t.Errorf("value cache: lookups %v → %v, misses %v → %v; want 2 more lookups, at least one of them a hit", lookups, l, misses, m)
	}
	if max := f.metric(t, `cityid_value_cache_max_bytes`); max < 1<<30 {
		t.Errorf("value cache capacity %v, want the default 1 GiB", max)
	}
}

// metric is the value of one sample on /metrics; a sample that is not
// there fails the test.
func (f *nodeFixture) metric(t *testing.T, name string) float64 {
	t.Helper()
	_, body := f.get(t, "/metrics")
	for _, line := range strings.Split(string(body), "\n") {
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return v
		}
	}
	t.Fatalf("/metrics has no %s", name)
	return 0
}
