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

// batchCase is a file for both readers.
type batchCase struct {
	Name string `json:"name"`
	Text string `json:"text"`
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
		{"a.csv", "id,URL,TEXT\n1561301001.85.1/a,https://x.example/?a=1&b=2,\"quoted, with comma\"\n1561301001.85.1/b,,\"line\nbreak \"\"q\"\"\"\r\n\r\n1561301001.85.1/c\n"},
		{"bom.csv", "\ufeffid,text\r\n1561301001.85.1/a,Meter 1\r\n"},
		{"types.CSV", "id, url ,ns:Name,geo\n x ,u,n,38.04\n"},
		{"trailing.csv", "id,text,\nx,a,\n"},
		{"trailing-value.csv", "id,text,\nx,a,b\n"},
		{"extra.csv", "id,text\nx,a,b\n"},
		{"bare.csv", "id,text\nx,a\"b\n"},
		{"unclosed.csv", "id,text\nx,\"ab\n"},
		{"after-quote.csv", "id,text\nx,\"ab\"c\n"},
		{"no-id.csv", "id,text\n ,a\n"},
		{"header.csv", "name,text\nx,a\n"},
		{"empty.csv", ""},
		{"only-header.csv", "id,text\n"},
		{"cr-eof.csv", "id,text\nx,\"a\"\r"},
		{"lone-cr.csv", "id,text\nx,a\rb\n"},
		{"a.json", `[{"id":"1561301001.85.1/a","values":[{"type":"URL","data":"https://x"}],"admins":["` + strings.Repeat("ab", 32) + `"]},{"id":"b"}]`},
		{"bad.json", `[{"id":"a","extra":1}]`},
		{"two.json", `[{"id":"a"}][]`},
		{"noid.json", `[{"values":[]}]`},
		{"notype.json", `[{"id":"a","values":[{"data":"x"}]}]`},
	}
	// The client's own fuzz corpus, and random text.
	corpus, err := filepath.Glob("../../client/testdata/fuzz/FuzzParseBatchFile/*")
	if err != nil {
		t.Fatal(err)
	}
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
		cases = append(cases, batchCase{name, text})
	}
	r := rand.New(rand.NewPCG(11, 12))
	for range 300 {
		cases = append(cases, batchCase{"random.csv", randomCSV(r)})
		cases = append(cases, batchCase{"rows.csv", rowsCSV(r)})
	}

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
	read, refused := 0, 0
	for i, c := range cases {
		var js struct {
			Entries []entry `json:"entries"`
			Error   string  `json:"error"`
		}
		if err := json.Unmarshal(got[i], &js); err != nil {
			t.Fatalf("case %d: %v: %s", i, err, got[i])
		}
		goEntries, goErr := client.ParseBatchFile(c.Name, []byte(c.Text))
		if (goErr != nil) != (js.Error != "") {
			t.Errorf("%s %q: Go says %v, batch.js %q", c.Name, c.Text, goErr, js.Error)
			continue
		}
		if goErr != nil {
			if !strings.HasPrefix(js.Error, "BatchFileError: ") {
				t.Errorf("%s %q: batch.js failed with %s", c.Name, c.Text, js.Error)
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
	if read < 50 || refused < 50 {
		t.Errorf("the cases read %d files and refused %d: too few of one to compare", read, refused)
	}
	t.Logf("batch.js and Go agree on %d files read and %d refused", read, refused)
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
