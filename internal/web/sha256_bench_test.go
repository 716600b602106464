package web_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cityid/cityid/internal/web/webtest"
)

// BenchmarkSHA256JS measures sha256.js, which the desk and the download
// feed a file's slices, against WebCrypto's one-shot digest of the same
// 64 MiB in the same run (the baseline: what the browser would take if
// it could hash a file whole, which it cannot without holding it in
// memory), in headless Chromium on a page of a real node. Both digests
// must agree. Run with go test ./internal/web -run XXX -bench SHA256JS.
func BenchmarkSHA256JS(b *testing.B) {
	br := webtest.Start(b)
	base, _ := startNode(b, "cityid-sha")
	tab := br.Tab(b, webtest.Screens()[0], 10*time.Minute)
	if err := chromedp.Do(tab, chromedp.Navigate(base+"/"), chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
		b.Fatal(err)
	}
	type result struct {
		JS, WebCrypto float64
		Same          bool
	}
	var js, wc float64
	for b.Loop() {
		r, err := chromedp.Run(tab, chromedp.Evaluate[result](`(async () => {
		  const { Sha256, SLICE } = await import('/static/sha256.js');
		  const buf = new Uint8Array(64 << 20);
		  for (let i = 0; i < buf.length; i += 4096) buf[i] = i & 255;
		  let t0 = performance.now();
		  const h = new Sha256();
		  for (let o = 0; o < buf.length; o += SLICE) h.update(buf.subarray(o, o + SLICE));
		  const a = h.hex();
		  const JS = performance.now() - t0;
		  t0 = performance.now();
		  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', buf));
		  const WebCrypto = performance.now() - t0;
		  return { JS, WebCrypto, Same: a === Array.from(d, (x) => x.toString(16).padStart(2, '0')).join('') };
		})()`, chromedp.EvalAwaitPromise))
		if err != nil {
			b.Fatal(err)
		}
		if !r.Same {
			b.Fatal("sha256.js and WebCrypto disagree")
		}
		js += r.JS
		wc += r.WebCrypto
	}
	mb := float64(64<<20) / 1e6 * float64(b.N)
	b.ReportMetric(mb/(js/1000), "MB/s-sha256.js")
	b.ReportMetric(mb/(wc/1000), "MB/s-webcrypto")
	b.ReportMetric(js/wc, "ratio")
	b.ReportMetric(0, "ns/op")
}
