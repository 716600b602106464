package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/internal/api/handle"
	"github.com/cityid/cityid/internal/chain"
	"github.com/cityid/cityid/internal/metrics"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/store"
)

// Backend is what the API needs of a running node.
type Backend interface {
	// Latest is the last committed state; nil before the first block.
	Latest() *store.View
	// Submit puts a signed transaction in the mempool and waits for its
	// commit (see chain.Node.Submit).
	Submit(ctx context.Context, tx []byte) (chain.TxResult, error)
	// Status is the node's view of the chain.
	Status(ctx context.Context) (chain.Status, error)
	// PendingNonce is the next nonce of an account with transactions
	// waiting in the mempool.
	PendingNonce(key string) (uint64, bool)
	// At is committed state at a height.
	At(height int64) (*store.View, error)
	// Block, Tx and LightBlock read CometBFT's block store and indexes.
	Block(ctx context.Context, height int64) (chain.BlockInfo, error)
	Tx(ctx context.Context, hash string) (chain.TxInfo, error)
	LightBlock(ctx context.Context, height int64) (json.RawMessage, error)
}

// Options bound the API. The zero value takes the defaults.
type Options struct {
	// SubmitTimeout is how long POST /v1/txs waits for the commit.
	SubmitTimeout time.Duration
	Logger        *slog.Logger
	// PublicURL is the base of resolver URLs (in QR codes): how people
	// reach this node. Default: http://127.0.0.1:8680.
	PublicURL string
	// DNSZone is the zone of identifiers' DNS form. Default
	// cityid.internal.
	DNSZone string
	// Metrics, when set, counts every request and is served at /metrics.
	Metrics *metrics.Metrics
	// Limits are the per-client rate limits of writes and costly reads.
	// Default (nil): DefaultLimits; &Limits{} turns them off.
	Limits *Limits
}

// Bounds of the HTTP API.
const (
	// maxBodyBytes: a transaction plus room for JSON whitespace.
	maxBodyBytes = registry.MaxTxBytes + 4<<10
	// maxListLimit bounds one page of a list.
	maxListLimit = 1000
	// defaultListLimit is a page's size when none is asked for.
	defaultListLimit = 100
)

// Server serves the HTTP API of one node.
type Server struct {
	b    Backend
	opts Options
	log  *slog.Logger
	mux  *http.ServeMux
	// limits is nil when no class is limited.
	limits *limiter
	// patterns are the routes served, as ServeMux patterns.
	patterns []string
	// handles is the Handle REST front end, mounted at handle.Pattern.
	handles *handle.Server
}

// Patterns lists the routes served, as ServeMux patterns.
func (s *Server) Patterns() []string { return append([]string(nil), s.patterns...) }

// New returns the API of backend b.
func New(b Backend, opts Options) *Server {
	if opts.SubmitTimeout == 0 {
		opts.SubmitTimeout = chain.WaitTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.PublicURL == "" {
		opts.PublicURL = code.DefaultFormOptions().ResolverBase
	}
	opts.PublicURL = strings.TrimRight(opts.PublicURL, "/")
	if opts.DNSZone == "" {
		opts.DNSZone = code.DefaultFormOptions().Zone
	}
	limits := DefaultLimits()
	if opts.Limits != nil {
		limits = *opts.Limits
	}
	s := &Server{b: b, opts: opts, log: opts.Logger, mux: http.NewServeMux(), limits: newLimiter(limits), handles: newHandles(b, opts)}
	handlers := []struct {
		pattern string
		h       http.HandlerFunc
	}{
		{"POST /v1/txs", s.postTx},
		{"GET /v1/ids/{id...}", s.getID}, // and /history, /children, /qr.png, /qr.svg
		{"GET /v1/cities", s.listCities},
		{"GET /v1/applications", s.listApplications},
		{"GET /v1/applications/{n}", s.getApplication},
		{"GET /v1/grants", s.listGrants},
		{"GET /v1/validators", s.getValidators},
		{"GET /v1/proposals", s.listProposals},
		{"GET /v1/blocks/{h}", s.getBlock},
		{"GET /v1/txs/{hash}", s.getTx},
		{"GET /v1/light/{h}", s.getLightBlock},
		{"GET /v1/openapi.json", s.getOpenAPI},
		{"GET /v1/accounts/{key}", s.getAccount},
		{"GET /v1/status", s.getStatus},
		{handle.Pattern, s.handles.ServeHTTP},
		{"GET /r/{id...}", s.getResolver},
		{"GET /ids/{id...}", s.getRecordPage},
		{"GET /healthz", s.healthz},
		{"GET /readyz", s.readyz},
	}
	for _, h := range handlers {
		s.mux.HandleFunc(h.pattern, h.h)
		s.patterns = append(s.patterns, h.pattern)
	}
	if opts.Metrics != nil {
		s.mux.Handle("GET /metrics", opts.Metrics.Handler())
		s.patterns = append(s.patterns, "GET /metrics")
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, Problem{Status: http.StatusNotFound, Code: CodeNotFound, Detail: "no route " + r.Method + " " + r.URL.Path})
	})
	return s
}

