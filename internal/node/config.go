package node

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	cfg "github.com/cometbft/cometbft/config"
	"github.com/spf13/viper"

	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/internal/api"
	"github.com/cityid/cityid/internal/chain"
	"github.com/cityid/cityid/internal/dnsfront"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/share"
	"github.com/cityid/cityid/internal/store"
	"github.com/cityid/cityid/internal/wire"
)

// DefaultHome is ~/.cityid.
func DefaultHome() string {
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".cityid")
	}
	return ".cityid"
}

// Config is a node's configuration: CityID's own settings from
// config/cityid.toml and CometBFT's from config/config.toml.
type Config struct {
	Home      string
	HTTP      HTTPConfig      `mapstructure:"http"`
	Log       LogConfig       `mapstructure:"log"`
	Snapshots SnapshotsConfig `mapstructure:"snapshots"`
	DNS       DNSConfig       `mapstructure:"dns"`
	State     StateConfig     `mapstructure:"state"`
	Storage   StorageConfig   `mapstructure:"storage"`
	Data      DataConfig      `mapstructure:"data"`
	Keys      KeysConfig      `mapstructure:"keys"`
	Comet     *cfg.Config
}

// StorageConfig is [storage]: how much history the node keeps. 0 keeps
// everything, the default: blocks, transactions and ?height=H reads then
// work back to the first block.
type StorageConfig struct {
	KeepBlocks   int64 `mapstructure:"keep_blocks"`
	KeepVersions int64 `mapstructure:"keep_versions"`
}

// DataConfig is [data]: the datasets this node keeps and serves to other
// cities (issue 12), and the anchoring of their access logs.
type DataConfig struct {
	// Enabled serves /v1/data and /v1/access-log. Default: true.
	Enabled bool `mapstructure:"enabled"`
	// Dir holds the datasets' bytes and access logs, relative to the
	// home unless absolute. Default: "datasets".
	Dir string `mapstructure:"dir"`
	// AnchorKey names the key (in the home's keys/) that anchors access
	// logs' heads on the ledger: an admin of the datasets' city, or of the
	// nodes above them. "" anchors nothing by itself (an admin anchors with
	// cityid data anchor).
	AnchorKey string `mapstructure:"anchor_key"`
	// AnchorEvery is how often, in seconds, logs that grew are looked at
	// and anchored (share.Anchoring says which are due).
	AnchorEvery int `mapstructure:"anchor_every"`
	// Cities whose datasets this node keeps and takes uploads for,
	// besides those that registered this node's public URL as their
	// endpoint; ["*"] is every city (a network of one node).
	Cities []string `mapstructure:"cities"`
	// MaxBytes bounds one dataset's size; ReserveBytes is the free space
	// an upload must leave on the disk.
	MaxBytes     int64 `mapstructure:"max_bytes"`
	ReserveBytes int64 `mapstructure:"reserve_bytes"`
}

// Bounds of [data] anchor_every: from a block's worth to a day.
const (
	minAnchorEvery = 1
	maxAnchorEvery = 86400
)

// DataDir is where the datasets' bytes and logs are: data.dir, relative
// to the home unless absolute (empty, as data mirror may find it with data
// sharing off: the home itself).
func (c *Config) DataDir() string { return homePath(c.Home, cmp.Or(c.Data.Dir, ".")) }

// minKeep is the least a node may keep of blocks or state versions when
// it prunes: the latest and the one before, so that the latest state and
// the header that signs it are both there.
const minKeep = 2

// Retention is the chain's retention for these settings.
func (s StorageConfig) Retention() chain.Retention {
	return chain.Retention{KeepBlocks: s.KeepBlocks, KeepVersions: s.KeepVersions}
}

func (s StorageConfig) validate() error {
	if s.KeepBlocks != 0 && s.KeepBlocks < minKeep {
		return fmt.Errorf("storage.keep_blocks %d is not 0 (keep every block) or at least %d", s.KeepBlocks, minKeep)
	}
	if s.KeepVersions != 0 && s.KeepVersions < minKeep {
		return fmt.Errorf("storage.keep_versions %d is not 0 (keep every version) or at least %d", s.KeepVersions, minKeep)
	}
	return nil
}

