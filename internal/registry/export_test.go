package registry

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cityid/cityid/internal/store"
)

// exportWorld is newBlockWorld with every kind of state entry: besides its
// cities, records, grant and pending applications and proposals, a record
// updated (history), a grant revoked and a dataset's log anchored twice.
func exportWorld(t testing.TB) *blockWorld {
	t.Helper()
	w := newBlockWorld(t)
	h, ua := w.h, w.unitAdmin
	h.mustApply(t, ua.tx(t, KindUpdate, M{"id": w.object, "version": 1, "values": []M{{"type": "URL", "data": "https://school-0042.sjz.example/new"}}}))
	h.mustApply(t, ua.tx(t, KindAnchorLog, M{"dataset": w.dataset, "entries": 3, "head": head(3)}))
	h.mustApply(t, ua.tx(t, KindAnchorLog, M{"dataset": w.dataset, "entries": 7, "head": head(7)}))
	h.mustApply(t, ua.tx(t, KindRegister, M{"id": w.unit + "/records", "values": []M{{"type": "DATA", "dataset": goodDataset()}}}))
	h.mustApply(t, ua.tx(t, KindGrantAccess, M{"dataset": w.unit + "/records", "grantee": w.grantee, "expires": "2030-01-01T00:00:00Z"}))
	h.mustApply(t, ua.tx(t, KindRevokeAccess, M{"dataset": w.unit + "/records", "grantee": w.grantee}))
	h.mustApply(t, ua.tx(t, KindRegister, M{"id": w.unit, "allocate": true, "values": []M{{"type": "TEXT", "data": "allocated"}}}))
	// Paris, whose city number is allocated (seq/city/250), issued: the
	// Nanjing application stays pending, with one approval.
	h.mustApply(t, approve(t, h.members[0], w.parisApp))
	h.mustApply(t, approve(t, h.members[1], w.parisApp))
	// An upgrade that ran (upgrade.go's record of it and the version it
	// set), written as CompleteUpgrade writes them.
	for _, kv := range [][2]string{
		{prefixUpgradeDone + "v4", `{"name":"v4","height":20,"app_version":4}`},
		{keyUpgradeVersion, "4"},
	} {
		if err := h.kv.Set([]byte(kv[0]), []byte(kv[1])); err != nil {
			t.Fatal(err)
		}
	}
	h.commit(t)
	return w
}

// export writes the harness's committed state as an export.
func (h *harness) export(t testing.TB) ([]byte, ExportHeader) {
	t.Helper()
	v := h.kv.st.Latest()
	var b bytes.Buffer
	hd, err := Export(&b, v, h.m.ChainID(), v.Version(), v.Hash())
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	return b.Bytes(), hd
}

// importGenesis is the genesis of a network that imports exp, as init
// writes it, and the opener that hands out exp.
func importGenesis(t *testing.T, exp []byte) ([]byte, OpenFile) {
	t.Helper()
	sum, err := ReadExport(bytes.NewReader(exp), nil)
	if err != nil {
		t.Fatalf("check export: %v", err)
	}
	g, err := json.Marshal(Genesis{Authority: sum.Authority, Params: sum.Params, Import: &GenesisImport{
		File: GenesisImportFile, SHA256: sum.SHA256, Header: sum.Header,
	}})
	if err != nil {
		t.Fatal(err)
	}
	return g, func(name string) (io.ReadCloser, error) {
		if name != GenesisImportFile {
			return nil, errors.New("no such file " + name)
		}
		return io.NopCloser(bytes.NewReader(exp)), nil
	}
}

