package web_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cityid/cityid/client"
	"github.com/cityid/cityid/httpsig"
	"github.com/cityid/cityid/internal/accesslog"
	"github.com/cityid/cityid/internal/wire"
)

// The RFC 9421 B.2.6 vector, as package httpsig's own test holds it.
const (
	rfcB26Signature = "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw=="
	rfcB26Created   = 1618884473
)

// pattern is the bytes datajs.mjs hashes: byte i is 31 i + 7 mod 256.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(31*i + 7)
	}
	return b
}

// TestDataJSAgreesWithGo runs the portal's data-sharing code with node
// against Go: sha256.js fed in uneven slices gives crypto/sha256's digest;
// httpsig.js makes RFC 9421 B.2.6's signature base and signature, signs
// requests with the very fields Go's httpsig.SignParams writes, which
// httpsig.Verifier accepts (and refuses once the URL is changed), and
// refuses what Go refuses to sign; accesslog.js hashes every entry of a
// log Go wrote as Go does, and gives Go's verdict (code, entry, anchored)
// on that log and on every kind of tampering.
func TestDataJSAgreesWithGo(t *testing.T) {
	bin := nodeBinary(t)
	rng := rand.New(rand.NewPCG(12, 5))

	// SHA-256: across every block boundary and padding case, and a few
	// MiB in slices that end anywhere.
	type shaCase struct {
		Len    int   `json:"len"`
		Slices []int `json:"slices"`
		want   string
	}
	var shas []shaCase
	for _, n := range []int{0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 3<<20 + 17} {
		c := shaCase{Len: n, Slices: []int{}}
		for left := n; left > 0; {
			k := min(left, rng.IntN(n/3+70))
			c.Slices = append(c.Slices, k)
			left -= k
		}
		sum := sha256.Sum256(pattern(n))
		c.want = hex.EncodeToString(sum[:])
		shas = append(shas, c)
	}

	// httpsig: the RFC's vector, read from package httpsig's testdata.
	pem, err := os.ReadFile("../../httpsig/testdata/test-key-ed25519.pem")
	if err != nil {
		t.Fatal(err)
	}
	wantBase, err := os.ReadFile("../../httpsig/testdata/b26-base.txt")
	if err != nil {
		t.Fatal(err)
	}
	wantBase = bytes.TrimRight(wantBase, "\n")
	b26 := map[string]any{
		"pem": string(pem),
		"request": map[string]any{"method": "POST", "url": "http://example.com/foo?param=Value&Pet=dog", "headers": map[string]any{
			"Date": "Tue, 20 Apr 2021 02:07:55 GMT", "Content-Type": "application/json", "Content-Length": "18",
			"Content-Digest": "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:"}},
		"params": map[string]any{"components": []string{"date", "@method", "@path", "@authority", "content-type", "content-length"},
			"created": rfcB26Created, "keyid": "test-key-ed25519"},
	}
	seed := bytes.Repeat([]byte{0x3c}, ed25519.SeedSize)
	priv := ed25519.NewKeyFromSeed(seed)
	pub := priv.Public().(ed25519.PublicKey)
	type signCase struct {
		Method string `json:"method"`
		URL    string `json:"url"`
		NowMS  int64  `json:"now_ms"`
		Nonce  string `json:"nonce"`
	}
	now := time.Date(2026, 12, 5, 5, 30, 0, 0, time.UTC)
	signs := []signCase{
		{"GET", "http://127.0.0.1:26657/v1/data/1561301001.85.1/school-0042", now.UnixMilli(), "Bq9Yx3bIy-0yVZ2nBs6wCA"},
		{"GET", "http://127.0.0.1:26657/v1/data/1561301001.85.1/school-0042?index=2", now.UnixMilli() + 999, "n2"},
		{"PUT", "http://Node.City-A.Example:80/v1/data/1561301001.85.1/%E6%B0%B4", now.UnixMilli(), "n3"},
		{"GET", "https://node.city-a.example:443/v1/access-log/1561301001.85.1/x?after=0&limit=1000", now.UnixMilli(), "n4"},
		{"HEAD", "https://node.city-a.example:8443/v1/data/1561301001.85.1/x", now.UnixMilli(), "n5"},
	}
	refuse := []map[string]any{
		{"request": map[string]any{"method": "GET", "url": "http://a.example/x"}, "params": map[string]any{"keyid": "clé"}},
		{"request": map[string]any{"method": "GET", "url": "http://a.example/x"}, "params": map[string]any{"components": []string{"@method", "@method"}}},
		{"request": map[string]any{"method": "GET", "url": "http://a.example/x"}, "params": map[string]any{"components": []string{"@query-param"}}},
		{"request": map[string]any{"method": "GET", "url": "http://a.example/x"}, "params": map[string]any{"components": []string{"date"}}},
		{"request": map[string]any{"method": "GET", "url": "http://a.example/x", "headers": map[string]any{"x-a": "1\r\nx-b: 2"}}, "params": map[string]any{"components": []string{"x-a"}}},
	}

	// The access log: entries Go's Log wrote, with text JSON writers
	// differ on, then tampered with in every way Verify names.
	dir := t.TempDir()
	lg, err := accesslog.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	const ds = "1561301001.85.1/school-0042"
	var entries []accesslog.Entry
	for i := range 7 {
		e, err := lg.Append(accesslog.Entry{Dataset: ds, Key: hex.EncodeToString(pub), Grantee: "1561401001.36", Grant: uint64(i), Height: int64(100 + i),
			Method: "GET", Range: "bytes=0-", Bytes: int64(i) << 33, Status: 200 + i, Result: "served", Remote: fmt.Sprintf("[::1]:%d \u2028 水 \"%d\" \\ 😀 \x01", 40000+i, i),
			Time: time.Date(2026, 12, 5, 4, 35, i, 123456789, time.UTC).Format(time.RFC3339Nano)})
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, e)
	}
	if err := lg.Close(); err != nil {
		t.Fatal(err)
	}
	read, err := accesslog.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	onDisk, err := read.Entries(ds, 0, 100)
	read.Close()
	if err != nil || len(onDisk) != len(entries) {
		t.Fatalf("read the log back: %d entries, %v", len(onDisk), err)
	}
	anchor := func(n uint64) accesslog.AnchorHead { return accesslog.AnchorHead{Entries: n, Head: onDisk[n-1].Hash} }
	clone := func() []accesslog.Entry { return append([]accesslog.Entry(nil), onDisk...) }
	rehash := func(es []accesslog.Entry, from int) []accesslog.Entry {
		for i := from; i < len(es); i++ {
			if i > 0 {
				es[i].Prev = es[i-1].Hash
			}
			es[i].Hash = es[i].ComputeHash()
		}
		return es
	}
	type logCase struct {
		Name    string                 `json:"name"`
		Entries []accesslog.Entry      `json:"entries"`
		Anchors []accesslog.AnchorHead `json:"anchors"`
		code    string
	}
	var logs []logCase
	add := func(name, code string, es []accesslog.Entry, anchors ...accesslog.AnchorHead) {
		if anchors == nil {
			anchors = []accesslog.AnchorHead{}
		}
		logs = append(logs, logCase{Name: name, Entries: es, Anchors: anchors, code: code})
	}
	add("whole, anchored twice", "", clone(), anchor(7), anchor(3), anchor(3))
	add("whole, no anchor", "", clone())
	add("empty, anchored empty", "", []accesslog.Entry{}, accesslog.AnchorHead{Entries: 0, Head: accesslog.ZeroHash})
	add("an anchor of 0 entries with a head", accesslog.ProblemAnchorMismatch, clone(), accesslog.AnchorHead{Entries: 0, Head: onDisk[0].Hash})
	es := clone()
	es[2].Bytes++
	add("bytes served changed", accesslog.ProblemHash, es, anchor(7))
	es = clone()
	es[4].Remote = strings.Replace(es[4].Remote, "水", "火", 1)
	add("remote changed", accesslog.ProblemHash, es)
	es = clone()
	es = append(es[:3], es[4:]...)
	add("entry 4 removed", accesslog.ProblemSeq, es)
	es = clone()
	es[1], es[2] = es[2], es[1]
	add("entries 2 and 3 swapped", accesslog.ProblemSeq, es)
	es = clone()
	es[4].Prev = es[2].Hash
	es[4].Hash = es[4].ComputeHash()
	add("prev changed, hash recomputed", accesslog.ProblemPrev, es[:5:5])
	es = clone()
	es[3].Result = "no_grant"
	add("entry 4 rewritten, chain rehashed, anchored at 5", accesslog.ProblemAnchorMismatch, rehash(es, 3), anchor(2), anchor(5))
	es = clone()
	es[3].Result = "no_grant"
	// What no anchor covers yet can be rewritten unseen: why the node
	// anchors often.
	add("entry 4 rewritten, chain rehashed, anchored at 2", "", rehash(es, 3), anchor(2))
	add("last two entries cut, anchored at 7", accesslog.ProblemTruncated, clone()[:5], anchor(3), anchor(7))
	es = clone()
	es[1].Dataset = "1561301001.85.1/school-0043"
	add("an entry of another dataset", accesslog.ProblemDataset, rehash(es, 1))
	es = clone()
	es[0].Seq = 0
	add("numbered from 0", accesslog.ProblemSeq, es)

	// Recorded requests: entries whose request Go signed, as the node
	// logs them, then altered in each way an owner could lie; the
	// portal's verdict on each must be client.CheckEntrySignature's.
	recorded := recordedCases(t, priv, now)
	// Whole logs of them, as a reader checks a log: the same signed
	// request twice is refused the second time.
	pick := func(names ...string) []accesslog.Entry {
		var out []accesslog.Entry
		for _, n := range names {
			for _, c := range recorded {
				if c.Name == n {
					e := c.Entry
					e.Seq = uint64(len(out) + 1)
					out = append(out, e)
				}
			}
		}
		return out
	}
	refused := pick("another target")[0]
	refused.Status, refused.Result = 403, "no_grant"
	sigLogs := [][]accesslog.Entry{
		pick("as signed", "an upload as signed", "anonymous", "the log's own read, the identifier in capitals"),
		pick("as signed", "an upload as signed", "as signed"),
		append(pick("as signed"), refused),
		pick("an upload as signed", "another method"),
	}
	for i := range sigLogs[2] {
		sigLogs[2][i].Seq = uint64(i + 1)
	}

	input, err := json.Marshal(map[string]any{"sha256": shas, "b26": b26, "seed": hex.EncodeToString(seed), "sign": signs, "refuse": refuse,
		"entries": onDisk, "logs": logs, "recorded": recorded, "sig_logs": sigLogs})
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(t.TempDir(), "cases.json")
	if err := os.WriteFile(in, input, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "testdata/datajs.mjs", in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("node testdata/datajs.mjs: %v\n%s", err, stderr.Bytes())
	}
	var got struct {
		SHA256       []string            `json:"sha256"`
		B26Base      string              `json:"b26_base"`
		B26Signature string              `json:"b26_signature"`
		Signed       []map[string]string `json:"signed"`
		Refused      []string            `json:"refused"`
		Hashes       []string            `json:"hashes"`
		Reports      []accesslog.Report  `json:"reports"`
		Recorded     []*struct {
			OK     bool   `json:"ok"`
			Code   string `json:"code"`
			Reason string `json:"reason"`
		} `json:"recorded"`
		SigLogs []struct {
			Signed int    `json:"signed"`
			OK     bool   `json:"ok"`
			At     uint64 `json:"at"`
			Code   string `json:"code"`
		} `json:"sig_logs"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("datajs.mjs printed %.300s: %v", raw, err)
	}

	if len(got.SHA256) != len(shas) {
		t.Fatalf("sha256.js hashed %d cases of %d", len(got.SHA256), len(shas))
	}
	for i, c := range shas {
		if got.SHA256[i] != c.want {
			t.Errorf("sha256.js: %d bytes in %d slices: %s, Go %s", c.Len, len(c.Slices), got.SHA256[i], c.want)
		}
	}

	if got.B26Base != string(wantBase) {
		t.Errorf("httpsig.js's B.2.6 signature base:\n%s\nthe RFC's:\n%s", got.B26Base, wantBase)
	}
	if got.B26Signature != rfcB26Signature {
		t.Errorf("httpsig.js's B.2.6 signature %s, the RFC's %s", got.B26Signature, rfcB26Signature)
	}

	if len(got.Signed) != len(signs) {
		t.Fatalf("httpsig.js signed %d requests of %d", len(got.Signed), len(signs))
	}
	keyID := hex.EncodeToString(pub)
	for i, c := range signs {
		js := got.Signed[i]
		if js["error"] != "" {
			t.Errorf("%s %s: httpsig.js refused: %s", c.Method, c.URL, js["error"])
			continue
		}
		// Go signs the same request with the same parameters: the same
		// fields, byte for byte (Ed25519 signs deterministically).
		goReq, err := http.NewRequest(c.Method, c.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := httpsig.SignParams(goReq, priv, httpsig.Params{Label: "sig1", Components: httpsig.DefaultComponents(), KeyID: keyID, Alg: httpsig.Alg,
			Created: time.UnixMilli(c.NowMS), Nonce: c.Nonce, Tag: "cityid"}); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"Signature-Input", "Signature"} {
			if js[f] != goReq.Header.Get(f) {
				t.Errorf("%s %s: httpsig.js's %s\n%s\nGo's\n%s", c.Method, c.URL, f, js[f], goReq.Header.Get(f))
			}
		}
		// The node's side: the request as a server receives it.
		verify := func(target string) error {
			r := httptest.NewRequest(c.Method, target, nil)
			r.Header.Set("Signature-Input", js["Signature-Input"])
			r.Header.Set("Signature", js["Signature"])
			v := httpsig.Verifier{
				Key: func(id string) (ed25519.PublicKey, error) {
					if id != keyID {
						return nil, fmt.Errorf("unknown key %s", id)
					}
					return pub, nil
				},
				Tag: "cityid", Nonces: httpsig.NewNonceCache(16), Now: func() time.Time { return now.Add(10 * time.Second) },
			}
			_, err := v.Verify(r, "sig1")
			return err
		}
		if err := verify(c.URL); err != nil {
			t.Errorf("%s %s: Go's Verifier refused httpsig.js's signature: %v", c.Method, c.URL, err)
		}
		other := strings.Replace(c.URL, "/x", "/y", 1)
		if other == c.URL {
			other = c.URL + "-other"
		}
		if err := verify(other); httpsig.ErrorCode(err) != httpsig.ErrBad {
			t.Errorf("%s %s: the signature, sent for %s: %v, want %s", c.Method, c.URL, other, err, httpsig.ErrBad)
		}
	}
	for i, msg := range got.Refused {
		if !strings.HasPrefix(msg, "HTTPSigError: ") {
			t.Errorf("refusal case %d (%v): httpsig.js said %q, want an HTTPSigError", i, refuse[i], msg)
		}
	}

	for i, e := range onDisk {
		if got.Hashes[i] != e.Hash {
			t.Errorf("accesslog.js hashed entry %d to %s, Go %s", e.Seq, got.Hashes[i], e.Hash)
		}
	}
	if len(got.Reports) != len(logs) {
		t.Fatalf("accesslog.js reported on %d logs of %d", len(got.Reports), len(logs))
	}
	for i, c := range logs {
		want := accesslog.Verify(c.Entries, c.Anchors)
		js := got.Reports[i]
		if want.Code != c.code {
			t.Errorf("%s: Go says %q (%s), the case expects %q", c.Name, want.Code, want.Problem, c.code)
		}
		if js.OK != want.OK || js.Code != want.Code || js.At != want.At || js.Anchored != want.Anchored || js.Entries != want.Entries {
			t.Errorf("%s: accesslog.js reports %+v, Go %+v", c.Name, js, want)
		}
	}
	if len(got.Recorded) != len(recorded) {
		t.Fatalf("httpsig.js checked %d recorded requests of %d", len(got.Recorded), len(recorded))
	}
	for i, c := range recorded {
		goErr := client.CheckEntrySignature(c.Entry)
		js := got.Recorded[i]
		switch {
		case c.Entry.Key == "":
			if js != nil || goErr != nil {
				t.Errorf("%s: httpsig.js says %+v, Go %v of an anonymous entry, want null and nil", c.Name, js, goErr)
			}
		case js == nil:
			t.Errorf("%s: httpsig.js says null, Go %v", c.Name, goErr)
		case (goErr == nil) != c.Valid:
			t.Errorf("%s: Go says %v, the case expects valid=%v", c.Name, goErr, c.Valid)
		case js.OK != (goErr == nil):
			t.Errorf("%s: httpsig.js says %+v, Go %v", c.Name, js, goErr)
		case goErr != nil && js.Code != httpsig.ErrorCode(goErr):
			t.Errorf("%s: httpsig.js refuses with %s (%s), Go with %s (%v)", c.Name, js.Code, js.Reason, httpsig.ErrorCode(goErr), goErr)
		}
	}
	if len(got.SigLogs) != len(sigLogs) {
		t.Fatalf("accesslog.js checked %d logs' signatures of %d", len(got.SigLogs), len(sigLogs))
	}
	wantOK := []bool{true, false, true, false}
	for i, es := range sigLogs {
		checked, at, err := client.CheckEntrySignatures(es)
		js := got.SigLogs[i]
		if (err == nil) != wantOK[i] {
			t.Errorf("signature log %d: Go says %v, the case expects ok=%v", i, err, wantOK[i])
		}
		if js.OK != (err == nil) || js.Signed != checked || js.At != at || (err != nil && js.Code != httpsig.ErrorCode(err)) {
			t.Errorf("signature log %d: accesslog.js says %+v, Go checked %d, at %d: %v", i, js, checked, at, err)
		}
	}
	t.Logf("sha256.js, httpsig.js and accesslog.js agree with Go: %d digests, B.2.6, %d signed requests, %d entries, %d logs, %d recorded requests", len(shas), len(signs), len(onDisk), len(logs), len(recorded))
}

// TestDataJSTransfers runs data.js's upload and download with node
// against a server that checks every request's signature with Go's
// httpsig.Verifier: the upload asks where to start, resumes after the
// chunk the server already holds, and sends the rest in chunks that
// each start where the last ended; a download cut short resumes with a
// Range (If-Range: the same bytes) and is whole; bytes that do not hash
// to the DATA value, or more bytes than it says, are never returned; a
// refusal carries its code and its words (clock skew for a stale
// signature).
func TestDataJSTransfers(t *testing.T) {
	bin := nodeBinary(t)
	seed := bytes.Repeat([]byte{0x7e}, ed25519.SeedSize)
	priv := ed25519.NewKeyFromSeed(seed)
	pub := priv.Public().(ed25519.PublicKey)
	const size, chunk = 200_000, 64 << 10
	content := pattern(size)
	sum := sha256.Sum256(content)
	ds := map[string]any{"uri": "x", "sha256": hex.EncodeToString(sum[:]), "size": size, "media_type": "application/octet-stream"}
	altered := bytes.Clone(content)
	altered[size-1] ^= 0x80

	v := httpsig.Verifier{
		Key: func(id string) (ed25519.PublicKey, error) {
			if id != hex.EncodeToString(pub) {
				return nil, fmt.Errorf("unknown key %s", id)
			}
			return pub, nil
		},
		Tag: "cityid", Nonces: httpsig.NewNonceCache(1000),
	}
	var (
		received []byte
		log      []string // what the server was asked, in order
	)
	problem := func(w http.ResponseWriter, status int, code, reason string) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"code":%q,"reason":%q,"detail":"refused by the test"}`, code, reason)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /v1/data/{id...}", func(w http.ResponseWriter, r *http.Request) {
		if _, err := v.Verify(r, ""); err != nil {
			problem(w, http.StatusUnauthorized, "bad_signature", httpsig.ErrorCode(err))
			return
		}
		cr := r.Header.Get("Content-Range")
		log = append(log, "PUT "+cr)
		answer := func(status int) {
			if status == http.StatusPermanentRedirect && len(received) > 0 {
				w.Header().Set("Range", fmt.Sprintf("bytes=0-%d", len(received)-1))
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			// The body's count is off by one on a 308: the Range field rules.
			n := len(received)
			if status == http.StatusPermanentRedirect {
				n++
			}
			fmt.Fprintf(w, `{"id":%q,"sha256":%q,"size":%d,"received":%d,"complete":%v}`, r.PathValue("id"), ds["sha256"], size, n, status == http.StatusCreated)
		}
		if cr == fmt.Sprintf("bytes */%d", size) {
			answer(http.StatusPermanentRedirect)
			return
		}
		var first, last, total int
		if _, err := fmt.Sscanf(cr, "bytes %d-%d/%d", &first, &last, &total); err != nil || total != size || first != len(received) {
			problem(w, http.StatusConflict, "upload_offset", "")
			return
		}
		body := new(bytes.Buffer)
		if _, err := body.ReadFrom(r.Body); err != nil || body.Len() != last-first+1 {
			problem(w, http.StatusBadRequest, "bad_request", "")
			return
		}
		received = append(received, body.Bytes()...)
		if len(received) == size {
			answer(http.StatusCreated)
			return
		}
		answer(http.StatusPermanentRedirect)
	})
	cut := 0
	mux.HandleFunc("GET /v1/data/{id...}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		log = append(log, "GET "+id+" "+r.Header.Get("Range")+" "+r.Header.Get("If-Range"))
		if id != "public" {
			if _, err := v.Verify(r, ""); err != nil {
				problem(w, http.StatusUnauthorized, "bad_signature", httpsig.ErrorCode(err))
				return
			}
		}
		body := content
		switch id {
		case "revoked":
			problem(w, http.StatusForbidden, "grant_revoked", "")
			return
		case "stale":
			problem(w, http.StatusUnauthorized, "bad_signature", "signature_stale")
			return
		case "expired":
			problem(w, http.StatusForbidden, "grant_expired", "")
			return
		case "inactive":
			problem(w, http.StatusForbidden, "grant_inactive", "")
			return
		case "forged":
			problem(w, http.StatusUnauthorized, "bad_signature", "signature_bad")
			return
		case "nogrant":
			problem(w, http.StatusForbidden, "no_grant", "")
			return
		case "altered":
			body = altered
		case "longer":
			body = append(bytes.Clone(content), 1, 2, 3)
		case "cut":
			if r.Header.Get("Range") == "" {
				cut++
				w.Header().Set("Content-Length", fmt.Sprint(size))
				w.Header().Set("CityID-Access-Log", "seq=1, hash=00")
				w.Write(content[:size/3])
				w.(http.Flusher).Flush()
				panic(http.ErrAbortHandler) // the connection is cut
			}
		}
		w.Header().Set("ETag", `"sha256:`+ds["sha256"].(string)+`"`)
		w.Header().Set("CityID-Access-Log", "seq=2, hash=11")
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	// The server holds the first chunk already: an upload cut earlier.
	received = append(received, content[:chunk]...)

	type dl struct {
		ID        string         `json:"id"`
		Dataset   map[string]any `json:"dataset"`
		Anonymous bool           `json:"anonymous,omitempty"`
	}
	input, err := json.Marshal(map[string]any{"base": srv.URL, "seed": hex.EncodeToString(seed), "size": size, "chunk": chunk, "upload_id": "1561301001.85.1/flow",
		"downloads": []dl{{"whole", ds, false}, {"public", ds, true}, {"cut", ds, false}, {"altered", ds, false}, {"longer", ds, false}, {"revoked", ds, false}, {"stale", ds, false},
			{"expired", ds, false}, {"inactive", ds, false}, {"forged", ds, false}, {"nogrant", ds, false}}})
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(t.TempDir(), "cases.json")
	if err := os.WriteFile(in, input, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "testdata/datatransfer.mjs", in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("node testdata/datatransfer.mjs: %v\n%s", err, stderr.Bytes())
	}
	var got struct {
		Upload    map[string]any `json:"upload"`
		Progress  []int          `json:"progress"`
		Downloads map[string]struct {
			OK      bool   `json:"ok"`
			Same    bool   `json:"same"`
			SHA256  string `json:"sha256"`
			Receipt string `json:"receipt"`
			Error   string `json:"error"`
			Code    string `json:"code"`
		} `json:"downloads"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("datatransfer.mjs printed %.300s: %v", raw, err)
	}

	if got.Upload["complete"] != true || !bytes.Equal(received, content) {
		t.Errorf("upload: %v; the server holds %d bytes, equal %v", got.Upload, len(received), bytes.Equal(received, content))
	}
	wantPuts := []string{fmt.Sprintf("PUT bytes */%d", size)}
	for off := chunk; off < size; off += chunk {
		wantPuts = append(wantPuts, fmt.Sprintf("PUT bytes %d-%d/%d", off, min(off+chunk, size)-1, size))
	}
	var puts []string
	for _, l := range log {
		if strings.HasPrefix(l, "PUT") {
			puts = append(puts, l)
		}
	}
	if strings.Join(puts, "\n") != strings.Join(wantPuts, "\n") {
		t.Errorf("the upload sent\n%s\nwant\n%s", strings.Join(puts, "\n"), strings.Join(wantPuts, "\n"))
	}
	if want := []int{chunk, 2 * chunk, 3 * chunk, size}; fmt.Sprint(got.Progress) != fmt.Sprint(want) {
		t.Errorf("upload progress %v, want %v", got.Progress, want)
	}

	for _, id := range []string{"whole", "public", "cut"} {
		if d := got.Downloads[id]; !d.OK || !d.Same || d.SHA256 != ds["sha256"] {
			t.Errorf("download %s: %+v", id, d)
		}
	}
	if cut != 1 || !strings.Contains(strings.Join(log, "\n"), fmt.Sprintf(`GET cut bytes=%d- "sha256:%s"`, size/3, ds["sha256"])) {
		t.Errorf("the cut download did not resume with a Range from byte %d and If-Range:\n%s", size/3, strings.Join(log, "\n"))
	}
	for id, code := range map[string]string{"altered": "digest_mismatch", "revoked": "grant_revoked", "stale": "bad_signature"} {
		if d := got.Downloads[id]; d.OK || d.Code != code {
			t.Errorf("download %s: %+v, want refused with %s", id, d, code)
		}
	}
	if d := got.Downloads["longer"]; d.OK || !strings.Contains(d.Error, "more bytes than the ledger says") {
		t.Errorf("download longer: %+v", d)
	}
	// Each refusal in words a person reads.
	for id, words := range map[string]string{
		"revoked": "the grant was revoked (grant_revoked)", "expired": "the grant has expired", "inactive": "deactivated: the dataset, the grantee node",
		"forged": "bad signature: the node refused the request's signature (bad_signature: signature_bad)", "nogrant": "no grant:",
		"stale": "bad signature: the node refused the request's signature (clock skew: this computer's clock and the node's differ",
	} {
		if d := got.Downloads[id]; d.OK || !strings.Contains(d.Error, words) {
			t.Errorf("download %s: %q, want it to say %q", id, d.Error, words)
		}
	}
}

// recordedCase is an access-log entry whose request was signed, with
// whether the signature should hold.
type recordedCase struct {
	Name  string          `json:"name"`
	Entry accesslog.Entry `json:"entry"`
	Valid bool            `json:"-"`
}

// recordedCases are entries as the node logs a signed request, and each
// altered as an owner rewriting its log could: the request's target,
// method, key, or time, the signature's tag, coverage or bytes, and
// fields that are no structured fields at all.
func recordedCases(t *testing.T, priv ed25519.PrivateKey, now time.Time) []recordedCase {
	t.Helper()
	keyID := hex.EncodeToString(priv.Public().(ed25519.PublicKey))
	other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x51}, ed25519.SeedSize))
	var nonces []string // each request signed has a nonce of its own
	signed := func(method, target string, key ed25519.PrivateKey, p httpsig.Params) accesslog.Entry {
		r, err := http.NewRequest(method, target, nil)
		if err != nil {
			t.Fatal(err)
		}
		if p.Label == "" {
			p = httpsig.Params{Label: "sig1", Components: httpsig.DefaultComponents(), KeyID: keyID, Alg: httpsig.Alg,
				Created: now, Nonce: fmt.Sprintf("n-%d", len(nonces)), Tag: "cityid"}
			nonces = append(nonces, p.Nonce)
		}
		if err := httpsig.SignParams(r, key, p); err != nil {
			t.Fatal(err)
		}
		return accesslog.Entry{Seq: 1, Time: now.Add(2 * time.Second).Format(time.RFC3339Nano), Dataset: "1561301001.85.1/x", Key: keyID,
			Method: method, Target: target, SigInput: r.Header.Get("Signature-Input"), Sig: r.Header.Get("Signature"), Status: 200, Result: "served"}
	}
	const target = "http://127.0.0.1:26657/v1/data/1561301001.85.1/x"
	good := signed("GET", target, priv, httpsig.Params{})
	var cs []recordedCase
	add := func(name string, valid bool, e accesslog.Entry) {
		cs = append(cs, recordedCase{Name: name, Entry: e, Valid: valid})
	}
	add("as signed", true, good)
	e := signed("GET", "https://node.city-a.example:8443/v1/data/1561301001.85.1/%78?index=2", priv, httpsig.Params{})
	add("as signed, with a query and an escaped path", true, e)
	e = signed("GET", "http://127.0.0.1:26657/v1/access-log/1561301001.85.1/X?after=0&limit=1000", priv, httpsig.Params{})
	add("the log's own read, the identifier in capitals", true, e)
	add("a request of another dataset, as signed", false, signed("GET", strings.Replace(target, "/x", "/y", 1), priv, httpsig.Params{}))
	add("dot segments that a URL parser cleans into the dataset's path", false, signed("GET", strings.Replace(target, "/x", "/y/../x", 1), priv, httpsig.Params{}))
	add("escaped dot segments", false, signed("GET", strings.Replace(target, "/x", "/y/%2E%2E/x", 1), priv, httpsig.Params{}))
	add("another route", false, signed("GET", "http://127.0.0.1:26657/v1/ids/1561301001.85.1/x", priv, httpsig.Params{}))
	add("an upload as signed", true, signed("PUT", target, priv, httpsig.Params{}))
	e = good
	e.Sig, e.SigInput, e.Target, e.Key = "", "", "", ""
	add("anonymous", true, e)
	e = good
	e.Sig, e.SigInput = "", ""
	add("a key named, no signature kept", false, e)
	e = good
	e.Target = strings.Replace(target, "/x", "/y", 1)
	add("another target", false, e)
	e = good
	e.Method = "PUT"
	add("another method", false, e)
	e = good
	e.Key = hex.EncodeToString(other.Public().(ed25519.PublicKey))
	add("another key named", false, e)
	add("signed by another key", false, signed("GET", target, other, httpsig.Params{}))
	e = good
	e.Time = now.Add(10 * time.Minute).Format(time.RFC3339Nano)
	add("logged long after it was signed", false, e)
	e = good
	e.Time = now.Add(-time.Minute).Format(time.RFC3339Nano)
	add("logged before it was signed", false, e)
	e = good
	e.SigInput = strings.Replace(e.SigInput, `tag="cityid"`, `tag="other"`, 1)
	add("another tag", false, e)
	add("not covering @authority", false, signed("GET", target, priv, httpsig.Params{Label: "sig1", Components: []string{"@method", "@target-uri"},
		KeyID: keyID, Created: now, Nonce: "n", Tag: "cityid"}))
	add("a label of its own and an expiry", true, signed("GET", target, priv, httpsig.Params{Label: "req-a", Components: httpsig.DefaultComponents(),
		KeyID: keyID, Created: now, Expires: now.Add(time.Minute), Nonce: "n", Tag: "cityid"}))
	e = good
	e.Sig = strings.Replace(e.Sig, e.Sig[8:12], "AAAA", 1)
	add("a signature's bytes changed", false, e)
	e = good
	e.SigInput = strings.Replace(e.SigInput, `("@method"`, `(@method`, 1)
	add("a component that is no string", false, e)
	e = good
	e.SigInput = strings.TrimSuffix(e.SigInput, `"`)
	add("an unclosed string", false, e)
	e = good
	e.Sig = "sig1=:abc"
	add("an unclosed byte sequence", false, e)
	e = good
	e.SigInput = strings.Replace(e.SigInput, "created=", `created="`, 1)
	add("created that is no integer", false, e)
	return cs
}

// Every code the data endpoints refuse with has words of its own in
// data.js, in both languages, so a grantee reads why rather than
// "refused".
func TestDataJSHasWordsForEveryDataRefusal(t *testing.T) {
	js, err := os.ReadFile("static/data.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range []string{
		wire.CodeNotADataset, wire.CodeSignatureRequired, wire.CodeNoGrant, wire.CodeGrantRevoked,
		wire.CodeGrantExpired, wire.CodeGrantInactive, wire.CodeDataNotHere, wire.CodeDigestMismatch,
		wire.CodeUploadOffset, wire.CodeAccessLogHeld, wire.CodeRateLimited,
	} {
		if !bytes.Contains(js, []byte("\n  "+code+": ['")) {
			t.Errorf("data.js has no words for %s", code)
		}
	}
}
