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

// FuzzPlan: what a GET's Range makes the answer carry is within the file.
func FuzzPlan(f *testing.F) {
	for _, s := range []string{"", "bytes=0-", "bytes=-5", "bytes=5-2", "bytes=0-0,2-3", "bytes=99999999999999999999-", "bytes=-0"} {
		f.Add(s, int64(100))
	}
	f.Fuzz(func(t *testing.T, rng string, size int64) {
		if size < 0 {
			size = -size
		}
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Range", rng)
		status, n := plan(r, `"x"`, size)
		if n < 0 || n > size || (status != http.StatusOK && status != http.StatusPartialContent && n != 0) {
			t.Fatalf("%q of %d: %d with %d bytes", rng, size, status, n)
		}
	})
}
