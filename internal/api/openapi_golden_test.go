package api_test

import (
	"bytes"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cityid/cityid/internal/api"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// The published contract is held byte for byte to a golden file: a change
// to an answer's struct, a route, a parameter or a description changes
// /v1/openapi.json, and this test fails until the change is taken on
// purpose with `go test ./internal/api -run TestOpenAPIGolden -update`,
// which puts it in the diff for review.
func TestOpenAPIGolden(t *testing.T) {
	srv := httptest.NewServer(api.New(nil, api.Options{})) // the document reads no state
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL + "/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("openapi.json: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	path := filepath.Join("testdata", "openapi.golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./internal/api -run TestOpenAPIGolden -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the served OpenAPI document differs from %s (-update takes the change): %s", path, firstDifference(string(got), string(want)))
	}
}

// firstDifference shows where two documents part, by line, with a little
// context: the documents are too long to print whole.
func firstDifference(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl || i >= len(g) || i >= len(w) {
			from := max(0, i-3)
			return "line " + strconv.Itoa(i+1) + ":\n--- served\n" + strings.Join(g[from:min(len(g), i+4)], "\n") +
				"\n--- golden\n" + strings.Join(w[from:min(len(w), i+4)], "\n")
		}
	}
	return "(same lines; a byte differs outside them)"
}
