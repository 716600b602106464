package web_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cityid/cityid/client"
	"github.com/cityid/cityid/internal/keyring"
)

// runBatchJS runs testdata/batch.mjs in mode on input and returns its
// lines.
func runBatchJS(t *testing.T, mode string, input any) [][]byte {
	t.Helper()
	bin := nodeBinary(t)
	b, err := json.Marshal(input)
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(t.TempDir(), "input.json")
	if err := os.WriteFile(in, b, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "testdata/batch.mjs", mode, in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node testdata/batch.mjs %s: %v\n%s", mode, err, stderr.Bytes())
	}
	var lines [][]byte
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<26)
	for sc.Scan() {
		lines = append(lines, append([]byte(nil), sc.Bytes()...))
	}
	return lines
}

// batchCase is a file for both readers: its text, or its bytes when
// they need not be UTF-8 (batch.js then reads them as the desk reads a
// file, through decodeBatchFile).
type batchCase struct {
	Name  string `json:"name"`
	Text  string `json:"text"`
	Bytes []byte `json:"bytes,omitempty"`
}

// file is the case's bytes, as the CLI reads them.
func (c batchCase) file() []byte {
	if c.Bytes != nil {
		return c.Bytes
	}
	return []byte(c.Text)
}

// gbk is "水表" (a water meter) in GBK, as a spreadsheet in a Chinese
// locale saves a CSV file: the bytes are not UTF-8.
const gbk = "\xcb\xae\xb1\xed"

// notUTF8Cases are files that are not UTF-8 text, each at a known line:
// GBK text, a bad byte after a BOM or a quoted line break, the sequences
// UTF-8 forbids (overlong, a surrogate, past U+10FFFF, a lone
// continuation byte, a character cut by a line's end or the file's);
// and files that are UTF-8 though they look odd (a U+FFFD written as
// such, two BOMs, four-byte characters). Then random UTF-8 files with
// bytes changed at random.
func notUTF8Cases(r *rand.Rand) []batchCase {
	cases := []batchCase{
		{Name: "gbk.csv", Bytes: []byte("id,TEXT\n1561301001.85.1/m-1," + gbk + " 1\n1561301001.85.1/m-2," + gbk + " 2\n")},
		{Name: "gbk-header.csv", Bytes: []byte("id,\xce\xc4\xb1\xbe\n")},
		{Name: "bom.csv", Bytes: []byte("\xef\xbb\xbfid,TEXT\r\n1561301001.85.1/m-1,a\r\n\r\n1561301001.85.1/m-2,\xff\r\n")},
		{Name: "quoted.csv", Bytes: []byte("id,TEXT\n1561301001.85.1/m-1,\"a\nb\nc\"\n1561301001.85.1/m-2,\xc0\x80\n")},
		{Name: "surrogate.csv", Bytes: []byte("id,TEXT\nx,\xed\xa0\x80\n")},
		{Name: "big.csv", Bytes: []byte("id,TEXT\nx,\xf4\x90\x80\x80\n")},
		{Name: "lone.csv", Bytes: []byte("id,TEXT\nx,a\x80\n")},
		{Name: "cut.csv", Bytes: []byte("id,TEXT\nx,\xe6\xb0\ny,a\n")},
		{Name: "cut-eof.csv", Bytes: []byte("id,TEXT\nx,\xf0\x9f\x98")},
		{Name: "gbk.json", Bytes: []byte("[\n{\"id\":\"1561301001.85.1/m-1\",\n\"values\":[{\"type\":\"TEXT\",\"data\":\"" + gbk + "\"}]}]")},
		{Name: "fffd.csv", Bytes: []byte("id,TEXT\nx,\xef\xbf\xbd\n")},
		{Name: "two-boms.csv", Bytes: []byte("\xef\xbb\xbf\xef\xbb\xbfid,TEXT\nx,a\n")},
		{Name: "emoji.csv", Bytes: []byte("id,TEXT\nx,\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\n")},
	}
	for range 200 {
		b := []byte(rowsCSV(r))
		for range r.IntN(3) {
			b[r.IntN(len(b))] = byte(0x80 + r.IntN(0x80))
		}
		cases = append(cases, batchCase{Name: "bytes.csv", Bytes: b})
	}
	return cases
}

