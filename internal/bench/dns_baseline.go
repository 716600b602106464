package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/cityid/cityid/internal/bench/workload"
	"github.com/cityid/cityid/internal/testnode"
)

// The DNS baselines operators compare with (issue 10, section 6): the
// authoritative servers they run, Knot DNS and NSD, serving as a zone file
// the same TXT and URI records the node answers for the same identifiers,
// each with TargetDNSWorkers workers, beside the node's front end and the
// bare miekg/dns server, in the same run. A server that is not installed
// (Debian packages knot, nsd) is left out and the report says so; the
// load comes from dnsperf (Debian package dnsperf) when it is installed,
// else from the bench's own generator. Every process started here binds
// loopback, lives in a temporary folder removed after it, and dies with
// the bench (Pdeathsig where the system has it).

// DNSBaselineOptions bound RunDNSBaselines. Zero fields take the defaults.
type DNSBaselineOptions struct {
	// Clients is dnsperf's -c (or the bench's own client goroutines);
	// default 4, as the issue measured.
	Clients int
	// Duration is each measured run; default 10 s.
	Duration time.Duration
	// Rounds: the best of each server's runs counts; default 3.
	Rounds int
	// Seed orders the names of the query file.
	Seed uint64
	// OwnLoad uses the bench's own load generator even when dnsperf is
	// installed.
	OwnLoad bool
}

func (o *DNSBaselineOptions) defaults() {
	if o.Clients <= 0 {
		o.Clients = 4
	}
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	if o.Rounds <= 0 {
		o.Rounds = 3
	}
	if o.Seed == 0 {
		o.Seed = 2026
	}
}

// DNSBaselines is what RunDNSBaselines measured.
type DNSBaselines struct {
	Names int `json:"names"` // identifiers asked for, at random
	// LoadGenerator says what sent the queries.
	LoadGenerator string `json:"load_generator"`
	// Servers are the node first, then each baseline that ran.
	Servers []DNSServerRun `json:"servers"`
	// Missing says which baselines did not run, and why.
	Missing []string `json:"missing,omitempty"`
	// KnotRatio is the node's rate over Knot's; 0 when Knot did not run.
	KnotRatio float64 `json:"knot_ratio"`
}

// DNSServerRun is one server's best run.
type DNSServerRun struct {
	Name    string     `json:"name"`
	Version string     `json:"version,omitempty"`
	Result  LoadResult `json:"result"`
	// Ratio is the node's rate over this server's.
	Ratio float64 `json:"ratio"`
	// AnswerBytes is the size of its answer to the first name's TXT.
	AnswerBytes int `json:"answer_bytes"`
}

// Met reports whether the node reaches TargetKnotRatio of Knot; false
// when Knot did not run.
func (b DNSBaselines) Met() bool { return b.KnotRatio >= TargetKnotRatio }

// Lines are the report's lines, for `cityid bench` to print.
func (b DNSBaselines) Lines() []string {
	out := []string{fmt.Sprintf("DNS beside the authoritative servers operators run: TXT over UDP for %s random identifiers, load from %s, each server with %d workers where it has a setting:",
		rate(float64(b.Names)), b.LoadGenerator, TargetDNSWorkers)}
	for _, s := range b.Servers {
		name := s.Name
		if s.Version != "" {
			name += " " + s.Version
		}
		lat := fmt.Sprintf("mean %s", fmtDur(s.Result.Mean))
		if s.Result.P50 > 0 {
			lat = fmt.Sprintf("p50 %s, p99 %s", fmtDur(s.Result.P50), fmtDur(s.Result.P99))
		}
		out = append(out, fmt.Sprintf("  %-22s %9s/s  %s, %d-byte answers, node/this %.2f",
			name, rate(s.Result.PerSec), lat, s.AnswerBytes, s.Ratio))
	}
	for _, m := range b.Missing {
		out = append(out, "  not measured: "+m)
	}
	if b.KnotRatio > 0 {
		out = append(out, fmt.Sprintf("  node over Knot: %.2f (target ≥ %.2f): %s", b.KnotRatio, TargetKnotRatio, map[bool]string{true: "met", false: "missed"}[b.Met()]))
	}
	return out
}

