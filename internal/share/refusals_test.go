package share_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cityid/cityid/httpsig"
	"github.com/cityid/cityid/internal/accesslog"
	"github.com/cityid/cityid/internal/api"
	"github.com/cityid/cityid/internal/apitest"
	"github.com/cityid/cityid/internal/share"
	"github.com/cityid/cityid/internal/wire"
)

// refusalWorld is the node's data routes (the API's real handler) over a
// ledger with a private dataset, keeping every city's datasets, so that a
// refused request for it is logged, with bytes and logs in a temp dir.
// The per-address rate limits are off: they bound what one address
// sends, and many addresses send as much as they like.
func refusalWorld(tb testing.TB) (*decideWorld, *share.Service, http.Handler) {
	tb.Helper()
	w := newDecideWorld(tb, 1)
	svc := w.service(tb, share.Options{Cities: []string{"*"}})
	return w, svc, api.New(w.ledger.Backend(), api.Options{Data: svc, Limits: &api.Limits{}})
}

// anonymous is a request for the private dataset with no signature: what
// anyone can send, refused signature_required.
func anonymous() *http.Request {
	r := httptest.NewRequest(http.MethodGet, wire.DataPath+flowID, nil)
	r.Host = decideHost
	return r
}

// Anyone, with no key, can send requests that are refused; each is in the
// dataset's log, but none costs an fsync of its own: a stream of them
// fsyncs about once a second (accesslog.DeferredSyncEvery), and a
// request let in is still fsynced before its answer, with every refusal
// before it.
func TestRefusalsAreNotFsyncedEach(t *testing.T) {
	w, svc, h := refusalWorld(t)
	const n = 300
	start, began := svc.Log().Syncs(), time.Now()
	for i := range n {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, anonymous())
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("anonymous request %d: %d, want 401", i, rec.Code)
		}
	}
	// The first line of a new log is fsynced with its folder; after it,
	// about one fsync a second of the stream at most.
	if got, most := svc.Log().Syncs()-start, 2+uint64(time.Since(began)/accesslog.DeferredSyncEvery); got > most {
		t.Fatalf("%d refused requests in %v cost %d fsyncs, want at most %d", n, time.Since(began), got, most)
	}
	// The owner reads the log: the page shows the refusals, and the
	// read's own entry is fsynced before the answer.
	before := svc.Log().Syncs()
	signed, _ := http.NewRequest(http.MethodGet, "http://"+decideHost+wire.AccessLogPath+flowID, nil)
	p := httpsig.Params{Label: "sig1", Components: httpsig.DefaultComponents(), KeyID: apitest.PubKey("alice"), Alg: httpsig.Alg,
		Created: w.now.Add(-time.Second), Nonce: "log-read", Tag: wire.SignatureTag}
	if err := httpsig.SignParams(signed, apitest.Key("alice"), p); err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, wire.AccessLogPath+flowID, nil)
	r.Host = decideHost
	r.Header.Set("Signature-Input", signed.Header.Get("Signature-Input"))
	r.Header.Set("Signature", signed.Header.Get("Signature"))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != http.StatusOK {
		t.Fatalf("the owner's log read: %d %s", rec.Code, rec.Body)
	}
	var page accesslog.Page
	if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil || page.Entries != n || len(page.Items) != 100 {
		t.Fatalf("the page read after %d refusals: %d entries, %d items, %v; want %d, a page of 100", n, page.Entries, len(page.Items), err, n)
	}
	// One fsync to show the refusals in the page, one for the read's
	// own entry.
	if svc.Log().Syncs()-before != 2 {
		t.Errorf("a log read after %d refusals cost %d fsyncs, want 2", n, svc.Log().Syncs()-before)
	}
	st, err := svc.Log().Status(flowID)
	if err != nil || st.Entries != n+1 {
		t.Fatalf("the log after %d refusals and a read: %+v %v, want %d entries", n, st, err, n+1)
	}
	es, err := svc.Log().Entries(flowID, 0, n+1)
	if err != nil || len(es) != n+1 || es[0].Result != wire.CodeSignatureRequired || es[n].Result != "log_read" || !accesslog.Verify(es, nil).OK {
		t.Fatalf("the log: %d entries, %v", len(es), err)
	}
}

// BenchmarkRefusedRequests: what a request that is refused costs the
// node, through the API's handler, with the access log on a real disk
// (the test's temp dir): ns/op and the log's fsyncs per request.
//
//	go test -run '^$' -bench RefusedRequests -benchtime 2000x ./internal/share/
func BenchmarkRefusedRequests(b *testing.B) {
	_, svc, h := refusalWorld(b)
	reqs := make([]*http.Request, b.N)
	for i := range reqs {
		reqs[i] = anonymous()
	}
	// The log's file exists before the clock starts.
	h.ServeHTTP(httptest.NewRecorder(), anonymous())
	start := svc.Log().Syncs()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, reqs[i])
		if rec.Code != http.StatusUnauthorized {
			b.Fatalf("%d, want 401", rec.Code)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(svc.Log().Syncs()-start)/float64(b.N), "syncs/op")
}

// A node that stops closes its access logs (Service.Close): the lines of
// refusals still waiting for their fsync are made durable then, not left
// to the timer of a process about to exit.
func TestCloseSyncsDeferredRefusals(t *testing.T) {
	_, svc, h := refusalWorld(t)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, anonymous())
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("anonymous request: %d, want 401", rec.Code)
	}
	before, began := svc.Log().Syncs(), time.Now()
	if err := svc.Close(); err != nil {
		t.Fatal(err)
	}
	if got := svc.Log().Syncs() - before; got == 0 && time.Since(began) < accesslog.DeferredSyncEvery {
		t.Errorf("Close left the refusal's line to the timer: %d fsyncs", got)
	}
}