// ServeHTTP implements http.Handler. A panic in a handler is a bug, never
// the client's doing: it is logged and answered 500, and the node goes on.
//
// Every answer may be read by a page of another origin (CORS with "*"):
// the API holds nothing private, and a write is a signed transaction that
// no origin can forge.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("handler panic", "method", r.Method, "path", r.URL.Path, "panic", v)
			writeProblem(w, Problem{Status: http.StatusInternalServerError, Code: CodeInternal, Detail: "internal error; the node's log has the details"})
		}
	}()
	if s.opts.Metrics != nil {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		w = sw
		defer func() { s.opts.Metrics.Request(iface(r.URL.Path), metrics.HTTPStatus(sw.status), time.Since(start)) }()
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Content-Type, Accept")
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if s.limits != nil && !s.allow(w, r) {
		return
	}
	pretty, ok := prettyParam(w, r)
	if !ok {
		return
	}
	if !pretty {
		s.mux.ServeHTTP(w, r)
		return
	}
	pw := &prettyWriter{ResponseWriter: w}
	s.mux.ServeHTTP(pw, r)
	pw.finish()
}

// iface is the interface a request path belongs to, for metrics.
func iface(path string) string {
	switch {
	case strings.HasPrefix(path, "/v1/ids/"):
		return metrics.HTTP
	case strings.HasPrefix(path, "/api/handles/"):
		return metrics.Handle
	case strings.HasPrefix(path, "/r/"), strings.HasPrefix(path, "/ids/"):
		return metrics.Resolver
	}
	return metrics.API
}

// statusWriter remembers the status an answer was written with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// TxAnswer is the answer to POST /v1/txs for a committed transaction.
type TxAnswer struct {
	Hash   string           `json:"hash"`
	Height int64            `json:"height"`
	Result registry.Outcome `json:"result"`
}

func (s *Server) postTx(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeProblem(w, Problem{Status: http.StatusRequestEntityTooLarge, Code: registry.CodeTooLarge,
				Detail: "request body is more than " + strconv.Itoa(maxBodyBytes) + " bytes"})
			return
		}
		writeProblem(w, Problem{Status: http.StatusBadRequest, Code: CodeBadRequest, Detail: "read body: " + err.Error()})
		return
	}
	// Check the envelope here too, so a malformed body gets its precise
	// error without a trip through the mempool.
	if _, perr := registry.DecodeEnvelope(body); perr != nil {
		writeProblem(w, Problem{Status: statusOf(perr.Code), Code: perr.Code, Detail: perr.Msg})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.SubmitTimeout)
	defer cancel()
	res, err := s.b.Submit(ctx, body)
	if errors.Is(err, chain.ErrTimeout) {
		writeProblem(w, Problem{Status: http.StatusGatewayTimeout, Code: CodeTimeout, Hash: res.Hash,
			Detail: "the transaction is in the mempool but was not committed within " + s.opts.SubmitTimeout.String() + "; it may still be"})
		return
	}
	if err != nil {
		writeProblem(w, internalProblem(s.log, r, err))
		return
	}
	if res.Err != nil {
		writeProblem(w, Problem{Status: statusOf(res.Err.Code), Code: res.Err.Code, Detail: res.Err.Msg, Hash: res.Hash, Height: res.Height})
		return
	}
	var out registry.Outcome
	if len(res.Data) > 0 {
		if err := json.Unmarshal(res.Data, &out); err != nil {
			writeProblem(w, internalProblem(s.log, r, err))
			return
		}
	}
	s.writeJSON(w, http.StatusOK, TxAnswer{Hash: res.Hash, Height: res.Height, Result: out})
}

// City is one entry of the city directory.
type City struct {
	CityCode string `json:"city_code"`
	Name     string `json:"name"`
}

// CityList is a page of the city directory.
type CityList struct {
	Height int64  `json:"height"`
	Cities []City `json:"cities"`
	// Next is the cursor of the next page (?after=...), empty on the last.
	Next string `json:"next,omitempty"`
}

func (s *Server) listCities(w http.ResponseWriter, r *http.Request) {
	limit, ok := listLimit(w, r)
	if !ok {
		return
	}
	view, ok := s.view(w)
	if !ok {
		return
	}
	var start []byte
	if after := r.URL.Query().Get("after"); after != "" {
		start = append(append(registry.CityPrefix(), after...), 0)
	}
	out := CityList{Height: view.Version(), Cities: []City{}}
	err := view.Iterate(registry.CityPrefix(), start, func(k, v []byte) bool {
		if len(out.Cities) == limit {
			out.Next = out.Cities[len(out.Cities)-1].CityCode
			return false
		}
		out.Cities = append(out.Cities, City{CityCode: registry.CityFromKey(k), Name: string(v)})
		return true
	})
	if err != nil {
		writeProblem(w, internalProblem(s.log, r, err))
		return
	}
	s.writeJSON(w, http.StatusOK, out)
}

