package web_test

import (
	"context"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/cityid/cityid/client"
	"github.com/cityid/cityid/internal/node"
	"github.com/cityid/cityid/internal/testnode"
)

// startNode starts a single-validator node of chainID on free loopback
// ports, with nothing issued yet, stopped when the test ends, and returns
// its base URL and home (whose keyring holds the operator's key, the
// authority's one member).
func startNode(t testing.TB, chainID string) (base, home string) {
	t.Helper()
	home = filepath.Join(t.TempDir(), "n")
	httpAddr, rpc, p2p := testnode.FreeAddr(t), testnode.FreeAddr(t), testnode.FreeAddr(t)
	if _, err := node.Init(home, node.InitOptions{ChainID: chainID, Moniker: chainID + "-test", HTTP: httpAddr, RPC: "tcp://" + rpc, P2P: "tcp://" + p2p, DNS: "off"}); err != nil {
		t.Fatal(err)
	}
	conf, err := node.Load(home)
	if err != nil {
		t.Fatal(err)
	}
	// The node lives as long as the test.
	run, err := node.Start(context.Background(), conf, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { run.Stop() })
	base = "http://" + run.HTTPAddr
	for deadline := time.Now().Add(30 * time.Second); ; {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base, home
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the node at %s is not ready", base)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// operator is a client of the node at base and a function that signs a
// message with the operator's key (in home's keyring) and sends it,
// failing the test on a refusal.
func operator(ctx context.Context, t testing.TB, base, home string) (*client.Client, func(kind string, msg any) client.Outcome) {
	t.Helper()
	c, err := client.New(base)
	if err != nil {
		t.Fatal(err)
	}
	opKey, err := node.LoadKey(home, node.OperatorKey)
	if err != nil {
		t.Fatal(err)
	}
	op, err := c.NewSigner(ctx, opKey.Private)
	if err != nil {
		t.Fatal(err)
	}
	return c, func(kind string, msg any) client.Outcome {
		t.Helper()
		ans, err := op.Send(ctx, kind, msg)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		return ans.Result
	}
}
