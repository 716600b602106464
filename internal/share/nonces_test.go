package share_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/httpsig"
	"github.com/cityid/cityid/internal/api"
	"github.com/cityid/cityid/internal/apitest"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/share"
	"github.com/cityid/cityid/internal/wire"
)

// TestNonceFloodOfKeys: on a public dataset any key's signed request is
// let in, so anyone can make keys by the thousand and sign a request with
// each. Such a flood must not push out an honest key's recent nonces
// (its replay is still refused as replayed, and its next requests are
// still taken), and the memory of nonces stays within its bounds: a key
// new while the node holds as many as it may is refused (rate_limited,
// try again), never let in by forgetting another key's nonces.
func TestNonceFloodOfKeys(t *testing.T) {
	w := newDecideWorld(t, 1)
	content := []byte("pipe,diameter\n1,300\n")
	sum := sha256.Sum256(content)
	pub := "1561301001.85.1/pipes"
	w.ledger.Send("alice", registry.KindRegister, registry.Register{ID: pub, Values: []registry.Value{{Type: registry.TypeData,
		Dataset: &registry.Dataset{URI: "http://" + decideHost + wire.DataPath + pub, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(content)), MediaType: "text/csv", Public: true}}}})
	id, err := code.Parse(pub)
	if err != nil {
		t.Fatal(err)
	}
	lim := httpsig.NonceLimits{Total: 512, Keys: 64, PerKey: 128, Floor: 4}
	svc := w.service(t, share.Options{Nonces: lim})
	nonce := 0
	sign := func(key ed25519.PrivateKey, created time.Time) *http.Request {
		t.Helper()
		signed, _ := http.NewRequest(http.MethodGet, "http://"+decideHost+wire.DataPath+pub, nil)
		nonce++
		p := httpsig.Params{Label: "sig1", Components: httpsig.DefaultComponents(), KeyID: registry.KeyText(key.Public().(ed25519.PublicKey)),
			Alg: httpsig.Alg, Created: created, Nonce: fmt.Sprintf("n-%d", nonce), Tag: wire.SignatureTag}
		if err := httpsig.SignParams(signed, key, p); err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest(http.MethodGet, wire.DataPath+pub, nil)
		r.Host = decideHost
		r.Header.Set("Signature-Input", signed.Header.Get("Signature-Input"))
		r.Header.Set("Signature", signed.Header.Get("Signature"))
		return r
	}
	decide := func(r *http.Request) *share.Refusal {
		t.Helper()
		_, refusal, err := svc.Decide(context.Background(), r, id, share.Download, 0)
		if err != nil {
			t.Fatal(err)
		}
		return refusal
	}
	honest := apitest.Key(w.signer)
	created := w.now.Add(-time.Second)
	first := sign(honest, created)
	replay := first.Clone(context.Background())
	if f := decide(first); f != nil {
		t.Fatalf("the honest key's request: %v", f)
	}
	limited := 0
	for k := range 1000 {
		seed := sha256.Sum256([]byte(fmt.Sprint("flood-", k)))
		key := ed25519.NewKeyFromSeed(seed[:])
		switch f := decide(sign(key, created)); {
		case f == nil:
		case f.Code == wire.CodeRateLimited && f.Reason == httpsig.ErrBusy:
			limited++
		default:
			t.Fatalf("flood key %d: %v", k, f)
		}
	}
	if limited != 1000-(lim.Keys-1) {
		t.Errorf("%d of 1000 flood keys refused as rate_limited, want all but the %d the node has room for", limited, lim.Keys-1)
	}
	if f := decide(replay); f == nil || f.Code != registry.CodeBadSignature || f.Reason != httpsig.ErrReplayed {
		t.Fatalf("the honest key's request replayed after the flood: %v, want %s/%s", f, registry.CodeBadSignature, httpsig.ErrReplayed)
	}
	for i := range 3 {
		if f := decide(sign(honest, created)); f != nil {
			t.Fatalf("the honest key's request %d after the flood, signed in the same second: %v", i, f)
		}
	}

	// Over HTTP, a key refused so is told when to come back.
	srv := httptest.NewServer(api.New(w.ledger.Backend(), api.Options{Data: svc}))
	defer srv.Close()
	r, _ := http.NewRequest(http.MethodGet, srv.URL+wire.DataPath+pub, nil)
	seed := sha256.Sum256([]byte("one more"))
	key := ed25519.NewKeyFromSeed(seed[:])
	p := httpsig.Params{Label: "sig1", Components: httpsig.DefaultComponents(), KeyID: registry.KeyText(key.Public().(ed25519.PublicKey)),
		Alg: httpsig.Alg, Created: created, Nonce: "one-more", Tag: wire.SignatureTag}
	if err := httpsig.SignParams(r, key, p); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("a new key over HTTP while the nonce memory is full: %d, Retry-After %q; want 429 with one", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}