// RunDNSBaselines measures the node's DNS front end at nodeDNS and the
// bare miekg/dns server at bareDNS (empty: none) beside Knot and NSD
// serving the node's own answers for names as a zone file, round after
// round so that a slow spell of a shared machine hits them alike.
func RunDNSBaselines(ctx context.Context, nodeDNS, bareDNS string, names []string, opts DNSBaselineOptions) (DNSBaselines, error) {
	opts.defaults()
	rep := DNSBaselines{Names: len(names)}
	if len(names) == 0 {
		return rep, errors.New("dns baselines: no names")
	}
	dir, err := os.MkdirTemp("", "cityid-dns-baseline-")
	if err != nil {
		return rep, err
	}
	defer os.RemoveAll(dir)
	zoneFile := filepath.Join(dir, "zone")
	if err := writeZoneFile(zoneFile, nodeDNS, benchZone, names); err != nil {
		return rep, err
	}
	queries := filepath.Join(dir, "queries")
	if err := writeQueryFile(queries, names, opts.Seed); err != nil {
		return rep, err
	}
	dnsperf, perfErr := exec.LookPath("dnsperf")
	switch {
	case opts.OwnLoad:
		rep.LoadGenerator = fmt.Sprintf("the bench's own generator (%d client goroutines, a UDP socket each, one query at a time)", opts.Clients)
	case perfErr != nil:
		rep.LoadGenerator = fmt.Sprintf("the bench's own generator (%d client goroutines; dnsperf is not installed: Debian package dnsperf)", opts.Clients)
	default:
		rep.LoadGenerator = fmt.Sprintf("dnsperf %s (-c %d, %s a run)", toolVersion(dnsperf, "-h"), opts.Clients, opts.Duration)
	}

	type target struct {
		run  DNSServerRun
		addr string
	}
	targets := []*target{{run: DNSServerRun{Name: "node (dnsfront)"}, addr: nodeDNS}}
	if bareDNS != "" {
		targets = append(targets, &target{run: DNSServerRun{Name: "bare miekg/dns"}, addr: bareDNS})
	}
	for _, start := range []func(ctx context.Context, dir, zoneFile string) (*zoneServer, error){startKnot, startNSD} {
		zs, err := start(ctx, dir, zoneFile)
		if err != nil {
			if errors.Is(err, errNotInstalled) {
				rep.Missing = append(rep.Missing, err.Error())
				continue
			}
			return rep, err
		}
		defer zs.stop()
		if err := sameAnswers(nodeDNS, zs.addr, names); err != nil {
			return rep, fmt.Errorf("%s: %w", zs.name, err)
		}
		targets = append(targets, &target{run: DNSServerRun{Name: zs.name, Version: zs.version}, addr: zs.addr})
	}
	for _, t := range targets {
		r, err := askTXT(t.addr, names[0])
		if err != nil {
			return rep, fmt.Errorf("%s: %w", t.run.Name, err)
		}
		t.run.AnswerBytes = r.Len()
	}
	for round := range opts.Rounds {
		for _, t := range targets {
			var res LoadResult
			var err error
			if opts.OwnLoad || perfErr != nil {
				lo := LoadOptions{Clients: opts.Clients, Duration: opts.Duration, Seed: opts.Seed + uint64(round)}
				res, err = runLoad(ctx, "DNS "+t.run.Name, lo, nil, func() (requester, error) {
					return newDNSRequester(t.addr, func(rng *rand.Rand) string { return names[rng.IntN(len(names))] })
				})
				if err == nil && res.Errors > 0 {
					err = fmt.Errorf("%d errors, first: %s", res.Errors, res.FirstErr)
				}
			} else {
				res, err = runDNSPerf(ctx, dnsperf, t.addr, queries, opts.Clients, opts.Duration)
			}
			if err != nil {
				return rep, fmt.Errorf("%s: %w", t.run.Name, err)
			}
			res.Target = t.run.Name
			if res.PerSec > t.run.Result.PerSec {
				t.run.Result = res
			}
		}
	}
	node := targets[0].run.Result.PerSec
	for _, t := range targets {
		if t.run.Result.PerSec > 0 {
			t.run.Ratio = node / t.run.Result.PerSec
		}
		if strings.HasPrefix(t.run.Name, "Knot") {
			rep.KnotRatio = t.run.Ratio
		}
		rep.Servers = append(rep.Servers, t.run)
	}
	return rep, nil
}

// dnsNames are the DNS names of the first n identifiers of dir.
func dnsNames(dir *workload.Directory, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = dir.Parsed(i).DNSName(benchZone)
	}
	return out
}

