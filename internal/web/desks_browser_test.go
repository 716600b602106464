package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cityid/cityid/client"
	"github.com/cityid/cityid/internal/keyring"
	"github.com/cityid/cityid/internal/node"
	"github.com/cityid/cityid/internal/web/webtest"
)

// openDesk opens a desk's page and waits until its script has enabled
// its controls.
func (p *person) openDesk(path string) {
	p.t.Helper()
	p.open(path)
	p.do("wait for "+path+"'s script", chromedp.WaitEnabled(chromedp.CSS("fieldset#desk")))
}

// fill sets a form control's value, as typing it would end.
func (p *person) fill(sel, value string) {
	p.t.Helper()
	p.do("fill "+sel, chromedp.WaitReady(chromedp.CSS(sel)), chromedp.SetValue(chromedp.CSS(sel), value))
}

// choose picks the key named name in a key chooser, once the page has
// filled it from the browser's keys.
func (p *person) choose(sel, name string) {
	p.t.Helper()
	p.do("choose "+name+" in "+sel, chromedp.WaitReady(chromedp.CSS(sel+` option[value="`+name+`"]`)), chromedp.SetValue(chromedp.CSS(sel), name))
}

// press clicks a button that does not leave the page.
func (p *person) press(sel string) {
	p.t.Helper()
	p.do("press "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
}

// TestDesksInBrowser is the portal's story in Chromium against a real
// node: a city's IT office makes a key in the browser and applies for
// its code; the authority's member imports the operator's key file and
// approves; the city registers a sector, a unit and an identifier, and
// uploads a CSV file of 12,000 rows in which line 7,001 names that
// identifier again: the upload stops there, saying so, and resumes
// without it; two tabs editing one record meet a version race, told as
// one. The ledger is checked through the Go client at the end.
func TestDesksInBrowser(t *testing.T) {
	b := webtest.Start(t)
	base, home := startNode(t, "cityid-desks")
	ctx := b.Tab(t, webtest.Screens()[0], 3*time.Minute)
	console := webtest.WatchConsole(ctx)
	webtest.AcceptDialogs(ctx, "closed for works")
	p := &person{t: t, ctx: ctx, base: base}
	shots := *screenshots
	if shots == "" {
		shots = t.TempDir()
	}
	shot := func(name string) {
		t.Helper()
		if _, err := webtest.SaveScreenshot(ctx, shots, name+"-desktop", true); err != nil {
			t.Error(err)
		}
	}
	const city = "1561301001"
	const unit = city + ".36.1"
	const main1 = unit + "/main-0001"

	// The city's key, made in the browser.
	p.openDesk("/keys")
	p.fill("#key-new-name", "city-it")
	p.press("#key-new button[type=submit]")
	p.see("#desk-status", "Key city-it made")
	p.see("#key-list", "city-it")
	// The operator's key, imported from a backup of the node's (its key
	// file is encrypted at rest: cityid keys export writes the backup).
	backup, pass := operatorBackup(t, home)
	p.do("upload the key's backup", chromedp.SetUploadFiles(chromedp.CSS("#key-import-file"), []string{backup}))
	p.fill("#key-import-pass", pass)
	p.press("#key-import button[type=submit]")
	p.see("#desk-status", "Key "+node.OperatorKey+" imported")
	opKey, err := node.LoadKey(home, node.OperatorKey)
	if err != nil {
		t.Fatal(err)
	}
	p.see("#key-list", opKey.Public())
	p.accessible()
	shot("keys")

	// The application, signed in the browser.
	p.openDesk("/apply")
	p.choose("#apply-key", "city-it")
	p.fill("#apply-country", "156")
	p.fill("#apply-number", "130100")
	p.fill("#apply-name", "石家庄市")
	p.fill("#apply-name-en", "Shijiazhuang")
	p.fill("#apply-locode", "CNSJW")
	p.press("#apply button[type=submit]")
	p.see("#desk-status", "Committed at height")
	p.see("#apply-facts", "pending")
	p.see("#apply-facts", "0 / 1")
	p.accessible()
	shot("apply")

	// The authority's desk: approved with the imported key.
	p.openDesk("/authority")
	p.choose("#authority-key", node.OperatorKey)
	p.see("#applications", "石家庄市")
	p.press(`[data-application="1"] button.approve`)
	p.see("#desk-status", "Committed at height")
	p.see("#applications", "No application waits")
	p.accessible()

	// The explorer: the application approved, its votes, and the block
	// and transaction of the approval, decoded.
	p.open("/explorer")
	p.see("#applications", "石家庄市")
	p.click(`a[href="/applications/1"]`)
	p.see("#app-status", "approved")
	p.see("#app-votes", "1 / 1")
	p.see("#app-vote-list", opKey.Public())
	p.click("#app-vote-list a[href^='/blocks/']")
	p.see("#block-txs", "approve_application")
	p.click("#block-txs a.id")
	p.see("#tx-kind", "approve_application")
	p.see("#tx-result", "ok")
	p.see("#tx-msg", `"application": 1`)
	p.accessible()
	shot("tx")

	// The city's desk: a sector, a unit, an identifier.
	p.openDesk("/desk")
	p.choose("#desk-key", "city-it")
	p.fill("#reg-sector-id", city+".36")
	p.press("#reg-sector button[type=submit]")
	p.see("#desk-status", "Committed at height")
	p.fill("#reg-unit-parent", city+".36")
	p.fill("#reg-unit-name", "Water Supply")
	p.press("#reg-unit button[type=submit]")
	p.see("#desk-status", "Unit "+unit)
	p.fill("#reg-id-id", main1)
	p.fill("#reg-id .value-row:nth-of-type(1) input", "https://water.example/main-0001")
	p.press("#reg-id button[type=submit]")
	p.see("#desk-status", "Committed at height")

	// A CSV file of 12,000 meters; line 7,001 names main-0001, taken.
	const rows = 12_000
	var csv strings.Builder
	csv.WriteString("id,TEXT,GEO\n")
	for i := 1; i <= rows; i++ {
		id := fmt.Sprintf("%s/m-%05d", unit, i)
		if i == 7000 {
			id = main1
		}
		fmt.Fprintf(&csv, "%s,Meter %d,\"38.%04d,114.5\"\n", id, i, i)
	}
	file := filepath.Join(t.TempDir(), "meters.csv")
	if err := os.WriteFile(file, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	// The same file with three rows mistyped: a check character at line
	// 9,001, a unit at line 11,001 and line 2's meter again at the last
	// line. The desk lists them before anything is signed, and sends
	// nothing.
	typo := strings.Replace(csv.String(), "\n"+unit+"/m-09000,", "\n1561301007.36.1/m-09000,", 1)
	typo = strings.Replace(typo, "\n"+unit+"/m-11000,", "\n"+unit+",", 1)
	typo = strings.Replace(typo, "\n"+unit+"/m-12000,", "\n"+unit+"/M-00001,", 1)
	typoFile := filepath.Join(t.TempDir(), "meters-typo.csv")
	if err := os.WriteFile(typoFile, []byte(typo), 0o600); err != nil {
		t.Fatal(err)
	}
	sent := `performance.getEntriesByType("resource").filter((e) => e.name.endsWith("/v1/txs")).length`
	before := p.eval(sent)
	p.do("choose the mistyped file", chromedp.SetUploadFiles(chromedp.CSS("#batch-file"), []string{typoFile}))
	p.press("#batch button[type=submit]")
	p.see("#desk-status", "Nothing was sent: 3 rows of meters-typo.csv have an identifier that cannot be registered (listed below)")
	p.see("#batch-check tbody tr:nth-child(1)", "9001")
	p.see("#batch-check tbody tr:nth-child(1)", "1561301007.36.1/m-09000")
	p.see("#batch-check tbody tr:nth-child(1)", "(bad_check_char)")
	p.see("#batch-check tbody tr:nth-child(1)", "check character is 7, want 1")
	p.see("#batch-check tbody tr:nth-child(1) td:nth-child(4)", "10")
	p.see("#batch-check tbody tr:nth-child(1) mark", "7")
	p.see("#batch-check tbody tr:nth-child(2)", "11001")
	p.see("#batch-check tbody tr:nth-child(2)", "(not_an_object)")
	p.see("#batch-check tbody tr:nth-child(3)", "12001")
	p.see("#batch-check tbody tr:nth-child(3)", "meters-typo.csv line 2 too")
	p.count("#batch-check tbody tr", 3)
	p.accessible()
	shot("desk-batch-check")
	if after := p.eval(sent); after != before {
		t.Errorf("the desk sent %v transactions for a file it refused", after.(float64)-before.(float64))
	}
	reader, err := client.New(base)
	if err != nil {
		t.Fatal(err)
	}
	cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
	page, err := reader.Children(cctx, unit, "", 10)
	ccancel()
	if err != nil || len(page.Children) != 1 {
		t.Fatalf("%s's children after the refused file: %+v %v; want %s alone", unit, page, err, main1)
	}
	// The file corrected: the check passes, and the upload begins.
	p.do("choose the CSV file", chromedp.SetUploadFiles(chromedp.CSS("#batch-file"), []string{file}))
	p.press("#batch button[type=submit]")
	p.see("#desk-status", "Line 7001 ("+main1+") was refused")
	p.see("#batch-count", "5000 / 12000")
	p.press("#batch-resume")
	p.see("#desk-status", "Done: 11999 identifiers written")
	p.see("#batch-report", "7001")
	p.see("#batch-count", "12000 / 12000 rows settled · 1 refused")
	if v := p.eval(`document.getElementById("batch-check").hidden`); v != true {
		t.Errorf("the list of the mistyped file's rows is still shown: hidden=%v", v)
	}
	p.accessible()
	shot("desk")

	// A spreadsheet's CSV saved in GBK, as in a Chinese locale: its
	// identifiers are ASCII, its text "水表" (water meter) is not UTF-8
	// from line 3. The desk refuses it with the CLI's message and line,
	// says how to save it, and sends nothing; the same rows saved as
	// UTF-8 (with the BOM Excel writes) go through, their text whole.
	const water = "\xcb\xae\xb1\xed" // 水表 in GBK
	gbkCSV := "id,TEXT\r\n" + unit + "/gbk-1,Meter 1\r\n" + unit + "/gbk-2," + water + " 2\r\n" + unit + "/gbk-3," + water + " 3\r\n"
	gbkFile := filepath.Join(t.TempDir(), "meters-gbk.csv")
	utf8File := filepath.Join(t.TempDir(), "meters-utf8.csv")
	if err := os.WriteFile(gbkFile, []byte(gbkCSV), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(utf8File, []byte("\ufeff"+strings.ReplaceAll(gbkCSV, water, "水表")), 0o600); err != nil {
		t.Fatal(err)
	}
	_, gbkErr := client.ReadBatchFile(gbkFile)
	if gbkErr == nil || !strings.Contains(gbkErr.Error(), "line 3 ") {
		t.Fatalf("the CLI reads the GBK file: %v", gbkErr)
	}
	before = p.eval(sent)
	p.do("choose the GBK file", chromedp.SetUploadFiles(chromedp.CSS("#batch-file"), []string{gbkFile}))
	p.press("#batch button[type=submit]")
	p.see("#desk-status", "Nothing was sent: "+strings.TrimPrefix(gbkErr.Error(), filepath.Dir(gbkFile)+"/"))
	p.see("#desk-status", `Save As "CSV UTF-8 (Comma delimited)"`)
	if after := p.eval(sent); after != before {
		t.Errorf("the desk sent %v transactions for a file that is not UTF-8", after.(float64)-before.(float64))
	}
	p.do("choose the UTF-8 file", chromedp.SetUploadFiles(chromedp.CSS("#batch-file"), []string{utf8File}))
	p.press("#batch button[type=submit]")
	p.see("#desk-status", "Done: 3 identifiers written")
	one := filepath.Join(t.TempDir(), "one-meter.csv")
	if err := os.WriteFile(one, []byte("id,TEXT\n"+unit+"/one-1,Meter\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p.do("choose a file of one row", chromedp.SetUploadFiles(chromedp.CSS("#batch-file"), []string{one}))
	p.press("#batch button[type=submit]")
	p.see("#desk-status", "Done: 1 identifier written.")

	// A hostile file's identifiers, one of a megabyte: each bad row
	// shows its identifier clipped around the mark, not whole.
	hostile := filepath.Join(t.TempDir(), "hostile.csv")
	if err := os.WriteFile(hostile, []byte("id\n"+unit+"/"+strings.Repeat("a", 1<<20)+"!\n"+unit+"/"+strings.Repeat("b", 300)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p.do("choose the hostile file", chromedp.SetUploadFiles(chromedp.CSS("#batch-file"), []string{hostile}))
	p.press("#batch button[type=submit]")
	p.see("#desk-status", "Nothing was sent: 2 rows of hostile.csv have")
	p.see("#batch-check tbody tr:nth-child(1) mark", "!")
	p.see("#batch-check tbody tr:nth-child(2) mark", "b")
	for row, want := range []string{"…" + strings.Repeat("a", 100) + "!", unit + "/" + strings.Repeat("b", 165) + "…"} {
		got := p.eval(fmt.Sprintf(`document.querySelector("#batch-check tbody tr:nth-child(%d) code").textContent`, row+1))
		if got != want {
			t.Errorf("bad row %d shows its identifier as %q, want %q", row+1, clip(fmt.Sprint(got)), want)
		}
	}

	p.open("/labels?id=" + main1 + "," + unit + "/m-00001," + unit + "/m-00002," + unit + "/m-99999")
	p.see("#sheet", "Water Supply")
	shot("labels")
	p.open("/explorer")
	p.see("#blocks", "")
	shot("explorer")

	// A saved answer checked on /verify; the same with its record
	// changed is NOT VERIFIED.
	resp, err := http.Get(base + "/v1/ids/" + main1 + "?proof=true")
	if err != nil {
		t.Fatal(err)
	}
	saved, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET the answer: %d %v", resp.StatusCode, err)
	}
	good := filepath.Join(t.TempDir(), "answer.json")
	bad := filepath.Join(t.TempDir(), "altered.json")
	if err := os.WriteFile(good, saved, 0o600); err != nil {
		t.Fatal(err)
	}
	altered := bytes.Replace(saved, []byte("https://water.example/main-0001"), []byte("https://water.example/main-0002"), 1)
	if bytes.Equal(altered, saved) {
		t.Fatalf("the answer does not hold the value to alter: %s", saved)
	}
	if err := os.WriteFile(bad, altered, 0o600); err != nil {
		t.Fatal(err)
	}
	p.open("/verify")
	p.do("wait for /verify's script", chromedp.WaitEnabled(chromedp.CSS("#verify fieldset")))
	p.do("choose the answer", chromedp.SetUploadFiles(chromedp.CSS("#verify-file"), []string{good}))
	p.press("#verify button[type=submit]")
	p.see("#verify-result", main1+": Verified at height")
	p.accessible()
	shot("verify")
	p.do("choose the altered answer", chromedp.SetUploadFiles(chromedp.CSS("#verify-file"), []string{bad}))
	p.press("#verify button[type=submit]")
	p.see("#verify-result", "NOT VERIFIED")

	// The trust root: its QR code, and the page it opens pins the root
	// after checking it; one whose hash the header does not have is not.
	p.open("/trust")
	p.see("#trust-root", "cityid-desks")
	shot("trust")
	p.count(`img[src^="/v1/trust/qr.svg?height="]`, 1)
	p.click("#trust-link")
	p.do("wait for /trust's script", chromedp.WaitEnabled(chromedp.CSS("#trust-pin")))
	p.see("#trust-result", "This browser trusts chain cityid-desks")
	p.press("#trust-pin")
	p.see("#trust-result", "Trusted: this browser checks every answer of chain cityid-desks")
	p.accessible()
	loc, err := chromedp.Run(p.ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	root := u.Query()
	hash := root.Get("hash")
	if hash[0] == '0' {
		root.Set("hash", "1"+hash[1:])
	} else {
		root.Set("hash", "0"+hash[1:])
	}
	p.open("/trust?" + root.Encode())
	p.do("wait for /trust's script", chromedp.WaitEnabled(chromedp.CSS("#trust-pin")))
	p.press("#trust-pin")
	p.see("#trust-result", "NOT PINNED")

	// A version race: a second tab saves first.
	other := b.Tab(t, webtest.Screens()[0], time.Minute)
	q := &person{t: t, ctx: other, base: base}
	for _, who := range []*person{p, q} {
		who.openDesk("/desk")
		who.choose("#desk-key", "city-it")
		who.fill("#edit-id", main1)
		who.press("#edit-load button[type=submit]")
		who.see("#edit-version", "1 (active)")
	}
	q.fill("#edit-values .value-row input", "https://water.example/main-0001/v2")
	q.press("#edit button[type=submit]")
	q.see("#desk-status", "Committed at height")
	q.see("#edit-version", "2 (active)")
	p.fill("#edit-values .value-row input", "https://water.example/main-0001/mine")
	p.press("#edit button[type=submit]")
	p.see("#desk-status", "Someone changed this record since you loaded it")

	// A grant of a record with no dataset is refused, and said so; the
	// record is transferred to the operator's key (the city's key keeps
	// its rights over it as the city's admin).
	p.fill("#grant-dataset", main1)
	p.fill("#grant-grantee", city)
	p.fill("#grant-expires", "2030-01-01")
	p.press("#grant button[type=submit]")
	p.see("#desk-status", "Refused")
	p.fill("#transfer-id", main1)
	p.fill("#transfer-admins", opKey.Public())
	p.press("#transfer button[type=submit]")
	p.see("#desk-status", "Committed at height")
	p.press("#edit-load button[type=submit]")
	p.see("#edit-version", "3 (active)")

	// A dataset value, public, added by the new admin; the desk keeps it,
	// public still, when it saves an edit of the other values.
	octx, ocancel := context.WithTimeout(context.Background(), time.Minute)
	defer ocancel()
	_, opSend := operator(octx, t, base, home)
	opSend(client.KindUpdate, client.Update{ID: main1, Version: 3, Values: []client.Value{
		{Type: client.TypeURL, Data: "https://water.example/main-0001/v2"},
		{Type: client.TypeData, Dataset: &client.Dataset{URI: "https://water.example/pressure.csv", SHA256: strings.Repeat("ab", 32), Size: 4096, MediaType: "text/csv", Public: true}},
	}})
	p.press("#edit-load button[type=submit]")
	p.see("#edit-version", "4 (active)")
	p.see("#edit-values", "kept as it is")
	p.fill("#edit-values .value-row input", "https://water.example/main-0001/v5")
	p.press("#edit button[type=submit]")
	p.see("#edit-version", "5 (active)")

	// On a phone: every desk fits the screen, nothing scrolls sideways.
	phone := &person{t: t, ctx: b.Tab(t, webtest.Screens()[1], time.Minute), base: base}
	for _, page := range []string{"/keys", "/apply", "/authority", "/desk", "/explorer", "/verify", "/trust", "/labels?id=" + main1} {
		phone.open(page)
		phone.do("wait for "+page, chromedp.WaitReady(chromedp.CSS("main h1")))
		phone.fits()
	}
	for _, page := range []string{"/desk", "/keys"} {
		phone.open(page)
		if _, err := webtest.SaveScreenshot(phone.ctx, shots, strings.TrimPrefix(page, "/")+"-phone", true); err != nil {
			t.Error(err)
		}
	}
	// The mistyped file's rows fit a phone too, in Chinese; the check
	// needs no key.
	phone.openDesk("/desk?lang=zh")
	phone.do("choose the mistyped file", chromedp.SetUploadFiles(chromedp.CSS("#batch-file"), []string{typoFile}))
	phone.press("#batch button[type=submit]")
	phone.see("#desk-status", "未发送任何内容：meters-typo.csv 中有 3 行的标识无法登记")
	phone.see("#batch-check tbody tr:nth-child(1)", "校验码与前九位数字不符")
	phone.see("#batch-check tbody tr:nth-child(1)", "9001")
	phone.fits()
	if _, err := webtest.SaveScreenshot(phone.ctx, shots, "desk-batch-check-phone", true); err != nil {
		t.Error(err)
	}
	phone.do("choose the GBK file", chromedp.SetUploadFiles(chromedp.CSS("#batch-file"), []string{gbkFile}))
	phone.press("#batch button[type=submit]")
	phone.see("#desk-status", "未发送任何内容：meters-gbk.csv line 3 is not UTF-8 text")
	phone.see("#desk-status", "在 Excel 中“另存为”选择“CSV UTF-8(逗号分隔)”")

	for _, m := range console.Take() {
		if strings.Contains(m, "Content Security Policy") || strings.Contains(m, "Refused to") || strings.Contains(strings.ToLower(m), "exception") {
			t.Errorf("console: %s", m)
		}
	}

	// The ledger: every row once, the record as the desk left it, its
	// dataset kept, and its admin as the transfer made it.
	c, err := client.New(base)
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n := 0
	for after := ""; ; {
		page, err := c.Children(rctx, unit, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Children)
		if after = page.Next; after == "" {
			break
		}
	}
	if want := rows + 4; n != want { // 11,999 rows, main-0001, the 3 rows of meters-utf8.csv and one-meter.csv's
		t.Errorf("%s has %d children, want %d", unit, n, want)
	}
	ans, err := c.Resolve(rctx, main1)
	if err != nil || ans.Record.Version != 5 || ans.Record.Values[0].Data != "https://water.example/main-0001/v5" || len(ans.Record.Values) != 2 ||
		ans.Record.Values[1].Dataset == nil || ans.Record.Values[1].Dataset.Size != 4096 || !ans.Record.Values[1].Dataset.Public || len(ans.Record.Admins) != 1 || ans.Record.Admins[0] != opKey.Public() {
		t.Errorf("%s: %+v %v", main1, ans.Record, err)
	}
	if ans, err := c.Resolve(rctx, unit+"/m-12000"); err != nil || ans.Record.Values[0].Data != "Meter 12000" {
		t.Errorf("the last row: %+v %v", ans.Record, err)
	}
	if ans, err := c.Resolve(rctx, unit+"/gbk-2"); err != nil || ans.Record.Values[0].Data != "水表 2" {
		t.Errorf("meters-utf8.csv's second row: %+v %v", ans.Record, err)
	}
}

// operatorBackup writes a backup of home's operator key, as `cityid keys
// export operator` does, and returns its path and passphrase.
func operatorBackup(t *testing.T, home string) (string, string) {
	t.Helper()
	k, err := node.LoadKey(home, node.OperatorKey)
	if err != nil {
		t.Fatal(err)
	}
	const pass = "operator's backup"
	b, err := keyring.Backup(k, pass, 100_000) // the least a backup may have: the test's time
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "operator.cityid-key.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, pass
}
