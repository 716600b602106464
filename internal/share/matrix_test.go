package share_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cityid/cityid/client"
	"github.com/cityid/cityid/httpsig"
	"github.com/cityid/cityid/internal/accesslog"
	"github.com/cityid/cityid/internal/api"
	"github.com/cityid/cityid/internal/apitest"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/share"
	"github.com/cityid/cityid/internal/wire"
)

// world is a ledger with two cities sharing a dataset, served by the API
// with a data service, on a loopback port.
type world struct {
	t       *testing.T
	ledger  *apitest.Ledger
	svc     *share.Service
	url     string
	now     time.Time
	dataset string
	grantee string // B.85, holding the grant
	cityB   string
	cityC   string // dave's, which keeps no data on A's node
	content []byte
}

const flowID = "1561301001.85.1/flow"

// newWorld: city A (alice) with the dataset 1561301001.85.1/flow; city B
// (bob) with sector B.85 (carol), which holds a grant for it; city C
// (dave), which holds none.
func newWorld(t *testing.T) *world {
	t.Helper()
	l := apitest.NewLedger(t)
	l.City()
	w := &world{t: t, ledger: l, dataset: flowID, content: []byte("date,flow_m3\n2026-01-01,1200\n2026-01-02,1175\n")}
	sum := sha256.Sum256(w.content)
	l.Send("alice", registry.KindRegister, registry.Register{ID: flowID, Values: []registry.Value{{Type: registry.TypeData,
		Dataset: &registry.Dataset{URI: "http://a.example" + wire.DataPath + flowID, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(w.content)), MediaType: "text/csv"}}}})
	w.cityB = w.city("bob", "130200", "唐山市")
	w.grantee = w.cityB + ".85"
	l.Send("bob", registry.KindRegisterSector, registry.RegisterSector{ID: w.grantee, Admins: []string{apitest.PubKey("carol")}})
	w.cityC = w.city("dave", "130300", "秦皇岛市")
	l.Send("alice", registry.KindGrantAccess, registry.GrantAccess{Dataset: flowID, Grantee: w.grantee, Expires: apitest.GenesisTime.Add(30 * 24 * time.Hour)})

	st, lg := newStores(t)
	// The node's clock runs with the chain: a second after its latest block.
	w.now = blockTime(l.Height()).Add(time.Second)
	// A's node: it keeps city A's datasets, and answers at its own address.
	srv := httptest.NewUnstartedServer(nil)
	w.svc = share.New(share.Options{Store: st, Log: lg, Latest: l.Store().Latest,
		BlockTime: func(_ context.Context, h int64) (time.Time, error) { return blockTime(h), nil },
		Now:       func() time.Time { return w.now },
		Cities:    []string{"1561301001"}, Authorities: []string{srv.Listener.Addr().String()}}, apitest.GenesisTime)
	srv.Config.Handler = apitest.Validated(t, api.New(l.Backend(), api.Options{Data: w.svc}))
	srv.Start()
	t.Cleanup(srv.Close)
	w.url = srv.URL
	return w
}

// blockTime is the apitest ledger's block time at height h (its blocks
// are a second apart from its genesis time).
func blockTime(h int64) time.Time { return apitest.GenesisTime.Add(time.Duration(h-1) * time.Second) }

// city applies for a city with admin and has the operator approve it.
func (w *world) city(admin, number, name string) string {
	o := w.ledger.Send(admin, registry.KindApplyCity, registry.ApplyCity{Country: "156", CityNumber: number, Name: name})
	o = w.ledger.Send("operator", registry.KindApproveApplication, registry.Decision{Application: o.Application, Hash: o.Hash})
	return o.CityCode
}

// request is a request to the world's API, signed by signer unless it is
// "" (anonymous).
type request struct {
	method, path string
	body         []byte
	signer       string // actor whose key id is given
	key          string // actor whose key signs; default signer
	created      time.Time
	signedPath   string // the path the signature covers; default path
	signedHost   string // the host the signature covers, sent as Host; default the server's
}

