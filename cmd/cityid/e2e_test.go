package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cometbft/cometbft/types"

	"github.com/cityid/cityid/client"
	"github.com/cityid/cityid/internal/node"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/testnode"
)

// TestEndToEnd runs the README's story on a real node process, through the
// CLI and through HTTP, then kills the node with SIGKILL in the middle of a
// stream of writes and checks that every acknowledged write survived.
func TestEndToEnd(t *testing.T) {
	bin := testnode.Build(t)
	n := testnode.New(t, bin)
	n.Start()

	t.Run("cli story", func(t *testing.T) { cliStory(t, n) })
	t.Run("http story", func(t *testing.T) { httpStory(t, n) })
	t.Run("verification", func(t *testing.T) { verification(t, n) })
	t.Run("sigkill during writes", func(t *testing.T) { crashDuringWrites(t, n) })
}

// cli runs a command that must succeed and decodes its JSON output.
func cli(t *testing.T, n *testnode.Node, out any, args ...string) {
	t.Helper()
	stdout, stderr, code := n.CLI(args...)
	if code != 0 {
		t.Fatalf("cityid %s: exit %d\nstderr: %s", strings.Join(args, " "), code, stderr)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(stdout), out); err != nil {
			t.Fatalf("cityid %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, stdout)
		}
	}
}

