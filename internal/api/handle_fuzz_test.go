package api

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/store"
	"github.com/cityid/cityid/internal/wire"
)

// ledgerBackend serves committed state from a store in memory and has no
// chain: the Handle answer reads nothing else.
type ledgerBackend struct{ st *store.Store }

var errNoChain = errors.New("no chain in this test")

func (b ledgerBackend) Latest() *store.View { return b.st.Latest() }
func (b ledgerBackend) Submit(context.Context, []byte) (wire.TxResult, error) {
	return wire.TxResult{}, errNoChain
}
func (b ledgerBackend) Status(context.Context) (wire.NodeStatus, error) {
	return wire.NodeStatus{}, errNoChain
}
func (b ledgerBackend) PendingNonce(string) (uint64, bool) { return 0, false }
func (b ledgerBackend) At(int64) (*store.View, error)      { return nil, errNoChain }
func (b ledgerBackend) Block(context.Context, int64) (wire.BlockInfo, error) {
	return wire.BlockInfo{}, errNoChain
}
func (b ledgerBackend) Tx(context.Context, string) (wire.TxInfo, error) {
	return wire.TxInfo{}, errNoChain
}
func (b ledgerBackend) LightBlock(context.Context, int64) (json.RawMessage, error) {
	return nil, errNoChain
}

// handleLedger is state built by the state machine: Shijiazhuang, its
// education sector (with a value) and bureau, and a school with a value of
// every type, two admins among them, under the bureau.
func handleLedger(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.OpenMemory(store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	const chainID = "handle-test"
	m := registry.New(chainID)
	seed := sha256.Sum256([]byte("handle test operator"))
	op := ed25519.NewKeyFromSeed(seed[:])
	opPub := registry.KeyText(op.Public().(ed25519.PublicKey))
	other := sha256.Sum256([]byte("handle test admin"))
	otherPub := registry.KeyText(ed25519.NewKeyFromSeed(other[:]).Public().(ed25519.PublicKey))
	gen, _ := json.Marshal(registry.Genesis{Authority: registry.Authority{Members: []string{opPub}, Threshold: 1}, Params: registry.Params{OIDArc: "2.25.1", IAC: "MA"}})
	if err := m.InitGenesis(st, gen, nil); err != nil {
		t.Fatal(err)
	}
	height := int64(0)
	apply := func(kind string, msg any) {
		t.Helper()
		height++
		body, err := registry.NewBody(kind, uint64(height), msg)
		if err != nil {
			t.Fatal(err)
		}
		tx, _ := registry.Sign(chainID, body, op).Encode()
		res, err := m.ApplyBlock(st, registry.Block{Height: height, Time: time.Date(2026, 1, 1, 0, 0, int(height), 0, time.UTC)}, [][]byte{tx}, nil)
		if err != nil || res[0].Err != nil {
			t.Fatalf("%s: %v %v", kind, err, res[0].Err)
		}
		if _, _, err := st.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	city := registry.ApplyCity{Country: "156", CityNumber: "130100", Name: "石家庄市"}
	apply(registry.KindApplyCity, city)
	hash, herr := registry.ApplicationHash(opPub, city)
	if herr != nil {
		t.Fatal(herr)
	}
	apply(registry.KindApproveApplication, registry.Decision{Application: 1, Hash: hash})
	apply(registry.KindRegisterSector, registry.RegisterSector{ID: "1561301001.85", Values: []registry.Value{{Type: "URL", Data: "https://edu.sjz.example/"}}})
	apply(registry.KindRegisterUnit, registry.RegisterUnit{Parent: "1561301001.85", Name: "Education Bureau"})
	apply(registry.KindRegister, registry.Register{ID: "1561301001.85.1/school-0042", Admins: []string{opPub, otherPub}, Values: []registry.Value{
		{Index: 1, Type: "URL", Data: "https://example.org/school-0042", TTL: 300},
		{Index: 2, Type: "TEXT", Data: `No. 42 "Primary" School <&>`},
		{Index: 3, Type: "EMAIL", Data: "office@school-0042.example"},
		{Index: 4, Type: "GEO", Data: "38.04,114.51"},
		{Index: 5, Type: "ALIAS", Data: "1561301001.85.1"},
		{Index: 6, Type: "DATA", Dataset: &registry.Dataset{URI: "https://d.example/a.csv", SHA256: strings.Repeat("ab", 32), Size: 10, MediaType: "text/csv"}},
		{Index: 7, Type: "ns:tag", Data: "x"},
		{Index: 10320, Type: "hdl:10320.loc", Data: "<locations/>"},
	}})
	return st
}

// handleStatus is the HTTP status each Handle response code is sent with.
var handleStatus = map[int]int{
	hsSuccess: http.StatusOK, hsValuesNotFound: http.StatusOK, hsHandleNotFound: http.StatusNotFound,
	hsInvalidHandle: http.StatusBadRequest, hsError: http.StatusBadRequest, hsNotResponsible: http.StatusBadRequest,
}

// FuzzHandle sends GET /api/handles/{handle}?{query} to the API, as a
// client's request line would carry it, and checks the answer: never a
// 5xx; a redirect only to the clean path; otherwise one JSON document,
// a Handle answer whose responseCode is one of Handle's, sent with its
// HTTP status, naming the handle asked for, with values only on success,
// each matching the ?index= or ?type= asked for. ?pretty that is not a
// boolean is the one problem+json answer.
func FuzzHandle(f *testing.F) {
	s := New(ledgerBackend{handleLedger(f)}, Options{})
	for _, handle := range []string{
		"1561301001.85.1/school-0042", "1561301001.85.1/SCHOOL-0042", "0.NA/1561301001.85.1", "0.na/1561301001",
		"0.NA/1561301001.85.1/school-0042", "1561301001.85.1/nobody", "1561302004.85/x", "1561301002.85.1/x",
		"x", "", "/", "1561301001.85.1/", "1561301001.85.1/a%2Fb", "1561301001.85.1/%ff", "1561301001.85.1/../x",
	} {
		f.Add(handle, "")
	}
	for _, q := range []string{
		"type=URL&type=EMAIL", "index=3&index=100", "type=HS_", "type=HS_.", "type=hdl:10320.", "index=-1",
		"index=99999999999999999999", "pretty", "pretty=nope", "pretty=true&type=URL", "index=1&type=ALIAS",
		"type=", "index=", "index=+5", "type=%ff", "a=%zz&type=URL",
	} {
		f.Add("1561301001.85.1/school-0042", q)
	}
	f.Fuzz(func(t *testing.T, handle, query string) {
		target := "/api/handles/" + handle
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
		var a wire.HandleAnswer
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&a); err != nil {
			t.Fatalf("%s: not a Handle answer: %v: %s", target, err, body)
		}
		want, known := handleStatus[a.ResponseCode]
		if !known || want != res.StatusCode {
			t.Fatalf("%s: responseCode %d with HTTP %d", target, a.ResponseCode, res.StatusCode)
		}
		if a.Handle != jsonText(strings.TrimPrefix(req.URL.Path, "/api/handles/")) {
			t.Fatalf("%s: answer for handle %q", target, a.Handle)
		}
		if (a.ResponseCode == hsSuccess) != (len(a.Values) > 0) || a.ResponseCode != hsSuccess && a.Message == "" {
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
// sub-types too), written apart from filterValues.
func wanted(v wire.HandleValue, indexes, types []string) bool {
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
