package share_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cityid/cityid/internal/accesslog"
	"github.com/cityid/cityid/internal/apitest"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/share"
	"github.com/cityid/cityid/internal/wire"
)

// anchoring is share.Anchoring with actor's key, whose transactions the
// world's ledger commits at once; it counts them.
func (w *decideWorld) anchoring(t *testing.T, actor string, sent *int) share.Anchoring {
	return share.Anchoring{
		Key: apitest.Key(actor), ChainID: apitest.ChainID,
		Submit: func(_ context.Context, tx []byte) (wire.TxResult, error) {
			env, rerr := registry.DecodeEnvelope(tx)
			if rerr != nil {
				t.Fatal(rerr)
			}
			plain, rerr := env.PlainBody()
			if rerr != nil {
				t.Fatal(rerr)
			}
			var body registry.Body
			var msg registry.AnchorLog
			if err := json.Unmarshal(plain, &body); err != nil || body.Kind != registry.KindAnchorLog {
				t.Fatalf("submitted %s (%v)", plain, err)
			}
			if err := json.Unmarshal(body.Msg, &msg); err != nil {
				t.Fatal(err)
			}
			w.ledger.Send(actor, registry.KindAnchorLog, msg)
			*sent++
			return wire.TxResult{Code: wire.ABCIOK, Height: w.ledger.Height()}, nil
		},
		PendingNonce: func(string) (uint64, bool) { return 0, false },
	}
}

// TestAnchorRule: the node anchors a log at its next turn only when an
// entry since its latest anchor names a grantee; anonymous growth (which
// anyone can make) is anchored once its oldest entry not anchored is a
// day old, so a stranger cannot make the chain grow by one transaction
// per dataset per anchor_every.
func TestAnchorRule(t *testing.T) {
	w := newDecideWorld(t, 1)
	svc := w.service(t, share.Options{})
	ctx := context.Background()
	sent := 0
	a := w.anchoring(t, "alice", &sent)
	appendEntry := func(grantee string) {
		t.Helper()
		e := accesslog.Entry{Dataset: flowID, Time: w.now.UTC().Format(time.RFC3339Nano), Method: "GET", Status: 200, Result: "served", Grantee: grantee}
		if grantee != "" {
			e.Key, e.Grant = apitest.PubKey(w.signer), 1
		}
		if _, err := svc.Log().Append(e); err != nil {
			t.Fatal(err)
		}
	}
	anchor := func(want uint64) {
		t.Helper()
		before := sent
		got, err := svc.AnchorAll(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case want == 0 && (len(got) != 0 || sent != before):
			t.Fatalf("anchored %+v, want nothing", got)
		case want != 0 && (len(got) != 1 || got[0].Entries != want || sent != before+1):
			t.Fatalf("anchored %+v, want one anchor of %d entries", got, want)
		}
	}
	for range 3 {
		appendEntry("")
	}
	for range 3 {
		anchor(0)
		w.now = w.now.Add(time.Hour)
	}
	w.now = w.now.Add(share.DefaultQuietAnchorEvery)
	anchor(3)
	anchor(0)
	appendEntry("")
	anchor(0)
	appendEntry(w.grantee)
	anchor(5)
	appendEntry("")
	anchor(0)
	if latest, ok, err := registry.LatestAnchor(w.ledger.Store().Latest(), flowID); err != nil || !ok || latest.Entries != 5 {
		t.Fatalf("the ledger's latest anchor %+v %v %v, want 5 entries", latest, ok, err)
	}
}

