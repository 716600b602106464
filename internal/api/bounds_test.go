package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/cityid/cityid/internal/api"
	"github.com/cityid/cityid/internal/registry"
)

// What a client sends is bounded, with an answer that says which bound:
// a body larger than a transaction can be, a body that is not an
// envelope, a page larger than the largest page; an unknown route is a
// problem, not a bare 404. The oversize body costs half a second (the
// server closes the connection it did not read to the end, and net/http
// waits before that close so the client reads the 413), so it runs beside
// the other slow tests.
func TestBounds(t *testing.T) {
	t.Parallel()
	s := serveStory(t, api.Options{})
	post := func(body []byte) (int, Problem) {
		t.Helper()
		resp, err := http.Post(s.url+"/v1/txs", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var p Problem
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatalf("POST: %d %s", resp.StatusCode, b)
		}
		return resp.StatusCode, p
	}
	if status, p := post(bytes.Repeat([]byte(" "), registry.MaxTxBytes+8<<10)); status != http.StatusRequestEntityTooLarge || p.Code != registry.CodeTooLarge {
		t.Errorf("oversize body: %d %+v", status, p)
	}
	// Refused before the mempool: the backend, which has none, is never asked.
	if status, p := post([]byte(`{"not":"an envelope"}`)); status != http.StatusBadRequest || p.Code != registry.CodeMalformed {
		t.Errorf("not an envelope: %d %+v", status, p)
	}
	for _, q := range []string{"limit=1001", "limit=0", "limit=x"} {
		s.problem("/v1/cities?"+q, http.StatusBadRequest, CodeBadRequest, "is not a number from 1 to 1000")
	}
	var c CityList
	s.json("/v1/cities?limit=1000", http.StatusOK, &c)
	s.problem("/v2/cities", http.StatusNotFound, CodeNotFound, "no route GET /v2/cities")
}
