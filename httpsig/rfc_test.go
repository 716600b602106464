package httpsig

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"os"
	"testing"
	"time"
)

// RFC 9421's own vectors: the key of Appendix B.1.4 (testdata holds it as
// the RFC prints it), the test request of B.2 (as bytes on the wire,
// read by net/http as a server reads it), and the signature base and
// signature of B.2.6.

const (
	b26Label     = "sig-b26"
	b26Created   = 1618884473
	b26Signature = "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw=="
	b26Input     = `sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"`
)

var b26Components = []string{"date", "@method", "@path", "@authority", "content-type", "content-length"}

// rfcKey reads the B.1.4 key pair and checks that its halves belong
// together.
func rfcKey(t testing.TB) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	text, err := os.ReadFile("testdata/test-key-ed25519.pem")
	if err != nil {
		t.Fatal(err)
	}
	pubBlock, rest := pem.Decode(text)
	privBlock, _ := pem.Decode(rest)
	if pubBlock == nil || privBlock == nil {
		t.Fatal("testdata/test-key-ed25519.pem: want a public and a private PEM block")
	}
	pubAny, err := x509.ParsePKIXPublicKey(pubBlock.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	privAny, err := x509.ParsePKCS8PrivateKey(privBlock.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	pub, priv := pubAny.(ed25519.PublicKey), privAny.(ed25519.PrivateKey)
	if !pub.Equal(priv.Public()) {
		t.Fatal("the B.1.4 private key does not belong to its public key")
	}
	return pub, priv
}

// rfcRequest reads the B.2 test request as a server would.
func rfcRequest(t testing.TB) *http.Request {
	t.Helper()
	raw, err := os.ReadFile("testdata/b2-request.http")
	if err != nil {
		t.Fatal(err)
	}
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func b26Params() Params {
	return Params{
		Label:      b26Label,
		Components: b26Components,
		KeyID:      "test-key-ed25519",
		Created:    time.Unix(b26Created, 0),
	}
}

func TestRFC9421B26Base(t *testing.T) {
	want, err := os.ReadFile("testdata/b26-base.txt")
	if err != nil {
		t.Fatal(err)
	}
	got, err := SignatureBase(rfcRequest(t), b26Params())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("signature base differs from RFC 9421 B.2.6:\ngot:\n%s\nwant:\n%s", got, want)
	}
}

// Ed25519 is deterministic: signing the B.2 request under the B.2.6
// parameters writes the RFC's two fields exactly.
func TestRFC9421B26Sign(t *testing.T) {
	_, priv := rfcKey(t)
	r := rfcRequest(t)
	if err := SignParams(r, priv, b26Params()); err != nil {
		t.Fatal(err)
	}
	if got := r.Header.Get("Signature-Input"); got != b26Input {
		t.Errorf("Signature-Input:\n got %s\nwant %s", got, b26Input)
	}
	if got, want := r.Header.Get("Signature"), b26Label+"=:"+b26Signature+":"; got != want {
		t.Errorf("Signature:\n got %s\nwant %s", got, want)
	}
}

// Verify accepts the RFC's own fields on the RFC's request, at the
// RFC's time, and refuses them a minute after the default window.
func TestRFC9421B26Verify(t *testing.T) {
	pub, _ := rfcKey(t)
	at := time.Unix(b26Created, 0).Add(2 * time.Second)
	v := &Verifier{
		Key: func(id string) (ed25519.PublicKey, error) {
			if id != "test-key-ed25519" {
				return nil, errors.New("unknown")
			}
			return pub, nil
		},
		Required: b26Components,
		Now:      func() time.Time { return at },
	}
	r := rfcRequest(t)
	r.Header.Set("Signature-Input", b26Input)
	r.Header.Set("Signature", b26Label+"=:"+b26Signature+":")
	p, err := v.Verify(r, "")
	if err != nil {
		t.Fatalf("Verify refuses RFC 9421 B.2.6: %v", err)
	}
	want := b26Params()
	if p.Label != want.Label || p.KeyID != want.KeyID || !p.Created.Equal(want.Created) || p.Alg != "" || p.Nonce != "" {
		t.Errorf("params %+v, want %+v", p, want)
	}
	if _, err := v.Verify(r, b26Label); err != nil {
		t.Errorf("Verify by label: %v", err)
	}

	at = at.Add(DefaultMaxAge + time.Minute)
	if _, err := v.Verify(r, ""); ErrorCode(err) != ErrStale {
		t.Errorf("B.2.6 verified %v after its creation: %v, want %s", DefaultMaxAge+time.Minute, err, ErrStale)
	}
}
