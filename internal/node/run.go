package node

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/cityid/cityid/internal/accesslog"
	"github.com/cityid/cityid/internal/chain"
	"github.com/cityid/cityid/internal/datastore"
	"github.com/cityid/cityid/internal/metrics"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/share"
	"github.com/cityid/cityid/internal/store"
)

// shutdownGrace bounds how long Stop waits for requests in flight.
const shutdownGrace = 10 * time.Second

// Running is a started node.
type Running struct {
	Chain    *chain.Node
	HTTPAddr string // the address the API listens on, resolved (port 0 becomes the real port)
	DNSAddr  string // the DNS front end's address ("" when off)
	DNSZone  string

	front *FrontEnds
	log   *slog.Logger
	data  *share.Service // nil when data sharing is off

	stopPreload context.CancelFunc
	preloaded   chan struct{} // closed when the preload has ended

	// stopNotify ends the wait to tell a service manager the node is ready.
	stopNotify context.CancelFunc

	stopOnce sync.Once
	stopErr  error

	// cert is the HTTPS certificate, nil for plain HTTP.
	cert *certificate

	// stopAnchoring ends the anchoring of access logs; anchored is closed
	// when it has ended (nil when there is none).
	stopAnchoring context.CancelFunc
	anchored      chan struct{}

	lock *homeLock // the home, held until the node has stopped

	admin *adminServer // the admin socket; nil when it could not be made
}

// NewLogger builds the node's logger from its configuration.
func NewLogger(c LogConfig, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(strings.ToUpper(c.Level)))
	o := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, o))
	}
	return slog.New(slog.NewTextHandler(w, o))
}

// Options change how Start assembles a node, beyond its configuration.
// The zero value is the node every command runs.
type Options struct {
	// Upgrades are the binary's upgrade handlers (chain.Upgrades(); the
	// upgrade tests build a binary with a test handler too). Nil: none.
	Upgrades []chain.Upgrade
	// WrapApp, when set, wraps the ABCI application CometBFT is given
	// (chain.Options.WrapApp). It exists for the network tests, which
	// build a program of their own to run a byzantine validator; the
	// cityid command never sets it, and no flag or configuration file
	// can.
	WrapApp func(abci.Application) abci.Application
	// Keyring is how the node asks for the keyring's passphrase beyond
	// [keys] (--passphrase-file, a terminal), for its anchor key.
	Keyring KeyringOptions
}