// StateConfig sizes the caches of the ledger state's store (IAVL on
// goleveldb). They trade memory for read latency and commit speed.
type StateConfig struct {
	CacheMB        int `mapstructure:"cache_mb"`
	WriteBufferMB  int `mapstructure:"write_buffer_mb"`
	TreeCacheNodes int `mapstructure:"tree_cache_nodes"`
	ValueCacheMB   int `mapstructure:"value_cache_mb"` // 0: off
}

// DNSConfig configures the authoritative DNS front end.
type DNSConfig struct {
	Listen string   `mapstructure:"listen"`
	Zone   string   `mapstructure:"zone"`
	NS     []string `mapstructure:"ns"`
	// Glue gives the addresses of name servers named inside the zone,
	// "NAME ADDRESS" each, as in a zone file's A and AAAA lines.
	Glue []string `mapstructure:"glue"`
	// Response rate limiting over UDP (dnsfront.RateLimit); 0 answers a
	// second turns it off.
	ResponsesPerSecond int `mapstructure:"responses_per_second"`
	Slip               int `mapstructure:"slip"`
	Window             int `mapstructure:"window"` // seconds, as BIND's
	IPv4Prefix         int `mapstructure:"ipv4_prefix"`
	IPv6Prefix         int `mapstructure:"ipv6_prefix"`
}

// GlueAddrs reads [dns] glue. With none given, the zone's own default
// name server (dnsfront.DefaultNameServer, when ns is not set) gets the listen address
// when it is one address (not a wildcard), so a node's delegation is not
// lame out of the box.
func (d DNSConfig) GlueAddrs() (map[string][]netip.Addr, error) {
	out := map[string][]netip.Addr{}
	for _, g := range d.Glue {
		name, addr, ok := strings.Cut(strings.TrimSpace(g), " ")
		a, err := netip.ParseAddr(strings.TrimSpace(addr))
		if !ok || err != nil {
			return nil, fmt.Errorf("dns.glue %q is not \"NAME ADDRESS\" (e.g. \"ns1.cityid.internal 192.0.2.53\")", g)
		}
		out[name] = append(out[name], a)
	}
	if len(d.Glue) == 0 && len(d.NS) == 0 && d.Listen != "" {
		if host, _, err := net.SplitHostPort(d.Listen); err == nil {
			if a, err := netip.ParseAddr(host); err == nil && !a.IsUnspecified() {
				out[dnsfront.DefaultNameServer(d.Zone)] = []netip.Addr{a}
			}
		}
	}
	return out, nil
}

// RateLimit is the DNS front end's rate limit.
func (d DNSConfig) RateLimit() dnsfront.RateLimit {
	return dnsfront.RateLimit{ResponsesPerSecond: d.ResponsesPerSecond, Slip: d.Slip, Window: time.Duration(d.Window) * time.Second,
		IPv4Prefix: d.IPv4Prefix, IPv6Prefix: d.IPv6Prefix}
}

// SnapshotsConfig says when the node takes state sync snapshots for others.
type SnapshotsConfig struct {
	Interval int64 `mapstructure:"interval"`
	Keep     int   `mapstructure:"keep"`
}

// HTTPConfig configures the HTTP API.
type HTTPConfig struct {
	Listen    string `mapstructure:"listen"`
	PublicURL string `mapstructure:"public_url"`
	// TLSCert and TLSKey, when set, serve HTTPS from these PEM files,
	// read again on SIGHUP (relative to the home unless absolute).
	TLSCert string           `mapstructure:"tls_cert"`
	TLSKey  string           `mapstructure:"tls_key"`
	Limits  HTTPLimitsConfig `mapstructure:"limits"`
}

// HTTPLimitsConfig is [http.limits]: the API's per-client token buckets
// for writes and costly reads (see api.Limits). A rate of 0 turns its
// class's limit off.
type HTTPLimitsConfig struct {
	WritesPerSecond float64  `mapstructure:"writes_per_second"`
	WriteBurst      int      `mapstructure:"write_burst"`
	ReadsPerSecond  float64  `mapstructure:"reads_per_second"`
	ReadBurst       int      `mapstructure:"read_burst"`
	TrustedProxies  []string `mapstructure:"trusted_proxies"`
}

// Bounds of [http.limits]: beyond them a typo, not a plan (and a bucket
// whose fill time no time.Duration holds).
const (
	minLimitRate  = 0.01
	maxLimitRate  = 1e6
	maxLimitBurst = 1_000_000
)

