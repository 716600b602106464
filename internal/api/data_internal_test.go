package api

import (
	"net/http"
	"testing"
)

// FuzzContentRange: an upload's Content-Range, whatever it says, is a
// chunk inside the dataset or a refusal, never a panic.
func FuzzContentRange(f *testing.F) {
	for _, s := range []string{"", "bytes */100", "bytes 0-99/100", "bytes 50-99/100", "bytes 0-100/100", "bytes 9-3/100",
		"bytes -1-5/100", "bytes 0-99/99", "items 0-1/2", "bytes 0-9223372036854775807/100", "bytes */"} {
		f.Add(s, int64(100))
	}
	f.Fuzz(func(t *testing.T, v string, size int64) {
		if size < 0 {
			size = -size
		}
		start, end, query, problem := contentRange(v, size)
		if problem != "" || query {
			return
		}
		if start < 0 || end < start || end > size {
			t.Fatalf("%q of %d: chunk [%d, %d)", v, size, start, end)
		}
	})
}

// FuzzPlan: what a GET's Range and validators make the answer carry is
// within the file, and a status that carries bytes carries them all from
// its start (the handler sends exactly the plan, and logs it).
func FuzzPlan(f *testing.F) {
	for _, s := range []string{"", "bytes=0-", "bytes=-5", "bytes=5-2", "bytes=0-0,2-3", "bytes=99999999999999999999-", "bytes=-0", "bytes=999999-"} {
		f.Add(s, `"x"`, "", int64(100))
	}
	f.Add("", `W/"x", "y"`, `"x"`, int64(100))
	f.Add("bytes=1-2", "", `"nope"`, int64(100))
	f.Fuzz(func(t *testing.T, rng, ifNoneMatch, ifMatch string, size int64) {
		if size < 0 {
			size = -size
		}
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Range", rng)
		if ifNoneMatch != "" {
			r.Header.Set("If-None-Match", ifNoneMatch)
		}
		if ifMatch != "" {
			r.Header.Set("If-Match", ifMatch)
		}
		p := plan(r, `"x"`, size)
		switch p.status {
		case http.StatusOK:
			if p.start != 0 || p.n != size {
				t.Fatalf("%q of %d: 200 with bytes %d+%d", rng, size, p.start, p.n)
			}
		case http.StatusPartialContent:
			if p.start < 0 || p.n <= 0 || p.start+p.n > size {
				t.Fatalf("%q of %d: 206 with bytes %d+%d", rng, size, p.start, p.n)
			}
		case http.StatusNotModified, http.StatusPreconditionFailed, http.StatusRequestedRangeNotSatisfiable:
			if p.n != 0 {
				t.Fatalf("%q of %d: %d with %d bytes", rng, size, p.status, p.n)
			}
		default:
			t.Fatalf("%q of %d: status %d", rng, size, p.status)
		}
	})
}
