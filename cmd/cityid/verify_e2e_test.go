package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	dbm "github.com/cometbft/cometbft-db"

	"github.com/cityid/cityid/client"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/testnode"
	"github.com/cityid/cityid/verify"
)

// verification runs against the node of TestEndToEnd once the story has
// registered 1561301001.85.1/school-0042: answers verify, through the HTTP
// API and through CometBFT's own RPC, and tampering with any part of what
// the node sends (value, proof, app hash, header, validator set) makes
// verification fail.
func verification(t *testing.T, n *testnode.Node) {
	ctx := context.Background()
	c, err := client.New(n.URL())
	if err != nil {
		t.Fatal(err)
	}
	b1, err := c.Block(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	trustHash, _ := hex.DecodeString(b1.Hash)
	trust := client.TrustOptions{Height: 1, Hash: trustHash}
	newVerifier := func(t *testing.T, base string) *client.Verifier {
		t.Helper()
		vc, err := client.New(base)
		if err != nil {
			t.Fatal(err)
		}
		v, err := client.NewVerifier(ctx, vc, nil, trust, dbm.NewMemDB())
		if err != nil {
			t.Fatal(err)
		}
		return v
	}

	t.Run("honest node", func(t *testing.T) {
		v := newVerifier(t, n.URL())
		ans, ver, err := v.ResolveVerified(ctx, "1561301001.85.1/school-0042")
		if err != nil || !ver.Exists || ans.Record.ID != "1561301001.85.1/school-0042" || ver.HeaderHeight != ver.Height+1 {
			t.Fatalf("verified resolve: %+v %+v %v", ans.Record.ID, ver, err)
		}
		_, ver, err = v.ResolveVerified(ctx, "1561301001.85.1/nobody")
		if client.Code(err) != "not_found" || ver.Exists || ver.AppHash == "" {
			t.Fatalf("verified absence: %+v %v", ver, err)
		}
		// The latest anchor of the story's dataset's log, and of a log
		// never anchored.
		a, ver, err := v.LatestAnchorVerified(ctx, "1561301001.85.1/census-2026")
		if err != nil || !ver.Exists || a == nil || a.Entries != 3 || a.Head != strings.Repeat("cd", 32) || ver.HeaderHeight != ver.Height+1 {
			t.Fatalf("verified latest anchor: %+v %+v %v", a, ver, err)
		}
		if a, ver, err := v.LatestAnchorVerified(ctx, "1561301001.85.1/school-0042"); err != nil || ver.Exists || a != nil || ver.AppHash == "" {
			t.Fatalf("verified absence of an anchor: %+v %+v %v", a, ver, err)
		}
	})

	t.Run("saved answers, through cityid verify", func(t *testing.T) {
		get := func(path string) []byte {
			resp, err := http.Get(n.URL() + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		dir := t.TempDir()
		save := func(name string, b []byte) string {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			return path
		}
		trustArgs := []string{"--trust-height", "1", "--trust-hash", b1.Hash}
		answer := get("/v1/ids/1561301001.85.1/school-0042?proof=true")
		stdout, stderr, code := n.CLI(append([]string{"verify", save("answer.json", answer)}, trustArgs...)...)
		var got client.RecordAnswer
		if code != 0 || json.Unmarshal([]byte(stdout), &got) != nil || got.Record.ID != "1561301001.85.1/school-0042" || !strings.Contains(stderr, "verified at height") {
			t.Fatalf("verify a saved answer: exit %d\n%s\n%s", code, stdout, stderr)
		}
		// Bound to the identifier asked about: a genuine answer about another one is refused.
		path := save("answer.json", answer)
		if _, stderr, code := n.CLI("verify", path, "1561301001.85.1/SCHOOL-0042"); code != 0 || !strings.Contains(stderr, "verified at height") || !strings.Contains(stderr, " of 20") {
			t.Errorf("verify with the right identifier: exit %d, %s", code, stderr)
		}
		if _, stderr, code := n.CLI("verify", path, "1561301001.85.1/school-0043"); code != 1 || !strings.Contains(stderr, "the answer is about 1561301001.85.1/school-0042, not 1561301001.85.1/school-0043") {
			t.Errorf("verify with another identifier: exit %d, %s", code, stderr)
		}
		// From standard input, as a pipe from resolve --proof --json.
		cmd := exec.Command(n.Bin, "verify", "-", "--home", n.Home, "--node", n.URL(), "--json")
		cmd.Stdin = bytes.NewReader(answer)
		if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "verified at height") {
			t.Fatalf("verify -: %v\n%s", err, out)
		}
		// A proof that an identifier is not registered: the 404's problem.
		absent := get("/v1/ids/1561301001.85.1/nobody?proof=true")
		stdout, stderr, code = n.CLI("verify", save("absent.json", absent))
		if code != 0 || !strings.Contains(stdout, `"registered": false`) || !strings.Contains(stderr, "1561301001.85.1/nobody is not registered") {
			t.Fatalf("verify a saved absence: exit %d\n%s\n%s", code, stdout, stderr)
		}
		// resolve --proof prints an unknown identifier's proof of absence, for verify.
		stdout, stderr, code = n.CLI("resolve", "1561301001.85.1/nobody", "--proof")
		if code != 1 || !strings.Contains(stderr, "not_found") {
			t.Fatalf("resolve --proof of an unknown id: exit %d, %s", code, stderr)
		}
		stdout2, stderr2, code2 := n.CLI("verify", save("absent-cli.json", []byte(stdout)), "1561301001.85.1/nobody")
		if code2 != 0 || !strings.Contains(stdout2, `"registered": false`) || !strings.Contains(stderr2, "is not registered") {
			t.Fatalf("verify resolve --proof's proof of absence: exit %d\n%s\n%s\nresolve printed %s", code2, stdout2, stderr2, stdout)
		}
		// Tampered answers fail, saying why.
		var m map[string]any
		if err := json.Unmarshal(answer, &m); err != nil {
			t.Fatal(err)
		}
		obj(m, "record")["values"].([]any)[0].(map[string]any)["data"] = "https://evil.example/"
		forged, _ := json.Marshal(m)
		var pm map[string]any
		if err := json.Unmarshal(absent, &pm); err != nil {
			t.Fatal(err)
		}
		obj(pm, "proof")["key"] = base64.StdEncoding.EncodeToString(registry.RecordKey("1561301001.85.1/school-0042"))
		claimedAbsent, _ := json.Marshal(pm)
		for _, c := range []struct {
			name string
			body []byte
			want string
		}{
			{"a changed value", forged, "differs from the proved value"},
			{"an absence claimed for a registered id", claimedAbsent, "is not registered"},
			{"no proof", get("/v1/ids/1561301001.85.1/school-0042"), "holds no proof"},
			{"not JSON", []byte("<html>"), "not JSON"},
		} {
			_, stderr, code := n.CLI("verify", save("bad.json", c.body))
			if code != 1 || !strings.Contains(stderr, "verification failed") || !strings.Contains(stderr, c.want) {
				t.Errorf("verify %s: exit %d, %s; want exit 1 saying %q", c.name, code, stderr, c.want)
			}
		}
	})

	t.Run("CometBFT RPC abci_query with prove", func(t *testing.T) {
		q := url.Values{"path": {`"/id"`}, "data": {`"1561301001.85.1/school-0042"`}, "prove": {"true"}}
		resp, err := http.Get("http://" + n.RPC + "/abci_query?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Result struct {
				Response struct {
					Key      []byte `json:"key"`
					Value    []byte `json:"value"`
					Height   string `json:"height"`
					ProofOps struct {
						Ops []struct {
							Type string `json:"type"`
							Key  []byte `json:"key"`
							Data []byte `json:"data"`
						} `json:"ops"`
					} `json:"proofOps"`
				} `json:"response"`
			} `json:"result"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		r := out.Result.Response
		h, _ := strconv.ParseInt(r.Height, 10, 64)
		if len(r.ProofOps.Ops) != 1 || r.ProofOps.Ops[0].Type != "ics23:iavl" || h < 1 {
			t.Fatalf("abci_query answer: %+v", r)
		}
		v := newVerifier(t, n.URL())
		header, err := v.Header(ctx, h+1)
		if err != nil {
			t.Fatal(err)
		}
		p, err := verify.Decode(r.ProofOps.Ops[0].Type, r.ProofOps.Ops[0].Data)
		if err != nil {
			t.Fatal(err)
		}
		if err := verify.Existence(header.AppHash, registry.RecordKey("1561301001.85.1/school-0042"), r.Value, p); err != nil {
			t.Fatalf("abci_query proof against header %d: %v", h+1, err)
		}
	})

	// A proxy in front of the node that changes one thing.
	tampered := func(t *testing.T, path string, change func(map[string]any)) string {
		t.Helper()
		target, _ := url.Parse(n.URL())
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			req, _ := http.NewRequestWithContext(r.Context(), r.Method, target.String()+r.URL.RequestURI(), r.Body)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			// Block 1 is the root of trust, given out of band: leave it be,
			// so it is the forward check that meets the tampering.
			if strings.HasPrefix(r.URL.Path, path) && r.URL.Path != "/v1/light/1" && resp.StatusCode == http.StatusOK {
				var m map[string]any
				if json.Unmarshal(body, &m) == nil {
					change(m)
					body, _ = json.Marshal(m)
				}
			}
			w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
			w.WriteHeader(resp.StatusCode)
			_, _ = w.Write(body)
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	flipB64 := func(s string) string {
		b, _ := base64.StdEncoding.DecodeString(s)
		b[len(b)/2] ^= 0x20
		return base64.StdEncoding.EncodeToString(b)
	}
	var valueErr *verify.ValueMismatchError
	var rootErr *verify.RootMismatchError
	for _, c := range []struct {
		name   string
		path   string
		change func(map[string]any)
		want   func(error) bool
		says   string
	}{
		{"value", "/v1/ids/", func(m map[string]any) {
			p := obj(m, "proof")
			p["value"] = flipB64(p["value"].(string))
		}, func(err error) bool { return errors.As(err, &valueErr) }, "value"},
		{"record shown differs from the proved value", "/v1/ids/", func(m map[string]any) {
			obj(m, "record")["status"] = "deactivated"
		}, func(err error) bool {
			return err != nil && strings.Contains(err.Error(), "differs from the proved value")
		}, "differs"},
		{"proof", "/v1/ids/", func(m map[string]any) {
			p := obj(m, "proof")
			b, _ := base64.StdEncoding.DecodeString(p["proof"].(string))
			b[len(b)-3] ^= 0x01 // inside the last inner step's hashed bytes
			p["proof"] = base64.StdEncoding.EncodeToString(b)
		}, func(err error) bool {
			return errors.As(err, &rootErr) || errors.Is(err, verify.ErrMalformed) || errors.Is(err, verify.ErrInvalid)
		}, "proof"},
		{"app hash claimed", "/v1/ids/", func(m map[string]any) {
			p := obj(m, "proof")
			h := []byte(p["app_hash"].(string))
			if h[0] == 'A' {
				h[0] = 'B'
			} else {
				h[0] = 'A'
			}
			p["app_hash"] = string(h)
		}, func(err error) bool { return err != nil && strings.Contains(err.Error(), "signed header") }, "app hash"},
		{"header", "/v1/light/", func(m map[string]any) {
			h := obj(m, "signed_header", "header")
			h["app_hash"] = strings.Repeat("AB", 32)
		}, func(err error) bool { return err != nil && strings.Contains(err.Error(), "verify header") }, "header"},
		{"validator set", "/v1/light/", func(m map[string]any) {
			vals := obj(m, "validator_set")["validators"].([]any)
			vals[0].(map[string]any)["voting_power"] = "11"
		}, func(err error) bool { return err != nil && strings.Contains(err.Error(), "verify header") }, "validators"},
	} {
		t.Run("tampered "+c.name, func(t *testing.T) {
			v := newVerifier(t, tampered(t, c.path, c.change))
			_, _, err := v.ResolveVerified(ctx, "1561301001.85.1/school-0042")
			if !c.want(err) {
				t.Fatalf("verification with a tampered %s: %v (%T), want a failure about the %s", c.name, err, err, c.says)
			}
		})
	}
	// The latest anchor, tampered on its way: the proved bytes, the
	// anchor shown beside them, the key proved.
	for _, c := range []struct {
		name   string
		change func(map[string]any)
		says   string
	}{
		{"proved anchor", func(m map[string]any) {
			p := obj(m, "proof")
			p["value"] = flipB64(p["value"].(string))
		}, "proof of the latest anchor"},
		{"anchor shown", func(m map[string]any) { obj(m, "latest")["entries"] = 4 }, "differs from the proved value"},
		{"key proved", func(m map[string]any) {
			obj(m, "proof")["key"] = base64.StdEncoding.EncodeToString(registry.AnchorHeadKey("1561301001.85.1/school-0042"))
		}, "not the latest anchor of"},
	} {
		t.Run("tampered "+c.name, func(t *testing.T) {
			v := newVerifier(t, tampered(t, "/v1/anchors/", c.change))
			a, _, err := v.LatestAnchorVerified(ctx, "1561301001.85.1/census-2026")
			if err == nil || !strings.Contains(err.Error(), c.says) || a != nil {
				t.Fatalf("a tampered %s: %+v, %v; want a failure saying %q", c.name, a, err, c.says)
			}
		})
	}
}

// obj walks decoded JSON objects down keys.
func obj(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		m = m[k].(map[string]any)
	}
	return m
}