// Start starts every part of the node in c and returns once they run. It
// holds the home until Stop: a second node on the same home, or a reset
// of it, is refused with an *InUseError.
func Start(ctx context.Context, c *Config, log *slog.Logger, opts ...Options) (_ *Running, err error) {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	// Take the home before anything else: two nodes on one home would
	// fight over its stores, and the loser's errors would read like
	// damaged data.
	lock, err := lockHome(c.Home)
	if err != nil {
		var inUse *InUseError
		if errors.As(err, &inUse) {
			return nil, fmt.Errorf("%w: stop that process first, or choose another --home", err)
		}
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = lock.release()
		}
	}()
	// Bind the API next: a taken port is the most common start-up
	// failure, and it should not leave a half-started chain behind.
	ln, err := net.Listen("tcp", c.HTTP.Listen)
	if err != nil {
		return nil, fmt.Errorf("http api on %s: %w (set another address with --http or http.listen in %s)", c.HTTP.Listen, err, cityidFile(c.Home))
	}
	limits, err := c.HTTP.Limits.APILimits() // Load checked them; a Config built in code may not be
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("%w (in %s)", err, cityidFile(c.Home))
	}
	var cn *chain.Node
	m := metrics.New(
		func() float64 {
			if cn == nil {
				return 0
			}
			return float64(cn.Store().Version())
		},
		func() float64 {
			if cn == nil {
				return 0
			}
			return float64(cn.Peers())
		})
	cn, err = chain.Start(ctx, c.Comet, log, chain.Options{
		SnapshotInterval: c.Snapshots.Interval, SnapshotKeep: c.Snapshots.Keep, OnTx: m.Tx,
		Store: store.Options{
			BlockCacheBytes:  c.State.CacheMB << 20,
			WriteBufferBytes: c.State.WriteBufferMB << 20,
			CacheNodes:       c.State.TreeCacheNodes,
			ValueCacheBytes:  valueCacheBytes(c.State.ValueCacheMB),
		},
		Retention: c.Storage.Retention(),
		Upgrades:  o.Upgrades,
		WrapApp:   o.WrapApp,
	})
	if err != nil {
		ln.Close()
		return nil, recoverHint(c.Home, err)
	}
	m.WatchValueCache(func() metrics.CacheStats { return metrics.CacheStats(cn.Store().CacheStats()) })
	if disk := homeDisk(c.Home); disk != nil {
		m.WatchDisk(disk)
	}

	glue, err := c.DNS.GlueAddrs() // Load checked it; a Config built in code may not be
	if err != nil {
		ln.Close()
		_ = cn.Stop()
		return nil, fmt.Errorf("%w (in %s)", err, cityidFile(c.Home))
	}
	var cert *certificate
	var tlsConf *tls.Config
	if c.HTTP.TLSCert != "" {
		if cert, err = loadCertificate(homePath(c.Home, c.HTTP.TLSCert), homePath(c.Home, c.HTTP.TLSKey)); err != nil {
			ln.Close()
			_ = cn.Stop()
			return nil, fmt.Errorf("%w (http.tls_cert, http.tls_key in %s)", err, cityidFile(c.Home))
		}
		tlsConf = cert.tlsConfig()
	}
	ko := o.Keyring
	if ko.Warn == nil {
		ko.Warn = func(msg string) { log.Warn(msg) }
	}
	data, anchoring, err := startData(c, cn, log, publicURL(c, ln.Addr().String()), ln.Addr().String(), ko)
	if err != nil {
		ln.Close()
		_ = cn.Stop()
		return nil, err
	}
	if anchoring != nil {
		// Before the front ends serve a request: a log that no longer
		// holds its latest anchor is held before anything is appended
		// to it (RunAnchoring checks again at its start, and before
		// each anchor).
		if err := data.CheckAnchoredLogs(ctx, *anchoring); err != nil {
			log.Warn("checking access logs against their anchors failed; checked again when anchoring starts", "err", err)
		}
	}
	front, err := ServeFrontEnds(ln, cn, FrontEndOptions{
		PublicURL: publicURL(c, ln.Addr().String()), Zone: c.DNS.Zone, NS: c.DNS.NS, Glue: glue,
		DNSListen: c.DNS.Listen, DNSRateLimit: c.DNS.RateLimit(), Limits: limits, Metrics: m, Log: log,
		Data: data, TLS: tlsConf,
	})
	if err != nil {
		// The HTTP server is built without fail: the error is the DNS
		// front end's.
		ln.Close()
		_ = cn.Stop()
		return nil, fmt.Errorf("%w (give another address with --dns HOST:PORT or dns.listen in %s; --dns off, or dns.listen = \"\", runs no DNS front end)", err, cityidFile(c.Home))
	}
	r := &Running{Chain: cn, HTTPAddr: front.HTTPAddr, DNSAddr: front.DNSAddr, DNSZone: front.DNSZone, front: front, log: log, data: data, lock: lock, cert: cert}
	if r.admin, err = serveAdmin(c, cn, log); err != nil {
		// The node serves without it: only backups need it, and a
		// home too deep for a socket's path must not stop a node.
		log.Warn("no admin socket: cityid backup cannot reach this node", "err", err)
		err = nil
	}
	r.preload()
	nctx, stopNotify := context.WithCancel(context.Background())
	r.stopNotify = stopNotify
	go r.notifyReady(nctx)
	if anchoring != nil {
		actx, cancel := context.WithCancel(context.Background())
		r.stopAnchoring, r.anchored = cancel, make(chan struct{})
		go func() {
			defer close(r.anchored)
			data.RunAnchoring(actx, time.Duration(c.Data.AnchorEvery)*time.Second, *anchoring)
		}()
	}
	log.Info("node started", "chain_id", cn.ChainID(), "http", r.HTTPAddr, "dns", r.DNSAddr,
		"rpc", c.Comet.RPC.ListenAddress, "p2p", c.Comet.P2P.ListenAddress, "home", c.Home)
	return r, nil
}

