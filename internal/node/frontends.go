package node

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/cityid/cityid/internal/api"
	"github.com/cityid/cityid/internal/chain"
	"github.com/cityid/cityid/internal/dnsfront"
	"github.com/cityid/cityid/internal/metrics"
	"github.com/cityid/cityid/internal/share"
	"github.com/cityid/cityid/internal/wire"
)

// HTTP server bounds.
const (
	readHeaderTimeout = 10 * time.Second
	// readTimeout bounds reading a whole request, body included: the
	// largest is a 2 MiB transaction.
	readTimeout = 30 * time.Second
	// writeTimeout covers a submit that waits for its commit.
	writeTimeout   = wire.DefaultSubmitWait + 10*time.Second
	idleTimeout    = 2 * time.Minute
	maxHeaderBytes = 16 << 10
	// handlerGrace bounds how long Shutdown waits, after closing the
	// connections of requests that outlived its context (long downloads),
	// for their handlers to return: a write to a closed connection fails
	// at once, and a request's context ends with its connection.
	handlerGrace = 5 * time.Second
)

// The chain node answers the API in the wire types, so it is the API's
// backend as it is: no adapter between them to keep in step.
var _ api.Backend = (*chain.Node)(nil)

// HTTPServer is the node's HTTP server around h, with the node's bounds
// on requests and connections; errLog receives net/http's own
// complaints (a client that hangs up, a bad TLS probe) at warning level.
// The benchmark's bare server is one too, so that its ceiling has the
// node's bounds.
func HTTPServer(h http.Handler, errLog *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(errLog.Handler(), slog.LevelWarn),
	}
}

// FrontEndOptions say how ServeFrontEnds serves a backend.
type FrontEndOptions struct {
	// PublicURL is the base of resolver URLs (api.Options.PublicURL).
	PublicURL string
	// Zone and NS are the DNS zone (also the API's DNS form of an
	// identifier) and its name servers.
	Zone string
	NS   []string
	// Glue is the addresses of the name servers inside the zone.
	Glue map[string][]netip.Addr
	// DNSListen is where the DNS front end listens; "" serves no DNS.
	DNSListen string
	// DNSRateLimit bounds answers per client address.
	DNSRateLimit dnsfront.RateLimit
	// Limits are the API's rate limits.
	Limits api.Limits
	// Metrics counts every request of both front ends.
	Metrics *metrics.Metrics
	// Log receives the front ends' logs, by module.
	Log *slog.Logger
	// Data serves datasets and their access logs; nil serves none.
	Data *share.Service
	// TLS, when set, serves HTTPS with its certificate.
	TLS *tls.Config
}

// FrontEnds are a node's HTTP API (with Handle REST) and DNS front end,
// serving one backend.
type FrontEnds struct {
	HTTPAddr string // the address the API listens on, resolved
	DNSAddr  string // the DNS front end's address ("" when off)
	DNSZone  string

	http   *http.Server
	dns    *dnsfront.Server
	served chan error
	// handling counts the HTTP handlers running (counted), so that
	// Shutdown can say when none is left.
	handling atomic.Int64
}

// ServeFrontEnds serves b through the HTTP API on ln and, unless
// o.DNSListen is "", the DNS front end: how node.Start assembles a node's
// front ends, and how the benchmark serves a store the same way. On an
// error nothing is left serving, and ln is the caller's to close.
func ServeFrontEnds(ln net.Listener, b api.Backend, o FrontEndOptions) (*FrontEnds, error) {
	limits := o.Limits
	f := &FrontEnds{HTTPAddr: ln.Addr().String(), served: make(chan error, 1)}
	srv := HTTPServer(f.counted(api.New(b, api.Options{
		Logger: o.Log.With("module", "api"), PublicURL: o.PublicURL, DNSZone: o.Zone, Metrics: o.Metrics, Limits: &limits,
		Data: o.Data,
	})), o.Log.With("module", "http"))
	f.http = srv
	if o.DNSListen != "" {
		m := o.Metrics
		d, err := dnsfront.New(b, dnsfront.Options{Zone: o.Zone, NS: o.NS, Glue: o.Glue, Logger: o.Log.With("module", "dns"), RateLimit: o.DNSRateLimit,
			Observe: func(rcode int, took time.Duration) { m.Request(metrics.DNS, dns.RcodeToString[rcode], took) }})
		if err != nil {
			return nil, err
		}
		udp, _, err := d.ListenAndServe(o.DNSListen)
		if err != nil {
			return nil, err
		}
		f.dns, f.DNSAddr, f.DNSZone = d, udp.String(), d.Zone()
	}
	if o.TLS != nil {
		srv.TLSConfig = o.TLS
		go func() { f.served <- srv.ServeTLS(ln, "", "") }()
	} else {
		go func() { f.served <- srv.Serve(ln) }()
	}
	return f, nil
}

// Served delivers the HTTP server's end: an error, or
// http.ErrServerClosed after Shutdown.
func (f *FrontEnds) Served() <-chan error { return f.served }

// counted is h, counted in f.handling while it runs.
func (f *FrontEnds) counted(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.handling.Add(1)
		defer f.handling.Add(-1)
		h.ServeHTTP(w, r)
	})
}

// Shutdown stops both front ends, letting requests in flight finish
// until ctx ends. Those still running then (a long download) have their
// connections closed, and it returns once their handlers have, so that
// what they use (the access logs, the stores) can be closed after it;
// when some still run handlerGrace later, its error says so.
func (f *FrontEnds) Shutdown(ctx context.Context) error {
	var errs []error
	if err := f.http.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("stop http api: %w", err))
		// http.Server.Shutdown leaves such connections open, their
		// handlers running.
		if err := f.http.Close(); err != nil {
			errs = append(errs, fmt.Errorf("stop http api: close its connections: %w", err))
		}
	}
	if n := f.awaitHandlers(handlerGrace); n > 0 {
		errs = append(errs, fmt.Errorf("stop http api: %d requests still handled %s after their connections were closed", n, handlerGrace))
	}
	if f.dns != nil {
		if err := f.dns.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop dns: %w", err))
		}
	}
	return errors.Join(errs...)
}

// awaitHandlers waits up to d for the HTTP handlers to return, and says
// how many still run. A poll: it runs once, at the end of a stop, and
// keeps the count on the request path a single atomic add.
func (f *FrontEnds) awaitHandlers(d time.Duration) int64 {
	deadline := time.Now().Add(d)
	for {
		n := f.handling.Load()
		if n == 0 || time.Now().After(deadline) {
			return n
		}
		time.Sleep(10 * time.Millisecond)
	}
}