func (w *world) build(rq request) *http.Request {
	w.t.Helper()
	var body io.Reader
	if rq.body != nil {
		body = bytes.NewReader(rq.body)
	}
	r, err := http.NewRequest(rq.method, w.url+rq.path, body)
	if err != nil {
		w.t.Fatal(err)
	}
	if rq.signer == "" {
		return r
	}
	key := rq.key
	if key == "" {
		key = rq.signer
	}
	created := rq.created
	if created.IsZero() {
		created = w.now
	}
	target := r
	if rq.signedPath != "" {
		target, _ = http.NewRequest(rq.method, w.url+rq.signedPath, nil)
	}
	if rq.signedHost != "" {
		r.Host = rq.signedHost
		target, _ = http.NewRequest(rq.method, "http://"+rq.signedHost+rq.path, nil)
	}
	nonce, _ := httpsig.RandomNonce()
	p := httpsig.Params{Label: "sig1", Components: httpsig.DefaultComponents(), KeyID: apitest.PubKey(rq.signer), Alg: httpsig.Alg,
		Created: created, Nonce: nonce, Tag: wire.SignatureTag}
	if err := httpsig.SignParams(target, apitest.Key(key), p); err != nil {
		w.t.Fatal(err)
	}
	if target != r {
		r.Header.Set("Signature-Input", target.Header.Get("Signature-Input"))
		r.Header.Set("Signature", target.Header.Get("Signature"))
	}
	return r
}

// answer is what a cell compares: status, code and reason.
type answer struct {
	status       int
	code, reason string
	body         []byte
}

func (a answer) String() string {
	s := fmt.Sprintf("%d %s", a.status, a.code)
	if a.reason != "" {
		s += "/" + a.reason
	}
	return s
}

func (w *world) do(r *http.Request) answer {
	w.t.Helper()
	// A request may be sent twice (the replay): its body is read anew.
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		w.t.Fatal(err)
	}
	a := answer{status: resp.StatusCode, body: b}
	if resp.StatusCode >= 400 {
		var p wire.Problem
		if err := json.Unmarshal(b, &p); err != nil {
			w.t.Fatalf("%s %s: %d with a body that is no problem: %s", r.Method, r.URL, resp.StatusCode, b)
		}
		a.code, a.reason = p.Code, p.Reason
	}
	return a
}

// cell runs one cell of the matrix and returns its answer as the table
// writes it. Allowed requests are named by their log result.
func (w *world) cell(who, action string) answer {
	w.t.Helper()
	var method, path string
	var body []byte
	switch action {
	case "upload":
		method, path, body = http.MethodPut, wire.DataPath+w.dataset, w.content
	case "download":
		method, path = http.MethodGet, wire.DataPath+w.dataset
	case "read log":
		method, path = http.MethodGet, "/v1/access-log/"+w.dataset
	default:
		w.t.Fatalf("unknown action %q", action)
	}
	rq := request{method: method, path: path, body: body}
	switch who {
	case "owner's admin":
		rq.signer = "alice"
	case "grantee's admin":
		rq.signer = "carol"
	case "admin of the grantee's parent":
		rq.signer = "bob"
	case "another city's admin":
		rq.signer = "dave"
	case "anonymous":
	case "forged signature":
		rq.signer, rq.key = "alice", "mallory"
	case "replayed signature":
		rq.signer = "alice"
		r := w.build(rq)
		first := w.do(r)
		if first.status >= 400 {
			w.t.Fatalf("%s %s: the request to replay was refused: %s %s", who, action, first, first.body)
		}
		if body != nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		return w.named(w.do(r), action)
	case "stale signature":
		rq.signer, rq.created = "alice", w.now.Add(-6*time.Minute)
	case "signature for another URI":
		rq.signer, rq.signedPath = "alice", wire.DataPath+"1561301001.85.1/other"
	case "signature for another node":
		rq.signer, rq.signedHost = "alice", "other-node.example"
	default:
		w.t.Fatalf("unknown row %q", who)
	}
	return w.named(w.do(w.build(rq)), action)
}

// named names an allowed answer by what the log calls it.
func (w *world) named(a answer, action string) answer {
	if a.status < 400 {
		a.code = map[string]string{"upload": "uploaded", "download": "served", "read log": "log_read"}[action]
		if action == "download" && !bytes.Equal(a.body, w.content) {
			a.code = "served other bytes"
		}
	}
	return a
}

