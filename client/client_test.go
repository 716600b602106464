package client_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cityid/cityid/client"
	"github.com/cityid/cityid/internal/node"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/testnode"
)

// startNode runs a single-validator node in this process and returns a
// client of it and the operator's key (the 1-of-1 authority).
func startNode(t *testing.T) (*client.Client, ed25519.PrivateKey) {
	t.Helper()
	home := filepath.Join(t.TempDir(), "n")
	http0, rpc, p2p := testnode.FreeAddr(t), testnode.FreeAddr(t), testnode.FreeAddr(t)
	if _, err := node.Init(home, node.InitOptions{HTTP: http0, RPC: "tcp://" + rpc, P2P: "tcp://" + p2p, DNS: "off"}); err != nil {
		t.Fatal(err)
	}
	conf, err := node.Load(home)
	if err != nil {
		t.Fatal(err)
	}
	run, err := node.Start(context.Background(), conf, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { run.Stop() })
	url := "http://" + run.HTTPAddr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("node not ready")
		}
		time.Sleep(100 * time.Millisecond)
	}
	c, err := client.New(url)
	if err != nil {
		t.Fatal(err)
	}
	op, err := node.LoadKey(home, node.OperatorKey)
	if err != nil {
		t.Fatal(err)
	}
	return c, op.Private
}

// A Signer's transactions carry a last height, and a refusal in the
// mempool leaves the nonce to the signer's next transaction. (A refusal in
// a block has used its nonce; CheckTx now refuses before a block whatever
// a block would, so that case needs a race and is not made here.)
func TestSignerNonces(t *testing.T) {
	c, op := startNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, alice, _ := ed25519.GenerateKey(nil)
	s, err := c.NewSigner(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := s.Sign(registry.KindApplyCity, registry.ApplyCity{Country: "156", CityNumber: "130100", Name: "石家庄市"})
	if err != nil {
		t.Fatal(err)
	}
	var env registry.Envelope
	if err := json.Unmarshal(tx, &env); err != nil {
		t.Fatal(err)
	}
	var body registry.Body
	if err := json.Unmarshal(env.Body, &body); err != nil {
		t.Fatal(err)
	}
	if body.Nonce != 1 || body.ValidUntilHeight < uint64(st.Height)+client.DefaultValidBlocks || body.ValidUntilHeight > uint64(st.Height)+client.DefaultValidBlocks+5 {
		t.Fatalf("nonce %d, valid until %d at height %d: want nonce 1 and about %d blocks ahead", body.Nonce, body.ValidUntilHeight, st.Height, client.DefaultValidBlocks)
	}
	ans, err := c.Submit(ctx, tx)
	if err != nil {
		t.Fatal(err)
	}
	// Refused in the mempool (application 9 does not exist): the nonce
	// is not used, and the next transaction takes it.
	_, err = s.Send(ctx, registry.KindWithdrawVote, registry.WithdrawVote{Application: 9, Hash: ans.Result.Hash})
	if client.Code(err) != registry.CodeUnauthorized {
		t.Fatalf("withdraw by a non-member: %v", err)
	}
	var cerr *client.Error
	if !errors.As(err, &cerr) || cerr.Problem.Height != 0 {
		t.Fatalf("a mempool refusal names no height: %+v", cerr)
	}
	ok, err := s.Send(ctx, registry.KindApplyCity, registry.ApplyCity{Country: "156", CityNumber: "130200", Name: "唐山市"})
	if client.Code(err) != registry.CodeExists {
		t.Fatalf("second open application: %v (%+v)", err, ok)
	}
	// The authority approves the application through its own Signer,
	// which reads the content hash from the node.
	app, err := c.Application(ctx, ans.Result.Application)
	if err != nil {
		t.Fatal(err)
	}
	if app.Hash != ans.Result.Hash || app.Count.Threshold != 1 || app.Status != registry.AppPending {
		t.Fatalf("application %+v", app)
	}
	if a, err := c.Send(ctx, op, registry.KindApproveApplication, registry.Decision{Application: app.ID, Hash: app.Hash}); err != nil || a.Result.CityCode != "1561301001" {
		t.Fatalf("approve: %+v %v", a, err)
	}
	acct, err := c.Account(ctx, registry.KeyText(alice.Public().(ed25519.PublicKey)))
	if err != nil {
		t.Fatal(err)
	}
	if acct.Nonce != 1 || acct.NextNonce != 2 {
		t.Fatalf("account %+v: only the application used a nonce", acct)
	}
	if a, err := s.Send(ctx, registry.KindRegisterSector, registry.RegisterSector{ID: "1561301001.85"}); err != nil || a.Result.ID != "1561301001.85" {
		t.Fatalf("register sector with the signer's next nonce: %+v %v", a, err)
	}
}

// TestEveryTransaction runs Example_everyTransaction against a node: every
// transaction kind, built and sent with the client alone, is committed
// and does what it says.
func TestEveryTransaction(t *testing.T) {
	c, op := startNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out strings.Builder
	if err := everyTransaction(ctx, c, op, &out); err != nil {
		t.Fatalf("%v\nafter:\n%s", err, out.String())
	}
	want := `apply_city pending
approve_application approved 1561301001
apply_city pending
reject_application rejected
register_sector active 1561301001.85
register_unit active 1561301001.85.1
register active 1561301001.85.1/school-0042
register_batch active 1561301001.85.1/school-0043
update active 1561301001.85.1/school-0042
deactivate deactivated 1561301001.85.1/school-0042
reactivate active 1561301001.85.1/school-0042
register active 1561301001.85.1/enrolment-2026
grant_access granted 1561301001.85.1/enrolment-2026
revoke_access revoked 1561301001.85.1/enrolment-2026
anchor_log anchored 1561301001.85.1/enrolment-2026
transfer active 1561301001.85.1/school-0042
set_validator applied
set_upgrade applied
set_upgrade cancelled
set_authority applied
set_city pending 1561301001
withdraw_vote withdrawn
`
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
	sent := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		sent[strings.Fields(line)[0]] = true
	}
	for _, k := range client.Kinds() {
		if !sent[k] {
			t.Errorf("no %s transaction was sent", k)
		}
	}
}