// APILimits returns the limits for api.Options, or what is wrong with them.
func (l HTTPLimitsConfig) APILimits() (api.Limits, error) {
	out := api.Limits{
		Writes:      api.Rate{PerSecond: l.WritesPerSecond, Burst: l.WriteBurst},
		CostlyReads: api.Rate{PerSecond: l.ReadsPerSecond, Burst: l.ReadBurst},
	}
	for _, c := range []struct {
		name  string
		rate  float64
		burst int
	}{{"writes", l.WritesPerSecond, l.WriteBurst}, {"reads", l.ReadsPerSecond, l.ReadBurst}} {
		if c.rate != 0 && (c.rate < minLimitRate || c.rate > maxLimitRate) {
			return out, fmt.Errorf("http.limits.%s_per_second %g is not 0 (no limit) or between %g and %g", c.name, c.rate, minLimitRate, maxLimitRate)
		}
		if c.rate != 0 && (c.burst < 1 || c.burst > maxLimitBurst) {
			return out, fmt.Errorf("http.limits.%s_burst %d is not between 1 and %d", strings.TrimSuffix(c.name, "s"), c.burst, maxLimitBurst)
		}
	}
	for _, p := range l.TrustedProxies {
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			addr, aerr := netip.ParseAddr(p)
			if aerr != nil {
				return out, fmt.Errorf("http.limits.trusted_proxies: %q is not an IP address or a CIDR prefix", p)
			}
			addr = addr.Unmap()
			prefix = netip.PrefixFrom(addr, addr.BitLen())
		}
		out.TrustedProxies = append(out.TrustedProxies, prefix.Masked())
	}
	return out, nil
}

// LogConfig configures the node's log.
type LogConfig struct {
	Level  string `mapstructure:"level"`
	Format string `mapstructure:"format"`
}

// Bounds of the [state] settings: beyond them a typo, not a plan (and
// MiB counts that overflow an int on 32-bit machines).
const (
	maxCacheMB        = 64 << 10 // 64 GiB
	maxWriteBufferMB  = 1 << 10  // 1 GiB
	maxTreeCacheNodes = 100_000_000
	// fastcache's least: 512 buckets of at least one 64 KiB chunk.
	minValueCacheMB = 32
)

// DefaultConfig is the configuration of a new home.
func DefaultConfig(home string) *Config {
	return &Config{
		Home: home,
		HTTP: HTTPConfig{Listen: wire.DefaultHTTPAddr, Limits: HTTPLimitsConfig{
			WritesPerSecond: api.DefaultWritesPerSecond, WriteBurst: api.DefaultWriteBurst,
			ReadsPerSecond: api.DefaultReadsPerSecond, ReadBurst: api.DefaultReadBurst, TrustedProxies: []string{},
		}},
		Log:       LogConfig{Level: "info", Format: "text"},
		Snapshots: SnapshotsConfig{Interval: 1000, Keep: 2},
		DNS: DNSConfig{Listen: wire.DefaultDNSAddr, Zone: wire.DefaultZone,
			ResponsesPerSecond: dnsfront.DefaultResponsesPerSecond, Slip: dnsfront.DefaultSlip,
			Window: int(dnsfront.DefaultWindow / time.Second), IPv4Prefix: dnsfront.DefaultIPv4Prefix, IPv6Prefix: dnsfront.DefaultIPv6Prefix},
		State: StateConfig{CacheMB: store.DefaultBlockCacheBytes >> 20, WriteBufferMB: store.DefaultWriteBufferBytes >> 20,
			TreeCacheNodes: store.DefaultCacheNodes, ValueCacheMB: store.DefaultValueCacheBytes >> 20},
		Data: DataConfig{Enabled: true, Dir: "datasets", AnchorEvery: 600, Cities: []string{},
			MaxBytes: share.DefaultMaxBytes, ReserveBytes: share.DefaultReserveBytes},
		Comet: cometDefaults(home),
	}
}