func cliStory(t *testing.T, n *testnode.Node) {
	var key struct {
		PubKey string `json:"pub_key"`
	}
	cli(t, n, &key, "keys", "add", "alice")
	if len(key.PubKey) != 64 {
		t.Fatalf("keys add printed pub_key %q", key.PubKey)
	}

	var ans client.TxAnswer
	cli(t, n, &ans, "tx", "apply-city", "--country", "156", "--city-number", "130100",
		"--name", "石家庄市", "--name-en", "Shijiazhuang", "--from", "alice")
	if ans.Result.Application != 1 || ans.Result.Status != registry.AppPending || ans.Height < 1 {
		t.Fatalf("apply-city answered %+v", ans)
	}
	cli(t, n, &ans, "tx", "approve", "1", "--from", "operator")
	if ans.Result.CityCode != "1561301001" || ans.Result.Status != registry.AppApproved {
		t.Fatalf("approve answered %+v, want city code 1561301001", ans)
	}
	// The city's office changes its contact itself; the city's node
	// moves by the authority's set_city. Its values stay.
	cli(t, n, &ans, "tx", "update", "1561301001", "--contact", "registry@sjz.example", "--version", "1", "--from", "alice")
	if ans.Result.Version != 2 {
		t.Fatalf("the city's update answered %+v, want version 2", ans)
	}
	cli(t, n, &ans, "tx", "set-city", "1561301001", "--endpoint", "https://cityid.sjz.example", "--reason", "moved", "--from", "operator")
	var city client.RecordAnswer
	cli(t, n, &city, "resolve", "1561301001")
	if c := city.Record.City; c == nil || c.Endpoint != "https://cityid.sjz.example" || c.Contact != "registry@sjz.example" || c.Country != "156" || city.Record.Version != 3 {
		t.Fatalf("the city after its update and set-city: version %d, %+v", city.Record.Version, city.Record.City)
	}
	cli(t, n, &ans, "tx", "register-sector", "1561301001.85", "--from", "alice")
	if ans.Result.ID != "1561301001.85" {
		t.Fatalf("register-sector answered %+v", ans)
	}
	cli(t, n, &ans, "tx", "register-unit", "1561301001.85", "--name", "Education Bureau", "--from", "alice")
	if ans.Result.ID != "1561301001.85.1" {
		t.Fatalf("register-unit answered %+v, want 1561301001.85.1", ans)
	}
	cli(t, n, &ans, "tx", "register", "1561301001.85.1/school-0042",
		"--value", "URL=https://example.org/school-0042", "--value", "TEXT=No. 42 Primary School", "--from", "alice")
	if ans.Result.Version != 1 {
		t.Fatalf("register answered %+v", ans)
	}

	statusReadOnce(t, n)

	var rec client.RecordAnswer
	cli(t, n, &rec, "resolve", "1561301001.85.1/SCHOOL-0042")
	if rec.Record.ID != "1561301001.85.1/school-0042" || len(rec.Record.Values) != 2 ||
		rec.Record.Values[0].Data != "https://example.org/school-0042" || rec.Record.Values[1].Data != "No. 42 Primary School" ||
		rec.Record.Admins[0] != key.PubKey {
		t.Fatalf("resolve answered %+v", rec.Record)
	}

	cli(t, n, &ans, "tx", "update", "1561301001.85.1/school-0042", "--value", "URL=https://example.org/new", "--version", "1", "--from", "alice")
	if ans.Result.Version != 2 {
		t.Fatalf("update answered %+v, want version 2", ans)
	}
	// The same update again: the writer's version is stale.
	_, stderr, code := n.CLI("tx", "update", "1561301001.85.1/school-0042", "--value", "URL=https://example.org/other", "--version", "1", "--from", "alice")
	if code != exitRefused || !strings.Contains(stderr, "version_mismatch") || !strings.Contains(stderr, "at version 2") {
		t.Fatalf("stale update: exit %d, stderr %q; want exit 1 with version_mismatch", code, stderr)
	}
	cli(t, n, &rec, "resolve", "1561301001.85.1/school-0042")
	if rec.Record.Version != 2 || len(rec.Record.Values) != 1 || rec.Record.Values[0].Data != "https://example.org/new" {
		t.Fatalf("after update: %+v", rec.Record)
	}

	// A public dataset, and its access log's head anchored: a log only
	// grows, so the same count again is refused with the count anchored.
	const census = "1561301001.85.1/census-2026"
	cli(t, n, &ans, "tx", "register", census, "--from", "alice",
		"--value", `DATA={"uri":"https://example.org/census.csv","sha256":"`+strings.Repeat("ab", 32)+`","size":12,"media_type":"text/csv","public":true}`)
	cli(t, n, &rec, "resolve", census)
	if d := rec.Record.Values[0].Dataset; d == nil || !d.Public {
		t.Fatalf("the dataset registered public resolves as %+v", d)
	}
	cli(t, n, &ans, "tx", "anchor-log", census, "--entries", "3", "--head", strings.Repeat("cd", 32), "--from", "alice")
	if ans.Result.Status != "anchored" || ans.Result.Entries != 3 || ans.Result.ID != census {
		t.Fatalf("anchor-log answered %+v", ans)
	}
	if _, stderr, code := n.CLI("tx", "anchor-log", census, "--entries", "3", "--head", strings.Repeat("ef", 32), "--from", "alice"); code != exitRefused ||
		!strings.Contains(stderr, "version_mismatch") || !strings.Contains(stderr, "anchored at 3 entries") {
		t.Fatalf("anchoring the same count again: exit %d, stderr %q; want exit 1 with version_mismatch", code, stderr)
	}
	if _, _, code := n.CLI("tx", "anchor-log", census, "--head", strings.Repeat("ef", 32), "--from", "alice"); code != exitUsage {
		t.Errorf("anchor-log without --entries: exit %d, want %d", code, exitUsage)
	}
	var anchors client.AnchorList
	cli(t, n, &anchors, "query", "anchors", "1561301001.85.1/CENSUS-2026")
	if len(anchors.Anchors) != 1 || anchors.Latest == nil || anchors.Latest.Entries != 3 || anchors.Latest.Head != strings.Repeat("cd", 32) {
		t.Fatalf("query anchors: %+v", anchors)
	}

	// Refusals: each exits 1 with its code, and changes nothing; an
	// identifier that does not parse is a usage mistake (2, issue 13).
	for _, c := range []struct {
		args []string
		code string
		exit int
	}{
		{[]string{"tx", "apply-city", "--country", "156", "--city-number", "130100", "--name", "again", "--from", "alice"}, "duplicate_city", exitRefused},
		{[]string{"tx", "approve", "1", "--from", "alice"}, "unauthorized", exitRefused},
		{[]string{"tx", "register", "1561301001.85.9/x", "--value", "TEXT=x", "--from", "alice"}, "not_found", exitRefused},
		{[]string{"tx", "register", "1561301002.85.1/x", "--value", "TEXT=x", "--from", "alice"}, "invalid_id", exitUsage},
		{[]string{"tx", "register", "1561301001.85.1/y", "--value", "URL=not a url", "--from", "alice"}, "bad_value", exitRefused},
		{[]string{"resolve", "1561301001.85.1/nothing"}, "not_found", exitRefused},
	} {
		_, stderr, code := n.CLI(c.args...)
		if code != c.exit || !strings.Contains(stderr, c.code) {
			t.Errorf("cityid %s: exit %d, stderr %q; want exit %d with %s", strings.Join(c.args, " "), code, stderr, c.exit, c.code)
		}
	}
	if _, _, code := n.CLI("tx", "nonsense"); code != exitUsage {
		t.Errorf("unknown command: exit %d, want %d", code, exitUsage)
	}
}

