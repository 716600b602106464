package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cityid/cityid/internal/api"
	"github.com/cityid/cityid/internal/apitest"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/wire"
)

// submitted is a backend that records what reaches the mempool.
type submitted struct {
	apitest.Backend
	txs [][]byte
}

func (s *submitted) Submit(_ context.Context, tx []byte) (wire.TxResult, error) {
	s.txs = append(s.txs, append([]byte(nil), tx...))
	return wire.TxResult{Hash: registry.TxHash(tx), Height: 7}, nil
}

// TestAnyEnvelopeEncoding: an envelope posted as ordinary JSON — indented,
// keys in another order, a trailing newline, escaped characters — is taken,
// and what reaches the mempool (and the answer's hash) is its canonical
// encoding; what is not an envelope is refused with the reason.
func TestAnyEnvelopeEncoding(t *testing.T) {
	body, err := registry.NewBody(registry.KindRegisterSector, 1, registry.RegisterSector{ID: "1561301001.85"})
	if err != nil {
		t.Fatal(err)
	}
	env := registry.Sign(apitest.ChainID, body, apitest.Key("alice"))
	canonical, err := env.Encode()
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(canonical, &fields); err != nil {
		t.Fatal(err)
	}
	indented, _ := json.MarshalIndent(fields, "", "  ")
	var enc bytes.Buffer
	_ = json.NewEncoder(&enc).Encode(fields) // with its newline
	reordered := `{"signature":"` + fields["signature"].(string) + `", "pub_key":"` + fields["pub_key"].(string) + `", "body":"` + fields["body"].(string) + `"}`
	escaped := strings.Replace(reordered, `"pub_key"`, `"pub\u005fkey"`, 1)

	b := &submitted{Backend: apitest.NewEmptyBackend(t)}
	srv := httptest.NewServer(apitest.Validated(t, api.New(b, api.Options{Limits: &api.Limits{}})))
	t.Cleanup(srv.Close)
	post := func(payload []byte) (int, wire.Problem, wire.TxAnswer) {
		t.Helper()
		resp, err := http.Post(srv.URL+"/v1/txs", "application/json", bytes.NewReader(payload))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var p wire.Problem
		var a wire.TxAnswer
		if resp.StatusCode == http.StatusOK {
			_ = json.Unmarshal(raw, &a)
		} else {
			_ = json.Unmarshal(raw, &p)
		}
		return resp.StatusCode, p, a
	}
	for name, payload := range map[string][]byte{"canonical": canonical, "indented": indented, "json.Encoder": enc.Bytes(),
		"reordered": []byte(reordered), "escaped key": []byte(escaped)} {
		before := len(b.txs)
		status, p, a := post(payload)
		if status != http.StatusOK || len(b.txs) != before+1 {
			t.Fatalf("%s: %d %+v", name, status, p)
		}
		if got := b.txs[len(b.txs)-1]; !bytes.Equal(got, canonical) {
			t.Errorf("%s: the mempool got %s, want the canonical %s", name, got, canonical)
		}
		if a.Hash != registry.TxHash(canonical) {
			t.Errorf("%s: answered hash %s, want the canonical transaction's %s", name, a.Hash, registry.TxHash(canonical))
		}
	}
	for name, payload := range map[string]string{
		"unknown key":   strings.Replace(reordered, `"body"`, `"extra":1, "body"`, 1),
		"duplicate key": strings.Replace(reordered, `{`, `{"body":"AA==", `, 1),
		"trailing data": reordered + ` {}`,
		"not JSON":      "body=x",
	} {
		before := len(b.txs)
		status, p, _ := post([]byte(payload))
		if status != http.StatusBadRequest || p.Code != registry.CodeMalformed || len(b.txs) != before {
			t.Errorf("%s: %d %+v, want 400 malformed and nothing submitted", name, status, p)
		}
	}
}

// TestMethodNotAllowed: a route asked with a method it does not take is
// 405 with Allow (RFC 9110), not 404; a path that is no route is 404.
func TestMethodNotAllowed(t *testing.T) {
	srv := httptest.NewServer(apitest.Validated(t, api.New(apitest.NewEmptyBackend(t), api.Options{Limits: &api.Limits{}})))
	t.Cleanup(srv.Close)
	for _, c := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{http.MethodPost, "/v1/ids/1561301001.85.1/school-0042", http.StatusMethodNotAllowed, "GET, HEAD"},
		{http.MethodDelete, "/v1/txs", http.StatusMethodNotAllowed, "POST"},
		{http.MethodGet, "/v1/txs", http.StatusMethodNotAllowed, "POST"},
		{http.MethodPatch, "/v1/data/1561301001.85.1/flow", http.StatusMethodNotAllowed, "GET, HEAD, PUT"},
		{http.MethodPost, "/v1/nothing-here", http.StatusNotFound, ""},
	} {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var p wire.Problem
		_ = json.NewDecoder(resp.Body).Decode(&p)
		resp.Body.Close()
		if resp.StatusCode != c.status || resp.Header.Get("Allow") != c.allow {
			t.Errorf("%s %s: %d Allow %q (%s), want %d Allow %q", c.method, c.path, resp.StatusCode, resp.Header.Get("Allow"), p.Code, c.status, c.allow)
		}
		if c.status == http.StatusMethodNotAllowed && p.Code != wire.CodeMethodNotAllowed {
			t.Errorf("%s %s: code %q", c.method, c.path, p.Code)
		}
	}
}
