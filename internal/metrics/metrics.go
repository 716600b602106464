// Package metrics holds a node's Prometheus metrics: transactions by kind
// and result, resolves by interface and status with their latency, the
// height, the peers, the value cache and the room on the home's disk. It
// owns the registry (no global one: two nodes in one process keep their
// own) and the names; the parts of the node call its small hooks.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cityid/cityid/internal/buildinfo"
)

// Metrics of one node.
type Metrics struct {
	reg      *prometheus.Registry
	txs      *prometheus.CounterVec
	resolves *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	limited  *prometheus.CounterVec
}

// Interfaces a resolve comes through.
const (
	HTTP     = "http"     // /v1/ids/...
	Handle   = "handle"   // /api/handles/...
	DNS      = "dns"      // the DNS front end
	Resolver = "resolver" // /r/... and the record page
	API      = "api"      // the rest of the HTTP API
)

// New returns the metrics of a node; height and peers are read at each
// scrape.
func New(height, peers func() float64) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		txs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "cityid", Name: "transactions_total",
			Help: "Transactions in committed blocks, by kind and result (ok or the rejection code).",
		}, []string{"kind", "result"}),
		resolves: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "cityid", Name: "requests_total",
			Help: "Requests answered, by interface (http, handle, dns, resolver, api) and status (HTTP status or DNS rcode).",
		}, []string{"interface", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "cityid", Name: "request_duration_seconds",
			Help:    "Time to answer a request, by interface.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"interface"}),
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "cityid", Name: "http_rate_limited_total",
			Help: "HTTP requests refused (429) by the per-client rate limits of [http.limits], by class (write: POST /v1/txs; read: proofs, old heights, history, children, blocks, large QR codes).",
		}, []string{"class"}),
	}
	// The classes the help names are there from the start, at 0, so
	// that a dashboard's rate of refusals reads 0 before the first one
	// instead of no data.
	for _, class := range []string{"write", "read"} {
		m.limited.WithLabelValues(class)
	}
	b := buildinfo.Get()
	info := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "cityid", Name: "build_info",
		Help:        "The binary's version, protocol, commit and the versions of Go, CometBFT and IAVL in it (always 1).",
		ConstLabels: prometheus.Labels{"version": b.Version, "protocol": b.Protocol, "commit": b.Commit, "go": b.Go, "cometbft": b.CometBFT, "iavl": b.IAVL}})
	info.Set(1)
	reg.MustRegister(m.txs, m.resolves, m.latency, m.limited, info,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "cityid", Name: "height", Help: "Height of the last committed block."}, height),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "cityid", Name: "peers", Help: "Connected peers."}, peers),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Tx counts a transaction of a committed block.
func (m *Metrics) Tx(kind, result string) {
	if m == nil {
		return
	}
	m.txs.WithLabelValues(kind, result).Inc()
}

// Request counts an answered request.
func (m *Metrics) Request(iface string, status string, took time.Duration) {
	if m == nil {
		return
	}
	m.resolves.WithLabelValues(iface, status).Inc()
	m.latency.WithLabelValues(iface).Observe(took.Seconds())
}

// RateLimited counts an HTTP request refused by a rate limit of class.
func (m *Metrics) RateLimited(class string) {
	if m == nil {
		return
	}
	m.limited.WithLabelValues(class).Inc()
}

// CacheStats are the counters of the state's value cache, as the store
// reports them.
type CacheStats struct {
	Gets, Misses, Entries, Bytes, MaxBytes uint64
}

// WatchValueCache exports the state's value cache, read once at each
// scrape: its hit rate tells an operator whether [state] value_cache_mb
// holds what is resolved. The counters start again from 0 when a
// snapshot is restored, as counters of a restarted process do.
func (m *Metrics) WatchValueCache(stats func() CacheStats) {
	if m == nil {
		return
	}
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName("cityid", "value_cache", name), help, nil, nil)
	}
	m.reg.MustRegister(&cacheCollector{stats: stats, descs: [...]*prometheus.Desc{
		desc("lookups_total", "Reads of the latest state that looked in the value cache."),
		desc("misses_total", "Lookups the value cache could not answer (read from the tree)."),
		desc("entries", "Values held."),
		desc("bytes", "Memory the held values use."),
		desc("max_bytes", "Capacity ([state] value_cache_mb)."),
	}})
}

// cacheCollector reports one reading of the cache's counters, so that a
// scrape's figures agree with one another.
type cacheCollector struct {
	stats func() CacheStats
	descs [5]*prometheus.Desc
}

func (c *cacheCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c *cacheCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	for i, v := range [...]struct {
		kind  prometheus.ValueType
		value uint64
	}{
		{prometheus.CounterValue, s.Gets}, {prometheus.CounterValue, s.Misses},
		{prometheus.GaugeValue, s.Entries}, {prometheus.GaugeValue, s.Bytes}, {prometheus.GaugeValue, s.MaxBytes},
	} {
		ch <- prometheus.MustNewConstMetric(c.descs[i], v.kind, float64(v.value))
	}
}

// DiskStats is the room on the file system that holds a node's home.
type DiskStats struct {
	Free uint64 // bytes the node's user may still write
	Size uint64
}

// WatchDisk exports the room on the home's file system, read at each
// scrape: a node whose disk fills stops committing blocks, so an operator
// is warned while there is time (packaging/monitoring's alerts). A reading
// that fails is left out of the scrape, not reported as 0 free.
func (m *Metrics) WatchDisk(stats func() (DiskStats, error)) {
	if m == nil {
		return
	}
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName("cityid", "disk", name), help, nil, nil)
	}
	m.reg.MustRegister(&diskCollector{stats: stats,
		free: desc("free_bytes", "Bytes the node may still write on the file system that holds its home."),
		size: desc("size_bytes", "Size of the file system that holds the node's home.")})
}

type diskCollector struct {
	stats      func() (DiskStats, error)
	free, size *prometheus.Desc
}

func (c *diskCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.free; ch <- c.size }

func (c *diskCollector) Collect(ch chan<- prometheus.Metric) {
	s, err := c.stats()
	if err != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.free, prometheus.GaugeValue, float64(s.Free))
	ch <- prometheus.MustNewConstMetric(c.size, prometheus.GaugeValue, float64(s.Size))
}

// HTTPStatus is the status label of an HTTP answer.
func HTTPStatus(code int) string { return strconv.Itoa(code) }

// Handler serves the metrics in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
