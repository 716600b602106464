package httpsig

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A real server on a loopback address the test chooses verifies what a
// real client sends; each case signs a request, changes it the way an
// attacker or a broken client would, and checks the code the server
// refused it with.

type testServer struct {
	url string // http://127.0.0.1:port
	v   atomic.Pointer[Verifier]
}

// verifiedHeader carries the keyid of an accepted signature back to the
// test; refusals answer 401 with the code.
const verifiedHeader = "X-Verified-Keyid"

func startServer(t *testing.T) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{url: "http://" + ln.Addr().String()}
	srv := &http.Server{
		ReadHeaderTimeout: 5 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, err := ts.v.Load().Verify(r, r.Header.Get("X-Test-Label"))
			if err != nil {
				w.WriteHeader(http.StatusUnauthorized)
				io.WriteString(w, ErrorCode(err))
				return
			}
			w.Header().Set(verifiedHeader, p.KeyID)
			io.WriteString(w, "ok")
		}),
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ts
}

// send sends r and returns the server's answer: "ok" or an error code.
func (ts *testServer) send(t *testing.T, r *http.Request) string {
	t.Helper()
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

type testKey struct {
	id   string
	priv ed25519.PrivateKey
}

func newTestKey(t testing.TB, seed byte) testKey {
	t.Helper()
	priv := ed25519.NewKeyFromSeed(bytesOf(seed, ed25519.SeedSize))
	return testKey{id: hex.EncodeToString(priv.Public().(ed25519.PublicKey)), priv: priv}
}

func bytesOf(b byte, n int) []byte {
	s := make([]byte, n)
	for i := range s {
		s[i] = b
	}
	return s
}

func keysOf(keys ...testKey) func(string) (ed25519.PublicKey, error) {
	return func(id string) (ed25519.PublicKey, error) {
		for _, k := range keys {
			if k.id == id {
				return k.priv.Public().(ed25519.PublicKey), nil
			}
		}
		return nil, errors.New("no admin key " + id)
	}
}

func (k testKey) signer() Signer {
	return Signer{KeyID: k.id, Key: k.priv, Tag: "cityid"}
}

func TestVerifyRealRequests(t *testing.T) {
	ts := startServer(t)
	alice, mallory := newTestKey(t, 1), newTestKey(t, 2)
	start := time.Now()
	base := Verifier{Key: keysOf(alice), Tag: "cityid", Nonces: NewNonceCache(1000)}

	newReq := func(t *testing.T, method, path string) *http.Request {
		t.Helper()
		r, err := http.NewRequest(method, ts.url+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	sign := func(t *testing.T, s Signer, r *http.Request) *http.Request {
		t.Helper()
		if err := s.Sign(r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	const path = "/v1/data/1561301001.85.3/school-0042?part=2"

	cases := []struct {
		name string
		v    func(v *Verifier)
		req  func(t *testing.T) *http.Request
		want string
	}{
		{"signed", nil, func(t *testing.T) *http.Request {
			return sign(t, alice.signer(), newReq(t, "GET", path))
		}, "ok"},
		{"no signature", nil, func(t *testing.T) *http.Request {
			return newReq(t, "GET", path)
		}, ErrMissing},
		{"Signature without Signature-Input", nil, func(t *testing.T) *http.Request {
			r := sign(t, alice.signer(), newReq(t, "GET", path))
			r.Header.Del("Signature-Input")
			return r
		}, ErrMissing},
		{"method changed", nil, func(t *testing.T) *http.Request {
			r := sign(t, alice.signer(), newReq(t, "GET", path))
			r.Method = "DELETE"
			return r
		}, ErrBad},
		{"path changed", nil, func(t *testing.T) *http.Request {
			r := sign(t, alice.signer(), newReq(t, "GET", path))
			r.URL.Path = "/v1/data/1561301001.85.3/school-0043"
			return r
		}, ErrBad},
		{"query changed", nil, func(t *testing.T) *http.Request {
			r := sign(t, alice.signer(), newReq(t, "GET", path))
			r.URL.RawQuery = "part=3"
			return r
		}, ErrBad},
		{"signed for another authority", nil, func(t *testing.T) *http.Request {
			r := newReq(t, "GET", path)
			r.Host = "node.city-b.example"
			sign(t, alice.signer(), r)
			r.Host = ""
			return r
		}, ErrBad},
		{"authority in other case and default port", nil, func(t *testing.T) *http.Request {
			// Host differs only as HTTP normalisation allows: still the
			// same target.
			r := newReq(t, "GET", path)
			r.Host = "Node.City-A.example"
			sign(t, alice.signer(), r)
			r.Host = "node.city-a.example:80"
			return r
		}, "ok"},
		{"covered header changed", nil, func(t *testing.T) *http.Request {
			r := newReq(t, "GET", path)
			r.Header.Set("Content-Digest", "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:")
			s := alice.signer()
			s.Components = append(DefaultComponents(), "content-digest")
			sign(t, s, r)
			r.Header.Set("Content-Digest", "sha-256=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:")
			return r
		}, ErrBad},
		{"covered header removed", nil, func(t *testing.T) *http.Request {
			r := newReq(t, "GET", path)
			r.Header.Set("Content-Digest", "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:")
			s := alice.signer()
			s.Components = append(DefaultComponents(), "content-digest")
			sign(t, s, r)
			r.Header.Del("Content-Digest")
			return r
		}, ErrBad},
		{"required header not covered", func(v *Verifier) {
			v.Required = append(DefaultComponents(), "content-digest")
		}, func(t *testing.T) *http.Request {
			r := newReq(t, "GET", path)
			r.Header.Set("Content-Digest", "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:")
			return sign(t, alice.signer(), r)
		}, ErrNotCovered},
		{"target URI not covered", nil, func(t *testing.T) *http.Request {
			s := alice.signer()
			s.Components = []string{"@method", "@authority"}
			return sign(t, s, newReq(t, "GET", path))
		}, ErrNotCovered},
		{"stale", nil, func(t *testing.T) *http.Request {
			s := alice.signer()
			s.Now = func() time.Time { return time.Now().Add(-DefaultMaxAge - time.Minute) }
			return sign(t, s, newReq(t, "GET", path))
		}, ErrStale},
		{"expired", nil, func(t *testing.T) *http.Request {
			now := time.Now()
			nonce, _ := RandomNonce()
			r := newReq(t, "GET", path)
			err := SignParams(r, alice.priv, Params{Label: "sig1", Components: DefaultComponents(), KeyID: alice.id,
				Alg: Alg, Created: now, Expires: now.Add(-time.Second), Nonce: nonce, Tag: "cityid"})
			if err != nil {
				t.Fatal(err)
			}
			return r
		}, ErrStale},
		{"future", nil, func(t *testing.T) *http.Request {
			s := alice.signer()
			s.Now = func() time.Time { return time.Now().Add(DefaultMaxSkew + time.Minute) }
			return sign(t, s, newReq(t, "GET", path))
		}, ErrFuture},
		{"within skew", nil, func(t *testing.T) *http.Request {
			s := alice.signer()
			s.Now = func() time.Time { return time.Now().Add(DefaultMaxSkew / 2) }
			return sign(t, s, newReq(t, "GET", path))
		}, "ok"},
		{"before the server started", func(v *Verifier) { v.NotBefore = start.Add(time.Minute) }, func(t *testing.T) *http.Request {
			return sign(t, alice.signer(), newReq(t, "GET", path))
		}, ErrStale},
		{"after the server started", func(v *Verifier) { v.NotBefore = start.Add(-time.Minute) }, func(t *testing.T) *http.Request {
			return sign(t, alice.signer(), newReq(t, "GET", path))
		}, "ok"},
		{"unknown key", nil, func(t *testing.T) *http.Request {
			return sign(t, mallory.signer(), newReq(t, "GET", path))
		}, ErrUnknownKey},
		{"no keyid", nil, func(t *testing.T) *http.Request {
			s := alice.signer()
			s.KeyID = ""
			return sign(t, s, newReq(t, "GET", path))
		}, ErrUnknownKey},
		{"forged: another key under alice's keyid", nil, func(t *testing.T) *http.Request {
			s := mallory.signer()
			s.KeyID = alice.id
			return sign(t, s, newReq(t, "GET", path))
		}, ErrBad},
		{"signature bit flipped", nil, func(t *testing.T) *http.Request {
			r := sign(t, alice.signer(), newReq(t, "GET", path))
			sig := r.Header.Get("Signature")
			i := strings.Index(sig, ":") + 1
			flip := "A"
			if sig[i] == 'A' {
				flip = "B"
			}
			r.Header.Set("Signature", sig[:i]+flip+sig[i+1:])
			return r
		}, ErrBad},
		{"signature not base64", nil, func(t *testing.T) *http.Request {
			r := sign(t, alice.signer(), newReq(t, "GET", path))
			r.Header.Set("Signature", "sig1=:!!not base64!!:")
			return r
		}, ErrMalformed},
		{"signature too short", nil, func(t *testing.T) *http.Request {
			r := sign(t, alice.signer(), newReq(t, "GET", path))
			r.Header.Set("Signature", "sig1=:AAAA:")
			return r
		}, ErrMalformed},
		{"Signature-Input not a structured field", nil, func(t *testing.T) *http.Request {
			r := sign(t, alice.signer(), newReq(t, "GET", path))
			r.Header.Set("Signature-Input", `sig1=("@method" "@target-uri" "@authority";created=1`)
			return r
		}, ErrMalformed},
		{"created is a string", nil, func(t *testing.T) *http.Request {
			r := sign(t, alice.signer(), newReq(t, "GET", path))
			r.Header.Set("Signature-Input", `sig1=("@method" "@target-uri" "@authority");created="1764909000";keyid="`+alice.id+`"`)
			return r
		}, ErrMalformed},
		{"component with parameters", nil, func(t *testing.T) *http.Request {
			r := sign(t, alice.signer(), newReq(t, "GET", path))
			in := r.Header.Get("Signature-Input")
			r.Header.Set("Signature-Input", strings.Replace(in, `"@authority"`, `"@authority";req`, 1))
			return r
		}, ErrMalformed},
		{"no nonce", nil, func(t *testing.T) *http.Request {
			s := alice.signer()
			s.Nonce = func() (string, error) { return "", nil }
			return sign(t, s, newReq(t, "GET", path))
		}, ErrMalformed},
		{"nonce not required", func(v *Verifier) { v.Nonces = nil }, func(t *testing.T) *http.Request {
			s := alice.signer()
			s.Nonce = func() (string, error) { return "", nil }
			return sign(t, s, newReq(t, "GET", path))
		}, "ok"},
		{"another alg", nil, func(t *testing.T) *http.Request {
			r := newReq(t, "GET", path)
			nonce, _ := RandomNonce()
			err := SignParams(r, alice.priv, Params{Label: "sig1", Components: DefaultComponents(), KeyID: alice.id,
				Alg: "rsa-pss-sha512", Created: time.Now(), Nonce: nonce, Tag: "cityid"})
			if err != nil {
				t.Fatal(err)
			}
			return r
		}, ErrAlg},
		{"another tag", nil, func(t *testing.T) *http.Request {
			s := alice.signer()
			s.Tag = "web-bot-auth"
			return sign(t, s, newReq(t, "GET", path))
		}, ErrTag},
		{"no tag", nil, func(t *testing.T) *http.Request {
			s := alice.signer()
			s.Tag = ""
			return sign(t, s, newReq(t, "GET", path))
		}, ErrTag},
		{"signed for https, served as http", nil, func(t *testing.T) *http.Request {
			r := newReq(t, "GET", path)
			r.URL.Scheme = "https"
			sign(t, alice.signer(), r)
			r.URL.Scheme = "http"
			return r
		}, ErrBad},
		{"signed for https, behind a proxy", func(v *Verifier) { v.Scheme = "https" }, func(t *testing.T) *http.Request {
			r := newReq(t, "GET", path)
			r.URL.Scheme = "https"
			sign(t, alice.signer(), r)
			r.URL.Scheme = "http"
			return r
		}, "ok"},
		{"two labels: the first is read by default", nil, func(t *testing.T) *http.Request {
			r := newReq(t, "GET", path)
			first := mallory.signer()
			first.Label = "proxy"
			sign(t, first, r)
			return sign(t, alice.signer(), r)
		}, ErrUnknownKey},
		{"two labels: the one asked for", nil, func(t *testing.T) *http.Request {
			r := newReq(t, "GET", path)
			first := mallory.signer()
			first.Label = "proxy"
			sign(t, first, r)
			sign(t, alice.signer(), r)
			r.Header.Set("X-Test-Label", "sig1")
			return r
		}, "ok"},
		{"label asked for is absent", nil, func(t *testing.T) *http.Request {
			r := sign(t, alice.signer(), newReq(t, "GET", path))
			r.Header.Set("X-Test-Label", "sig2")
			return r
		}, ErrMissing},
		{"labels swapped between the fields", nil, func(t *testing.T) *http.Request {
			r := newReq(t, "GET", path)
			other := alice.signer()
			other.Label = "sig2"
			sign(t, other, r)
			sign(t, alice.signer(), r)
			// Each Signature now sits under the other's label.
			sigs := r.Header.Values("Signature")
			r.Header.Del("Signature")
			r.Header.Add("Signature", "sig2"+strings.TrimPrefix(sigs[1], "sig1"))
			r.Header.Add("Signature", "sig1"+strings.TrimPrefix(sigs[0], "sig2"))
			r.Header.Set("X-Test-Label", "sig1")
			return r
		}, ErrBad},
	}
	// Every code but replayed (TestVerifyReplay) and busy
	// (TestNonceCacheFloodOfKeys) is provoked here.
	provoked := map[string]bool{ErrReplayed: true, ErrBusy: true}
	for _, c := range cases {
		provoked[c.want] = true
	}
	for _, code := range Codes() {
		if !provoked[code] {
			t.Errorf("no case provokes %s", code)
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := base
			v.Nonces = NewNonceCache(1000)
			if c.v != nil {
				c.v(&v)
			}
			ts.v.Store(&v)
			if got := ts.send(t, c.req(t)); got != c.want {
				t.Fatalf("server answered %q, want %q", got, c.want)
			}
		})
	}
}

// The same signed request, sent twice, is refused the second time; a
// fresh signature of the same request is not.
func TestVerifyReplay(t *testing.T) {
	ts := startServer(t)
	alice := newTestKey(t, 1)
	ts.v.Store(&Verifier{Key: keysOf(alice), Nonces: NewNonceCache(100)})
	signed := func() *http.Request {
		r, err := http.NewRequest("GET", ts.url+"/v1/data/x", nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := alice.signer().Sign(r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	first := signed()
	replay := first.Clone(first.Context())
	for i, c := range []struct {
		r    *http.Request
		want string
	}{{first, "ok"}, {replay, ErrReplayed}, {signed(), "ok"}} {
		if got := ts.send(t, c.r); got != c.want {
			t.Fatalf("request %d: server answered %q, want %q", i, got, c.want)
		}
	}
}

// A forged request does not spend the nonce of the real one: the nonce is
// recorded only once the signature verifies.
func TestVerifyForgeryDoesNotSpendNonce(t *testing.T) {
	alice, mallory := newTestKey(t, 1), newTestKey(t, 2)
	v := &Verifier{Key: keysOf(alice), Nonces: NewNonceCache(100)}
	nonce := func() (string, error) { return "the-same-nonce", nil }
	forged, _ := http.NewRequest("GET", "http://node.example/v1/data/x", nil)
	s := mallory.signer()
	s.KeyID, s.Nonce = alice.id, nonce
	if err := s.Sign(forged); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(forged, ""); ErrorCode(err) != ErrBad {
		t.Fatalf("forged: %v, want %s", err, ErrBad)
	}
	real, _ := http.NewRequest("GET", "http://node.example/v1/data/x", nil)
	s = alice.signer()
	s.Nonce = nonce
	if err := s.Sign(real); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(real, ""); err != nil {
		t.Fatalf("real request after a forgery with its nonce: %v", err)
	}
}

// Verify's errors carry the Key function's error and compare by code.
func TestVerifyErrorChain(t *testing.T) {
	cause := errors.New("key store down")
	v := &Verifier{Key: func(string) (ed25519.PublicKey, error) { return nil, cause }}
	r, _ := http.NewRequest("GET", "http://node.example/", nil)
	if err := newTestKey(t, 1).signer().Sign(r); err != nil {
		t.Fatal(err)
	}
	_, err := v.Verify(r, "")
	if !errors.Is(err, cause) || !errors.Is(err, &Error{Code: ErrUnknownKey}) || errors.Is(err, &Error{Code: ErrBad}) {
		t.Fatalf("error %v: want one that is %v and %s only", err, cause, ErrUnknownKey)
	}
	// A key of the wrong length is refused, not passed to ed25519.
	v.Key = func(string) (ed25519.PublicKey, error) { return make(ed25519.PublicKey, 31), nil }
	if _, err := v.Verify(r, ""); ErrorCode(err) != ErrUnknownKey {
		t.Fatalf("31-byte key: %v, want %s", err, ErrUnknownKey)
	}
}

// The codes are distinct and named alike; Error reads as code: message: cause.
func TestCodes(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Codes() {
		if seen[c] || !strings.HasPrefix(c, "signature_") {
			t.Errorf("code %q repeated or not prefixed", c)
		}
		seen[c] = true
	}
	if len(seen) != 11 {
		t.Errorf("%d codes, want 11", len(seen))
	}
	if got := (&Error{Code: ErrBad, Msg: "m", Err: fmt.Errorf("x")}).Error(); got != "signature_bad: m: x" {
		t.Errorf("Error() = %q", got)
	}
}

// Check verifies without spending the nonce, so a server can refuse the
// request for its own reasons first; UseNonce then spends it once. A
// signature without a nonce is refused by Check itself when the verifier
// keeps nonces.
func TestCheckThenUseNonce(t *testing.T) {
	alice := newTestKey(t, 1)
	v := &Verifier{Key: keysOf(alice), Nonces: NewNonceCache(100)}
	r, _ := http.NewRequest("GET", "http://node.example/v1/data/x", nil)
	if err := alice.signer().Sign(r); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if _, err := v.Check(r, ""); err != nil {
			t.Fatalf("check %d: %v", i, err)
		}
	}
	if v.Nonces.Len() != 0 {
		t.Fatalf("Check recorded %d nonces", v.Nonces.Len())
	}
	p, _ := v.Check(r, "")
	if err := v.UseNonce(p); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if err := v.UseNonce(p); ErrorCode(err) != ErrReplayed {
		t.Fatalf("second use: %v, want %s", err, ErrReplayed)
	}
	none, _ := http.NewRequest("GET", "http://node.example/v1/data/x", nil)
	s := alice.signer()
	s.Nonce = func() (string, error) { return "", nil }
	if err := s.Sign(none); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Check(none, ""); ErrorCode(err) != ErrMalformed {
		t.Fatalf("no nonce: %v, want %s", err, ErrMalformed)
	}
}