func listLimit(w http.ResponseWriter, r *http.Request) (int, bool) {
	q := r.URL.Query().Get("limit")
	if q == "" {
		return defaultListLimit, true
	}
	n, err := strconv.Atoi(q)
	if err != nil || n < 1 || n > maxListLimit {
		writeProblem(w, Problem{Status: http.StatusBadRequest, Code: CodeBadRequest,
			Detail: "limit " + quote(q) + " is not a number from 1 to " + strconv.Itoa(maxListLimit)})
		return 0, false
	}
	return n, true
}

func (s *Server) getApplication(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.ParseUint(r.PathValue("n"), 10, 64)
	if err != nil || n == 0 {
		writeProblem(w, Problem{Status: http.StatusBadRequest, Code: CodeBadRequest, Detail: "application " + quote(r.PathValue("n")) + " is not a positive number"})
		return
	}
	view, ok := s.view(w)
	if !ok {
		return
	}
	app, found, err := registry.GetApplication(view, n)
	if err != nil {
		writeProblem(w, internalProblem(s.log, r, err))
		return
	}
	if !found {
		writeProblem(w, Problem{Status: http.StatusNotFound, Code: CodeNotFound, Detail: "application " + strconv.FormatUint(n, 10) + " does not exist"})
		return
	}
	counter, err := newVoteCounter(view)
	if err != nil {
		writeProblem(w, internalProblem(s.log, r, err))
		return
	}
	s.writeJSON(w, http.StatusOK, ApplicationAnswer{Height: view.Version(), Application: counter.view(app)})
}

// Account is the answer to GET /v1/accounts/{key}.
type Account struct {
	Height    int64  `json:"height"`
	Key       string `json:"key"`
	Nonce     uint64 `json:"nonce"`      // the last nonce used on the ledger; 0 for a new account
	NextNonce uint64 `json:"next_nonce"` // the nonce of the account's next transaction, counting those waiting in this node's mempool
	Pending   uint64 `json:"pending"`    // how many of the account's transactions wait in this node's mempool
}

func (s *Server) getAccount(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	if _, err := registry.ParsePubKey(key); err != nil {
		e := registry.AsError(err)
		writeProblem(w, Problem{Status: http.StatusBadRequest, Code: e.Code, Detail: e.Msg})
		return
	}
	view, ok := s.view(w)
	if !ok {
		return
	}
	n, err := registry.AccountNonce(view, key)
	if err != nil {
		writeProblem(w, internalProblem(s.log, r, err))
		return
	}
	out := Account{Height: view.Version(), Key: key, Nonce: n, NextNonce: n + 1}
	if next, ok := s.b.PendingNonce(key); ok && next > out.NextNonce {
		out.NextNonce, out.Pending = next, next-out.NextNonce
	}
	s.writeJSON(w, http.StatusOK, out)
}

// StatusAnswer is the answer to GET /v1/status.
type StatusAnswer struct {
	chain.Status
	Params    registry.Params    `json:"params"`
	Authority registry.Authority `json:"authority"`
}

func (s *Server) getStatus(w http.ResponseWriter, r *http.Request) {
	st, err := s.b.Status(r.Context())
	if err != nil {
		writeProblem(w, internalProblem(s.log, r, err))
		return
	}
	out := StatusAnswer{Status: st}
	if view := s.b.Latest(); view != nil {
		if out.Params, err = registry.GetParams(view); err != nil {
			writeProblem(w, internalProblem(s.log, r, err))
			return
		}
		if out.Authority, err = registry.GetAuthority(view); err != nil {
			writeProblem(w, internalProblem(s.log, r, err))
			return
		}
	}
	s.writeJSON(w, http.StatusOK, out)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, http.StatusOK, Health{Status: "ok"})
}

// readyz is 200 once the node has committed state and is not catching up:
// only then are its answers current.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	st, err := s.b.Status(r.Context())
	switch {
	case err != nil:
		writeProblem(w, Problem{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, Detail: err.Error()})
	case s.b.Latest() == nil:
		writeProblem(w, Problem{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, Detail: "no block committed yet"})
	case st.CatchingUp:
		writeProblem(w, Problem{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, Detail: "catching up with the network"})
	default:
		s.writeJSON(w, http.StatusOK, Health{Status: "ready", Height: st.Height})
	}
}

// view returns the last committed state, answering 503 before the first
// block.
func (s *Server) view(w http.ResponseWriter) (*store.View, bool) {
	v := s.b.Latest()
	if v == nil {
		writeProblem(w, Problem{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, Detail: "no block committed yet"})
		return nil, false
	}
	return v, true
}
