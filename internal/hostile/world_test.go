package hostile

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cityid/cityid/internal/node"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/testnode"
	"github.com/cityid/cityid/internal/wire"
)

// The world every row is sent against: one node, and on it a city with a
// sector, an active unit holding an object and a dataset under a live
// grant, a deactivated unit holding an object, and another city's
// application waiting for the authority.
const (
	city      = "1561301001" // Shijiazhuang, approved; its admin is alice
	sector    = city + ".85" // education; admin alice
	health    = city + ".86" // health: the grantee of the dataset
	unit      = sector + ".1"
	object    = unit + "/school-0042" // admin bob, through the unit
	dataset   = unit + "/exam-2026"   // a DATA value, granted to health
	closed    = sector + ".2"         // a unit deactivated by alice; admin bob
	closedObj = closed + "/closed-1"
	unknown   = unit + "/no-such-thing"
)

// actor is a key of the world.
type actor struct {
	name string
	key  ed25519.PrivateKey
	pub  string
}

func newActor(name string) *actor {
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		panic(err)
	}
	return &actor{name: name, key: key, pub: registry.KeyText(key.Public().(ed25519.PublicKey))}
}

type world struct {
	t       *testing.T
	api     string // base URL of the HTTP API
	rpc     string // base URL of CometBFT's RPC
	chainID string

	op       *actor // the registry authority, 1 of 1
	alice    *actor // admin of the city
	bob      *actor // admin of both units
	carol    *actor // applicant for Tangshan, application 2, pending
	stranger *actor // a key with no rights and no transaction yet

	shijiazhuangHash string             // the content hash of alice's application 1, approved
	tangshan         registry.ApplyCity // carol's application
	tangshanHash     string             // its content hash
	earlyVote        []byte             // the authority's approval of application 2, refused before it existed; its nonce was used since
	validator        string             // the node's validator key, hex
}