func TestExportImportRoundTrip(t *testing.T) {
	w := exportWorld(t)
	exp, hd := w.h.export(t)
	if hd.Format != ExportFormat || hd.Version != ExportVersion || hd.ChainID != testChainID || hd.Height != w.h.kv.st.Version() {
		t.Fatalf("header %+v", hd)
	}
	lines := strings.Split(strings.TrimSuffix(string(exp), "\n"), "\n")
	if uint64(len(lines)-1) != hd.Entries {
		t.Fatalf("%d lines after the header, header says %d", len(lines)-1, hd.Entries)
	}
	kinds := map[string]int{}
	for _, l := range lines[1:] {
		var el exportLine
		if err := json.Unmarshal([]byte(l), &el); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		kinds[el.Kind]++
		if el.Kind == "application" && strings.Contains(string(el.Value), `"status":"pending"`) {
			t.Errorf("a pending application was exported: %s", l)
		}
	}
	for _, k := range exportKinds {
		if got, want := kinds[k.name] > 0, k.carried == nil || k.name == "application"; got != want {
			t.Errorf("export holds %d %s entries; want some: %v", kinds[k.name], k.name, want)
		}
	}

	// A new network from it, twice: the same app hash after InitChain,
	// and an export of it that is the first's but for the header.
	var hashes [][]byte
	for range 2 {
		g, open := importGenesis(t, exp)
		m := New("cityid-next")
		kv := newMemKV(t)
		if err := m.InitGenesisFrom(kv, g, genesisValidators(), open); err != nil {
			t.Fatalf("import: %v", err)
		}
		hashes = append(hashes, kv.Digest())
		h2 := &harness{m: m, kv: kv}
		h2.commit(t)
		exp2, hd2 := h2.export(t)
		if hd2.ContentSHA256 != hd.ContentSHA256 || hd2.Entries != hd.Entries || hd2.ChainID != "cityid-next" || hd2.Height != 1 {
			t.Fatalf("the new network's header %+v, the old one's %+v", hd2, hd)
		}
		if i := bytes.IndexByte(exp, '\n'); !bytes.Equal(exp2[bytes.IndexByte(exp2, '\n'):], exp[i:]) {
			t.Fatalf("the new network's export differs from the old one's after the header")
		}
		if got := h2.record(t, w.object); got.Version != 2 {
			t.Fatalf("the new network's %s: %+v", w.object, got)
		}
	}
	if !bytes.Equal(hashes[0], hashes[1]) {
		t.Fatalf("two imports of one export gave app hashes %X and %X", hashes[0], hashes[1])
	}
}

