package httpsig

import (
	"crypto/ed25519"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// The issue bounds the signature and grant check at 100 µs a request.
// BenchmarkVerify is the signature's part, as a node runs it: parse both
// fields, check times and coverage, rebuild the base, verify Ed25519,
// record the nonce. BenchmarkEd25519Verify is the floor it is measured
// against in the same run.

func benchRequests(b *testing.B, n int) ([]*http.Request, *Verifier) {
	b.Helper()
	k := newTestKey(b, 7)
	now := time.Unix(1796445300, 0)
	s := k.signer()
	s.Now = func() time.Time { return now }
	reqs := make([]*http.Request, n)
	for i := range reqs {
		r, err := http.NewRequest("GET", "http://node.city-a.example/v1/data/1561301001.85.3/school-0042", nil)
		if err != nil {
			b.Fatal(err)
		}
		s.Nonce = func() (string, error) { return fmt.Sprintf("nonce-%d", i), nil }
		if err := s.Sign(r); err != nil {
			b.Fatal(err)
		}
		reqs[i] = r
	}
	pub := k.priv.Public().(ed25519.PublicKey)
	v := &Verifier{
		Key:    func(string) (ed25519.PublicKey, error) { return pub, nil },
		Tag:    "cityid",
		Nonces: NewNonceCache(1 << 20),
		Now:    func() time.Time { return now.Add(time.Second) },
	}
	return reqs, v
}

func BenchmarkVerify(b *testing.B) {
	reqs, v := benchRequests(b, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := v.Verify(reqs[i], ""); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEd25519Verify(b *testing.B) {
	reqs, _ := benchRequests(b, 1)
	k := newTestKey(b, 7)
	p := Params{Components: DefaultComponents(), KeyID: k.id, Alg: Alg, Created: time.Unix(1796445300, 0), Nonce: "nonce-0", Tag: "cityid"}
	base, err := SignatureBase(reqs[0], p)
	if err != nil {
		b.Fatal(err)
	}
	sig := ed25519.Sign(k.priv, base)
	pub := k.priv.Public().(ed25519.PublicKey)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !ed25519.Verify(pub, base, sig) {
			b.Fatal("does not verify")
		}
	}
}

func BenchmarkSign(b *testing.B) {
	k := newTestKey(b, 7)
	s := k.signer()
	r, err := http.NewRequest("GET", "http://node.city-a.example/v1/data/1561301001.85.3/school-0042", nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.Header = http.Header{}
		if err := s.Sign(r); err != nil {
			b.Fatal(err)
		}
	}
}
