// Package metrics holds a node's Prometheus metrics: transactions by kind
// and result, resolves by interface and status with their latency, the
// height and the peers. It owns the registry (no global one: two nodes in
// one process keep their own) and the names; the parts of the node call its
// small hooks.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics of one node.
type Metrics struct {
	reg      *prometheus.Registry
	txs      *prometheus.CounterVec
	resolves *prometheus.CounterVec
	latency  *prometheus.HistogramVec
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
	}
	reg.MustRegister(m.txs, m.resolves, m.latency,
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

// CacheStats are the counters of the state's value cache, as the store
// reports them.
type CacheStats struct {
	Gets, Misses, Entries, Bytes, MaxBytes uint64
}

// WatchValueCache exports the state's value cache, read at each scrape:
// its hit rate tells an operator whether [state] value_cache_mb holds
// what is resolved.
func (m *Metrics) WatchValueCache(stats func() CacheStats) {
	if m == nil {
		return
	}
	metric := func(name, help string, counter bool, field func(CacheStats) uint64) prometheus.Collector {
		f := func() float64 { return float64(field(stats())) }
		if counter {
			return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "cityid", Subsystem: "value_cache", Name: name, Help: help}, f)
		}
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "cityid", Subsystem: "value_cache", Name: name, Help: help}, f)
	}
	m.reg.MustRegister(
		metric("lookups_total", "Reads of the latest state that looked in the value cache.", true, func(s CacheStats) uint64 { return s.Gets }),
		metric("misses_total", "Lookups the value cache could not answer (read from the tree).", true, func(s CacheStats) uint64 { return s.Misses }),
		metric("entries", "Values held.", false, func(s CacheStats) uint64 { return s.Entries }),
		metric("bytes", "Memory the held values use.", false, func(s CacheStats) uint64 { return s.Bytes }),
		metric("max_bytes", "Capacity ([state] value_cache_mb).", false, func(s CacheStats) uint64 { return s.MaxBytes }),
	)
}

// HTTPStatus is the status label of an HTTP answer.
func HTTPStatus(code int) string { return strconv.Itoa(code) }

// Handler serves the metrics in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