// cometDefaults is CometBFT's configuration for a CityID node.
func cometDefaults(home string) *cfg.Config {
	c := cfg.DefaultConfig()
	c.SetRoot(home)
	c.Moniker = "cityid-node"
	c.RPC.ListenAddress = wire.DefaultRPCAddr
	c.P2P.ListenAddress = wire.DefaultP2PAddr
	// Blocks follow transactions quickly. An idle chain makes no blocks
	// (an empty block a second was 215 KB a minute, 300 MB a day): CometBFT
	// makes a block when transactions wait, and one more, empty, after a
	// block that changed the app hash, because a block's app hash is only
	// signed by the next header. So the state after every write is signed
	// moments after it, and a proof of it verifies at once.
	c.Consensus.TimeoutCommit = 200e6 // 200ms
	c.Consensus.CreateEmptyBlocks = false
	c.Consensus.CreateEmptyBlocksInterval = 0
	// The mempool takes the largest transaction the registry accepts (a
	// register_batch); CometBFT's default of 1 MB is less.
	c.Mempool.MaxTxBytes = registry.MaxTxBytes
	// A local or test network has peers on private addresses.
	c.P2P.AddrBookStrict = false
	c.P2P.AllowDuplicateIP = true
	c.Instrumentation.Prometheus = false
	return c
}

// cityidFile is where CityID's own settings live.
func cityidFile(home string) string { return filepath.Join(home, "config", "cityid.toml") }

// Initialized reports whether home holds a node: its genesis exists.
func Initialized(home string) bool {
	_, err := os.Stat(filepath.Join(home, "config", "genesis.json"))
	return err == nil
}

// Load reads the configuration of the node in home.
func Load(home string) (*Config, error) {
	if !Initialized(home) {
		return nil, fmt.Errorf("%s holds no CityID node (no config/genesis.json): run `cityid init --home %s` or `cityid start --home %s`", home, home, home)
	}
	c := DefaultConfig(home)

	if _, err := os.Stat(cityidFile(home)); err == nil {
		v := viper.New()
		v.SetConfigFile(cityidFile(home))
		if err := v.ReadInConfig(); err != nil {
			return nil, fmt.Errorf("read %s: %w", cityidFile(home), err)
		}
		if err := v.Unmarshal(c); err != nil {
			return nil, fmt.Errorf("read %s: %w", cityidFile(home), err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", cityidFile(home), err)
	}

	cv := viper.New()
	cometFile := filepath.Join(home, "config", "config.toml")
	cv.SetConfigFile(cometFile)
	if err := cv.ReadInConfig(); err != nil {
		return nil, fmt.Errorf("read %s: %w", cometFile, err)
	}
	comet := cfg.DefaultConfig()
	if err := cv.Unmarshal(comet); err != nil {
		return nil, fmt.Errorf("read %s: %w", cometFile, err)
	}
	comet.SetRoot(home)
	if err := comet.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("%s: %w", cometFile, err)
	}
	c.Comet = comet
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", cityidFile(home), err)
	}
	return c, nil
}

func (c *Config) validate() error {
	if c.HTTP.Listen == "" {
		return fmt.Errorf("http.listen is empty")
	}
	if c.HTTP.PublicURL != "" {
		if u, err := url.Parse(c.HTTP.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("http.public_url %q is not an http:// or https:// URL", c.HTTP.PublicURL)
		}
	}
	if _, err := c.HTTP.Limits.APILimits(); err != nil {
		return err
	}
	if (c.HTTP.TLSCert == "") != (c.HTTP.TLSKey == "") {
		return fmt.Errorf("http.tls_cert and http.tls_key go together: give both, or neither for plain HTTP")
	}
	if c.State.CacheMB < 1 || c.State.CacheMB > maxCacheMB {
		return fmt.Errorf("state.cache_mb %d is not between 1 and %d", c.State.CacheMB, maxCacheMB)
	}
	if c.State.WriteBufferMB < 1 || c.State.WriteBufferMB > maxWriteBufferMB {
		return fmt.Errorf("state.write_buffer_mb %d is not between 1 and %d", c.State.WriteBufferMB, maxWriteBufferMB)
	}
	if c.State.ValueCacheMB != 0 && (c.State.ValueCacheMB < minValueCacheMB || c.State.ValueCacheMB > maxCacheMB) {
		return fmt.Errorf("state.value_cache_mb %d is not 0 (off) or between %d and %d", c.State.ValueCacheMB, minValueCacheMB, maxCacheMB)
	}
	if c.State.TreeCacheNodes < 1 || c.State.TreeCacheNodes > maxTreeCacheNodes {
		return fmt.Errorf("state.tree_cache_nodes %d is not between 1 and %d", c.State.TreeCacheNodes, maxTreeCacheNodes)
	}
	if _, err := c.DNS.GlueAddrs(); err != nil {
		return err
	}
	if err := c.DNS.validate(); err != nil {
		return err
	}
	if err := c.Storage.validate(); err != nil {
		return err
	}
	if err := c.Keys.validate(); err != nil {
		return err
	}
	if c.Data.Enabled {
		if c.Data.Dir == "" {
			return fmt.Errorf("data.dir is empty")
		}
		if c.Data.MaxBytes < 0 || c.Data.ReserveBytes < 0 {
			return fmt.Errorf("data.max_bytes %d and data.reserve_bytes %d must not be negative", c.Data.MaxBytes, c.Data.ReserveBytes)
		}
		for _, city := range c.Data.Cities {
			if city == "*" {
				continue
			}
			if id, err := code.Parse(city); err != nil || id.String() != id.CityCode() {
				return fmt.Errorf("data.cities: %q is not a city code (or \"*\" for every city)", city)
			}
		}
		if c.Data.AnchorEvery < minAnchorEvery || c.Data.AnchorEvery > maxAnchorEvery {
			return fmt.Errorf("data.anchor_every %d is not between %d and %d seconds", c.Data.AnchorEvery, minAnchorEvery, maxAnchorEvery)
		}
	}
	if c.Snapshots.Interval < 0 || c.Snapshots.Keep < 1 {
		return fmt.Errorf("snapshots: interval %d must be 0 or more and keep %d at least 1", c.Snapshots.Interval, c.Snapshots.Keep)
	}
	switch strings.ToLower(c.Log.Level) {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log.level %q is not debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		return fmt.Errorf("log.format %q is not text or json", c.Log.Format)
	}
	return nil
}