// TestImportRefuses tampers with an export in every way a hostile or
// damaged file could, and checks that each is refused for its reason, on
// its line, before anything is written.
func TestImportRefuses(t *testing.T) {
	w := exportWorld(t)
	exp, _ := w.h.export(t)
	lines := strings.SplitAfter(string(exp), "\n")
	lines = lines[:len(lines)-1] // SplitAfter's empty tail
	find := func(kind string) int {
		for i, l := range lines {
			if strings.HasPrefix(l, `{"kind":"`+kind+`"`) {
				return i
			}
		}
		t.Fatalf("no %s line", kind)
		return 0
	}
	join := func(ls []string) string { return strings.Join(ls, "") }
	withLines := func(i int, l string) []string {
		c := append([]string(nil), lines...)
		c[i] = l
		return c
	}
	with := func(i int, l string) string { return join(withLines(i, l)) }
	rec := find("record")
	grant := find("grant")
	// rehash gives a tampered body a header that agrees with it, as a
	// forger would: the per-line checks must refuse it on their own.
	rehash := func(body string) string {
		var hd ExportHeader
		if err := json.Unmarshal([]byte(lines[0]), &hd); err != nil {
			t.Fatal(err)
		}
		n := strings.Count(body, "\n")
		sum := sha256Hex([]byte(body))
		hd.Entries, hd.ContentSHA256 = uint64(n), sum
		b, _ := json.Marshal(hd)
		return string(b) + "\n" + body
	}
	body := func(ls []string) string { return join(ls[1:]) }
	swapped := append([]string(nil), lines...)
	swapped[rec], swapped[rec+1] = swapped[rec+1], swapped[rec]
	dup := append(append(append([]string(nil), lines[:rec+1]...), lines[rec]), lines[rec+1:]...)
	pendingApp := strings.Replace(lines[find("application")], `"status":"approved"`, `"status":"pending"`, 1)
	cases := []struct {
		name string
		in   string
		line int
		want string
	}{
		{"empty", "", 1, "empty"},
		{"not JSON", "hello\n", 1, "header"},
		{"another format", strings.Replace(join(lines), ExportFormat, "other-export", 1), 1, `format "other-export"`},
		{"a later version", strings.Replace(join(lines), `"version":1`, `"version":2`, 1), 1, "version 2"},
		{"an unknown header field", strings.Replace(join(lines), `{"format"`, `{"extra":1,"format"`, 1), 1, "extra"},
		{"a header spaced", strings.Replace(join(lines), `,"version"`, `, "version"`, 1), 1, "header is not in the form"},
		{"cut short", strings.TrimSuffix(join(lines), "\n"), len(lines), "no newline"},
		{"a line missing", join(lines[:len(lines)-1]), 0, "header says"},
		{"a value changed", with(rec, strings.Replace(lines[rec], `"status":"active"`, `"status":"deactivated"`, 1)), 0, "changed after"},
		{"reordered", rehash(body(swapped)), rec + 2, "out of order"},
		{"duplicated", rehash(body(dup)), rec + 2, "repeats"},
		{"an unknown kind", rehash(body(withLines(rec, strings.Replace(lines[rec], `"kind":"record"`, `"kind":"thing"`, 1)))), rec + 1, `unknown kind "thing"`},
		{"a kind not its key's", rehash(body(withLines(rec, strings.Replace(lines[rec], `"kind":"record"`, `"kind":"grant"`, 1)))), rec + 1, "is a record entry, not grant"},
		{"a pending application", rehash(body(withLines(find("application"), pendingApp))), find("application") + 1, "does not carry application"},
		{"spaces", rehash(body(withLines(rec, strings.Replace(lines[rec], `,"value":`, `, "value":`, 1)))), rec + 1, "not in the form"},
		{"a value not compact", rehash(body(withLines(rec, strings.Replace(lines[rec], `"value":{"id"`, `"value":{ "id"`, 1)))), rec + 1, "not compact"},
		{"a record under another's key", rehash(body(withLines(rec, strings.Replace(lines[rec], `"value":{"id":"`, `"value":{"id":"9`, 1)))), rec + 1, "holds the record of"},
		{"an unknown field in a value", rehash(body(withLines(grant, strings.Replace(lines[grant], `"value":{`, `"value":{"x":1,`, 1)))), grant + 1, `unknown object member name "x"`},
		{"a name repeated in a value", rehash(body(withLines(grant, strings.Replace(lines[grant], `"value":{"dataset":`, `"value":{"scope":"read","dataset":`, 1)))), grant + 1, `duplicate object member name "scope"`},
		{"a name in another case", rehash(body(withLines(rec, strings.Replace(lines[rec], `"value":{"id":`, `"value":{"ID":`, 1)))), rec + 1, `unknown object member name "ID"`},
		{"a line too long", lines[0] + strings.Repeat("x", MaxExportLineBytes+1) + "\n", 2, "longer than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadExport(strings.NewReader(c.in), nil)
			var ee *ExportError
			if !errors.As(err, &ee) || ee.Line != c.line || !strings.Contains(ee.Msg, c.want) {
				t.Fatalf("got %v; want line %d with %q", err, c.line, c.want)
			}
			if c.line > 0 && !strings.Contains(err.Error(), "line "+strconv.Itoa(c.line)+":") {
				t.Fatalf("%q does not name line %d", err, c.line)
			}
			// Through a genesis, refused naming the same line (what the
			// lines before it wrote, the caller discards: chain's
			// TestInitChainImport).
			g, _ := importGenesis(t, exp)
			kv := newMemKV(t)
			err = New("cityid-next").InitGenesisFrom(kv, g, genesisValidators(), func(string) (io.ReadCloser, error) {
				return io.NopCloser(strings.NewReader(c.in)), nil
			})
			if err == nil || (c.line > 0 && !strings.Contains(err.Error(), "line "+strconv.Itoa(c.line)+":")) {
				t.Fatalf("InitGenesis of it: %v, want a refusal naming line %d", err, c.line)
			}
		})
	}
}