// writeZoneFile writes the zone as the node answers it: its SOA and NS,
// and every name's TXT and URI records, asked of the node over TCP (so
// that nothing is truncated).
func writeZoneFile(path, nodeDNS, zone string, names []string) error {
	c := &dns.Client{Net: "tcp", Timeout: 10 * time.Second}
	var conn *dns.Conn
	asked := 0
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	ask := func(name string, qtype uint16) error {
		// miekg/dns's server closes a connection after 128 queries
		// (MaxTCPQueries): a new one before that.
		if conn == nil || asked == 100 {
			if conn != nil {
				conn.Close()
			}
			if conn, err = c.Dial(nodeDNS); err != nil {
				return fmt.Errorf("zone file: %w", err)
			}
			asked = 0
		}
		asked++
		m := new(dns.Msg)
		m.SetQuestion(name, qtype)
		r, _, err := c.ExchangeWithConn(m, conn)
		if err != nil {
			return fmt.Errorf("zone file: %s %s: %w", name, dns.TypeToString[qtype], err)
		}
		if r.Rcode != dns.RcodeSuccess {
			return fmt.Errorf("zone file: %s %s: %s", name, dns.TypeToString[qtype], dns.RcodeToString[r.Rcode])
		}
		for _, rr := range r.Answer {
			fmt.Fprintln(w, rr.String())
		}
		return nil
	}
	for _, q := range []uint16{dns.TypeSOA, dns.TypeNS} {
		if err := ask(zone, q); err != nil {
			f.Close()
			return err
		}
	}
	for _, name := range names {
		for _, q := range []uint16{dns.TypeTXT, dns.TypeURI} {
			if err := ask(name, q); err != nil {
				f.Close()
				return err
			}
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeQueryFile writes dnsperf's input: every name's TXT, in an order
// drawn from seed, so that each run asks at random, not in zone order.
func writeQueryFile(path string, names []string, seed uint64) error {
	order := slices.Clone(names)
	rng := rand.New(rand.NewPCG(seed, 6))
	rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	var b strings.Builder
	for _, n := range order {
		b.WriteString(n)
		b.WriteString(" TXT\n")
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// sameAnswers checks that the server at addr answers TXT and URI for a
// sample of names with the node's records.
func sameAnswers(nodeDNS, addr string, names []string) error {
	c := &dns.Client{Net: "tcp", Timeout: 5 * time.Second}
	for i := 0; i < len(names); i += max(1, len(names)/50) {
		for _, qtype := range []uint16{dns.TypeTXT, dns.TypeURI} {
			var sets [2][]string
			for j, a := range []string{nodeDNS, addr} {
				m := new(dns.Msg)
				m.SetQuestion(names[i], qtype)
				r, _, err := c.Exchange(m, a)
				if err != nil {
					return err
				}
				for _, rr := range r.Answer {
					sets[j] = append(sets[j], rr.String())
				}
				slices.Sort(sets[j])
			}
			if !slices.Equal(sets[0], sets[1]) {
				return fmt.Errorf("%s %s: %q, the node %q", names[i], dns.TypeToString[qtype], sets[1], sets[0])
			}
		}
	}
	return nil
}

// dnsperf's summary lines.
var (
	perfQPS       = regexp.MustCompile(`Queries per second:\s+([0-9.]+)`)
	perfCompleted = regexp.MustCompile(`Queries completed:\s+([0-9]+)`)
	perfLost      = regexp.MustCompile(`Queries lost:\s+([0-9]+)`)
	perfLatency   = regexp.MustCompile(`Average Latency \(s\):\s+([0-9.]+)`)
	perfElapsed   = regexp.MustCompile(`Run time \(s\):\s+([0-9.]+)`)
)

// runDNSPerf runs dnsperf against addr for d, and reads its summary. It
// reports the mean latency only: dnsperf gives no quantiles.
func runDNSPerf(ctx context.Context, dnsperf, addr, queries string, clients int, d time.Duration) (LoadResult, error) {
	res := LoadResult{Clients: clients}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return res, err
	}
	secs := max(1, int(d.Round(time.Second)/time.Second))
	ctx, cancel := context.WithTimeout(ctx, d+time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, dnsperf, "-s", host, "-p", port, "-d", queries, "-c", strconv.Itoa(clients), "-l", strconv.Itoa(secs))
	dieWithParent(cmd)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return res, fmt.Errorf("dnsperf: %w: %s", err, clip(string(out), 500))
	}
	num := func(re *regexp.Regexp) (float64, error) {
		m := re.FindSubmatch(out)
		if m == nil {
			return 0, fmt.Errorf("dnsperf: no %q in its output: %s", re, clip(string(out), 500))
		}
		return strconv.ParseFloat(string(m[1]), 64)
	}
	for _, f := range []struct {
		re  *regexp.Regexp
		set func(float64)
	}{
		{perfQPS, func(v float64) { res.PerSec = v }},
		{perfCompleted, func(v float64) { res.Requests = int(v) }},
		{perfLost, func(v float64) { res.Errors = int(v) }},
		{perfLatency, func(v float64) { res.Mean = time.Duration(v * float64(time.Second)) }},
		{perfElapsed, func(v float64) { res.Elapsed = time.Duration(v * float64(time.Second)) }},
	} {
		v, err := num(f.re)
		if err != nil {
			return res, err
		}
		f.set(v)
	}
	if res.Errors > 0 {
		res.FirstErr = fmt.Sprintf("%d queries lost", res.Errors)
	}
	return res, nil
}

// errNotInstalled is a baseline whose program is not on this machine.
var errNotInstalled = errors.New("not installed")

// zoneServer is a running Knot or NSD.
type zoneServer struct {
	name, version, addr string
	stop                func()
}

// startKnot runs knotd serving zoneFile on a free loopback port.
func startKnot(ctx context.Context, dir, zoneFile string) (*zoneServer, error) {
	knotd, err := exec.LookPath("knotd")
	if err != nil {
		return nil, fmt.Errorf("Knot DNS: knotd %w (Debian package knot)", errNotInstalled)
	}
	home := filepath.Join(dir, "knot")
	addr, err := testnode.FreeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	host, port, _ := net.SplitHostPort(addr)
	conf := fmt.Sprintf(`server:
    rundir: "%[1]s"
    listen: %[2]s@%[3]s
    udp-workers: %[4]d
    tcp-workers: 1
    background-workers: 1
database:
    storage: "%[1]s"
log:
  - target: stderr
    any: error
zone:
  - domain: %[5]s
    file: "%[6]s"
    storage: "%[1]s"
    zonefile-sync: -1
    journal-content: none
`, home, host, port, TargetDNSWorkers, benchZone, zoneFile)
	return startZoneServer(ctx, "Knot DNS", toolVersion(knotd, "-V"), home, addr, conf, func(confPath string) []string {
		return []string{knotd, "-c", confPath}
	})
}

// startNSD runs nsd serving zoneFile on a free loopback port.
func startNSD(ctx context.Context, dir, zoneFile string) (*zoneServer, error) {
	nsd, err := exec.LookPath("nsd")
	if err != nil {
		return nil, fmt.Errorf("NSD: nsd %w (Debian package nsd)", errNotInstalled)
	}
	home := filepath.Join(dir, "nsd")
	addr, err := testnode.FreeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	host, port, _ := net.SplitHostPort(addr)
	conf := fmt.Sprintf(`server:
    ip-address: %[2]s@%[3]s
    server-count: %[4]d
    username: ""
    chroot: ""
    zonesdir: "%[1]s"
    database: ""
    zonelistfile: "%[1]s/zone.list"
    xfrdfile: "%[1]s/xfrd.state"
    xfrdir: "%[1]s"
    pidfile: "%[1]s/nsd.pid"
    logfile: "%[1]s/nsd.log"
    minimal-responses: yes
    verbosity: 0
remote-control:
    control-enable: no
zone:
    name: %[5]s
    zonefile: "%[6]s"
`, home, host, port, TargetDNSWorkers, benchZone, zoneFile)
	return startZoneServer(ctx, "NSD", toolVersion(nsd, "-v"), home, addr, conf, func(confPath string) []string {
		return []string{nsd, "-d", "-c", confPath}
	})
}

// startZoneServer writes conf in home, runs the command, and waits until
// it answers the zone's SOA at addr.
func startZoneServer(ctx context.Context, name, version, home, addr, conf string, command func(confPath string) []string) (*zoneServer, error) {
	if err := os.MkdirAll(home, 0o755); err != nil {
		return nil, err
	}
	confPath := filepath.Join(home, "server.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	argv := command(confPath)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = home
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}
	c := &dns.Client{Net: "udp", Timeout: 200 * time.Millisecond}
	m := new(dns.Msg)
	m.SetQuestion(benchZone, dns.TypeSOA)
	for deadline := time.Now().Add(30 * time.Second); ; {
		if r, _, err := c.Exchange(m, addr); err == nil && r.Rcode == dns.RcodeSuccess && len(r.Answer) == 1 {
			break
		}
		select {
		case err := <-exited:
			return nil, fmt.Errorf("%s exited before answering: %v: %s", name, err, clip(stderr.String(), 500))
		case <-ctx.Done():
			stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("%s did not answer on %s in 30 s: %s", name, addr, clip(stderr.String(), 500))
		}
	}
	return &zoneServer{name: name, version: version, addr: addr, stop: stop}, nil
}

// toolVersion is the version a program prints with flag ("version 3.2.6"),
// or "".
func toolVersion(path string, flag string) string {
	out, _ := exec.Command(path, flag).CombinedOutput()
	if m := versionRE.FindSubmatch(out); m != nil {
		return string(m[1])
	}
	return ""
}

var versionRE = regexp.MustCompile(`(?i)version\s+([0-9]+\.[0-9]+(\.[0-9]+)?)`)