// readMatrix reads the table of testdata/authorization.md: row → column →
// expected cell.
func readMatrix(t *testing.T) (rows, cols []string, cells map[string]map[string]string) {
	t.Helper()
	f, err := os.Open("testdata/authorization.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cells = map[string]map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "|") || strings.HasPrefix(line, "|--") {
			continue
		}
		fields := strings.Split(strings.Trim(line, "|"), "|")
		for i := range fields {
			fields[i] = strings.TrimSpace(fields[i])
		}
		if cols == nil {
			cols = fields[1:]
			continue
		}
		if len(fields) != len(cols)+1 {
			t.Fatalf("row %q has %d cells, want %d", fields[0], len(fields)-1, len(cols))
		}
		rows = append(rows, fields[0])
		cells[fields[0]] = map[string]string{}
		for i, c := range cols {
			cells[fields[0]][c] = fields[i+1]
		}
	}
	return rows, cols, cells
}

// TestAuthorizationMatrix sends every request of the table in
// testdata/authorization.md and checks each answer against it.
func TestAuthorizationMatrix(t *testing.T) {
	rows, cols, cells := readMatrix(t)
	wantRows := []string{"owner's admin", "grantee's admin", "admin of the grantee's parent", "another city's admin", "anonymous",
		"forged signature", "replayed signature", "stale signature", "signature for another URI", "signature for another node"}
	if strings.Join(rows, ",") != strings.Join(wantRows, ",") || strings.Join(cols, ",") != "upload,download,read log" {
		t.Fatalf("the table's rows %q and columns %q are not the matrix the issue asks for", rows, cols)
	}
	w := newWorld(t)
	for _, col := range cols {
		for _, row := range rows {
			got := w.cell(row, col).String()
			if want := cells[row][col]; got != want {
				t.Errorf("%s, %s: %s, want %s", row, col, got, want)
			}
		}
	}
	// Every request for the dataset is on its log, and the log verifies.
	entries, err := w.svc.Log().Entries(w.dataset, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(rows)*len(cols) + 3; len(entries) != n { // + the three requests replayed
		t.Errorf("the access log holds %d entries, want %d (one for each request)", len(entries), n)
	}
	if rep := accesslog.Verify(entries, nil); !rep.OK {
		t.Errorf("the access log does not verify: %+v", rep)
	}
	// Each request let in carries its signature, which checks; an entry
	// written for a request nobody made does not.
	checked := 0
	for _, e := range entries {
		if e.Status >= 400 || e.Key == "" {
			continue
		}
		if e.Sig == "" {
			t.Errorf("entry %d (%s by %s) keeps no signature", e.Seq, e.Result, e.Key)
		}
		if err := client.CheckEntrySignature(e); err != nil {
			t.Errorf("entry %d: %v", e.Seq, err)
		}
		checked++
		forged := e
		forged.Key = apitest.PubKey("carol")
		if e.Key != forged.Key && client.CheckEntrySignature(forged) == nil {
			t.Errorf("entry %d said to be carol's checks", e.Seq)
		}
		forged = e
		forged.Method = map[string]string{http.MethodGet: http.MethodPut, http.MethodPut: http.MethodGet}[e.Method]
		if client.CheckEntrySignature(forged) == nil {
			t.Errorf("entry %d with another method checks", e.Seq)
		}
	}
	if checked < 4 {
		t.Errorf("%d signed entries checked", checked)
	}
}

// TestGrantLifecycle: the grantee's admin is let in while the grant is
// live and refused, for the reason, once it is revoked, expired (by block
// time, or by the node's clock on a quiet chain) or deactivated, from the
// first request after the block that did it; the log names the grant.
func TestGrantLifecycle(t *testing.T) {
	w := newWorld(t)
	if got := w.cell("owner's admin", "upload"); got.status != http.StatusCreated {
		t.Fatalf("upload: %s", got)
	}
	l := w.ledger
	step := func(what, want string) {
		t.Helper()
		if now := blockTime(l.Height()).Add(time.Second); now.After(w.now) {
			w.now = now
		}
		got := w.named(w.do(w.build(request{method: http.MethodGet, path: wire.DataPath + w.dataset, signer: "carol"})), "download")
		if got.String() != want {
			t.Fatalf("%s: %s, want %s (%s)", what, got, want, got.body)
		}
	}
	grant := func(expires time.Time) {
		l.Send("alice", registry.KindGrantAccess, registry.GrantAccess{Dataset: w.dataset, Grantee: w.grantee, Expires: expires})
	}
	step("a live grant", "200 served")

	grant(blockTime(l.Height() + 3))
	step("a grant ending two blocks on", "200 served")
	l.Commit()
	l.Commit()
	step("the block at its end", "403 grant_expired")

	grant(apitest.GenesisTime.Add(30 * 24 * time.Hour))
	step("renewed", "200 served")
	l.Send("alice", registry.KindRevokeAccess, registry.RevokeAccess{Dataset: w.dataset, Grantee: w.grantee})
	step("the block after the revocation", "403 grant_revoked")

	grant(apitest.GenesisTime.Add(30 * 24 * time.Hour))
	l.Send("bob", registry.KindDeactivate, registry.SetStatus{ID: w.grantee})
	step("the grantee deactivated", "403 grant_inactive")
	l.Send("bob", registry.KindReactivate, registry.SetStatus{ID: w.grantee})
	step("the grantee active again", "200 served")
	l.Send("operator", registry.KindSetCity, registry.SetCity{City: w.cityB, Status: registry.StatusDeactivated, Reason: "suspended"})
	step("the grantee's city suspended by the authority", "403 grant_inactive")
	l.Send("operator", registry.KindSetCity, registry.SetCity{City: w.cityB, Status: registry.StatusActive})
	l.Send("alice", registry.KindDeactivate, registry.SetStatus{ID: w.dataset})
	step("the dataset deactivated", "403 grant_inactive")
	l.Send("alice", registry.KindReactivate, registry.SetStatus{ID: w.dataset})
	step("the dataset active again", "200 served")

	// Last, as the node's clock only moves on: a quiet chain whose latest
	// block is before the expiry does not keep a grant alive past it.
	w.now = apitest.GenesisTime.Add(31 * 24 * time.Hour)
	step("past the expiry by the node's clock, the chain quiet", "403 grant_expired")

	entries, err := w.svc.Log().Entries(w.dataset, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	refusals := 0
	for _, e := range entries {
		if strings.HasPrefix(e.Result, "grant_") {
			refusals++
			if e.Grantee != w.grantee || e.Key != apitest.PubKey("carol") {
				t.Errorf("entry %d (%s) names grantee %q and key %q, want %s and carol's", e.Seq, e.Result, e.Grantee, e.Key, w.grantee)
			}
		}
	}
	if refusals != 6 {
		t.Errorf("%d grant refusals logged, want 6", refusals)
	}
}

// TestUploadResumes: an upload cut after its first chunk is finished by
// the client, which asks the node where to go on from; the node keeps
// the bytes only once they hash to the ledger's SHA-256, and a download
// then reads them back.
func TestUploadResumes(t *testing.T) {
	w := newWorld(t)
	w.now = time.Now() // the client signs with the real clock
	half := int64(len(w.content) / 2)
	rq := w.build(request{method: http.MethodPut, path: wire.DataPath + w.dataset, body: w.content[:half], signer: "alice"})
	rq.Header.Set("Content-Range", fmt.Sprintf("bytes 0-%d/%d", half-1, len(w.content)))
	first := w.do(rq)
	if first.status != http.StatusPermanentRedirect {
		t.Fatalf("first half: %s %s, want 308", first, first.body)
	}
	c, err := client.New(w.url)
	if err != nil {
		t.Fatal(err)
	}
	var progress []int64
	ans, err := c.UploadData(context.Background(), apitest.Key("alice"), w.dataset, bytes.NewReader(w.content), int64(len(w.content)),
		func(held int64) { progress = append(progress, held) })
	if err != nil || !ans.Complete {
		t.Fatalf("resumed upload: %+v, %v", ans, err)
	}
	if len(progress) != 1 || progress[0] != int64(len(w.content)) {
		t.Errorf("progress %v: want one chunk, the second half", progress)
	}
	entries, err := w.svc.Log().Entries(w.dataset, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var uploaded int64
	for _, e := range entries {
		if e.Method == http.MethodPut {
			uploaded += e.Bytes
		}
	}
	if uploaded != int64(len(w.content)) {
		t.Errorf("the log counts %d bytes uploaded in all, want %d: nothing sent twice", uploaded, len(w.content))
	}
	sum := sha256.Sum256(w.content)
	ds := registry.Dataset{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(w.content))}
	dst := t.TempDir() + "/flow.csv"
	if _, err := c.DownloadData(context.Background(), apitest.Key("alice"), w.dataset, 0, ds, dst); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(dst); err != nil || !bytes.Equal(b, w.content) {
		t.Fatalf("downloaded %q, %v", b, err)
	}
}
