package api_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/cityid/cityid/internal/api"
	"github.com/cityid/cityid/internal/apitest"
)

// TestEveryOperationFromTheDocument sends, for every operation of the
// published document, requests made from its parameters' schemas — valid
// values, values at and past their limits, and junk — to the API over the
// story's state (every answer checked against the document by
// apitest.Validated), and checks that none is a failure of the node (a
// 5xx but the documented 508 of an alias loop). The generator's seed is
// fixed, so a failure is the same on every run.
func TestEveryOperationFromTheDocument(t *testing.T) {
	s := serveStory(t, api.Options{Limits: &api.Limits{}})
	d, err := apitest.LoadDocument(api.New(nil, api.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(2026, 12))
	// The resolver URL sends browsers elsewhere: its answer is the test's,
	// not where it points.
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	const perOperation = 40
	sent := 0
	for _, path := range d.Spec.Paths.InMatchingOrder() {
		if needsChain[path] {
			continue
		}
		item := d.Spec.Paths.Value(path)
		for method, op := range item.Operations() {
			if method == http.MethodPut || method == http.MethodPost || method == http.MethodDelete {
				// Writes are the tests' of each write: sending junk bodies
				// here would only repeat them.
				continue
			}
			for i := range perOperation {
				target := fillPath(rnd, path, op, i)
				q := url.Values{}
				for _, pr := range op.Parameters {
					p := pr.Value
					if p.In != "query" || rnd.IntN(2) == 0 {
						continue
					}
					q.Set(p.Name, value(rnd, p, i))
				}
				u := s.url + target
				if len(q) > 0 {
					u += "?" + q.Encode()
				}
				req, err := http.NewRequest(method, u, nil)
				if err != nil {
					continue // a generated path that is no URL
				}
				if rnd.IntN(3) == 0 {
					req.Header.Set("Accept", "text/html")
				}
				resp, err := c.Do(req)
				if err != nil {
					t.Fatalf("%s %s: %v", method, u, err)
				}
				resp.Body.Close()
				sent++
				// A failure of the node, never of the request: 508 (an alias
				// loop) is the request's, and documented.
				if resp.StatusCode >= 500 && resp.StatusCode != http.StatusLoopDetected {
					t.Errorf("%s %s: %d", method, u, resp.StatusCode)
				}
			}
		}
	}
	if sent < 1000 {
		t.Errorf("only %d requests sent", sent)
	}
}

// needsChain are the operations that read CometBFT's block store, light
// blocks or mempool, which the store-backed backend does not have (it
// answers them 500): the end-to-end test asks them of a real node.
var needsChain = map[string]bool{
	"/v1/blocks/{h}": true, "/v1/light/{h}": true, "/v1/txs/{hash}": true, "/v1/trust": true, "/v1/trust/{format}": true,
	"/blocks/{h}": true, "/txs/{hash}": true, "/trust": true, "/explorer": true,
}

// Values the story holds, for parameters to hit real state as well as
// junk.
var (
	storyIDs = []string{"1561301001", "1561301001.85", "1561301001.85.1", "1561301001.85.1/school-0042", "1561301001.85.1/exam-2026",
		"1561301001.85.1/loop-a", "1561301001.85.1/old-plate", "1561301001.85.1/nobody", "1561302004"}
	junk = []string{"", "0", "-1", "99999999999999999999", "abc", "%00", "…", "a/b/c", strings.Repeat("9", 300), "1561301002", "true", "null", " "}
)

// fillPath puts values in a path template's parameters.
func fillPath(rnd *rand.Rand, path string, op *openapi3.Operation, i int) string {
	for _, pr := range op.Parameters {
		p := pr.Value
		if p.In != "path" {
			continue
		}
		v := value(rnd, p, i)
		if p.Name != "id" && p.Name != "suffix" {
			v = url.PathEscape(v)
		}
		if v == "" {
			v = "x"
		}
		path = strings.Replace(path, "{"+p.Name+"}", v, 1)
	}
	return path
}

// value is a parameter's value: every other one valid by its schema (a
// story identifier, a number within its bounds, an enum member), the rest
// at its limits or junk.
func value(rnd *rand.Rand, p *openapi3.Parameter, i int) string {
	sch := p.Schema.Value
	if sch.Type.Is("array") && sch.Items != nil {
		sch = sch.Items.Value
	}
	if i%2 == 1 {
		return junk[rnd.IntN(len(junk))]
	}
	switch {
	case len(sch.Enum) > 0:
		return fmt.Sprint(sch.Enum[rnd.IntN(len(sch.Enum))])
	case p.Name == "id" || p.Name == "dataset" || p.Name == "grantee" || p.Name == "under":
		return storyIDs[rnd.IntN(len(storyIDs))]
	case p.Name == "prefix":
		return []string{"1561301001.85.1", "0.NA", "10.1000"}[rnd.IntN(3)]
	case p.Name == "suffix":
		return []string{"school-0042", "1561301001", "nobody", "a/b"}[rnd.IntN(4)]
	case sch.Type.Is("integer"):
		lo, hi := 0.0, 1000.0
		if sch.Min != nil {
			lo = *sch.Min
		}
		if sch.Max != nil {
			hi = *sch.Max
		}
		edges := []float64{lo, hi, lo - 1, hi + 1, lo + float64(rnd.IntN(int(hi-lo)+1))}
		return strconv.FormatInt(int64(edges[rnd.IntN(len(edges))]), 10)
	case sch.Type.Is("boolean"):
		return []string{"true", "false", "1", "0", ""}[rnd.IntN(5)]
	case p.Name == "key":
		return apitest.PubKey("alice")
	case p.Name == "hash":
		return strings.Repeat("ab", 32)
	case p.Name == "h":
		return []string{"1", "2", "latest", "0", "999999"}[rnd.IntN(5)]
	}
	return junk[rnd.IntN(len(junk))]
}