// newWorld starts a node in process and builds the world on it.
func newWorld(t *testing.T) *world {
	t.Helper()
	home := filepath.Join(t.TempDir(), "home")
	httpAddr, rpcAddr := testnode.FreeAddr(t), testnode.FreeAddr(t)
	res, err := node.Init(home, node.InitOptions{HTTP: httpAddr, RPC: "tcp://" + rpcAddr, P2P: "tcp://" + testnode.FreeAddr(t), DNS: "off"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := node.Load(home)
	if err != nil {
		t.Fatal(err)
	}
	// A hundred refusals a minute is more than the API lets one client
	// send by default; the limits are the API's business, not the
	// registry's, and have tests of their own.
	c.HTTP.Limits = node.HTTPLimitsConfig{}
	run, err := node.Start(context.Background(), c, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := run.Stop(); err != nil {
			t.Errorf("stop node: %v", err)
		}
	})
	op, err := node.LoadKey(home, node.OperatorKey)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{
		t: t, api: "http://" + run.HTTPAddr, rpc: "http://" + rpcAddr, chainID: res.ChainID,
		op:    &actor{name: "operator", key: op.Private, pub: op.Public()},
		alice: newActor("alice"), bob: newActor("bob"), carol: newActor("carol"), stranger: newActor("stranger"),
	}
	w.waitReady()
	w.build()
	return w
}

func (w *world) waitReady() {
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(w.api + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("node not ready after 60s (last error %v)", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (w *world) build() {
	t := w.t
	shijiazhuang := registry.ApplyCity{Country: "156", CityNumber: "130100", Name: "石家庄市", NameEn: "Shijiazhuang", Locode: "CNSJW"}
	w.tangshan = registry.ApplyCity{Country: "156", CityNumber: "130200", Name: "唐山市", NameEn: "Tangshan"}
	var herr *registry.Error
	w.shijiazhuangHash, herr = registry.ApplicationHash(w.alice.pub, shijiazhuang)
	if herr != nil {
		t.Fatal(herr)
	}
	if w.tangshanHash, herr = registry.ApplicationHash(w.carol.pub, w.tangshan); herr != nil {
		t.Fatal(herr)
	}
	w.must(w.alice, registry.KindApplyCity, shijiazhuang)
	// The audit's replay: the authority approves application 2 before
	// anyone filed it. CheckTx refuses it, and its nonce goes to the
	// approval of application 1; once carol files application 2, the
	// same bytes must not approve it.
	w.earlyVote = w.sign(w.op, registry.KindApproveApplication, registry.Decision{Application: 2, Hash: w.tangshanHash})
	if p := w.post(w.earlyVote); p.Code != registry.CodeNotFound {
		t.Fatalf("approval of an application not filed yet: %+v, want not_found", p)
	}
	w.must(w.op, registry.KindApproveApplication, registry.Decision{Application: 1, Hash: w.shijiazhuangHash})
	w.must(w.alice, registry.KindRegisterSector, registry.RegisterSector{ID: sector})
	w.must(w.alice, registry.KindRegisterSector, registry.RegisterSector{ID: health})
	w.must(w.alice, registry.KindRegisterUnit, registry.RegisterUnit{Parent: sector, Name: "Education Bureau", Admins: []string{w.bob.pub}})
	w.must(w.alice, registry.KindRegisterUnit, registry.RegisterUnit{Parent: sector, Name: "Closed Bureau", Admins: []string{w.bob.pub}})
	w.must(w.bob, registry.KindRegister, registry.Register{ID: object, Values: []registry.Value{
		{Type: registry.TypeURL, Data: "https://example.org/school-0042"}, {Type: registry.TypeText, Data: "No. 42 Primary School"}}})
	w.must(w.bob, registry.KindRegister, registry.Register{ID: dataset, Values: []registry.Value{{Type: registry.TypeData, Dataset: &registry.Dataset{
		URI: "https://data.example.org/exam-2026.csv", SHA256: strings.Repeat("ab", 32), Size: 4096, MediaType: "text/csv"}}}})
	w.must(w.bob, registry.KindGrantAccess, registry.GrantAccess{Dataset: dataset, Grantee: health, Expires: time.Now().AddDate(0, 0, 30).UTC().Truncate(time.Second)})
	w.must(w.bob, registry.KindRegister, registry.Register{ID: closedObj, Values: []registry.Value{{Type: registry.TypeText, Data: "closed"}}})
	w.must(w.alice, registry.KindDeactivate, registry.SetStatus{ID: closed, Reason: "audit"})
	w.must(w.carol, registry.KindApplyCity, w.tangshan)
	var vals wire.ValidatorList
	w.getJSON("/v1/validators", &vals)
	if len(vals.Validators) != 1 {
		t.Fatalf("validators %+v, want one", vals)
	}
	w.validator = vals.Validators[0].PubKey
}

// nextNonce is the nonce of the actor's next transaction, as the node
// says.
func (w *world) nextNonce(a *actor) uint64 {
	var acct wire.Account
	w.getJSON("/v1/accounts/"+a.pub, &acct)
	return acct.NextNonce
}

// body encodes a body of kind with the actor's next nonce, valid at every
// height.
func (w *world) body(a *actor, kind string, msg any) []byte {
	b, err := registry.NewBody(kind, w.nextNonce(a), msg)
	if err != nil {
		w.t.Fatal(err)
	}
	return b
}

// sign signs msg of kind with the actor's next nonce, for this chain.
func (w *world) sign(a *actor, kind string, msg any) []byte {
	return w.signBody(a, w.body(a, kind, msg))
}

// signBody signs body bytes as they are, for this chain.
func (w *world) signBody(a *actor, body []byte) []byte {
	return encode(w.t, registry.Sign(w.chainID, body, a.key))
}

// signDeflated signs body deflated, with tail appended to the compressed
// bytes, as a's.
func (w *world) signDeflated(a *actor, body, tail []byte) []byte {
	z, err := registry.Deflate(body, registry.DeflateLevel)
	if err != nil {
		w.t.Fatal(err)
	}
	z = append(z, tail...)
	return encode(w.t, registry.Envelope{Body: z, BodyEncoding: registry.EncodingDeflate, PubKey: a.pub,
		Signature: ed25519.Sign(a.key, registry.PAEDeflate(w.chainID, z))})
}

func encode(t *testing.T, e registry.Envelope) []byte {
	b, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// must sends a transaction that has to be committed.
func (w *world) must(a *actor, kind string, msg any) {
	w.t.Helper()
	if p := w.post(w.sign(a, kind, msg)); p.Status != http.StatusOK {
		w.t.Fatalf("%s by %s: %d %s: %s", kind, a.name, p.Status, p.Code, p.Detail)
	}
}

// answer is what POST /v1/txs said: a problem, or (Status 200) a commit.
type answer struct {
	wire.Problem
	ContentType string
}

func (w *world) post(tx []byte) answer {
	w.t.Helper()
	resp, err := http.Post(w.api+"/v1/txs", "application/json", bytes.NewReader(tx))
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		w.t.Fatal(err)
	}
	a := answer{ContentType: resp.Header.Get("Content-Type")}
	if resp.StatusCode != http.StatusOK {
		if err := json.Unmarshal(b, &a.Problem); err != nil {
			w.t.Fatalf("POST /v1/txs: %d with a body that is no problem: %v\n%s", resp.StatusCode, err, b)
		}
	}
	a.Status = resp.StatusCode
	return a
}

// checkTx is CometBFT's answer to broadcast_tx_sync: CheckTx's result.
type checkTx struct {
	Code      uint32 `json:"code"`
	Log       string `json:"log"`
	Codespace string `json:"codespace"`
}

var refusal = regexp.MustCompile(`is invalid: code=(\d+), data=.*?, log='(.*)', codespace='(\w*)'$`)

// broadcast sends tx through CometBFT's RPC and returns CheckTx's result,
// or what else the RPC said.
func (w *world) broadcast(tx []byte) (checkTx, error) {
	w.t.Helper()
	return w.rpcTx("broadcast_tx_sync", tx)
}

// rpcTx calls a CometBFT RPC method that takes a transaction and answers
// CheckTx's result (broadcast_tx_sync, check_tx).
func (w *world) rpcTx(method string, tx []byte) (checkTx, error) {
	w.t.Helper()
	req, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method,
		"params": map[string]string{"tx": base64.StdEncoding.EncodeToString(tx)}})
	resp, err := http.Post(w.rpc, "application/json", bytes.NewReader(req))
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Result *checkTx `json:"result"`
		Error  *struct {
			Message string `json:"message"`
			Data    string `json:"data"`
		} `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return checkTx{}, fmt.Errorf("%d: %w", resp.StatusCode, err)
	}
	if out.Error != nil {
		// CometBFT v1 answers a refusal by CheckTx as an error whose
		// data carries the result: "… is invalid: code=N, data=,
		// log='…', codespace='…'".
		m := refusal.FindStringSubmatch(out.Error.Data)
		if m == nil {
			return checkTx{}, fmt.Errorf("%s: %s", out.Error.Message, out.Error.Data)
		}
		code, _ := strconv.ParseUint(m[1], 10, 32)
		return checkTx{Code: uint32(code), Log: m[2], Codespace: m[3]}, nil
	}
	if out.Result == nil {
		return checkTx{}, fmt.Errorf("no result and no error")
	}
	return *out.Result, nil
}

func (w *world) getJSON(path string, out any) {
	w.t.Helper()
	resp, err := http.Get(w.api + path)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		w.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		w.t.Fatalf("GET %s: %v", path, err)
	}
}

// snapshot reads back what no refused transaction may change: every
// record of the world and the objects under its units, the applications,
// the grants, the proposals, the validators, the authority and the
// network's parameters, and every actor's account.
// The height each answer was read at is left out: it moves with every
// empty block.
func (w *world) snapshot() map[string]string {
	paths := []string{
		"/v1/status", "/v1/cities", "/v1/applications", "/v1/proposals", "/v1/validators",
		"/v1/grants?dataset=" + url.QueryEscape(dataset), "/v1/grants?grantee=" + url.QueryEscape(health),
		"/v1/ids/" + city + "/children", "/v1/ids/" + sector + "/children",
		"/v1/ids/" + unit + "/children", "/v1/ids/" + closed + "/children",
	}
	for _, id := range []string{city, sector, health, unit, object, dataset, closed, closedObj} {
		paths = append(paths, "/v1/ids/"+id, "/v1/ids/"+id+"/history")
	}
	for _, a := range w.actors() {
		paths = append(paths, "/v1/accounts/"+a.pub)
	}
	snap := make(map[string]string, len(paths))
	for _, p := range paths {
		var m map[string]json.RawMessage
		w.getJSON(p, &m)
		delete(m, "height")
		if p == "/v1/status" {
			m = map[string]json.RawMessage{"authority": m["authority"], "params": m["params"]}
		}
		b, err := json.Marshal(m)
		if err != nil {
			w.t.Fatal(err)
		}
		snap[p] = string(b)
	}
	return snap
}

func (w *world) actors() []*actor { return []*actor{w.op, w.alice, w.bob, w.carol, w.stranger} }

// diff lists the paths whose answers differ between two snapshots.
func diff(before, after map[string]string) []string {
	var out []string
	for p, b := range before {
		if after[p] != b {
			out = append(out, fmt.Sprintf("%s:\n  before %s\n  after  %s", p, b, after[p]))
		}
	}
	return out
}

// status is the node's latest height and the app hash its header carries.
func (w *world) status() wire.StatusAnswer {
	var st wire.StatusAnswer
	w.getJSON("/v1/status", &st)
	return st
}

// settledAppHash waits until a header signs the state after everything
// sent before the call, and returns that state's app hash. A chain that
// makes blocks only when needed makes one more block after a block that
// changed the state, whose header carries the new root; so the state has
// settled when the latest header's app hash is the root of the latest
// state (which a proof's app_hash names).
func (w *world) settledAppHash() string {
	w.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var rec wire.RecordAnswer
		w.getJSON("/v1/ids/"+city+"?proof=true", &rec)
		if rec.Proof == nil {
			w.t.Fatal("GET /v1/ids/" + city + "?proof=true has no proof")
		}
		st := w.status()
		if strings.EqualFold(st.AppHash, rec.Proof.AppHash) {
			return st.AppHash
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("30 s on, the latest header (height %d) signs %s, not the latest state %s", st.Height, st.AppHash, rec.Proof.AppHash)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
