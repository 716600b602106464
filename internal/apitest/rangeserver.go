package apitest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// RangeServer is a dataset's owner node as a download sees it: it serves
// the bytes it is given, whole or from a "bytes=N-" Range (206 with
// Content-Range), and cuts an answer short when told to, as a dropped
// connection does. It remembers what each request asked, to hold a
// resume to asking only for the rest.
type RangeServer struct {
	*httptest.Server
	mu    sync.Mutex
	body  []byte
	cutAt int // bytes the next answer sends before it is cut; 0: none
	asked []Asked
}

// Asked is what one request asked for: its Range and If-Range fields.
type Asked struct{ Range, IfRange string }

func (a Asked) String() string { return strings.TrimSpace(a.Range + " " + a.IfRange) }

// NewRangeServer starts a RangeServer on loopback serving body; the test's
// end stops it.
func NewRangeServer(t testing.TB, body []byte) *RangeServer {
	t.Helper()
	s := &RangeServer{body: body}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Serve makes body what the server answers from now on, and forgets what
// was asked.
func (s *RangeServer) Serve(body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.body, s.asked = body, nil
}

// CutNext makes the next answer stop after n bytes of its body.
func (s *RangeServer) CutNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cutAt = n
}

// Asked lists what the requests since the last Serve asked for.
func (s *RangeServer) Asked() []Asked {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Asked(nil), s.asked...)
}

func (s *RangeServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.asked = append(s.asked, Asked{r.Header.Get("Range"), r.Header.Get("If-Range")})
	body, cut := s.body, s.cutAt
	s.cutAt = 0
	s.mu.Unlock()
	from := 0
	if rg := r.Header.Get("Range"); rg != "" {
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(rg, "bytes="), "-"))
		if err != nil || n < 0 || n > len(body) {
			http.Error(w, "bad range "+rg, http.StatusRequestedRangeNotSatisfiable)
			return
		}
		from = n
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", from, len(body)-1, len(body)))
		w.Header().Set("Content-Length", strconv.Itoa(len(body)-from))
		w.WriteHeader(http.StatusPartialContent)
	} else {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	}
	if cut > 0 && from+cut < len(body) {
		w.Write(body[from : from+cut])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // the connection is cut
	}
	w.Write(body[from:])
}