// post submits signed transaction bytes over plain HTTP.
func post(t *testing.T, n *testnode.Node, tx []byte) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(n.URL()+"/v1/txs", "application/json", bytes.NewReader(tx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, decodeBody(t, resp)
}

func get(t *testing.T, n *testnode.Node, path string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(n.URL() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, decodeBody(t, resp)
}

func decodeBody(t *testing.T, resp *http.Response) map[string]any {
	t.Helper()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s %s: body is not JSON: %v\n%s", resp.Request.Method, resp.Request.URL, err, b)
	}
	if resp.StatusCode/100 != 2 && resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("%s: error answered with Content-Type %q", resp.Request.URL, resp.Header.Get("Content-Type"))
	}
	return m
}

func httpStory(t *testing.T, n *testnode.Node) {
	_, city, _ := ed25519.GenerateKey(rand.Reader)
	op, err := node.LoadKey(n.Home, "operator")
	if err != nil {
		t.Fatal(err)
	}
	_, st := get(t, n, "/v1/status")
	chainID, _ := st["chain_id"].(string)
	gen, err := types.GenesisDocFromFile(filepath.Join(n.Home, "config", "genesis.json"))
	if err != nil {
		t.Fatal(err)
	}
	// A new network's own chain ID, from its genesis, printed at start.
	if !regexp.MustCompile(`^cityid-local-[a-z2-7]{6}$`).MatchString(chainID) || chainID != gen.ChainID ||
		!strings.Contains(n.Output(), "chain      "+chainID+"\n") {
		t.Fatalf("status chain_id %q, genesis %q; start printed:\n%s", chainID, gen.ChainID, n.Output())
	}
	var cliStatus client.Status
	if cli(t, n, &cliStatus, "query", "status"); cliStatus.ChainID != chainID || cliStatus.Height < 1 {
		t.Fatalf("cityid query status: %+v, want chain %s", cliStatus, chainID)
	}
	nonces := map[string]uint64{}
	sign := func(key ed25519.PrivateKey, kind string, msg any) []byte {
		pub := registry.KeyText(key.Public().(ed25519.PublicKey))
		if _, ok := nonces[pub]; !ok {
			_, acct := get(t, n, "/v1/accounts/"+pub)
			nonces[pub] = uint64(acct["next_nonce"].(float64))
		}
		tx, err := client.BuildTx(chainID, key, nonces[pub], kind, msg)
		if err != nil {
			t.Fatal(err)
		}
		nonces[pub]++
		return tx
	}
	mustPost := func(key ed25519.PrivateKey, kind string, msg any) map[string]any {
		t.Helper()
		status, body := post(t, n, sign(key, kind, msg))
		if status != http.StatusOK {
			t.Fatalf("POST %s: %d %v", kind, status, body)
		}
		return body["result"].(map[string]any)
	}

	// Tangshan: GB/T 2260 130200; MOD 11-2 over 156130200 gives 4.
	tangshan := registry.ApplyCity{Country: "156", CityNumber: "130200", Name: "唐山市", NameEn: "Tangshan", Locode: "CN TVS"}
	res := mustPost(city, registry.KindApplyCity, tangshan)
	app := res["application"].(float64)
	hash, herr := registry.ApplicationHash(registry.KeyText(city.Public().(ed25519.PublicKey)), tangshan)
	if herr != nil || res["hash"] != hash {
		t.Fatalf("application hash %v, computed %s (%v)", res["hash"], hash, herr)
	}
	res = mustPost(op.Private, registry.KindApproveApplication, registry.Decision{Application: uint64(app), Hash: hash})
	if res["city_code"] != "1561302004" {
		t.Fatalf("approve answered %v, want city_code 1561302004", res)
	}
	mustPost(city, registry.KindRegisterSector, registry.RegisterSector{ID: "1561302004.36"})
	res = mustPost(city, registry.KindRegisterUnit, registry.RegisterUnit{Parent: "1561302004.36", Name: "Water Supply Company"})
	if res["id"] != "1561302004.36.1" {
		t.Fatalf("register_unit answered %v", res)
	}
	mustPost(city, registry.KindRegister, registry.Register{ID: "1561302004.36.1/main-0001", Values: []registry.Value{
		{Type: "GEO", Data: "39.63,118.18"}, {Type: "TEXT", Data: "water main 1"},
	}})

	status, body := get(t, n, "/v1/ids/1561302004.36.1/main-0001")
	rec, _ := body["record"].(map[string]any)
	if status != http.StatusOK || rec["id"] != "1561302004.36.1/main-0001" || rec["version"].(float64) != 1 {
		t.Fatalf("GET id: %d %v", status, body)
	}
	status, body = get(t, n, "/v1/cities")
	if cities, _ := body["cities"].([]any); status != http.StatusOK || len(cities) != 2 {
		t.Fatalf("GET /v1/cities: %d %v, want 2 cities", status, body)
	}

	// Errors carry a stable code and say what is wrong and where.
	for _, c := range []struct {
		path   string
		status int
		code   string
		detail string
	}{
		{"/v1/ids/1561302004.36.1/nope", 404, "not_found", "not registered"},
		{"/v1/ids/1561302008.36", 400, "invalid_id", "position 10"},
		{"/v1/ids/1561302004.04", 400, "invalid_id", "sector 04"},
		{"/v1/accounts/XYZ", 400, "bad_pub_key", "64 hex"},
		{"/v1/cities?limit=0", 400, "bad_request", "limit"},
		{"/v1/nothing", 404, "not_found", "no route"},
	} {
		status, body := get(t, n, c.path)
		detail, _ := body["detail"].(string)
		if status != c.status || body["code"] != c.code || !strings.Contains(detail, c.detail) {
			t.Errorf("GET %s: %d %v; want %d %s mentioning %q", c.path, status, body, c.status, c.code, c.detail)
		}
	}
	// A tampered transaction and a replayed one are refused with their codes.
	tx := sign(city, registry.KindRegister, registry.Register{ID: "1561302004.36.1/main-0002", Values: []registry.Value{{Type: "TEXT", Data: "x"}}})
	var env registry.Envelope
	if err := json.Unmarshal(tx, &env); err != nil {
		t.Fatal(err)
	}
	env.Signature[7] ^= 0x10
	tampered, _ := env.Encode()
	if status, body := post(t, n, tampered); status != http.StatusUnauthorized || body["code"] != "bad_signature" {
		t.Errorf("tampered tx: %d %v, want 401 bad_signature", status, body)
	}
	if status, body := post(t, n, []byte(`{"body":`)); status != 400 || body["code"] != "malformed" {
		t.Errorf("malformed tx: %d %v", status, body)
	}
	if status, _ := post(t, n, tx); status != 200 {
		t.Fatalf("tx refused")
	}
	if status, body := post(t, n, tx); status/100 == 2 && body["code"] == nil {
		// Resubmitting a committed tx must not apply it twice: the node
		// answers with the original result (same hash and height).
		if int(body["result"].(map[string]any)["version"].(float64)) != 1 {
			t.Errorf("replayed tx applied again: %v", body)
		}
	} else if body["code"] != "nonce_replayed" {
		t.Errorf("replayed tx: %d %v, want nonce_replayed or the original result", status, body)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if status, _ := get(t, n, path); status != 200 {
			t.Errorf("GET %s: %d", path, status)
		}
	}
}

