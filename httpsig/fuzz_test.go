package httpsig

import (
	"crypto/ed25519"
	"testing"
	"time"
)

// FuzzVerify feeds arbitrary Signature-Input and Signature values to a
// verifier that knows the RFC's key and any keyid: it never panics, and it
// never accepts, since nobody but the fuzzer's seeds holds a signature and
// they sign another request (the B.2 request with the B.2.6 fields, here
// sent to another path). Every refusal is an *Error with a known code.
func FuzzVerify(f *testing.F) {
	f.Add(b26Input, b26Label+"=:"+b26Signature+":")
	f.Add(`sig1=("@method" "@target-uri" "@authority");created=1618884473;nonce="n";alg="ed25519";keyid="k";tag="cityid"`,
		`sig1=:`+b26Signature+`:`)
	f.Add(`sig1=();created=1618884473;keyid="k"`, `sig1=:`+b26Signature+`:`)
	f.Add(`a=("x" "@query");created=1618884473;expires=1618884474, b=(), c`, `a=:AAAA:, b=?1`)
	f.Add(`sig1=("content-type");created=1618884473;keyid="k";alg="hmac-sha256"`, `sig1=:`+b26Signature+`:`)
	f.Add("", "")
	known := map[string]bool{}
	for _, c := range Codes() {
		known[c] = true
	}
	pub, _ := rfcKey(f)
	at := time.Unix(b26Created, 0)
	v := &Verifier{
		Key:      func(string) (ed25519.PublicKey, error) { return pub, nil },
		Required: []string{},
		Now:      func() time.Time { return at },
		Nonces:   NewNonceCache(16),
	}
	template := rfcRequest(f)
	f.Fuzz(func(t *testing.T, input, signature string) {
		r := template.Clone(template.Context())
		r.URL.Path = "/bar"
		r.Header.Set("Signature-Input", input)
		r.Header.Set("Signature", signature)
		p, err := v.Verify(r, "")
		if err == nil {
			t.Fatalf("accepted %q / %q as %+v", input, signature, p)
		}
		if !known[ErrorCode(err)] {
			t.Fatalf("refused with %v, not an *Error with a known code", err)
		}
	})
}