// A node's rate limit is waited out: a 429 with Retry-After was not acted
// on, so the client sends the same request again after it, within its
// bound; past the bound the caller hears the refusal.
func TestRateLimitWaitedOut(t *testing.T) {
	var calls, refusals atomic.Int32
	refusals.Store(1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= refusals.Load() {
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"type":"about:blank","title":"Too Many Requests","status":429,"detail":"slow down","code":"rate_limited"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"key":"k","nonce":3,"next_nonce":4,"pending":0,"height":9}`)
	}))
	defer srv.Close()
	c, err := client.New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	acct, err := c.Account(context.Background(), "k")
	if err != nil || acct.Nonce != 3 || calls.Load() != 2 {
		t.Fatalf("after one 429: %+v, %v, %d requests; want the answer on the second", acct, err, calls.Load())
	}

	calls.Store(0)
	refusals.Store(5)
	c.SetRateLimitWait(1500 * time.Millisecond)
	_, err = c.Account(context.Background(), "k")
	if client.Code(err) != client.CodeRateLimited || calls.Load() != 2 {
		t.Fatalf("with a 1.5 s bound and Retry-After 1: %v after %d requests; want rate_limited after 2", err, calls.Load())
	}
	c.SetRateLimitWait(0)
	calls.Store(0)
	if _, err = c.Account(context.Background(), "k"); client.Code(err) != client.CodeRateLimited || calls.Load() != 1 {
		t.Fatalf("with no wait: %v after %d requests; want rate_limited at once", err, calls.Load())
	}
}

// A node on HTTPS whose certificate this machine does not trust is
// running: the error says so and how to trust it, not "start one", which
// is still what an address where nothing listens gets.
func TestUntrustedCertificateHint(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	c, err := client.New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Status(context.Background())
	if err == nil || !strings.Contains(err.Error(), "certificate is not trusted here") || !strings.Contains(err.Error(), "SSL_CERT_FILE") || strings.Contains(err.Error(), "start one") {
		t.Fatalf("a node with an untrusted certificate: %v", err)
	}

	closed := testnode.FreeAddr(t) // nothing listens there
	c, err = client.New("http://" + closed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err = c.Status(context.Background()); err == nil || !strings.Contains(err.Error(), "is a node running there?") {
		t.Fatalf("no node at the address: %v", err)
	}
}