// startData opens the datasets' store and access logs of [data], and the
// anchoring of the logs when an anchor key is named. It returns nils when
// data sharing is off.
func startData(c *Config, cn *chain.Node, log *slog.Logger, public, listen string, ko KeyringOptions) (*share.Service, *share.Anchoring, error) {
	if !c.Data.Enabled {
		return nil, nil, nil
	}
	dir := c.DataDir()
	blobs, err := datastore.Open(filepath.Join(dir, "bytes"))
	if err != nil {
		return nil, nil, fmt.Errorf("datasets in %s: %w", dir, err)
	}
	logs, err := openAccessLogs(filepath.Join(dir, "logs"), log.With("module", "data"))
	if err != nil {
		return nil, nil, fmt.Errorf("access logs in %s: %w", dir, err)
	}
	scheme := ""
	if u, err := url.Parse(c.HTTP.PublicURL); err == nil && c.HTTP.PublicURL != "" {
		scheme = u.Scheme
	}
	svc := share.New(share.Options{Store: blobs, Log: logs, Latest: cn.Latest, BlockTime: cn.BlockTime, Scheme: scheme,
		Cities: c.Data.Cities, PublicURL: public, Authorities: authorities(public, listen),
		MaxBytes: c.Data.MaxBytes, ReserveBytes: c.Data.ReserveBytes}, time.Now())
	if len(svc.Authorities()) == 0 {
		log.Warn("data requests signed for any host are taken: set [http] public_url, so that a signature made for another node is refused here")
	}
	if c.Data.AnchorKey == "" {
		return svc, nil, nil
	}
	kr, err := OpenKeyring(c.Home, ko)
	if err != nil {
		return nil, nil, err
	}
	k, err := kr.Load(c.Data.AnchorKey)
	if err != nil {
		return nil, nil, fmt.Errorf("data.anchor_key %q in %s: %w", c.Data.AnchorKey, cityidFile(c.Home), err)
	}
	return svc, &share.Anchoring{Key: k.Private, ChainID: cn.ChainID(), Submit: cn.Submit, PendingNonce: cn.PendingNonce,
		Logger: log.With("module", "data")}, nil
}

// openAccessLogs opens the access logs under dir, with what they do on
// their own logged as warnings: a crash's torn tail cut off and kept
// aside, and the failed fsync of refusals' entries (AppendDeferred's
// timer), after which the dataset's log refuses every request until the
// node restarts. Nobody waits on either, so the log is how an operator
// hears of them.
func openAccessLogs(dir string, log *slog.Logger) (*accesslog.Log, error) {
	return accesslog.OpenWithOptions(dir, accesslog.Options{Note: func(msg string) { log.Warn(msg) }})
}

