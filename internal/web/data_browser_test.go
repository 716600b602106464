package web_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"

	"github.com/cityid/cityid/client"
	"github.com/cityid/cityid/httpsig"
	"github.com/cityid/cityid/internal/node"
	"github.com/cityid/cityid/internal/web/webtest"
)

// openDataset waits, on a dataset's page just opened, for its script to
// enable the controls and for the badge's verdict, whose lines move the
// buttons down: a click before would land where a button was.
func (p *person) openDataset() {
	p.t.Helper()
	p.do("wait for the dataset's script and the badge", chromedp.WaitEnabled(chromedp.CSS("#dataset-controls")), chromedp.WaitVisible(chromedp.CSS("#badge[data-verdict]")))
}

// TestDataInBrowser is data sharing in the portal, in Chromium against a
// real node: the city's admin puts a 20 MiB file from the desk (its
// SHA-256 computed in the browser, the DATA value registered, the bytes
// sent in signed chunks, resuming an upload the CLI's side began); on the
// dataset's page a key of no node with a grant is refused in words, the
// admin's download is checked against the proved SHA-256 before it is
// offered, the access log read in the browser verifies against the
// anchor the ledger holds, and bytes altered on the node's disk are never
// offered.
func TestDataInBrowser(t *testing.T) {
	b := webtest.Start(t)
	base, home := startNode(t, "cityid-data")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, send := operator(ctx, t, base, home)
	const city = "1561301001"
	app := send(client.KindApplyCity, client.ApplyCity{Country: "156", CityNumber: "130100", Name: "石家庄市", NameEn: "Shijiazhuang"})
	send(client.KindApproveApplication, client.Decision{Application: app.Application, Hash: app.Hash})
	send(client.KindRegisterSector, client.RegisterSector{ID: city + ".85"})
	unit := send(client.KindRegisterUnit, client.RegisterUnit{Parent: city + ".85", Name: "水务局"}).ID
	flow := unit + "/flow"
	opKey, err := node.LoadKey(home, node.OperatorKey)
	if err != nil {
		t.Fatal(err)
	}

	// The file, and the start of its upload made as the CLI makes it:
	// the DATA value the desk will compute, and the first 16 MiB chunk.
	const size = 20 << 20
	const chunk = 16 << 20 // data.js's UPLOAD_CHUNK
	content := make([]byte, size)
	rng := rand.New(rand.NewPCG(20, 26))
	for i := range content {
		content[i] = byte(rng.Uint32())
	}
	sum := sha256.Sum256(content)
	sumHex := hex.EncodeToString(sum[:])
	file := filepath.Join(t.TempDir(), "flow.bin")
	if err := os.WriteFile(file, content, 0o600); err != nil {
		t.Fatal(err)
	}
	send(client.KindRegister, client.Register{ID: flow, Values: []client.Value{{Type: client.TypeData,
		Dataset: &client.Dataset{URI: base + "/v1/data/" + flow, SHA256: sumHex, Size: size, MediaType: "application/octet-stream"}}}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, base+"/v1/data/"+flow, bytes.NewReader(content[:chunk]))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Range", fmt.Sprintf("bytes 0-%d/%d", chunk-1, size))
	if err := (httpsig.Signer{KeyID: opKey.Public(), Key: opKey.Private, Tag: "cityid"}).Sign(req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusPermanentRedirect {
		t.Fatalf("the first chunk: %s", resp.Status)
	}

	tab := b.Tab(t, webtest.Screens()[0], 3*time.Minute)
	console := webtest.WatchConsole(tab)
	p := &person{t: t, ctx: tab, base: base}

	// Keys: the city's (the operator's key file) and a stranger's.
	p.openDesk("/keys")
	backup, pass := operatorBackup(t, home)
	p.do("upload the key's backup", chromedp.SetUploadFiles(chromedp.CSS("#key-import-file"), []string{backup}))
	p.fill("#key-import-pass", pass)
	p.press("#key-import button[type=submit]")
	p.see("#desk-status", "Key "+node.OperatorKey+" imported")
	p.fill("#key-new-name", "stranger")
	p.press("#key-new button[type=submit]")
	p.see("#desk-status", "Key stranger made")

	// The desk: the same file and identifier: the DATA value is already
	// the file's, so nothing is signed but the upload, which resumes at
	// 16 MiB.
	p.openDesk("/desk")
	p.choose("#desk-key", node.OperatorKey)
	p.fill("#data-put-id", flow)
	p.do("choose the file", chromedp.SetUploadFiles(chromedp.CSS("#data-put-file"), []string{file}))
	p.press("#data-put button[type=submit]")
	p.see("#desk-status", fmt.Sprintf("Uploaded: the node holds the %d bytes of %s, SHA-256 %s", size, flow, sumHex))
	p.see("#data-put-count", fmt.Sprintf("%d / %d", size, size))
	p.accessible()
	page, err := c.AccessLog(ctx, opKey.Private, flow, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var puts []string
	for _, e := range page.Items {
		if e.Method == http.MethodPut {
			puts = append(puts, e.Range+" "+e.Result)
		}
	}
	want := []string{fmt.Sprintf("bytes 0-%d/%d uploading", chunk-1, size), fmt.Sprintf("bytes */%d upload_status", size), fmt.Sprintf("bytes %d-%d/%d uploaded", chunk, size-1, size)}
	if strings.Join(puts, "\n") != strings.Join(want, "\n") {
		t.Errorf("the uploads the node logged:\n%s\nwant (the desk resuming at %d):\n%s", strings.Join(puts, "\n"), chunk, strings.Join(want, "\n"))
	}

	// A second file, public, from the desk: the DATA value is updated
	// (signed in the browser) and the whole sent.
	small := []byte("station,flow\nA,12.5\nB,7\n")
	smallFile := filepath.Join(t.TempDir(), "stations.csv")
	if err := os.WriteFile(smallFile, small, 0o600); err != nil {
		t.Fatal(err)
	}
	pub := unit + "/stations"
	p.fill("#data-put-id", pub)
	p.do("choose the CSV file", chromedp.SetUploadFiles(chromedp.CSS("#data-put-file"), []string{smallFile}))
	p.do("tick public", chromedp.Click(chromedp.CSS("#data-put-public")))
	p.press("#data-put button[type=submit]")
	smallSum := sha256.Sum256(small)
	p.see("#desk-status", "Uploaded: the node holds the 24 bytes of "+pub+", SHA-256 "+hex.EncodeToString(smallSum[:]))
	ans, err := c.Resolve(ctx, pub)
	if err != nil || len(ans.Record.Values) != 1 || ans.Record.Values[0].Dataset == nil {
		t.Fatalf("%s: %+v %v", pub, ans.Record, err)
	}
	if ds := *ans.Record.Values[0].Dataset; ds != (client.Dataset{URI: base + "/v1/data/" + pub, SHA256: hex.EncodeToString(smallSum[:]), Size: 24, MediaType: "text/csv", Public: true}) {
		t.Errorf("the desk registered %+v", ds)
	}

	// A record with other values: the desk adds a DATA value by an
	// update and keeps the others as they were.
	meters := unit + "/meters"
	send(client.KindRegister, client.Register{ID: meters, Values: []client.Value{{Type: client.TypeText, Data: "Meter list 水"}, {Type: client.TypeURL, Data: "https://water.example/meters"}}})
	p.fill("#data-put-id", meters)
	p.press("#data-put button[type=submit]")
	p.see("#desk-status", "Uploaded: the node holds the 24 bytes of "+meters)
	ans, err = c.Resolve(ctx, meters)
	if err != nil || ans.Record.Version != 2 || len(ans.Record.Values) != 3 || ans.Record.Values[0].Data != "Meter list 水" || ans.Record.Values[1].Data != "https://water.example/meters" ||
		ans.Record.Values[2].Dataset == nil || ans.Record.Values[2].Dataset.SHA256 != hex.EncodeToString(smallSum[:]) || ans.Record.Values[2].Index != 3 {
		t.Errorf("%s after the desk's upload: %+v %v", meters, ans.Record, err)
	}

	// The public dataset's page: downloaded with no key, verified.
	p.open("/ids/" + pub)
	p.openDataset()
	p.choose("#dataset-key", "")
	p.press("#data-get")
	p.see("#data-status", "Verified: 24 bytes, SHA-256 "+hex.EncodeToString(smallSum[:]))
	p.see("#data-save", "Save stations.csv")

	// The dataset that is not public: a stranger's key is refused and
	// told why; the admin's download is offered once verified.
	p.open("/ids/" + flow)
	p.openDataset()
	p.choose("#dataset-key", "")
	p.press("#data-get")
	p.see("#data-status", "the dataset is not public: choose a key to sign with (signature_required)")
	p.choose("#dataset-key", "stranger")
	p.press("#data-get")
	p.see("#data-status", "no grant: this key's node holds no grant for the dataset")
	if v := p.eval(`document.getElementById('data-save').hidden`); v != true {
		t.Errorf("a refused download offers a file to save")
	}
	p.choose("#dataset-key", node.OperatorKey)
	p.press("#data-get")
	p.see("#data-status", fmt.Sprintf("Verified: %d bytes, SHA-256 %s, as the ledger says at height", size, sumHex))
	p.see("#data-status", "Access log receipt: seq=")
	p.see("#data-save", fmt.Sprintf("Save flow (%d bytes)", size))
	// Saved as a person saves it: the file is the one the ledger names.
	downloads := t.TempDir()
	p.do("allow downloads", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads})
		return err
	}))
	p.press("#data-save")
	saved := filepath.Join(downloads, "flow")
	for deadline := time.Now().Add(stepTimeout); ; {
		if fi, err := os.Stat(saved); err == nil && fi.Size() == size {
			break
		}
		if time.Now().After(deadline) {
			entries, _ := os.ReadDir(downloads)
			t.Fatalf("no %d-byte file saved in %s: %v", size, downloads, entries)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if b, err := os.ReadFile(saved); err != nil || !bytes.Equal(b, content) {
		t.Errorf("the file saved is not the dataset's bytes (%v)", err)
	}

	// The access log, read and checked in the browser: before any
	// anchor, then anchored on the ledger by the admin.
	p.press("#data-log")
	p.see("#data-log-verdict", "The ledger proves no anchor yet.")
	page, err = c.AccessLog(ctx, opKey.Private, flow, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	send(client.KindAnchorLog, client.AnchorLog{Dataset: flow, Entries: page.Entries, Head: page.Head})
	p.press("#data-log")
	p.see("#data-log-verdict", fmt.Sprintf("Chain whole: %d entries", page.Entries+1)) // and this read
	if v := p.eval(`document.getElementById('data-log-verdict').dataset.verdict`); v != "ok" {
		t.Errorf("the log's verdict is %v", v)
	}
	p.see("#data-log-verdict", fmt.Sprintf("1 anchor on the ledger, every one the entry it names (anchored through entry %d)", page.Entries))
	p.see("#data-log-verdict", fmt.Sprintf("The latest anchor, %d entries, is proved on the ledger at height", page.Entries))
	// Every request let in with a key, this read among them, had its
	// signature checked in the browser.
	letIn := 1
	for _, e := range page.Items {
		if e.Key != "" && e.Status < 400 {
			letIn++
		}
	}
	if letIn < 3 {
		t.Fatalf("the log holds %d requests let in with a key: the test wants the upload's and the download's", letIn)
	}
	p.see("#data-log-verdict", fmt.Sprintf("%d requests let in, each signed by the key it names", letIn))
	p.see("#data-log-table", "no_grant")
	p.see("#data-log-table", "upload_status")
	p.accessible()
	if *screenshots != "" {
		if _, err := webtest.SaveScreenshot(tab, *screenshots, "dataset-desktop", true); err != nil {
			t.Error(err)
		}
	}
	// On a phone the page and its log fit the screen (the log's table
	// scrolls inside its box).
	phone := &person{t: t, ctx: b.Tab(t, webtest.Screens()[1], time.Minute), base: base}
	phone.open("/ids/" + flow)
	phone.openDataset()
	phone.choose("#dataset-key", node.OperatorKey)
	phone.press("#data-log")
	phone.see("#data-log-verdict", "Chain whole")
	phone.fits()
	if *screenshots != "" {
		if _, err := webtest.SaveScreenshot(phone.ctx, *screenshots, "dataset-phone", true); err != nil {
			t.Error(err)
		}
	}
	phone.open("/desk")
	phone.fits()

	// Bytes altered on the node's disk: the answer is cut short, and the
	// browser offers nothing.
	blobs, err := filepath.Glob(filepath.Join(home, "datasets", "bytes", "blobs", "sha256", sumHex))
	if err != nil || len(blobs) != 1 {
		t.Fatalf("the stored bytes: %v %v", blobs, err)
	}
	altered := bytes.Clone(content)
	altered[size/2] ^= 1
	if err := os.WriteFile(blobs[0], altered, 0o600); err != nil {
		t.Fatal(err)
	}
	p.press("#data-get")
	p.see("#data-status.bad", "")
	if v := p.eval(`document.getElementById('data-save').hidden`); v != true {
		t.Errorf("altered bytes were offered: %v", p.eval(`document.getElementById('data-status').textContent`))
	}
	t.Logf("altered bytes: %v", p.eval(`document.getElementById('data-status').textContent`))

	// In Chinese.
	p.open("/ids/" + flow + "?lang=zh")
	p.see("#dataset-h", "数据集内容")
	p.openDataset()
	p.choose("#dataset-key", "stranger")
	p.press("#data-get")
	p.see("#data-status", "无授权")
	p.accessible()
	p.open("/ids/" + flow + "?lang=en")

	for _, m := range console.Take() {
		if strings.Contains(m, "Content Security Policy") || strings.Contains(m, "Refused to") || strings.Contains(strings.ToLower(m), "exception") {
			t.Errorf("console: %s", m)
		}
	}
}