func crashDuringWrites(t *testing.T, n *testnode.Node) {
	ctx := context.Background()
	c, err := client.New(n.URL())
	if err != nil {
		t.Fatal(err)
	}
	alice, err := node.LoadKey(n.Home, "alice")
	if err != nil {
		t.Fatal(err)
	}
	// Four writers, each with its own key and its own unit.
	const writers = 4
	keys := make([]ed25519.PrivateKey, writers)
	units := make([]string, writers)
	for i := range keys {
		_, keys[i], _ = ed25519.GenerateKey(rand.Reader)
		ans, err := c.Send(ctx, alice.Private, registry.KindRegisterUnit, registry.RegisterUnit{
			Parent: "1561301001.85", Name: fmt.Sprintf("writer %d", i),
			Admins: []string{registry.KeyText(keys[i].Public().(ed25519.PublicKey))},
		})
		if err != nil {
			t.Fatal(err)
		}
		units[i] = ans.Result.ID
	}

	var mu sync.Mutex
	acked := map[string]string{} // id → the TEXT value written
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			s, err := c.NewSigner(ctx, keys[w])
			if err != nil {
				t.Error(err)
				return
			}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("%s/w%d-%d", units[w], w, i)
				text := fmt.Sprintf("write %d of writer %d", i, w)
				sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
				_, err := s.Send(sctx, registry.KindRegister, registry.Register{ID: id, Values: []registry.Value{{Type: "TEXT", Data: text}}})
				cancel()
				if err != nil {
					return // the node is gone: this write was not acknowledged
				}
				mu.Lock()
				acked[id] = text
				mu.Unlock()
			}
		}(w)
	}
	time.Sleep(2 * time.Second)
	n.Kill()
	close(stop)
	wg.Wait()
	if len(acked) < writers {
		t.Fatalf("only %d writes acknowledged before the kill; the stream did not run", len(acked))
	}
	t.Logf("%d writes acknowledged before SIGKILL", len(acked))

	n.Start()
	for id, text := range acked {
		ans, err := c.Resolve(ctx, id)
		if err != nil {
			t.Errorf("acknowledged write %s lost after SIGKILL: %v", id, err)
			continue
		}
		if ans.Record.Values[0].Data != text {
			t.Errorf("%s: value %q, want %q", id, ans.Record.Values[0].Data, text)
		}
	}
	// The chain goes on.
	before, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ans, err := c.Send(ctx, keys[0], registry.KindRegister, registry.Register{ID: units[0] + "/after-restart", Values: []registry.Value{{Type: "TEXT", Data: "after"}}})
	if err != nil {
		t.Fatalf("write after restart: %v", err)
	}
	if ans.Height <= before.Height-1 {
		t.Fatalf("write after restart committed at height %d, chain was at %d", ans.Height, before.Height)
	}
}

// statusReadOnce: a signing command reads the node's /v1/status once,
// for both the chain check and the signer (it once read it twice),
// counted by a proxy in front of the node.
func statusReadOnce(t *testing.T, n *testnode.Node) {
	target, err := url.Parse(n.URL())
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	var reads atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/status" {
			reads.Add(1)
		}
		rp.ServeHTTP(w, r)
	}))
	defer proxy.Close()
	cmd := exec.Command(n.Bin, append([]string{"tx", "register", "1561301001.85.1/status-once", "--from", "alice",
		"--home", n.Home, "--node", proxy.URL, "--json"}, n.Flags...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tx register through the proxy: %v\n%s", err, out)
	}
	if got := reads.Load(); got != 1 {
		t.Fatalf("tx register read /v1/status %d times, want once", got)
	}
}