// TestAnchorWarnsOnce: a log the anchor key may not anchor (a mirror's,
// or another city's dataset) is warned of once by the loop, not at every
// turn.
func TestAnchorWarnsOnce(t *testing.T) {
	w := newDecideWorld(t, 1)
	svc := w.service(t, share.Options{})
	if _, err := svc.Log().Append(accesslog.Entry{Dataset: flowID, Method: "GET", Status: 200, Result: "served",
		Key: apitest.PubKey(w.signer), Grantee: w.grantee, Grant: 1}); err != nil {
		t.Fatal(err)
	}
	sent := 0
	a := w.anchoring(t, "bob", &sent) // bob administers another city
	var mu sync.Mutex
	var buf bytes.Buffer
	a.Logger = slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	svc.RunAnchoring(ctx, 10*time.Millisecond, a)
	mu.Lock()
	defer mu.Unlock()
	if n := strings.Count(buf.String(), "access log not anchored"); n != 1 || sent != 0 {
		t.Fatalf("%d warnings and %d anchors in 30 turns, want 1 and 0:\n%s", n, sent, buf.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestAnchoringHoldsALogThatLostAnchoredEntries: a log behind its latest
// anchor (entries lost: a disk repair, an old copy restored), or holding
// another entry at the anchored number, is never anchored again, is warned
// of, and refuses appends (fail closed) until it matches again: an entry
// appended would take an anchored number with another hash.
func TestAnchoringHoldsALogThatLostAnchoredEntries(t *testing.T) {
	w := newDecideWorld(t, 1)
	ctx := context.Background()
	sent := 0
	a := w.anchoring(t, "alice", &sent)
	var mu sync.Mutex
	var buf bytes.Buffer
	a.Logger = slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, nil))
	entry := func(remote string) accesslog.Entry {
		return accesslog.Entry{Dataset: flowID, Time: w.now.UTC().Format(time.RFC3339Nano), Method: "GET", Status: 200,
			Result: "served", Key: apitest.PubKey(w.signer), Grantee: w.grantee, Grant: 1, Remote: remote}
	}
	fill := func(svc *share.Service, remote string, n int) {
		t.Helper()
		for range n {
			if _, err := svc.Log().Append(entry(remote)); err != nil {
				t.Fatal(err)
			}
		}
	}
	orig := w.service(t, share.Options{})
	fill(orig, "origin", 3)
	if got, err := orig.AnchorAll(ctx, a); err != nil || len(got) != 1 || got[0].Entries != 3 {
		t.Fatalf("first anchor: %+v %v", got, err)
	}
	for _, c := range []struct {
		name    string
		entries int
		want    string
	}{
		{"behind its anchor", 1, "behind its latest anchor of 3"},
		{"another entry at the anchored number", 4, "does not hold its anchored entry 3"},
	} {
		t.Run(c.name, func(t *testing.T) {
			svc := w.service(t, share.Options{}) // a log of its own: the node's, after the loss
			fill(svc, "after the loss", c.entries)
			mu.Lock()
			buf.Reset()
			mu.Unlock()
			before := sent
			if err := svc.CheckAnchoredLogs(ctx, a); err != nil {
				t.Fatal(err)
			}
			if got, err := svc.AnchorAll(ctx, a); err != nil || len(got) != 0 || sent != before {
				t.Fatalf("anchored a log that lost anchored entries: %+v %v", got, err)
			}
			mu.Lock()
			logged := buf.String()
			mu.Unlock()
			if !strings.Contains(logged, "level=ERROR") || !strings.Contains(logged, "access log held") || !strings.Contains(logged, c.want) {
				t.Fatalf("warned:\n%s\nwant %q", logged, c.want)
			}
			if _, err := svc.Log().Append(entry("x")); !errors.Is(err, accesslog.ErrHeld) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("append to a held log: %v", err)
			}
			if _, err := svc.Log().AppendDeferred(entry("x")); !errors.Is(err, accesslog.ErrHeld) {
				t.Fatalf("deferred append to a held log: %v", err)
			}
		})
	}
	// The intact log is not held, and goes on being anchored.
	if err := orig.CheckAnchoredLogs(ctx, a); err != nil || orig.Log().Held(flowID) != nil {
		t.Fatalf("the intact log: %v, held %v", err, orig.Log().Held(flowID))
	}
	fill(orig, "origin", 1)
	if got, err := orig.AnchorAll(ctx, a); err != nil || len(got) != 1 || got[0].Entries != 4 {
		t.Fatalf("anchor of the intact log: %+v %v", got, err)
	}
}

