package client_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cityid/cityid/client"
	"github.com/cityid/cityid/code"
)

func TestParseBatchFile(t *testing.T) {
	v := func(typ, data string) client.Value { return client.Value{Type: typ, Data: data} }
	for _, c := range []struct {
		name, file, text string
		want             []client.BatchEntry // nil: refused
		err              string
	}{
		{"csv", "m.csv", "id,TEXT,GEO\n1561301001.85.1/meter-1,Meter 1,\"38.04,114.51\"\n 1561301001.85.1/meter-2 ,,\n", []client.BatchEntry{
			{ID: "1561301001.85.1/meter-1", Values: []client.Value{v("TEXT", "Meter 1"), v("GEO", "38.04,114.51")}},
			{ID: "1561301001.85.1/meter-2", Values: []client.Value{}},
		}, ""},
		{"csv saved by a spreadsheet: BOM, CRLF, lower case, trailing empty column", "M.CSV", "\ufeffId,url,ns:Name,\r\n1561301001.85.1/b,https://x.example/,v,\r\n", []client.BatchEntry{
			{ID: "1561301001.85.1/b", Values: []client.Value{v("URL", "https://x.example/"), v("ns:Name", "v")}},
		}, ""},
		{"csv line of a row after a quoted line break", "m.csv", "id,TEXT\n1561301001.85.1/m-1,\"two\nlines\"\n,x\n", nil, "m.csv line 4: no id"},
		{"csv value under no type", "m.csv", "id,TEXT,\n1561301001.85.1/m-1,x,y\n", nil, "m.csv line 2: cell 3 has a value, but the header names no type"},
		{"csv more cells than columns", "m.csv", "id,TEXT\n1561301001.85.1/m-1,x,y\n", nil, "line 2: 3 cells, but the header names 2 columns"},
		{"csv without id", "m.csv", "name,TEXT\n", nil, `must start with "id"`},
		{"csv header alone", "m.csv", "id,TEXT\n", nil, "m.csv holds no identifiers"},
		{"not UTF-8", "m.csv", "id,TEXT\n1561301001.85.1/m-1,ok\n1561301001.85.1/m-2,caf\xe9\n", nil, "m.csv line 3 is not UTF-8 text"},
		{"json", "m.json", `[{"id":"1561301001.85.1/m-1","values":[{"type":"URL","data":"https://x.example/","ttl":60}],"admins":["ab"]},{"id":"1561301001.85.1/m-2"}]`, []client.BatchEntry{
			{ID: "1561301001.85.1/m-1", Values: []client.Value{{Type: "URL", Data: "https://x.example/", TTL: 60}}, Admins: []string{"ab"}},
			{ID: "1561301001.85.1/m-2", Values: []client.Value{}},
		}, ""},
		{"json, two arrays", "m.json", `[{"id":"1561301001.85.1/m-1"}] [{"id":"1561301001.85.1/m-2"}]`, nil, "more after the JSON array"},
		{"json null entry", "m.json", `[{"id":"1561301001.85.1/m-1"},null]`, nil, "entry 2 has no id"},
		{"json value without type", "m.json", `[{"id":"1561301001.85.1/m-1","values":[{"data":"x"}]}]`, nil, "entry 1 (1561301001.85.1/m-1): value 1 has no type"},
		{"json unknown field", "m.json", `[{"id":"1561301001.85.1/m-1","value":[]}]`, nil, "not a JSON array"},
		{"json empty", "m.json", `[]`, nil, "holds no identifiers"},
		// Identifiers are checked, all of them, before anything is sent,
		// each named by its line.
		{"csv identifier that does not parse", "m.csv", "id,TEXT\n1561301001.85.1/m-1,x\n1561301001.85.1/m-2,y\n1561301009.85.1/m-3,z\n", nil, `m.csv line 4: identifier "1561301009.85.1/m-3": `},
		{"csv identifier of a node", "m.csv", "id,TEXT\n1561301001.85.1/m-1,x\n1561301001.85.1,y\n", nil, "m.csv line 3: 1561301001.85.1 is a unit, not an object"},
		{"csv identifier without a node", "m.csv", "id\nmeter-1\n", nil, `m.csv line 2: identifier "meter-1"`},
		{"csv identifier twice, in two spellings", "m.csv", "id,TEXT\n1561301001.85.1/m-1,x\n1561301001.85.1/M-1,y\n", nil, "m.csv line 3: 1561301001.85.1/M-1 is registered by m.csv line 2 too"},
		{"json identifier that does not parse", "m.json", "[\n  {\"id\": \"1561301001.85.1/m-1\"},\n  {\"id\": \"1561301001.85.1/m 2\"}\n]", nil, `m.json line 3, entry 2: identifier "1561301001.85.1/m 2"`},
		{"json identifier of a city", "m.json", `[{"id":"1561301001.85.1/m-1"},{"id":"1561301001"}]`, nil, "m.json line 1, entry 2: 1561301001 is a city, not an object"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := client.CheckBatchFile(c.file, []byte(c.text))
			if c.want == nil {
				var u *client.BatchFileError
				if err == nil || !errors.As(err, &u) || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("got %+v, %v; want the batch file error %q", got, err, c.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %+v, %v\nwant %+v", got, err, c.want)
			}
		})
	}
}

