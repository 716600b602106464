package web_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/cityid/cityid/internal/web"
)

// The budget of verify.js, which every page that shows a badge loads:
// the portal's whole page must stay within 1 MB compressed (issue 11),
// and the verifier is meant to be read by whoever compares its hash; at
// 41.0 KB (13.3 KB gzipped) it leaves room for comments, not for a
// library.
const (
	maxVerifierBytes     = 48 << 10
	maxVerifierGzipBytes = 16 << 10
)

// nodeBinary finds node, which CI has; a machine without it fails the
// test with the way to install it, as a skipped test would hide that
// the browser's verifier went unchecked.
func nodeBinary(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node (Node.js 20 or later, for WebCrypto's Ed25519) is needed to check verify.js: " +
			"apt-get install nodejs (Debian 13), or see https://nodejs.org/en/download")
	}
	return path
}

// jsVerdict is one line of testdata/run.mjs.
type jsVerdict struct {
	Name    string  `json:"name"`
	OK      bool    `json:"ok"`
	Reason  string  `json:"reason"`
	Message string  `json:"message"`
	MS      float64 `json:"ms"`
	Pivots  []int64 `json:"pivots"`
}

// TestVerifyJSAgreesWithGo runs verify.js (the embedded file) on every
// vector with node and requires Go's verdict and reason class on each.
func TestVerifyJSAgreesWithGo(t *testing.T) {
	bin := nodeBinary(t)
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatalf("node --version: %v", err)
	}
	t.Logf("node %s", bytes.TrimSpace(out))
	vs := readVectors(t)
	cmd := exec.Command(bin, "testdata/run.mjs", vectorDir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err = cmd.Output()
	if err != nil {
		t.Fatalf("node testdata/run.mjs: %v\n%s", err, stderr.Bytes())
	}
	got := map[string]jsVerdict{}
	var total float64
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var v jsVerdict
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("run.mjs printed %q: %v", sc.Text(), err)
		}
		got[v.Name] = v
		total += v.MS
	}
	var runs []vector
	for _, v := range vs {
		runs = append(runs, v)
		if v.Kind == "answer" {
			// The answer again, header H+1 reached by bisection from
			// the root: Go's verdict stands.
			f := v
			f.Name += "#fetch"
			runs = append(runs, f)
		}
	}
	for _, v := range runs {
		js, ok := got[v.Name]
		switch {
		case !ok:
			t.Errorf("%s: verify.js gave no verdict", v.Name)
		case js.OK != v.Want.OK || js.Reason != v.Want.Reason:
			t.Errorf("%s (%s): verify.js says ok=%v %s (%s); Go says ok=%v %s (%s)",
				v.Name, v.About, js.OK, js.Reason, js.Message, v.Want.OK, v.Want.Reason, v.Want.GoError)
		case !slices.Equal(js.Pivots, v.Want.Pivots):
			t.Errorf("%s: verify.js fetched pivots %v, CometBFT's light client %v", v.Name, js.Pivots, v.Want.Pivots)
		}
	}
	if len(got) != len(runs) {
		t.Errorf("verify.js made %d checks, want %d", len(got), len(runs))
	}
	t.Logf("verify.js agrees with Go on %d vectors, %d checks (%.0f ms of checks)", len(vs), len(runs), total)
}

// The served verify.js is the file in the repository, and stays small.
func TestVerifyJSSize(t *testing.T) {
	served, err := fs.ReadFile(web.Static(), "verify.js")
	if err != nil {
		t.Fatal(err)
	}
	onDisk, err := os.ReadFile("static/verify.js")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(served, onDisk) {
		t.Fatal("the embedded verify.js differs from static/verify.js")
	}
	var z bytes.Buffer
	w, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
	w.Write(served)
	w.Close()
	t.Logf("verify.js: %d bytes, %d gzipped", len(served), z.Len())
	if len(served) > maxVerifierBytes || z.Len() > maxVerifierGzipBytes {
		t.Errorf("verify.js is %d bytes (%d gzipped), over its budget of %d (%d)", len(served), z.Len(), maxVerifierBytes, maxVerifierGzipBytes)
	}
	// Its one runtime dependency is WebCrypto: nothing is imported.
	if strings.Contains(string(served), "\nimport ") || strings.Contains(string(served), "require(") {
		t.Error("verify.js imports something; it must stand alone")
	}
}

// fuzzRounds is how many random changes run.mjs makes to each vector's
// input: 50 a vector is about 8,000 checks, a few seconds; -fuzzrounds 400
// (66,800 checks, a minute) is the deeper run made before a change to
// verify.js is committed.
var fuzzRounds = flag.Int("fuzzrounds", 50, "random changes to each vector's input in TestVerifyJSRefusesGarbage")

// TestVerifyJSRefusesGarbage changes each vector's input at random
// (seeded) and requires every refusal to be a VerifyError with a reason
// (no input makes verify.js throw anything else), and Go to accept every
// changed input verify.js accepts.
func TestVerifyJSRefusesGarbage(t *testing.T) {
	bin := nodeBinary(t)
	cmd := exec.Command(bin, "testdata/run.mjs", vectorDir, "--fuzz", fmt.Sprint(*fuzzRounds))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node testdata/run.mjs --fuzz: %v\n%s", err, stderr.Bytes())
	}
	var res struct {
		Checks     int      `json:"checks"`
		Count      int      `json:"count"`
		Exceptions []string `json:"exceptions"`
		Accepted   []vector `json:"accepted"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("run.mjs --fuzz printed %q: %v", out, err)
	}
	if want := *fuzzRounds * len(readVectors(t)); res.Checks < want || want == 0 {
		t.Fatalf("%d checks, want %d", res.Checks, want)
	}
	for _, e := range res.Exceptions {
		t.Errorf("not a VerifyError: %s", e)
	}
	if res.Count > 0 {
		t.Errorf("%d of %d changed inputs made verify.js throw something other than a VerifyError", res.Count, res.Checks)
	}
	// What verify.js accepted, Go must accept: a change the browser lets
	// through is one the chain's own verifier would let through.
	for _, v := range res.Accepted {
		if got := goVerdict(v); !got.OK {
			t.Errorf("%s: verify.js accepts a changed input (%s) that Go refuses (%s: %s)", v.Name, v.About, got.Reason, got.GoError)
		}
	}
	t.Logf("%d changed inputs, each refused with a reason or verified; Go accepts all %d that verify.js accepted", res.Checks, len(res.Accepted))
}