// authorities are the host[:port] names a data request may be signed for
// at this node: its public URL's, and its listen address (with localhost
// for a loopback one) unless that is a wildcard, which any name reaches.
func authorities(public, listen string) []string {
	var out []string
	if u, err := url.Parse(public); err == nil && u.Host != "" {
		out = append(out, strings.ToLower(u.Host))
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return out
	}
	ip, perr := netip.ParseAddr(host)
	switch {
	case perr == nil && ip.IsUnspecified():
	case perr == nil && ip.IsLoopback():
		out = append(out, listen, net.JoinHostPort("localhost", port))
	default:
		out = append(out, listen)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// publicURL is the configured base URL, or the API's own address.
func publicURL(c *Config, addr string) string {
	if c.HTTP.PublicURL != "" {
		return c.HTTP.PublicURL
	}
	if c.HTTP.TLSCert != "" {
		return "https://" + addr
	}
	return "http://" + addr
}

// Reload reads again what a running node may take without a restart (on
// SIGHUP): the HTTPS certificate. A file that does not load leaves the
// certificate in use, and the error says which.
func (r *Running) Reload() error {
	if r.cert == nil {
		r.log.Info("reload: nothing to reload (no [http] tls_cert)")
		return nil
	}
	if err := r.cert.reload(); err != nil {
		r.log.Error("reload: the certificate in use stays", "err", err)
		return err
	}
	r.log.Info("reload: HTTPS certificate read again", "cert", r.cert.certFile)
	return nil
}

// Wait blocks until ctx ends, the HTTP server fails or the chain stops for
// an upgrade its binary has no handler for, then stops the node. The last
// returns the *chain.UpgradeNeededError.
func (r *Running) Wait(ctx context.Context) error {
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-r.front.Served():
		if errors.Is(serveErr, http.ErrServerClosed) {
			serveErr = nil
		}
	case <-r.Chain.Halted():
		return errors.Join(r.Chain.HaltError(), r.Stop())
	}
	return errors.Join(serveErr, r.Stop())
}

// Stop stops the API, then the chain: no request is answered from a store
// that is closing. Then it gives the home up, once nothing of the node
// uses it. A second Stop returns what the first did.
func (r *Running) Stop() error {
	r.stopOnce.Do(func() { r.stopErr = r.stop() })
	return r.stopErr
}

func (r *Running) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	var errs []error
	if err := notify("STOPPING=1"); err != nil {
		r.log.Warn("service manager", "err", err)
	}
	r.stopNotify()
	r.stopPreload()
	<-r.preloaded // before the chain closes the store it reads
	if r.stopAnchoring != nil {
		r.stopAnchoring()
		<-r.anchored
	}
	if r.admin != nil {
		if err := r.admin.close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if err := r.front.Shutdown(ctx); err != nil {
		errs = append(errs, err)
	}
	if r.data != nil {
		// After the front ends and the anchoring: nothing appends now.
		// Shutdown returns once every handler has, those past the grace
		// cut off; if one still ran handlerGrace later (its error says
		// so) and appended, Append opens the file again and fsyncs its
		// own entry, which stays durable, and the process's exit closes
		// it.
		if err := r.data.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := r.Chain.Stop(); err != nil {
		errs = append(errs, err)
	}
	if err := r.lock.release(); err != nil {
		errs = append(errs, err)
	}
	r.log.Info("node stopped")
	return errors.Join(errs...)
}

// preload loads the records of the latest state into the value cache in
// the background, so that resolves are answered from memory from the
// first minutes on, not only once each record was asked for.
func (r *Running) preload() {
	ctx, cancel := context.WithCancel(context.Background())
	r.stopPreload, r.preloaded = cancel, make(chan struct{})
	go func() {
		defer close(r.preloaded)
		// A new node, or one restoring a snapshot, has no state yet: it
		// loads what it holds once it holds something.
		for r.Chain.Store().Latest() == nil {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
		began := time.Now()
		n, err := r.Chain.Store().Preload(ctx, registry.RecordPrefix())
		switch {
		case ctx.Err() != nil: // the node is stopping
		case err != nil:
			r.log.Warn("value cache preload stopped", "records", n, "err", err)
		default:
			r.log.Info("value cache preloaded", "records", n, "took", time.Since(began).Round(time.Millisecond))
		}
	}()
}

// valueCacheBytes is the store's option for [state] value_cache_mb, where
// 0 means off.
func valueCacheBytes(mb int) int {
	if mb == 0 {
		return -1
	}
	return mb << 20
}