// validate checks the rate limit's settings, by their names in the file.
func (d DNSConfig) validate() error {
	if d.ResponsesPerSecond == 0 {
		return nil
	}
	switch {
	case d.ResponsesPerSecond < 0 || d.ResponsesPerSecond > dnsfront.MaxResponsesPerSecond:
		return fmt.Errorf("dns.responses_per_second %d is not 0 (off) or between 1 and %d", d.ResponsesPerSecond, dnsfront.MaxResponsesPerSecond)
	case d.Slip < 0 || d.Slip > dnsfront.MaxSlip:
		return fmt.Errorf("dns.slip %d is not between 0 and %d", d.Slip, dnsfront.MaxSlip)
	case d.Window < 1 || d.Window > int(dnsfront.MaxWindow/time.Second):
		return fmt.Errorf("dns.window %d is not between 1 and %d seconds", d.Window, int(dnsfront.MaxWindow/time.Second))
	case d.IPv4Prefix < 1 || d.IPv4Prefix > 32:
		return fmt.Errorf("dns.ipv4_prefix %d is not between 1 and 32", d.IPv4Prefix)
	case d.IPv6Prefix < 1 || d.IPv6Prefix > 128:
		return fmt.Errorf("dns.ipv6_prefix %d is not between 1 and 128", d.IPv6Prefix)
	}
	return nil
}

