package api_test

import (
	"net/http"
	"testing"

	"github.com/cityid/cityid/internal/api"
	"github.com/cityid/cityid/internal/apitest"
)

// GET /v1/ids/{id}: the record from the last committed state, in any case
// of the identifier; a node's record too; an unknown identifier is a 404
// at the height read; one that does not parse, a 400 saying why and where.
func TestResolve(t *testing.T) {
	s := serveStory(t, api.Options{})
	var a RecordAnswer
	s.json("/v1/ids/1561301001.85.1/SCHOOL-0042", http.StatusOK, &a)
	rec := a.Record
	if a.Height != s.l.Height() || a.Proof != nil || rec.ID != "1561301001.85.1/school-0042" || rec.Version != 1 || rec.Status != "active" ||
		len(rec.Values) != 4 || rec.Values[0].Type != "URL" || rec.Values[0].Data != "https://example.org/school-0042" ||
		len(rec.Admins) != 1 || rec.Admins[0] != apitest.PubKey("alice") || rec.Updated.Tx == "" {
		t.Errorf("school-0042: %+v", a)
	}
	if r := s.get("/v1/ids/1561301001.85.1/school-0042"); r.header.Get("Content-Type") != "application/json" || r.body[len(r.body)-1] != '\n' {
		t.Errorf("answer as %q, ending %q: want compact JSON and a newline", r.header.Get("Content-Type"), r.body[len(r.body)-1:])
	}
	s.json("/v1/ids/1561301001.85.1", http.StatusOK, &a)
	if a.Record.Kind != "unit" || a.Record.Name != "Education Bureau" {
		t.Errorf("unit: %+v", a.Record)
	}
	p := s.problem("/v1/ids/1561301001.85.1/nobody", http.StatusNotFound, CodeNotFound, "1561301001.85.1/nobody is not registered")
	if p.Height != s.l.Height() || p.Proof != nil {
		t.Errorf("not found: height %d proof %v, want %d and no proof", p.Height, p.Proof, s.l.Height())
	}
	p = s.problem("/v1/ids/1561301002.85.1/x", http.StatusBadRequest, "invalid_id", "bad_check_char")
	if p.Position != 10 {
		t.Errorf("bad check character at position %d, want 10", p.Position)
	}
	s.problem("/v1/ids/1561301001.85.1/x!", http.StatusBadRequest, "invalid_id", "bad_char")
	s.problem("/v1/ids/1561301001.85.1/school-0042?proof=maybe", http.StatusBadRequest, CodeBadRequest, `proof "maybe" is not true or false`)
}

// ?height=H reads the record as it was at height H: each version at the
// height it was written, nothing before it; a height the node has not
// reached, or that is not a height, is refused.
func TestResolveAtHeight(t *testing.T) {
	s := serveStory(t, api.Options{})
	const id = "/v1/ids/1561301001.85.1/no-url"
	for _, c := range []struct {
		height  int64
		version uint64
		text    string
	}{
		{s.noURLv1, 1, "no URL here"},
		{s.noURLv2 - 1, 1, "no URL here"},
		{s.noURLv2, 2, "still no URL"},
		{s.l.Height(), 2, "still no URL"},
	} {
		var a RecordAnswer
		s.json(id+"?height="+itoa64(c.height), http.StatusOK, &a)
		if a.Height != c.height || a.Record.Version != c.version || a.Record.Values[0].Data != c.text {
			t.Errorf("at %d: height %d version %d %q, want version %d %q", c.height, a.Height, a.Record.Version, a.Record.Values[0].Data, c.version, c.text)
		}
	}
	s.problem(id+"?height="+itoa64(s.noURLv1-1), http.StatusNotFound, CodeNotFound, "is not registered")
	s.problem(id+"?height="+itoa64(s.l.Height()+1), http.StatusNotFound, CodeNotFound, "is not in this node's state (latest "+itoa64(s.l.Height()))
	for _, h := range []string{"0", "-1", "x", "1.5"} {
		s.problem(id+"?height="+h, http.StatusBadRequest, CodeBadRequest, "is not a positive number")
	}
}