func TestImportGenesisRefuses(t *testing.T) {
	w := exportWorld(t)
	exp, _ := w.h.export(t)
	g, open := importGenesis(t, exp)
	var gen Genesis
	if err := json.Unmarshal(g, &gen); err != nil {
		t.Fatal(err)
	}
	mod := func(f func(*Genesis)) []byte {
		c := gen
		imp := *gen.Import
		c.Import = &imp
		f(&c)
		b, _ := json.Marshal(c)
		return b
	}
	// Refused before the file is read (unread: nothing written), or at its
	// end (the caller discards what was written: chain's
	// TestInitChainImport).
	cases := []struct {
		name    string
		chainID string
		gen     []byte
		open    OpenFile
		want    string
		unread  bool
	}{
		{"its own chain ID", testChainID, g, open, "chain ID of its own", true},
		{"no file opener", "cityid-next", g, nil, "no file can be opened", true},
		{"a path, not a name", "cityid-next", mod(func(g *Genesis) { g.Import.File = "../x" }), open, "not a file name", true},
		{"another file's hash", "cityid-next", mod(func(g *Genesis) { g.Import.SHA256 = strings.Repeat("0", 64) }), open, "the genesis names", false},
		{"another header", "cityid-next", mod(func(g *Genesis) { g.Import.Header.Height++ }), open, "header is not", false},
		{"another authority", "cityid-next", mod(func(g *Genesis) { g.Authority.Threshold = 1 }), open, "genesis's authority", false},
		{"another params", "cityid-next", mod(func(g *Genesis) { g.Params.IAC = "ZZ" }), open, "genesis's params", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			kv := newMemKV(t)
			err := New(c.chainID).InitGenesisFrom(kv, c.gen, genesisValidators(), c.open)
			if err == nil || !strings.Contains(err.Error(), c.want) || (c.unread && kv.writes != 0) {
				t.Fatalf("got %v after %d writes; want %q", err, kv.writes, c.want)
			}
		})
	}
	// The file is read once: an import opens it once, and a file that
	// changed after it was written is refused by that one read.
	for _, c := range []struct {
		name string
		file []byte
		want string
	}{
		{"as written", exp, ""},
		{"changed", bytes.Replace(exp, []byte("https://"), []byte("http://"), 1), "changed after"},
	} {
		opens := 0
		err := New("cityid-next").InitGenesisFrom(newMemKV(t), g, genesisValidators(), func(string) (io.ReadCloser, error) {
			opens++
			return io.NopCloser(bytes.NewReader(c.file)), nil
		})
		if opens != 1 || (c.want == "" && err != nil) || (c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want))) {
			t.Errorf("import of the file %s: %v after %d opens, want one open and %q", c.name, err, opens, c.want)
		}
	}
}

// TestExportKnowsEveryKey reads keys.go: every prefix and key of the state
// layout has its kind in exportKinds, so a new kind of entry cannot be
// left out of exports unnoticed, and no kind's prefix hides another's.
func TestExportKnowsEveryKey(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "keys.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, s := range gd.Specs {
			vs := s.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "prefix") && !strings.HasPrefix(name.Name, "key") {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok {
					t.Fatalf("%s is not a literal", name.Name)
				}
				v, _ := strconv.Unquote(lit.Value)
				n++
				found := false
				for _, k := range exportKinds {
					found = found || k.prefix == v
				}
				if !found {
					t.Errorf("state key %s (%q) has no kind in exportKinds", name.Name, v)
				}
			}
		}
	}
	if n != len(exportKinds) {
		t.Errorf("keys.go has %d prefixes and keys, exportKinds %d kinds", n, len(exportKinds))
	}
	for _, a := range exportKinds {
		for _, b := range exportKinds {
			if a.name != b.name && !b.exact && strings.HasPrefix(a.prefix, b.prefix) {
				t.Errorf("kind %s's keys (%q) fall under %s's prefix %q", a.name, a.prefix, b.name, b.prefix)
			}
		}
	}
}