// cityidTemplate documents every option of config/cityid.toml with its
// default.
const cityidTemplate = `# CityID node settings. CometBFT's own settings (RPC and P2P addresses,
# consensus timeouts, mempool) are in config.toml beside this file.
# Flags of ` + "`cityid start`" + ` override both for one run.

[http]
# Address of the HTTP API: /v1/..., /healthz, /readyz.
# Default: "` + wire.DefaultHTTPAddr + `" (loopback only).
listen = %q
# The base URL people reach this node at: resolver URLs and QR codes are
# <public_url>/r/<identifier>. Default: "http://" + listen (https:// with TLS).
public_url = %q
# HTTPS: a certificate chain and its private key, PEM files (relative to the
# home, or absolute). The node reads them again on SIGHUP (systemctl reload
# cityid), so a renewed certificate is taken without a restart; connections
# open keep theirs. Both empty (the default) serve plain HTTP, as behind a
# reverse proxy that terminates TLS (see the README).
tls_cert = %q
tls_key = %q

[dns]
# Address of the authoritative DNS front end, UDP and TCP ("" for none).
# Try: dig @127.0.0.1 -p 8653 1561301001.cityid.internal TXT
# Default: "` + wire.DefaultDNSAddr + `".
listen = %q
# The zone answered for. .internal is reserved for private use, so the
# default never leaks into the public DNS. Default: "` + wire.DefaultZone + `".
zone = %q
# Name servers named in the zone's NS records. Default: ["ns1.<zone>"].
ns = [%s]
# Addresses of those name servers that are inside the zone ("NAME ADDRESS",
# e.g. ["ns1.cityid.internal 192.0.2.53", "ns1.cityid.internal 2001:db8::53"]):
# answered for A and AAAA and given as glue with the NS records, so that a
# parent zone can delegate to this node (copy them into the parent beside its
# NS records) and resolvers following the delegation find it. Default: []
# (a node listening on one address gives ns1.<zone> that address).
glue = [%s]
# Response rate limiting over UDP, as BIND's rate-limit does it: anyone
# can forge the source address of a UDP query, so without a limit the
# node would reflect floods onto the owner of that address. Answers of
# one kind (the same name and type; NXDOMAIN for any name; errors) to
# one client network are limited to responses_per_second; beyond it
# every slip-th answer is sent truncated, so a real client asks again
# over TCP (never limited), and the others are dropped. A load test from
# one address needs it off.
# Answers of one kind a client network gets a second (0: no limit).
# Default: 20.
responses_per_second = %d
# Of the answers beyond the limit, the first and then every slip-th is
# sent truncated, the others dropped (0: drop all; 1: truncate all).
# Default: 2.
slip = %d
# Seconds a flood is remembered: a network that flooded stays limited up
# to this long after it stops (1 to 3600). Default: 15.
window = %d
# Leading bits of a client's address that make its network.
# Defaults: 24 (IPv4), 56 (IPv6).
ipv4_prefix = %d
ipv6_prefix = %d

[log]
# debug, info, warn or error. Default: "info".
level = %q
# text or json. Default: "text".
format = %q

[snapshots]
# Take a state sync snapshot of the ledger state every so many blocks, so
# that new nodes can join by state sync from this one (0: take none).
# Default: 1000.
interval = %d
# How many snapshots to keep. Default: 2.
keep = %d

[state]
# The ledger state's store: an IAVL tree on goleveldb in data/cityid.
# Cache of uncompressed table blocks, in MiB, filled only as reads need
# it: proofs and resolves of a large state read from it. Default: 256.
cache_mb = %d
# Write buffer (memtable), in MiB: a block of register_batch writes tens
# of MB, and a small buffer makes compaction throttle the commit.
# Default: 64.
write_buffer_mb = %d
# Tree nodes IAVL keeps decoded in memory (the upper levels of the tree,
# a few hundred bytes each). Default: 200000.
tree_cache_nodes = %d
# Values of the latest state (records, mostly), in MiB, kept in memory
# off the Go heap: a resolve of a value held here reads neither the tree
# nor goleveldb. A node loads the records into it at start, in the
# background, as a DNS server loads its zone, and keeps any other value
# once read; memory is taken only as it fills. A record is about 600
# bytes, so the default holds every record of a million and a half
# identifiers. 0 turns it off; the least size is 32. Default: 1024.
value_cache_mb = %d

[storage]
# What this node keeps. 0 keeps everything (the default): every block and
# every version of the state, so blocks, transactions and ?height=H reads
# work back to the first block. An identifier's history
# (/v1/ids/{id}/history) is kept in the state itself and needs no old
# versions: it survives pruning, and a node joining by state sync.
# Reads of a height older than what is kept are refused with 410
# height_pruned, naming the oldest height kept.
# Blocks kept, with their results (0: all, else at least 2). CometBFT
# deletes older ones in the background; never those of a snapshot this
# node still offers. Default: 0.
keep_blocks = %d
# Versions of the state kept for ?height=H reads and proofs at a height
# (0: all, else at least 2). Default: 0.
keep_versions = %d

[data]
# Datasets this node keeps for its city and serves to other cities
# (GET/PUT /v1/data/{id}, GET /v1/access-log/{id}). A dataset's bytes are
# taken only from its admins and only when they hash to the SHA-256 of its
# DATA value on the ledger; they are served to anyone when that value is
# public, else only to requests signed (RFC 9421, Ed25519) by an admin of
# the dataset or of a node holding a live grant for it. Every request is
# appended to the dataset's hash-chained access log. Default: true.
enabled = %t
# Where the bytes and the access logs are: relative to the home, or
# absolute. Default: "datasets".
dir = %q
# The key, by its name in keys/, that anchors the access logs' heads on the
# ledger (an anchor_log transaction): an admin of the datasets or of a node
# above them, such as the city's. "" anchors nothing by itself; an admin
# anchors with cityid data anchor. Default: "".
anchor_key = %q
# How often, in seconds, the logs that grew since their last anchor are
# anchored (1 to 86400), when an entry since names a grantee; other growth
# (anonymous reads) at most once a day (docs/data-sharing.md). Default: 600.
anchor_every = %d
# The cities whose datasets this node keeps and takes uploads for, by city
# code, besides those that registered this node's public URL as their
# endpoint (in their application). ["*"] keeps every city's: a network of one
# node (cityid start, cityid init) is written so. Another node's datasets are
# only served here when public and mirrored (cityid data mirror). Default: [].
cities = [%s]
# The largest dataset this node keeps, in bytes. Default: 68719476736 (64 GiB).
max_bytes = %d
# Free disk space an upload must leave, in bytes. Default: 1073741824 (1 GiB).
reserve_bytes = %d
`