// FuzzParseBatchFile: whatever a register-batch file holds, the parser
// does not panic; a file it refuses gets a *BatchFileError that names
// the file; a file it takes gives identifiers that each have an id and typed
// values of UTF-8 text, and that come back the same through the JSON
// form of the file.
func FuzzParseBatchFile(f *testing.F) {
	for _, s := range []string{
		"id,TEXT,GEO\n1561301001.85.1/meter-1,\"Meter 1\",\"38.04,114.51\"\n1561301001.85.1/meter-2,\"Meter 2\",\"38.05,114.52\"\n",
		"\ufeffid,url,ns:name,\r\n1561301001.85.1/b,https://x.example/,\"a \"\"q\"\" b\",\r\n",
		"id,TEXT\n1561301001.85.1/m-1,\"two\nlines\"\n",
		"id\n\n\n1561301001.85.1/m-1\n",
		"id,TEXT,\n1561301001.85.1/m-1,x,y\n",
	} {
		f.Add(true, []byte(s))
	}
	for _, s := range []string{
		`[{"id":"1561301001.85.1/x","values":[{"index":2,"type":"DATA","dataset":{"uri":"https://d.example/a.csv","sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","size":4096,"media_type":"text/csv"},"ttl":60}],"admins":["ab"]}]`,
		`[{"id":"1561301001.85.1/m-1","values":[{"type":"TEXT","data":"\u003c\u00e9\\\""}]},{"id":"1561301001.85.1/m-2","admins":[]}]`,
		`[{"id":"1561301001.85.1/m-1"}] [{"id":"1561301001.85.1/m-2"}]`,
		`[null]`,
	} {
		f.Add(false, []byte(s))
	}
	f.Fuzz(func(t *testing.T, isCSV bool, b []byte) {
		name := "rows.json"
		if isCSV {
			name = "rows.csv"
		}
		// The identifiers' checks take what the parse takes, or refuse
		// it as a batch file error naming the file.
		checked, cerr := client.CheckBatchFile(name, b)
		entries, err := client.ParseBatchFile(name, b)
		if cerr == nil && !reflect.DeepEqual(checked, entries) {
			t.Fatalf("CheckBatchFile took %+v, ParseBatchFile %+v", checked, entries)
		}
		var cu *client.BatchFileError
		if cerr != nil && (!errors.As(cerr, &cu) || !strings.HasPrefix(cerr.Error(), name) || checked != nil) {
			t.Fatalf("CheckBatchFile refused with %T %q and %d entries: want a *BatchFileError that names the file", cerr, cerr, len(checked))
		}
		if err != nil {
			var u *client.BatchFileError
			if !errors.As(err, &u) || !strings.HasPrefix(err.Error(), name) {
				t.Fatalf("refused with %T %q: want a *BatchFileError that names the file", err, err)
			}
			if entries != nil {
				t.Fatalf("refused, yet %d entries", len(entries))
			}
			return
		}
		if len(entries) == 0 {
			t.Fatal("accepted a file of no identifiers")
		}
		for i, e := range entries {
			if e.ID == "" || strings.TrimSpace(e.ID) == "" || !utf8.ValidString(e.ID) {
				t.Fatalf("entry %d: id %q", i+1, e.ID)
			}
			if isCSV && e.ID != strings.TrimSpace(e.ID) {
				t.Fatalf("entry %d: id %q is not trimmed", i+1, e.ID)
			}
			if e.Values == nil || e.Admins != nil && len(e.Admins) == 0 {
				t.Fatalf("entry %d: values %v, admins %v", i+1, e.Values, e.Admins)
			}
			for j, v := range e.Values {
				if v.Type == "" || !utf8.ValidString(v.Type) || !utf8.ValidString(v.Data) {
					t.Fatalf("entry %d value %d: %+v", i+1, j+1, v)
				}
				if isCSV && (v.Data == "" || v.Index != 0 || v.TTL != 0 || v.Dataset != nil) {
					t.Fatalf("entry %d value %d from a CSV cell: %+v", i+1, j+1, v)
				}
			}
			if slices.ContainsFunc(e.Admins, func(a string) bool { return !utf8.ValidString(a) }) {
				t.Fatalf("entry %d: admins %q", i+1, e.Admins)
			}
		}
		js, err := json.Marshal(entries)
		if err != nil {
			t.Fatalf("entries do not encode: %v", err)
		}
		again, err := client.ParseBatchFile("again.json", js)
		if err != nil || !reflect.DeepEqual(again, entries) {
			t.Fatalf("entries do not come back through JSON:\n%+v\n%+v, %v\n%s", entries, again, err, js)
		}
	})
}