func TestExportRefusesUnknownKey(t *testing.T) {
	h := newHarness(t, 1, 1)
	if err := h.kv.Set([]byte("zzz/new"), []byte("1")); err != nil {
		t.Fatal(err)
	}
	h.commit(t)
	v := h.kv.st.Latest()
	_, err := Export(io.Discard, v, testChainID, v.Version(), v.Hash())
	if err == nil || !strings.Contains(err.Error(), `"zzz/new" is of no kind`) {
		t.Fatalf("export of a state with an unknown key: %v", err)
	}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// FuzzReadExport feeds ReadExport any file: it never panics, refuses only
// with an *ExportError, and what it accepts, written to an empty state,
// exports again to the very same entries (one form per entry: an import
// cannot smuggle in bytes an export would not write).
func FuzzReadExport(f *testing.F) {
	w := exportWorld(f)
	exp, _ := w.h.export(f)
	f.Add(exp)
	lines := bytes.SplitAfter(exp, []byte("\n"))
	f.Add(bytes.Join(lines[:4], nil))
	f.Add(lines[0])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		checkImportOf(t, in)
		// And as a forger would send it, with a header that agrees with
		// the body: the lines' own checks must hold without the hash.
		head, body, ok := bytes.Cut(in, []byte("\n"))
		var hd ExportHeader
		if !ok || json.Unmarshal(head, &hd) != nil {
			return
		}
		hd.Entries, hd.ContentSHA256 = uint64(bytes.Count(body, []byte("\n"))), sha256Hex(body)
		forged, _ := json.Marshal(hd)
		checkImportOf(t, append(append(forged, '\n'), body...))
	})
}

// checkImportOf is FuzzReadExport's property for one input.
func checkImportOf(t *testing.T, in []byte) {
	t.Helper()
	st, err := store.OpenMemory(store.Options{ValueCacheBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sum, err := ReadExport(bytes.NewReader(in), st.Set)
	if err != nil {
		var ee *ExportError
		if !errors.As(err, &ee) {
			t.Fatalf("refused with %T %v, not an *ExportError", err, err)
		}
		return
	}
	if _, _, err := st.Commit(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	v := st.Latest()
	hd, err := Export(&out, v, sum.Header.ChainID, sum.Header.Height, v.Hash())
	if err != nil {
		t.Fatalf("export of an accepted import: %v", err)
	}
	_, body, _ := bytes.Cut(in, []byte("\n"))
	_, again, _ := bytes.Cut(out.Bytes(), []byte("\n"))
	if !bytes.Equal(body, again) || hd.ContentSHA256 != sum.Header.ContentSHA256 || hd.Entries != sum.Header.Entries {
		t.Fatalf("accepted %q, exported again as %q", in, out.Bytes())
	}
}

// appendJSONString writes a string as encoding/json does, whichever of its
// two ways it takes.
func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", "id/1561301001.85.1/school-0042", "seq/app", "石家庄市", "a<b>&c", "q\"b\\", "tab\tnl\n", "\u2028", "\x7f", "~"} {
		want, _ := json.Marshal(s)
		got, err := appendJSONString(nil, []byte(s))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%q: %s (%v), encoding/json %s", s, got, err, want)
		}
	}
	if _, err := appendJSONString(nil, []byte{0xff}); err == nil {
		t.Error("text that is not UTF-8 was written")
	}
}