// A log is held only against an anchor of its own key: an anchor another
// admin's key made (a standby node, a mirror whose key administers a node
// above) names another node's log, and a hold against it would last
// forever, since the ledger takes no lower anchor.
func TestAnchorOfAnotherKeyHoldsNothing(t *testing.T) {
	w := newDecideWorld(t, 1)
	ctx := context.Background()
	sent := 0
	// carol administers the dataset too, and anchors from her own node.
	w.ledger.Send("alice", registry.KindTransfer, registry.Transfer{ID: flowID, Admins: []string{apitest.PubKey("alice"), apitest.PubKey("carol")}})
	alice, carol := w.anchoring(t, "alice", &sent), w.anchoring(t, "carol", &sent)
	entry := accesslog.Entry{Dataset: flowID, Time: w.now.UTC().Format(time.RFC3339Nano), Method: "GET", Status: 200,
		Result: "served", Key: apitest.PubKey(w.signer), Grantee: w.grantee, Grant: 1, Remote: "x"}
	fill := func(svc *share.Service, n int) {
		t.Helper()
		for range n {
			if _, err := svc.Log().Append(entry); err != nil {
				t.Fatal(err)
			}
		}
	}
	other := w.service(t, share.Options{})
	fill(other, 5)
	if got, err := other.AnchorAll(ctx, carol); err != nil || len(got) != 1 || got[0].Entries != 5 {
		t.Fatalf("carol's anchor: %+v %v", got, err)
	}
	mine := w.service(t, share.Options{})
	fill(mine, 3)
	if err := mine.CheckAnchoredLogs(ctx, alice); err != nil {
		t.Fatal(err)
	}
	if held := mine.Log().Held(flowID); held != nil {
		t.Fatalf("alice's log was held against carol's anchor: %v", held)
	}
	if _, err := mine.Log().Append(entry); err != nil {
		t.Fatalf("append to alice's log: %v", err)
	}
}

// A log this node's key anchored and whose file is gone (the logs folder
// lost) is held: appended to, it would number entries from 1 again under
// anchored numbers.
func TestMissingAnchoredLogIsHeld(t *testing.T) {
	w := newDecideWorld(t, 1)
	ctx := context.Background()
	sent := 0
	a := w.anchoring(t, "alice", &sent)
	entry := accesslog.Entry{Dataset: flowID, Time: w.now.UTC().Format(time.RFC3339Nano), Method: "GET", Status: 200,
		Result: "served", Key: apitest.PubKey(w.signer), Grantee: w.grantee, Grant: 1, Remote: "x"}
	orig := w.service(t, share.Options{})
	for range 3 {
		if _, err := orig.Log().Append(entry); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := orig.AnchorAll(ctx, a); err != nil || len(got) != 1 {
		t.Fatalf("anchor: %+v %v", got, err)
	}
	lost := w.service(t, share.Options{}) // a logs folder of its own: empty
	if err := lost.CheckAnchoredLogs(ctx, a); err != nil {
		t.Fatal(err)
	}
	if held := lost.Log().Held(flowID); held == nil || !strings.Contains(held.Error(), "is missing") {
		t.Fatalf("the missing log: held %v, want held as missing", held)
	}
	if _, err := lost.Log().Append(entry); !errors.Is(err, accesslog.ErrHeld) {
		t.Fatalf("append to the missing log: %v, want it refused", err)
	}
	// Another key's node, which anchored none of it, holds nothing.
	other := w.service(t, share.Options{})
	if err := other.CheckAnchoredLogs(ctx, w.anchoring(t, "carol", &sent)); err != nil {
		t.Fatal(err)
	}
	if held := other.Log().Held(flowID); held != nil {
		t.Fatalf("a log another key anchored was held at a node without it: %v", held)
	}
}

// TestHeldLogRefusesRequests: while a dataset's log is held, every request
// for it that would be logged, let in or refused, is answered 503
// access_log_held and nothing is appended: it fails closed.
func TestHeldLogRefusesRequests(t *testing.T) {
	w := newWorld(t)
	if a := w.cell("owner's admin", "upload"); a.status >= 400 {
		t.Fatalf("upload: %s %s", a, a.body)
	}
	before, _, err := w.svc.Log().Head(w.dataset)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.svc.Log().Hold(w.dataset, errors.New("behind its latest anchor")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ who, action string }{
		{"grantee's admin", "download"},
		{"owner's admin", "read log"},
		{"another city's admin", "download"}, // a refusal, logged too
	} {
		if a := w.cell(c.who, c.action); a.status != http.StatusServiceUnavailable || a.code != wire.CodeAccessLogHeld {
			t.Errorf("%s %s on a held log: %s, want 503 %s", c.who, c.action, a, wire.CodeAccessLogHeld)
		}
	}
	if after, _, err := w.svc.Log().Head(w.dataset); err != nil || after != before {
		t.Fatalf("entries %d (%v) after held requests, want %d", after, err, before)
	}
}