// A refusal quotes an identifier's first 200 characters only, saying how
// many more there are (as the portal's batch.js does): a hostile file's
// megabyte identifier is not written whole to a terminal. Every real
// identifier (at most 85 characters) is quoted whole.
func TestCheckBatchFileClipsAHugeID(t *testing.T) {
	node := "1561301001.85.1/"
	huge := node + strings.Repeat("中", 1<<20) + "!"
	_, err := client.CheckBatchFile("huge.csv", []byte("id\n"+huge+"\n"))
	if err == nil {
		t.Fatal("a megabyte identifier was taken")
	}
	more := utf8.RuneCountInString(huge) - 200
	want := `huge.csv line 2: identifier "` + node + strings.Repeat("中", 200-len(node)) + `" and ` + strconv.Itoa(more) + " more characters: "
	if !strings.HasPrefix(err.Error(), want) || len(err.Error()) > 2000 {
		t.Errorf("refusal of a megabyte identifier (%d bytes):\n%.400s\nwant it to start\n%s", len(err.Error()), err, want)
	}
	short := node + "m-1!"
	if _, err := client.CheckBatchFile("short.csv", []byte("id\n"+short+"\n")); err == nil || !strings.Contains(err.Error(), strconv.Quote(short)+":") {
		t.Errorf("refusal of %q: %v, want it quoted whole", short, err)
	}
}

// A file's bad rows are counted all, and the first BatchBadRows listed,
// each by its line: a clerk fixes the file once. The message is the first
// row's (as the portal's), and unwraps to its parse error.
func TestCheckBatchFileListsEveryBadRow(t *testing.T) {
	var text strings.Builder
	text.WriteString("id\n")
	for i := range 30 {
		fmt.Fprintf(&text, "1561301001.85.1/m-%d\n", i)
		fmt.Fprintf(&text, "1561301002.85.1/bad-%d\n", i) // a wrong check character
	}
	_, err := client.CheckBatchFile("m.csv", []byte(text.String()))
	var ids *client.BatchIDsError
	if !errors.As(err, &ids) || ids.Count != 30 || len(ids.Rows) != client.BatchBadRows {
		t.Fatalf("got %v (%+v), want 30 bad rows, %d listed", err, ids, client.BatchBadRows)
	}
	for k, r := range ids.Rows {
		if want := fmt.Sprintf("m.csv line %d: identifier \"1561301002.85.1/bad-%d\": ", 3+2*k, k); !strings.HasPrefix(r.Error(), want) {
			t.Errorf("row %d: %v, want it to start %q", k, r, want)
		}
	}
	var bad *code.Error
	if err.Error() != ids.Rows[0].Error() || !errors.As(err, &bad) || bad.Code != code.ErrBadCheckChar {
		t.Errorf("message %q, parse error %+v: want the first row's, bad_check_char", err, bad)
	}
}
