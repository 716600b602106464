package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cityid/cityid/internal/wire"
)

// A cursor past the last application number answers an empty page: it
// never wraps around to the first page.
func TestApplicationsCursorNeverWraps(t *testing.T) {
	f := setup(t)
	for _, c := range []struct {
		after  string
		status int
		ids    []uint64 // the fixture has applications 1 and 2
	}{
		{"0", 200, []uint64{1, 2}},
		{"1", 200, []uint64{2}},
		{"18446744073709551614", 200, nil},
		{"18446744073709551615", 200, nil}, // 2^64-1: n+1 would be 0
		{"18446744073709551616", 400, nil}, // not a uint64
		{"-1", 400, nil},
	} {
		resp, body := get(t, f.url+"/v1/applications?after="+c.after)
		if resp.StatusCode != c.status {
			t.Errorf("after=%s: %d %s, want %d", c.after, resp.StatusCode, body, c.status)
			continue
		}
		if c.status != 200 {
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" || !strings.Contains(string(body), `"code":"bad_request"`) || !strings.Contains(string(body), "is not an application number") {
				t.Errorf("after=%s: %s %s, want a bad_request problem", c.after, ct, body)
			}
			continue
		}
		var page wire.ApplicationList
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		var ids []uint64
		for _, a := range page.Applications {
			ids = append(ids, a.ID)
		}
		if len(ids) != len(c.ids) || page.Next != "" {
			t.Errorf("after=%s: applications %v next %q, want %v and no next", c.after, ids, page.Next, c.ids)
			continue
		}
		for i := range ids {
			if ids[i] != c.ids[i] {
				t.Errorf("after=%s: applications %v, want %v", c.after, ids, c.ids)
			}
		}
	}
}

// Grants are listed by the canonical form of the identifier asked for: a
// case variant finds the same grants, and an identifier that does not
// parse is a 400 that says why.
func TestGrantsCanonicalised(t *testing.T) {
	f := setup(t)
	for _, q := range []string{"dataset=1561301001.85.1/exam-2026", "dataset=1561301001.85.1/EXAM-2026", "dataset=1561301001.85.1/Exam-2026", "grantee=1561301001.85"} {
		resp, body := get(t, f.url+"/v1/grants?"+q)
		var page wire.GrantList
		if resp.StatusCode != 200 || json.Unmarshal(body, &page) != nil {
			t.Fatalf("%s: %d %s", q, resp.StatusCode, body)
		}
		if len(page.Grants) != 1 || page.Grants[0].Dataset != "1561301001.85.1/exam-2026" || page.Grants[0].Grantee != "1561301001.85" {
			t.Errorf("%s: %s, want the one grant of 1561301001.85.1/exam-2026 to 1561301001.85", q, body)
		}
	}
	// The cursor is canonicalised too: past the only grantee, nothing.
	if resp, body := get(t, f.url+"/v1/grants?dataset=1561301001.85.1/EXAM-2026&after=1561301001.85"); resp.StatusCode != 200 || !strings.Contains(string(body), `"grants":[]`) {
		t.Errorf("after the last grantee: %d %s, want an empty page", resp.StatusCode, body)
	}
	for _, c := range []struct{ q, code, detail string }{
		{"dataset=1561301001.85.1/exam!", "invalid_id", "bad_char"},
		{"dataset=1561301002.85.1/exam-2026", "invalid_id", "bad_check_char"},
		{"grantee=1561301002.85", "invalid_id", "bad_check_char"},
		{"grantee=1561301001.85.1/exam-2026", "invalid", "is an object"},
		{"dataset=1561301001.85.1/exam-2026&after=1561301001.00", "invalid_id", "1561301001.00"},
	} {
		resp, body := get(t, f.url+"/v1/grants?"+c.q)
		if resp.StatusCode != 400 || resp.Header.Get("Content-Type") != "application/problem+json" ||
			!strings.Contains(string(body), `"code":"`+c.code+`"`) || !strings.Contains(string(body), c.detail) {
			t.Errorf("%s: %d %s, want 400 %s naming %s", c.q, resp.StatusCode, body, c.code, c.detail)
		}
	}
}