// An export many times the size of the reader's buffer, as any real one
// is, imports to the same entries: each value is the line's own, not
// bytes of a later line that reused the buffer.
func TestImportLargerThanItsBuffer(t *testing.T) {
	w := newWorld(t)
	tmpl := w.h.rawRecord(t, w.object)
	for i := range 8000 {
		id := fmt.Sprintf("%s/obj-%05d", w.unit, i)
		rec := bytes.Replace(tmpl, []byte(`"id":"`+w.object+`"`), []byte(`"id":"`+id+`"`), 1)
		if err := w.h.kv.Set(RecordKey(id), rec); err != nil {
			t.Fatal(err)
		}
	}
	w.h.commit(t)
	exp, hd := w.h.export(t)
	if len(exp) < 3*MaxExportLineBytes {
		t.Fatalf("the export is %d bytes, not several times the buffer", len(exp))
	}
	g, open := importGenesis(t, exp)
	h2 := &harness{m: New("cityid-next"), kv: newMemKV(t)}
	if err := h2.m.InitGenesisFrom(h2.kv, g, genesisValidators(), open); err != nil {
		t.Fatal(err)
	}
	h2.commit(t)
	exp2, hd2 := h2.export(t)
	_, body, _ := bytes.Cut(exp, []byte("\n"))
	_, body2, _ := bytes.Cut(exp2, []byte("\n"))
	if hd2.ContentSHA256 != hd.ContentSHA256 || !bytes.Equal(body, body2) {
		t.Fatalf("an import of %d bytes exported again differs", len(exp))
	}
}

// TestExportGolden pins format version 1 byte for byte:
// testdata/export_v1.jsonl (made from exportWorld with -update) must read,
// and its entries, written to an empty state, must export to the very same
// file. It does not depend on what the test worlds hold today, only on the
// format: a change to how a line is read or written fails it, and with such
// a change comes a new ExportVersion (docs/export.md, the version rule).
func TestExportGolden(t *testing.T) {
	path := filepath.Join("testdata", "export_v1.jsonl")
	if *update {
		w := exportWorld(t)
		exp, _ := w.h.export(t)
		goldenFile(t, "export_v1.jsonl", exp)
		return
	}
	golden, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenMemory(store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sum, err := ReadExport(bytes.NewReader(golden), st.Set)
	if err != nil {
		t.Fatalf("the golden export does not read: %v", err)
	}
	if _, _, err := st.Commit(); err != nil {
		t.Fatal(err)
	}
	appHash, err := hex.DecodeString(sum.Header.AppHash)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := Export(&out, st.Latest(), sum.Header.ChainID, sum.Header.Height, appHash); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), golden) {
		t.Fatalf("the golden export's entries export again as\n%s", out.Bytes())
	}
}

// A state that ran an upgrade: its record and the application version it
// set are carried (the new network's state is the migrated one, and its
// rules are that version's); a plan still pending is not (its height is
// the old chain's).
func TestExportUpgradeEntries(t *testing.T) {
	h := newHarness(t, 1, 1)
	for _, kv := range [][2]string{
		{keyUpgradePlan, `{"name":"v5","height":900,"approved":{"height":800,"time":"2026-01-01T00:00:00Z","tx":"AB"}}`},
		{prefixUpgradeDone + "v4", `{"name":"v4","height":500,"app_version":4}`},
		{keyUpgradeVersion, "4"},
	} {
		if err := h.kv.Set([]byte(kv[0]), []byte(kv[1])); err != nil {
			t.Fatal(err)
		}
	}
	h.commit(t)
	exp, _ := h.export(t)
	for _, c := range []struct {
		line string
		want bool
	}{
		{`{"kind":"upgrade_done","key":"upgrade/done/v4","value":{"name":"v4","height":500,"app_version":4}}`, true},
		{`{"kind":"upgrade_version","key":"upgrade/version","value":"4"}`, true},
		{`"upgrade_plan"`, false},
	} {
		if bytes.Contains(exp, []byte(c.line)) != c.want {
			t.Errorf("export holds %s: %v, want %v", c.line, !c.want, c.want)
		}
	}
	if _, err := ReadExport(bytes.NewReader(exp), nil); err != nil {
		t.Fatal(err)
	}
	bad := bytes.Replace(exp, []byte(`{"name":"v4",`), []byte(`{"name":"v3",`), 1)
	if _, err := ReadExport(bytes.NewReader(bad), nil); err == nil || !strings.Contains(err.Error(), `holds the record of upgrade "v3"`) {
		t.Fatalf("an upgrade record under another name's key: %v", err)
	}
}