// randomCSV is text made of what CSV readers disagree on: quotes, commas,
// line ends of every kind, spaces Unicode's and not, a byte order mark,
// types with and without a namespace.
func randomCSV(r *rand.Rand) string {
	tokens := []string{"a", "é", "水", `"`, `""`, ",", "\n", "\r\n", "\r", " ", "\u00a0", "\ufeff", "\u2028", "x:y", "url", "ß", "1561301001.85.1/m-", "7", "\t"}
	var b strings.Builder
	if r.IntN(4) > 0 {
		b.WriteString([]string{"id,url,text", "ID , Text,ns:name", "\ufeffid,TEXT", " id,geo,", "id"}[r.IntN(5)])
		b.WriteString([]string{"\n", "\r\n"}[r.IntN(2)])
	}
	for range r.IntN(40) {
		b.WriteString(tokens[r.IntN(len(tokens))])
	}
	return b.String()
}

// rowsCSV is a file a spreadsheet could have saved: a header and rows of
// cells made of randomCSV's pieces, quoted where they must be (and
// sometimes where they need not), with line ends of both kinds.
func rowsCSV(r *rand.Rand) string {
	pieces := []string{"a", "é", "水", `"`, ",", "\n", "\r\n", " ", "\u00a0", "\ufeff", "x:y", "ß", "1561301001.85.1/m-", "7", "\t", ""}
	cell := func() string {
		var b strings.Builder
		for range r.IntN(4) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		s := b.String()
		if strings.ContainsAny(s, "\",\r\n") || r.IntN(5) == 0 {
			s = `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
		}
		return s
	}
	eol := []string{"\n", "\r\n"}[r.IntN(2)]
	var b strings.Builder
	b.WriteString([]string{"id,text,url", "ID,ns:name,Text,", "\ufeffid , geo"}[r.IntN(3)] + eol)
	for range 1 + r.IntN(5) {
		row := []string{"1561301001.85.1/m-" + strconv.Itoa(r.IntN(100))}
		for range r.IntN(4) {
			row = append(row, cell())
		}
		b.WriteString(strings.Join(row, ",") + eol)
		if r.IntN(6) == 0 {
			b.WriteString(eol) // an empty line
		}
	}
	return b.String()
}

// TestBatchFileJSAgreesWithGo: batch.js reads every batch file as the
// CLI's client.ParseBatchFile does: the same entries, or a refusal from
// both.
func TestBatchFileJSAgreesWithGo(t *testing.T) {
	cases := []batchCase{
		{Name: "a.csv", Text: "id,URL,TEXT\n1561301001.85.1/a,https://x.example/?a=1&b=2,\"quoted, with comma\"\n1561301001.85.1/b,,\"line\nbreak \"\"q\"\"\"\r\n\r\n1561301001.85.1/c\n"},
		{Name: "bom.csv", Text: "\ufeffid,text\r\n1561301001.85.1/a,Meter 1\r\n"},
		{Name: "types.CSV", Text: "id, url ,ns:Name,geo\n x ,u,n,38.04\n"},
		{Name: "trailing.csv", Text: "id,text,\nx,a,\n"},
		{Name: "trailing-value.csv", Text: "id,text,\nx,a,b\n"},
		{Name: "extra.csv", Text: "id,text\nx,a,b\n"},
		{Name: "bare.csv", Text: "id,text\nx,a\"b\n"},
		{Name: "unclosed.csv", Text: "id,text\nx,\"ab\n"},
		{Name: "after-quote.csv", Text: "id,text\nx,\"ab\"c\n"},
		{Name: "no-id.csv", Text: "id,text\n ,a\n"},
		{Name: "header.csv", Text: "name,text\nx,a\n"},
		{Name: "empty.csv", Text: ""},
		{Name: "only-header.csv", Text: "id,text\n"},
		{Name: "cr-eof.csv", Text: "id,text\nx,\"a\"\r"},
		{Name: "lone-cr.csv", Text: "id,text\nx,a\rb\n"},
		{Name: "a.json", Text: `[{"id":"1561301001.85.1/a","values":[{"type":"URL","data":"https://x"}],"admins":["` + strings.Repeat("ab", 32) + `"]},{"id":"b"}]`},
		{Name: "bad.json", Text: `[{"id":"a","extra":1}]`},
		{Name: "two.json", Text: `[{"id":"a"}][]`},
		{Name: "noid.json", Text: `[{"values":[]}]`},
		{Name: "notype.json", Text: `[{"id":"a","values":[{"data":"x"}]}]`},
	}
	// The client's own fuzz corpus, and random text.
	for _, c := range batchFuzzCorpus(t) {
		// As bytes: some of the corpus is not UTF-8, which a JSON
		// string would carry as U+FFFD.
		cases = append(cases, batchCase{Name: c.Name, Bytes: []byte(c.Text)})
	}
	r := rand.New(rand.NewPCG(11, 12))
	for range 300 {
		cases = append(cases, batchCase{Name: "random.csv", Text: randomCSV(r)})
		cases = append(cases, batchCase{Name: "rows.csv", Text: rowsCSV(r)})
	}
	cases = append(cases, notUTF8Cases(r)...)

	got := runBatchJS(t, "parse", cases)
	if len(got) != len(cases) {
		t.Fatalf("batch.js answered %d cases of %d", len(got), len(cases))
	}
	type value struct {
		Type string `json:"type"`
		Data string `json:"data"`
	}
	type entry struct {
		ID     string   `json:"id"`
		Values []value  `json:"values"`
		Admins []string `json:"admins,omitempty"`
	}
	read, refused, notUTF8 := 0, 0, 0
	for i, c := range cases {
		var js struct {
			Entries []entry `json:"entries"`
			Error   string  `json:"error"`
		}
		if err := json.Unmarshal(got[i], &js); err != nil {
			t.Fatalf("case %d: %v: %s", i, err, got[i])
		}
		goEntries, goErr := client.ParseBatchFile(c.Name, c.file())
		if (goErr != nil) != (js.Error != "") {
			t.Errorf("%s %q: Go says %v, batch.js %q", c.Name, c.file(), goErr, js.Error)
			continue
		}
		if goErr != nil {
			if !strings.HasPrefix(js.Error, "BatchFileError: ") {
				t.Errorf("%s %q: batch.js failed with %s", c.Name, c.file(), js.Error)
			}
			// Go's words, and its line, for a file that is not UTF-8.
			if strings.Contains(goErr.Error(), "is not UTF-8 text") || strings.Contains(js.Error, "is not UTF-8 text") {
				if js.Error != "BatchFileError: "+goErr.Error() {
					t.Errorf("%s %q:\nbatch.js %s\nGo       %v", c.Name, c.file(), js.Error, goErr)
				}
				notUTF8++
			}
			refused++
			continue
		}
		var want []entry
		for _, e := range goEntries {
			w := entry{ID: e.ID, Values: []value{}, Admins: e.Admins}
			for _, v := range e.Values {
				w.Values = append(w.Values, value{v.Type, v.Data})
			}
			want = append(want, w)
		}
		wb, _ := json.Marshal(want)
		gb, _ := json.Marshal(js.Entries)
		if !bytes.Equal(wb, gb) {
			t.Errorf("%s %q:\nbatch.js read %s\nGo read       %s", c.Name, c.Text, gb, wb)
		}
		read++
	}
	if read < 50 || refused < 50 || notUTF8 < 50 {
		t.Errorf("the cases read %d files and refused %d, %d as not UTF-8: too few of one to compare", read, refused, notUTF8)
	}
	t.Logf("batch.js and Go agree on %d files read and %d refused, %d as not UTF-8", read, refused, notUTF8)
}

// TestBatchUploadResumes uploads a CSV file of 12,000 rows to a real node
// with batch.js, as the portal's city desk does: the row at line 7,001
// names an identifier already taken, so its batch is refused and the
// upload stops there, naming the line; it goes on from a state that knew
// only the first batch's hash (a page closed before its answer) without
// sending that batch again, skips the refused row, and writes the rest;
// a third run sends nothing.
func TestBatchUploadResumes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	base, home := startNode(t, "cityid-batch")
	c, send := operator(ctx, t, base, home)
	seed := bytes.Repeat([]byte{7}, ed25519.SeedSize)
	browserKey := keyring.Key{Private: ed25519.NewKeyFromSeed(seed)}.Public()
	app := send(client.KindApplyCity, client.ApplyCity{Country: "156", CityNumber: "130100", Name: "石家庄市"})
	city := send(client.KindApproveApplication, client.Decision{Application: app.Application, Hash: app.Hash}).CityCode
	send(client.KindRegisterSector, client.RegisterSector{ID: city + ".36"})
	unit := send(client.KindRegisterUnit, client.RegisterUnit{Parent: city + ".36", Name: "Water Supply", Admins: []string{browserKey}}).ID
	taken := unit + "/m-07000"
	send(client.KindRegister, client.Register{ID: taken, Values: []client.Value{{Type: client.TypeText, Data: "registered before"}}})

	const rows = 12_000
	var csv strings.Builder
	csv.WriteString("id,TEXT,GEO\n")
	for i := 1; i <= rows; i++ {
		fmt.Fprintf(&csv, "%s/m-%05d,Meter %d,\"38.%04d,114.5\"\n", unit, i, i, i%10000)
	}
	lines := runBatchJS(t, "upload", map[string]any{
		"base": base, "chain_id": "cityid-batch", "seed": fmt.Sprintf("%x", seed), "csv": csv.String(),
		"steps": []map[string]any{{"skip_refused": false}, {"skip_refused": true, "replay_first": true}, {"skip_refused": true}},
	})
	type progress struct {
		Done int    `json:"done"`
		Hash string `json:"hash"`
	}
	type step struct {
		OK      bool `json:"ok"`
		Refused *struct {
			Line int    `json:"line"`
			ID   string `json:"id"`
			Code string `json:"code"`
		} `json:"refused"`
		State struct {
			Done    int `json:"done"`
			Skipped []struct {
				Line   int    `json:"line"`
				ID     string `json:"id"`
				Code   string `json:"code"`
				Detail string `json:"detail"`
			} `json:"skipped"`
		} `json:"state"`
		Progress []progress `json:"progress"`
		Error    string     `json:"error"`
	}
	var steps []step
	for _, l := range lines {
		var s step
		if err := json.Unmarshal(l, &s); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		steps = append(steps, s)
	}
	if len(steps) != 3 {
		t.Fatalf("batch.mjs ran %d steps: %s", len(steps), bytes.Join(lines, []byte("\n")))
	}
	// 1: the first batch written, the second refused at line 7,001.
	s := steps[0]
	if s.Error != "" || s.OK || s.Refused == nil || s.Refused.Line != 7001 || s.Refused.ID != taken || s.State.Done != 5000 || len(s.Progress) != 1 {
		t.Fatalf("the first upload: %s", lines[0])
	}
	// 2: from the first batch's hash alone: no batch sent twice (that
	// would be refused: its identifiers are taken), the refused row
	// skipped, the rest written.
	s = steps[1]
	if s.Error != "" || !s.OK || s.State.Done != rows || len(s.State.Skipped) != 1 || s.State.Skipped[0].Line != 7001 || s.State.Skipped[0].ID != taken {
		t.Fatalf("the resumed upload: %s", lines[1])
	}
	if !strings.Contains(s.State.Skipped[0].Detail, "m-07000") {
		t.Errorf("the refusal does not name the row's identifier: %+v", s.State.Skipped[0])
	}
	// The refusal skipped (no hash), then two batches of 5,000 rows and
	// the rest: 5,001-10,001 less the refused row, 10,002-12,000.
	if len(s.Progress) != 3 || s.Progress[0].Hash != "" || s.Progress[1].Done != 10001 || s.Progress[1].Hash == "" || s.Progress[2].Done != rows || s.Progress[2].Hash == "" {
		t.Errorf("the resumed upload went %+v", s.Progress)
	}
	// 3: nothing left to send.
	if s := steps[2]; s.Error != "" || !s.OK || len(s.Progress) != 0 {
		t.Errorf("a third upload: %s", lines[2])
	}

	// Every row is on the ledger once: the taken one as it was.
	n := 0
	for after := ""; ; {
		page, err := c.Children(ctx, unit, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Children)
		if after = page.Next; after == "" {
			break
		}
	}
	if n != rows {
		t.Errorf("%s has %d children, want %d", unit, n, rows)
	}
	for _, i := range []int{1, 5000, 5001, 6999, 7001, 10000, 10001, rows} {
		ans, err := c.Resolve(ctx, fmt.Sprintf("%s/m-%05d", unit, i))
		if err != nil || len(ans.Record.Values) != 2 || ans.Record.Values[0].Data != fmt.Sprintf("Meter %d", i) {
			t.Errorf("row %d: %+v %v", i, ans.Record, err)
		}
	}
	if ans, err := c.Resolve(ctx, taken); err != nil || ans.Record.Values[0].Data != "registered before" {
		t.Errorf("%s was overwritten: %+v %v", taken, ans.Record, err)
	}
}

// batchFuzzCorpus is the client's fuzz corpus of batch files
// (FuzzParseBatchFile): each entry's text, named corpus.csv or
// corpus.json as the fuzz target reads it.
func batchFuzzCorpus(t *testing.T) []batchCase {
	t.Helper()
	corpus, err := filepath.Glob("../../client/testdata/fuzz/FuzzParseBatchFile/*")
	if err != nil {
		t.Fatal(err)
	}
	var out []batchCase
	for _, f := range corpus {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(b), "\n")
		if len(lines) < 3 || !strings.HasPrefix(lines[2], "[]byte(") {
			continue
		}
		text, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[2], "[]byte("), ")"))
		if err != nil {
			continue
		}
		name := "corpus.json"
		if lines[1] == "bool(true)" {
			name = "corpus.csv"
		}
		out = append(out, batchCase{Name: name, Text: text})
	}
	if len(out) == 0 {
		t.Fatal("the client's fuzz corpus of batch files is empty or unreadable")
	}
	return out
}
