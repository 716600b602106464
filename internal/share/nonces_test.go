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
// each. Such requests are let in as anonymous reads, their keys and
// nonces not kept: the flood takes none of the room the nonce memory has
// for keys, so a key that needs its signature (a grantee, an admin), new
// or not, is still let in, and its replay still refused as replayed. The
// memory stays within its bounds: a key with a right that is new while
// the node holds as many keys as it may is refused (rate_limited, try
// again), never let in by forgetting another key's nonces.
func TestNonceFloodOfKeys(t *testing.T) {
	w := newDecideWorld(t, 3)
	content := []byte("pipe,diameter\n1,300\n")
	sum := sha256.Sum256(content)
	pub := "1561301001.85.1/pipes"
	w.ledger.Send("alice", registry.KindRegister, registry.Register{ID: pub, Values: []registry.Value{{Type: registry.TypeData,
		Dataset: &registry.Dataset{URI: "http://" + decideHost + wire.DataPath + pub, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(content)), MediaType: "text/csv", Public: true}}}})
	pubID, err := code.Parse(pub)
	if err != nil {
		t.Fatal(err)
	}
	lim := httpsig.NonceLimits{Total: 512, Keys: 3, PerKey: 128, Floor: 4}
	svc := w.service(t, share.Options{Nonces: lim})
	nonce := 0
	sign := func(key ed25519.PrivateKey, path string, created time.Time) *http.Request {
		t.Helper()
		signed, _ := http.NewRequest(http.MethodGet, "http://"+decideHost+wire.DataPath+path, nil)
		nonce++
		p := httpsig.Params{Label: "sig1", Components: httpsig.DefaultComponents(), KeyID: registry.KeyText(key.Public().(ed25519.PublicKey)),
			Alg: httpsig.Alg, Created: created, Nonce: fmt.Sprintf("n-%d", nonce), Tag: wire.SignatureTag}
		if err := httpsig.SignParams(signed, key, p); err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest(http.MethodGet, wire.DataPath+path, nil)
		r.Host = decideHost
		r.Header.Set("Signature-Input", signed.Header.Get("Signature-Input"))
		r.Header.Set("Signature", signed.Header.Get("Signature"))
		return r
	}
	decide := func(r *http.Request, id code.ID) (share.Access, *share.Refusal) {
		t.Helper()
		a, refusal, err := svc.Decide(context.Background(), r, id, share.Download, 0)
		if err != nil {
			t.Fatal(err)
		}
		return a, refusal
	}
	created := w.now.Add(-time.Second)
	for k := range 1000 {
		seed := sha256.Sum256([]byte(fmt.Sprint("flood-", k)))
		key := ed25519.NewKeyFromSeed(seed[:])
		a, f := decide(sign(key, pub, created), pubID)
		if f != nil || a.Key != "" {
			t.Fatalf("flood key %d on the public dataset: %v, logged as key %q; want let in as an anonymous read", k, f, a.Key)
		}
	}
	// The grantee, new to the node after the flood, is let in by its
	// grant, and its nonce is kept.
	honest := apitest.Key(w.signer)
	first := sign(honest, flowID, created)
	replay := first.Clone(context.Background())
	if a, f := decide(first, w.id); f != nil || a.Key == "" || a.Grantee == "" {
		t.Fatalf("the grantee's request after the flood: %v (key %q, grantee %q)", f, a.Key, a.Grantee)
	}
	a, f := decide(replay, w.id)
	if f == nil || f.Code != registry.CodeBadSignature || f.Reason != httpsig.ErrReplayed {
		t.Fatalf("the grantee's request replayed: %v, want %s/%s", f, registry.CodeBadSignature, httpsig.ErrReplayed)
	}
	if f.Grantee != "" || a.Grantee != "" {
		t.Errorf("the replay names grantee %q: a captured request would make the log anchored at every turn", f.Grantee)
	}
	for i := range 3 {
		if _, f := decide(sign(honest, flowID, created), w.id); f != nil {
			t.Fatalf("the grantee's request %d, signed in the same second: %v", i, f)
		}
	}
	// Keys with a right fill the room: the owner, then another grantee;
	// the fourth key with a right waits.
	if _, f := decide(sign(apitest.Key("alice"), flowID, created), w.id); f != nil {
		t.Fatalf("the owner: %v", f)
	}
	var others []string
	for i := range 3 {
		if name := fmt.Sprintf("unit-admin-%d", i); name != w.signer {
			others = append(others, name)
		}
	}
	if _, f := decide(sign(apitest.Key(others[0]), flowID, created), w.id); f != nil {
		t.Fatalf("a second grantee: %v", f)
	}
	if _, f := decide(sign(apitest.Key(others[1]), flowID, created), w.id); f == nil || f.Code != wire.CodeRateLimited || f.Reason != httpsig.ErrBusy {
		t.Fatalf("a fourth key with a right while three are held: %v, want %s/%s", f, wire.CodeRateLimited, httpsig.ErrBusy)
	}

	// Over HTTP, a key refused so is told when to come back.
	srv := httptest.NewServer(api.New(w.ledger.Backend(), api.Options{Data: svc}))
	defer srv.Close()
	r, _ := http.NewRequest(http.MethodGet, srv.URL+wire.DataPath+flowID, nil)
	key := apitest.Key(others[1])
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
