package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/performance"
	"github.com/chromedp/chromedp"

	"github.com/cityid/cityid/internal/web/webtest"
)

// BenchmarkDeskHostileFile is what a hostile batch file costs the city
// desk's tab before it refuses the file: Chromium at a desktop's width,
// a fresh browser context each time, over loopback to a real node. The
// files: "huge-id", one row whose identifier is 30 MB long; "bad-rows",
// 1,000,000 rows, each with a wrong check character. It reports the
// time from pressing the button to the refusal on the page, and the
// tab's JavaScript heap then (JSHeapTotalSize: what the heap grew to,
// a floor of its peak). Run with
// go test ./internal/web -run XXX -bench DeskHostileFile -benchtime 3x.
func BenchmarkDeskHostileFile(b *testing.B) {
	br := webtest.Start(b)
	base := startPortalNode(b)
	dir := b.TempDir()
	var bad strings.Builder
	bad.WriteString("id,TEXT\n")
	for i := range 1_000_000 {
		fmt.Fprintf(&bad, "1561301009.85.1/m-%d,x\n", i)
	}
	files := []struct{ name, text, want string }{
		{"huge-id.csv", "id\n" + bCity + ".85.1/" + strings.Repeat("a", 30<<20) + "\n", "1 row of huge-id.csv has"},
		{"bad-rows.csv", bad.String(), "1000000 rows of bad-rows.csv have"},
	}
	for _, f := range files {
		path := filepath.Join(dir, f.name)
		if err := os.WriteFile(path, []byte(f.text), 0o600); err != nil {
			b.Fatal(err)
		}
		b.Run(strings.TrimSuffix(f.name, ".csv"), func(b *testing.B) {
			var took time.Duration
			var heap float64
			for b.Loop() {
				ctx, done := br.ColdTab(b, webtest.Screens()[0], 2*time.Minute)
				if err := chromedp.Do(ctx, chromedp.Navigate(base+"/desk"),
					chromedp.WaitEnabled(chromedp.CSS("fieldset#desk")),
					chromedp.SetUploadFiles(chromedp.CSS("#batch-file"), []string{path})); err != nil {
					done()
					b.Fatal(err)
				}
				start := time.Now()
				if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
					_, err := cdp.Call(ctx, tg, performance.Enable, performance.EnableParams{})
					return err
				}), chromedp.Click(chromedp.CSS("#batch button[type=submit]"))); err != nil {
					done()
					b.Fatal(err)
				}
				for {
					s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("desk-status").textContent`))
					if err != nil {
						done()
						b.Fatal(err)
					}
					if strings.Contains(s, f.want) {
						break
					}
					if strings.Contains(s, "Nothing was sent") || strings.Contains(s, "rror") {
						done()
						b.Fatalf("the desk says %q, want %q", s, f.want)
					}
					time.Sleep(10 * time.Millisecond)
				}
				took += time.Since(start)
				var metrics performance.GetMetricsResult
				err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
					var err error
					metrics, err = cdp.Call(ctx, tg, performance.GetMetrics, cdp.Empty{})
					return err
				}))
				done()
				if err != nil {
					b.Fatal(err)
				}
				for _, m := range metrics.Metrics {
					if m.Name == "JSHeapTotalSize" {
						heap += m.Value
					}
				}
			}
			runs := float64(b.N)
			b.ReportMetric(float64(took.Milliseconds())/runs, "ms-to-refusal")
			b.ReportMetric(heap/runs/(1<<20), "MiB-heap")
			b.ReportMetric(0, "ns/op")
		})
	}
}
