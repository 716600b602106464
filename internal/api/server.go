package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/cityid/cityid/internal/api/handle"
	"github.com/cityid/cityid/internal/metrics"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/share"
	"github.com/cityid/cityid/internal/store"
	"github.com/cityid/cityid/internal/web"
	"github.com/cityid/cityid/internal/wire"
)

// Backend is what the API needs of a running node.
type Backend interface {
	// Latest is the last committed state; nil before the first block.
	Latest() *store.View
	// Submit puts a signed transaction in the mempool and waits for its
	// commit (as chain.Node.Submit does).
	Submit(ctx context.Context, tx []byte) (wire.TxResult, error)
	// Status is the node's view of the chain.
	Status(ctx context.Context) (wire.NodeStatus, error)
	// PendingNonce is the next nonce of an account with transactions
	// waiting in the mempool.
	PendingNonce(key string) (uint64, bool)
	// At is committed state at a height.
	At(height int64) (*store.View, error)
	// Block, Tx and LightBlock read CometBFT's block store and indexes.
	Block(ctx context.Context, height int64) (wire.BlockInfo, error)
	Tx(ctx context.Context, hash string) (wire.TxInfo, error)
	LightBlock(ctx context.Context, height int64) (json.RawMessage, error)
}

// Options bound the API. The zero value takes the defaults.
type Options struct {
	// SubmitTimeout is how long POST /v1/txs waits for the commit.
	// Default wire.DefaultSubmitWait.
	SubmitTimeout time.Duration
	Logger        *slog.Logger
	// PublicURL is the base of resolver URLs (in QR codes): how people
	// reach this node. Default wire.DefaultNodeURL.
	PublicURL string
	// DNSZone is the zone of identifiers' DNS form. Default
	// wire.DefaultZone.
	DNSZone string
	// Metrics, when set, counts every request and is served at /metrics.
	Metrics *metrics.Metrics
	// Data, when set, serves datasets' bytes and access logs (issue 12):
	// /v1/data/{id} and /v1/access-log/{id}; without it they answer 404.
	Data *share.Service
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
	// portal is the web portal (internal/web), reading through portal.go.
	portal *web.Portal
}

// Patterns lists the routes served, as ServeMux patterns.
func (s *Server) Patterns() []string { return append([]string(nil), s.patterns...) }

// New returns the API of backend b.
func New(b Backend, opts Options) *Server {
	if opts.SubmitTimeout == 0 {
		opts.SubmitTimeout = wire.DefaultSubmitWait
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.PublicURL == "" {
		opts.PublicURL = wire.DefaultNodeURL
	}
	opts.PublicURL = strings.TrimRight(opts.PublicURL, "/")
	if opts.DNSZone == "" {
		opts.DNSZone = wire.DefaultZone
	}
	limits := DefaultLimits()
	if opts.Limits != nil {
		limits = *opts.Limits
	}
	s := &Server{b: b, opts: opts, log: opts.Logger, mux: http.NewServeMux(), limits: newLimiter(limits), handles: newHandles(b, opts)}
	s.portal = web.New(portalSource{s}, web.Options{Logger: opts.Logger})
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
		{"GET /v1/anchors/{id...}", s.getAnchors},
		{"GET /v1/validators", s.getValidators},
		{"GET /v1/proposals", s.listProposals},
		{"GET /v1/upgrade", s.getUpgrade},
		{"GET /v1/blocks/{h}", s.getBlock},
		{"GET /v1/txs/{hash}", s.getTx},
		{"GET /v1/light/{h}", s.getLightBlock},
		{"GET /v1/openapi.json", s.getOpenAPI},
		{"GET /v1/accounts/{key}", s.getAccount},
		{"GET /v1/status", s.getStatus},
		{"GET /v1/trust", s.getTrust},
		{"GET /v1/trust/{format}", s.getTrust},
		{"GET /v1/data/{id...}", s.getData}, // and HEAD
		{"PUT /v1/data/{id...}", s.putData},
		{"GET /v1/access-log/{id...}", s.getAccessLog},
		{handle.Pattern, s.handles.ServeHTTP},
		{handle.WritePatterns[0], s.handles.ServeWrite},
		{handle.WritePatterns[1], s.handles.ServeWrite},
		{handle.WritePatterns[2], s.handles.ServeWrite},
		{"GET /r/{id...}", s.getResolver},
		// The portal's pages (internal/web), for people.
		{"GET /{$}", s.portal.Home},
		{"GET /search", s.portal.Search},
		{"GET /ids/{id...}", s.portal.Record},
		{"GET /dir", s.portal.Directory},
		{"GET /dir/{path...}", s.portal.Directory},
		{"GET /static/{file...}", s.portal.Static},
		{"GET /keys", s.portal.Keys},
		{"GET /apply", s.portal.Apply},
		{"GET /authority", s.portal.Authority},
		{"GET /desk", s.portal.Desk},
		{"GET /labels", s.portal.Labels},
		{"GET /verify", s.portal.Verify},
		{"GET /trust", s.portal.Trust},
		{"GET /explorer", s.portal.Explorer},
		{"GET /blocks/{h}", s.portal.Block},
		{"GET /txs/{hash}", s.portal.Tx},
		{"GET /applications/{n}", s.portal.Application},
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
		if allow := s.allowed(r); allow != "" {
			w.Header().Set("Allow", allow)
			writeProblem(w, wire.Problem{Code: wire.CodeMethodNotAllowed, Detail: r.Method + " is not answered at " + r.URL.Path + ": " + allow + " are"})
			return
		}
		if acceptsHTML(r) {
			s.portal.NotFound(w, r)
			return
		}
		writeProblem(w, wire.Problem{Code: wire.CodeNotFound, Detail: "no route " + r.Method + " " + r.URL.Path})
	})
	return s
}

// methods are those a route may be for.
var methods = [...]string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions}

// allowed lists the methods some route takes at r's path, "" when none
// does: the catch-all route would otherwise hide ServeMux's own 405.
func (s *Server) allowed(r *http.Request) string {
	var allow []string
	for _, m := range methods {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != "/" {
			allow = append(allow, m)
		}
	}
	return strings.Join(allow, ", ")
}