// limitsTemplate documents [http.limits] with its defaults.
const limitsTemplate = `
[http.limits]
# Per-client token buckets, so that one client cannot keep the node busy:
# a client (a remote IPv4 address, or an IPv6 /64) may send so many
# requests of a class a second, and bursts of so many; beyond them it is
# answered 429 rate_limited with a Retry-After header. Resolves,
# directory pages and the rest are not limited.
# Writes: POST /v1/txs. 0: no limit. Default: 10.
writes_per_second = %g
# Default: 50.
write_burst = %d
# Costly reads: proofs (?proof=true), records at an old height (?height=),
# history and children pages, blocks, and QR codes larger than 256
# pixels. 0: no limit. Default: 20.
reads_per_second = %g
# Default: 100.
read_burst = %d
# Reverse proxies in front of this node, as addresses or CIDR prefixes
# (["127.0.0.1", "10.0.0.0/8"]): only a request from one of them has its
# X-Forwarded-For read, and the client is the last address there that is
# not a trusted proxy. Default: [] (X-Forwarded-For is ignored).
trusted_proxies = [%s]
`

// write saves the configuration into home: cityid.toml and CometBFT's
// config.toml.
func (c *Config) write() error {
	dir := filepath.Join(c.Home, "config")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	body := fmt.Sprintf(cityidTemplate, c.HTTP.Listen, c.HTTP.PublicURL, c.HTTP.TLSCert, c.HTTP.TLSKey, c.DNS.Listen, c.DNS.Zone, quoteList(c.DNS.NS), quoteList(c.DNS.Glue),
		c.DNS.ResponsesPerSecond, c.DNS.Slip, c.DNS.Window, c.DNS.IPv4Prefix, c.DNS.IPv6Prefix,
		c.Log.Level, c.Log.Format, c.Snapshots.Interval, c.Snapshots.Keep,
		c.State.CacheMB, c.State.WriteBufferMB, c.State.TreeCacheNodes, c.State.ValueCacheMB,
		c.Storage.KeepBlocks, c.Storage.KeepVersions, c.Data.Enabled, c.Data.Dir, c.Data.AnchorKey, c.Data.AnchorEvery, quoteList(c.Data.Cities), c.Data.MaxBytes, c.Data.ReserveBytes)
	body += limitsSection(c.HTTP.Limits)
	body += keysSection(c.Keys)
	if err := os.WriteFile(cityidFile(c.Home), []byte(body), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", cityidFile(c.Home), err)
	}
	return writeCometConfig(filepath.Join(dir, "config.toml"), c.Comet)
}

// quoteList is a TOML array's items.
func quoteList(items []string) string {
	var q []string
	for _, it := range items {
		q = append(q, fmt.Sprintf("%q", it))
	}
	return strings.Join(q, ", ")
}

// limitsSection is [http.limits] of cityid.toml.
func limitsSection(l HTTPLimitsConfig) string {
	return fmt.Sprintf(limitsTemplate, l.WritesPerSecond, l.WriteBurst, l.ReadsPerSecond, l.ReadBurst, quoteList(l.TrustedProxies))
}

// writeCometConfig is CometBFT's WriteConfigFile, which panics when it
// cannot write; here a full disk is an error, not a crash.
func writeCometConfig(path string, c *cfg.Config) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("write %s: %v", path, v)
		}
	}()
	cfg.WriteConfigFile(path, c)
	return nil
}
