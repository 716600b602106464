package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"

	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/store"
	"github.com/cityid/cityid/verify"
)

// go test -bench entry points for the per-resolve figures of (d) and the
// serving path of (e), one request at a time, at 10,000 identifiers (and
// 100,000, built on first use: a few seconds):
//
//	go test ./internal/bench -run XXX -bench 'Proof|Verify|Resolve|Bare' -benchtime 2s
//
// `cityid bench --only resolve,serve` gives the figures at 1,000,000 and
// under concurrent load.

var benchScales = []int{10_000, 100_000}

// BenchmarkProof is the server's work for one resolve with proof:
// View.Proof of a random record (value and ICS23 existence proof) and the
// proof's encoding.
func BenchmarkProof(b *testing.B) {
	for _, n := range benchScales {
		b.Run(fmt.Sprintf("ids=%d", n), func(b *testing.B) {
			view, dir := benchView(b, n), testStates(b).Directory()
			rng := rand.New(rand.NewPCG(1, 1))
			for b.Loop() {
				_, p, err := view.Proof(registry.RecordKey(dir.ID(rng.IntN(n))))
				if err == nil {
					_, err = p.Marshal()
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerify is the client's check of one resolve's proof:
// verify.Decode and verify.Existence against the app hash.
func BenchmarkVerify(b *testing.B) {
	for _, n := range benchScales {
		b.Run(fmt.Sprintf("ids=%d", n), func(b *testing.B) {
			view, dir := benchView(b, n), testStates(b).Directory()
			rng := rand.New(rand.NewPCG(1, 2))
			type proved struct{ key, value, proof []byte }
			ps := make([]proved, 1000)
			for i := range ps {
				key := registry.RecordKey(dir.ID(rng.IntN(n)))
				v, p, err := view.Proof(key)
				if err != nil {
					b.Fatal(err)
				}
				enc, err := p.Marshal()
				if err != nil {
					b.Fatal(err)
				}
				ps[i] = proved{key, v, enc}
			}
			root := view.Hash()
			i := 0
			for b.Loop() {
				p := ps[i%len(ps)]
				i++
				cp, err := verify.Decode(verify.ProofType, p.proof)
				if err == nil {
					err = verify.Existence(root, p.key, p.value, cp)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkResolve is one resolve over loopback, one at a time, through
// the node's front ends: GET /v1/ids (with and without proof), GET
// /api/handles, and a DNS TXT query.
func BenchmarkResolve(b *testing.B) {
	for _, n := range benchScales {
		st := benchState(b, n)
		f, err := InProcess(context.Background(), ServeSpec{Store: st.Dir})
		if err != nil {
			b.Fatal(err)
		}
		dir := testStates(b).Directory()
		hc, done := newHTTPClient(1)
		for _, c := range []struct {
			name string
			req  requester
		}{
			{"http", &httpRequester{client: hc, base: "http://" + f.HTTP, want: http.StatusOK,
				path: func(rng *rand.Rand) string { return "/v1/ids/" + dir.ID(rng.IntN(n)) }}},
			{"http-proof", &httpRequester{client: hc, base: "http://" + f.HTTP, want: http.StatusOK,
				path: func(rng *rand.Rand) string { return "/v1/ids/" + dir.ID(rng.IntN(n)) + "?proof=true" }}},
			{"handle", &httpRequester{client: hc, base: "http://" + f.HTTP, want: http.StatusOK,
				path: func(rng *rand.Rand) string { return "/api/handles/" + dir.ID(rng.IntN(n)) }}},
		} {
			b.Run(fmt.Sprintf("ids=%d/%s", n, c.name), func(b *testing.B) { benchRequests(b, c.req) })
		}
		d, err := newDNSRequester(f.DNS, func(rng *rand.Rand) string { return dir.Parsed(rng.IntN(n)).DNSName(benchZone) })
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("ids=%d/dns", n), func(b *testing.B) { benchRequests(b, d) })
		d.close()
		done()
		f.Stop()
	}
}

// BenchmarkBare is the same request against the bare servers of (e),
// answering a real answer's bytes: the ceiling.
func BenchmarkBare(b *testing.B) {
	st := benchState(b, benchScales[0])
	f, err := InProcess(context.Background(), ServeSpec{Store: st.Dir})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Stop()
	dir := testStates(b).Directory()
	body, err := fetch("http://"+f.HTTP+"/v1/ids/"+dir.ID(0), http.StatusOK)
	if err != nil {
		b.Fatal(err)
	}
	txt, err := askTXT(f.DNS, dir.Parsed(0).DNSName(benchZone))
	if err != nil {
		b.Fatal(err)
	}
	bh, err := startBareHTTP(body)
	if err != nil {
		b.Fatal(err)
	}
	defer bh.stop()
	bd, err := startBareDNS(txt.Answer)
	if err != nil {
		b.Fatal(err)
	}
	defer bd.stop()
	hc, done := newHTTPClient(1)
	defer done()
	n := benchScales[0]
	b.Run("http", func(b *testing.B) {
		benchRequests(b, &httpRequester{client: hc, base: "http://" + bh.Addr, want: http.StatusOK,
			path: func(rng *rand.Rand) string { return "/v1/ids/" + dir.ID(rng.IntN(n)) }})
	})
	d, err := newDNSRequester(bd.Addr, func(rng *rand.Rand) string { return dir.Parsed(rng.IntN(n)).DNSName(benchZone) })
	if err != nil {
		b.Fatal(err)
	}
	defer d.close()
	b.Run("dns", func(b *testing.B) { benchRequests(b, d) })
}

func benchRequests(b *testing.B, r requester) {
	rng := rand.New(rand.NewPCG(3, 4))
	bytes := 0
	for b.Loop() {
		n, err := r.do(rng)
		if err != nil {
			b.Fatal(err)
		}
		bytes = n
	}
	b.SetBytes(int64(bytes))
}

// benchView opens the state of n identifiers for reading until the
// benchmark ends.
func benchView(b *testing.B, n int) *store.View {
	b.Helper()
	st, err := benchState(b, n).open()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st.Latest()
}

func benchState(b *testing.B, n int) *BuiltState {
	b.Helper()
	st, err := testStates(b).Get(context.Background(), n)
	if err != nil {
		b.Fatal(err)
	}
	return st
}
