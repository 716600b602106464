package api_test

import (
	"net/http"
	"testing"

	"github.com/cityid/cityid/internal/api"
)

// GET /v1/ids/{id}/history: every version, oldest first, each with the
// height, block time and transaction that wrote it; pages of ?limit= with
// a cursor that resumes where the page stopped. (history_test.go holds
// where a late page starts reading.)
func TestHistoryVersions(t *testing.T) {
	s := serveStory(t, api.Options{})
	var h History
	s.json("/v1/ids/1561301001.85.1/NO-URL/history", http.StatusOK, &h)
	if h.ID != "1561301001.85.1/no-url" || h.Height != s.l.Height() || len(h.Versions) != 2 || h.Next != "" {
		t.Fatalf("history: %+v", h)
	}
	for i, want := range []struct {
		height int64
		text   string
	}{{s.noURLv1, "no URL here"}, {s.noURLv2, "still no URL"}} {
		v := h.Versions[i]
		if v.Version != uint64(i+1) || v.Height != want.height || v.Tx == "" || v.Status != "active" || v.Record.Values[0].Data != want.text ||
			v.Time != v.Record.Updated.Time.Format("2006-01-02T15:04:05.999999999Z07:00") || v.Record.Updated.Height != want.height {
			t.Errorf("version %d: %+v, want height %d %q", i+1, v, want.height, want.text)
		}
	}
	if h.Versions[0].Tx == h.Versions[1].Tx {
		t.Errorf("both versions name transaction %s", h.Versions[0].Tx)
	}
	s.json("/v1/ids/1561301001.85.1/no-url/history?limit=1", http.StatusOK, &h)
	if len(h.Versions) != 1 || h.Versions[0].Version != 1 || h.Next != "1" {
		t.Errorf("first page of one: %+v", h)
	}
	s.json("/v1/ids/1561301001.85.1/no-url/history?limit=1&after="+h.Next, http.StatusOK, &h)
	if len(h.Versions) != 1 || h.Versions[0].Version != 2 || h.Next != "" {
		t.Errorf("second page of one: %+v", h)
	}
	s.problem("/v1/ids/1561301001.85.1/nobody/history", http.StatusNotFound, CodeNotFound, "is not registered")
	s.problem("/v1/ids/1561301001.85.1/no-url/history?after=x", http.StatusBadRequest, CodeBadRequest, `after "x" is not a version number`)
	s.problem("/v1/ids/1561301001.85.1/no-url/history?limit=0", http.StatusBadRequest, CodeBadRequest, "is not a number from 1 to 1000")
}
