package bench

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/httpsig"
	"github.com/cityid/cityid/internal/accesslog"
	"github.com/cityid/cityid/internal/api"
	"github.com/cityid/cityid/internal/apitest"
	"github.com/cityid/cityid/internal/datastore"
	"github.com/cityid/cityid/internal/metrics"
	"github.com/cityid/cityid/internal/node"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/share"
	"github.com/cityid/cityid/internal/store"
	"github.com/cityid/cityid/internal/wire"
)

// The data-sharing benchmark (issue 12): a dataset served to a signed
// request of a live grantee's admin through the node's own serving path
// (node.ServeFrontEnds: the API with a node's limits and metrics, behind
// node.HTTPServer, share.Service deciding, the access log fsynced before
// every answer), beside a bare net/http server with the same bounds
// answering the same file on disk with http.ServeContent; and the
// signature and grant check (share.Service.Decide) a request at a time.
//
// The ledger is built by the registry's state machine (as apitest.Ledger
// builds one for tests): city A's dataset, granted to a sector of city B
// whose admin signs. The bytes are pseudo-random, generated from a fixed
// seed, stored through datastore's upload path in a temporary folder.

// DataOptions bound RunData. Zero fields take the defaults.
type DataOptions struct {
	// Size of the dataset in bytes; default DefaultDataSize.
	Size int64
	// Rounds of each transfer; the best counts. Default 3.
	Rounds int
	// Decides is how many signed requests Decide is timed on; default 5,000.
	Decides int
	// Grants the dataset holds (the signer's the last read); default 16.
	Grants int
}

// DefaultDataSize is the dataset (g) serves unless told otherwise: 1 GiB,
// issue 12's.
const DefaultDataSize = 1 << 30

func (o *DataOptions) defaults() {
	if o.Size <= 0 {
		o.Size = DefaultDataSize
	}
	if o.Rounds <= 0 {
		o.Rounds = 3
	}
	if o.Decides <= 0 {
		o.Decides = 5000
	}
	if o.Grants <= 0 {
		o.Grants = 16
	}
}

// DataReport is what RunData measured.
type DataReport struct {
	Size   int64 `json:"size"`
	Rounds int   `json:"rounds"`
	// Bare is http.ServeContent of the blob's file; Warm the node serving
	// it to a signed request once the blob is trusted (verified whole
	// before, unchanged since: served from the file, no hashing); Cold
	// the first full read after the file changed, hashed as it is sent.
	// Each is its best round.
	Bare DataTransfer `json:"bare"`
	Warm DataTransfer `json:"warm"`
	Cold DataTransfer `json:"cold"`
	// Every round's rate, MB/s.
	BareRounds []float64 `json:"bare_rounds"`
	WarmRounds []float64 `json:"warm_rounds"`
	ColdRounds []float64 `json:"cold_rounds"`
	// Trusted says whether the blob was trusted before every warm round
	// (else the warm rounds were hashed too).
	Trusted bool `json:"trusted"`
	// SHA256MBPerSec is SHA-256 over bytes in memory on one core: what a
	// cold read, hashing every byte as it is sent, cannot exceed.
	SHA256MBPerSec float64 `json:"sha256_mb_per_sec"`
	WarmRatio      float64 `json:"warm_ratio"` // Warm over Bare
	ColdRatio      float64 `json:"cold_ratio"` // Cold over Bare
	// LogEntries is the access log's length after the run: one entry per
	// request served.
	LogEntries uint64       `json:"log_entries"`
	Decide     DecideFigure `json:"decide"`
}

// DataTransfer is one transfer's rate.
type DataTransfer struct {
	MBPerSec float64       `json:"mb_per_sec"` // 10^6 bytes a second
	Elapsed  time.Duration `json:"elapsed"`
	// CPUPerGB is the CPU time this process (the client and the server
	// both) spent per 10^9 bytes moved.
	CPUPerGB time.Duration `json:"cpu_per_gb"`
}

// DecideFigure is the signature and grant check of a request.
type DecideFigure struct {
	Requests int `json:"requests"`
	Grants   int `json:"grants"`
	// Mean, P50 and P99 of a grantee's requests at one height (what the
	// height's reads keep, decoded once: internal/share/reads.go), in the
	// round of the lowest mean; every round's mean in Rounds.
	Rounds []time.Duration `json:"rounds"`
	Mean   time.Duration   `json:"mean"`
	P50    time.Duration   `json:"p50"`
	P99    time.Duration   `json:"p99"`
	// FirstAfterBlock is the p50 of the first request after a new block,
	// which reads the ledger afresh.
	FirstAfterBlock time.Duration `json:"first_after_block"`
	// Ed25519 is one Ed25519 verification of the same signature base, in
	// the round of Mean: the floor of any signed check.
	Ed25519 time.Duration `json:"ed25519"`
}

// Met reports whether both targets are met: the warm transfer at
// TargetDataServeRatio of the bare server, and the check under
// TargetDecide.
func (r DataReport) Met() bool { return r.MetServe() && r.MetDecide() }

// MetServe: the warm transfer against the bare server.
func (r DataReport) MetServe() bool { return r.WarmRatio >= TargetDataServeRatio }

// MetDecide: the mean check of a grantee's request.
func (r DataReport) MetDecide() bool { return r.Decide.Mean > 0 && r.Decide.Mean <= TargetDecide }

// Bound says what bounds the transfer figures.
func (r DataReport) Bound() string {
	return fmt.Sprintf("loopback copies on 2 shared cores, the client reading and the server sending sharing them; a cold read also hashes every byte as it sends it, and SHA-256 runs at %s MB/s on one core here", rate(r.SHA256MBPerSec))
}

// dataActors are the benchmark ledger's keys, apitest's fixed ones.
const (
	dataOwner   = "alice" // city A's admin: the dataset's owner
	dataGrantee = "carol" // admin of city B's sector, the grant's grantee
	dataDataset = "1561301001.85.1/bench-dataset"
)

// dataLedger is committed state built one signed transaction a block, as
// apitest.Ledger builds it, with errors instead of a test.
type dataLedger struct {
	st     *store.Store
	m      *registry.Machine
	height int64
	nonces map[string]uint64
}

func newDataLedger() (*dataLedger, error) {
	st, err := store.OpenMemory(store.Options{})
	if err != nil {
		return nil, err
	}
	l := &dataLedger{st: st, m: registry.New(apitest.ChainID), nonces: map[string]uint64{}}
	genesis, err := json.Marshal(registry.Genesis{
		Authority: registry.Authority{Members: []string{apitest.PubKey("operator")}, Threshold: 1},
		Params:    registry.Params{OIDArc: "1.3.6.1.4.1.99999", IAC: "MA", ApplicationBlocks: 3},
	})
	if err == nil {
		err = l.m.InitGenesis(st, genesis, nil)
	}
	if err == nil {
		err = l.commit()
	}
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("benchmark ledger: %w", err)
	}
	return l, nil
}

func (l *dataLedger) commit() error {
	_, v, err := l.st.Commit()
	l.height = v
	return err
}

// blockTime is the time of block h: a second apart from apitest's genesis.
func (l *dataLedger) blockTime(_ context.Context, h int64) (time.Time, error) {
	return apitest.GenesisTime.Add(time.Duration(h-1) * time.Second), nil
}

func (l *dataLedger) send(actor, kind string, msg any) (registry.Outcome, error) {
	var out registry.Outcome
	l.nonces[actor]++
	body, err := registry.NewBody(kind, l.nonces[actor], msg)
	if err != nil {
		return out, err
	}
	tx, err := registry.Sign(apitest.ChainID, body, apitest.Key(actor)).Encode()
	if err != nil {
		return out, err
	}
	prep, perr := l.m.Prepare(tx)
	if perr != nil {
		return out, fmt.Errorf("%s: %v", kind, perr)
	}
	res, err := l.m.Apply(l.st, registry.Block{Height: l.height + 1, Time: apitest.GenesisTime.Add(time.Duration(l.height) * time.Second)}, prep)
	if err != nil {
		return out, fmt.Errorf("%s: %w", kind, err)
	}
	if res.Err != nil {
		return out, fmt.Errorf("%s refused: %v", kind, res.Err)
	}
	if err := l.commit(); err != nil {
		return out, err
	}
	if err := json.Unmarshal(res.Data, &out); err != nil {
		return out, fmt.Errorf("%s result %s: %w", kind, res.Data, err)
	}
	return out, nil
}

// setup commits city A with the dataset (size and SHA-256 of the bytes),
// city B with sector .85 administered by the grantee, grants-1 units of
// B each granted the dataset first, and the grantee's grant last. It
// returns the grantee node.
func (l *dataLedger) setup(sum string, size int64, grants int) (string, error) {
	steps := []struct {
		actor, kind string
		msg         any
	}{
		{dataOwner, registry.KindApplyCity, registry.ApplyCity{Country: "156", CityNumber: "130100", Name: "石家庄市"}},
		{"operator", registry.KindApproveApplication, nil},
		{dataOwner, registry.KindRegisterSector, registry.RegisterSector{ID: "1561301001.85"}},
		{dataOwner, registry.KindRegisterUnit, registry.RegisterUnit{Parent: "1561301001.85", Name: "Water Bureau"}},
		{dataOwner, registry.KindRegister, registry.Register{ID: dataDataset, Values: []registry.Value{{Type: registry.TypeData,
			Dataset: &registry.Dataset{URI: "http://127.0.0.1" + wire.DataPath + dataDataset, SHA256: sum, Size: size, MediaType: "application/octet-stream"}}}}},
		{"bob", registry.KindApplyCity, registry.ApplyCity{Country: "156", CityNumber: "130200", Name: "唐山市"}},
		{"operator", registry.KindApproveApplication, nil},
	}
	var last registry.Outcome
	cityB := ""
	for _, s := range steps {
		msg := s.msg
		if msg == nil {
			msg = registry.Decision{Application: last.Application, Hash: last.Hash}
		}
		o, err := l.send(s.actor, s.kind, msg)
		if err != nil {
			return "", err
		}
		if o.CityCode != "" {
			cityB = o.CityCode
		}
		last = o
	}
	sector := cityB + ".85"
	if _, err := l.send("bob", registry.KindRegisterSector, registry.RegisterSector{ID: sector, Admins: []string{apitest.PubKey(dataGrantee)}}); err != nil {
		return "", err
	}
	expires := apitest.GenesisTime.Add(365 * 24 * time.Hour)
	for i := range grants - 1 {
		u, err := l.send("bob", registry.KindRegisterUnit, registry.RegisterUnit{Parent: sector, Name: fmt.Sprintf("Unit %d", i),
			Admins: []string{apitest.PubKey(fmt.Sprintf("unit-admin-%d", i))}})
		if err == nil {
			_, err = l.send(dataOwner, registry.KindGrantAccess, registry.GrantAccess{Dataset: dataDataset, Grantee: u.ID, Expires: expires})
		}
		if err != nil {
			return "", err
		}
	}
	if _, err := l.send(dataOwner, registry.KindGrantAccess, registry.GrantAccess{Dataset: dataDataset, Grantee: sector, Expires: expires}); err != nil {
		return "", err
	}
	return sector, nil
}

// datasetBytes is the benchmark's content: a 1 MiB pseudo-random block
// from a fixed seed, each repetition stamped with its index so that no
// two MiB are alike.
type datasetBytes struct {
	block []byte
	size  int64
	pos   int64
}

func newDatasetBytes(size int64) *datasetBytes {
	block := make([]byte, 1<<20)
	rng := rand.New(rand.NewPCG(2026, 12))
	for i := 0; i < len(block); i += 8 {
		binary.LittleEndian.PutUint64(block[i:], rng.Uint64())
	}
	return &datasetBytes{block: block, size: size}
}

func (d *datasetBytes) Read(p []byte) (int, error) {
	if d.pos >= d.size {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && d.pos < d.size {
		off := d.pos % int64(len(d.block))
		chunk := d.block[off:]
		if off < 8 {
			var stamp [8]byte
			binary.LittleEndian.PutUint64(stamp[:], uint64(d.pos/int64(len(d.block))))
			chunk = append(stamp[off:8:8], d.block[8:]...)
		}
		m := copy(p[n:], chunk[:min(int64(len(chunk)), d.size-d.pos)])
		n += m
		d.pos += int64(m)
	}
	return n, nil
}

// RunData runs the data-sharing benchmark in a temporary folder it
// removes, on loopback.
func RunData(ctx context.Context, opts DataOptions) (DataReport, error) {
	opts.defaults()
	rep := DataReport{Size: opts.Size, Rounds: opts.Rounds}
	dir, err := os.MkdirTemp("", "cityid-bench-data-")
	if err != nil {
		return rep, err
	}
	defer os.RemoveAll(dir)

	h := sha256.New()
	if _, err := io.Copy(h, newDatasetBytes(opts.Size)); err != nil {
		return rep, err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	blobs, err := datastore.Open(filepath.Join(dir, "bytes"))
	if err != nil {
		return rep, err
	}
	up, err := blobs.Upload(sum, opts.Size)
	if err != nil {
		return rep, err
	}
	if _, err := up.WriteAt(ctx, newDatasetBytes(opts.Size), 0); err != nil {
		up.Close()
		return rep, fmt.Errorf("store the dataset: %w", err)
	}
	err = up.Complete()
	up.Close()
	if err != nil {
		return rep, fmt.Errorf("store the dataset: %w", err)
	}
	// As an upload of its admin would, the bytes are bound to the dataset.
	if err := blobs.Bind(dataDataset, sum); err != nil {
		return rep, err
	}
	blob, err := blobs.Open(sum)
	if err != nil {
		return rep, err
	}
	blobPath := blob.File.Name()
	blob.Close()

	l, err := newDataLedger()
	if err != nil {
		return rep, err
	}
	defer l.st.Close()
	grantee, err := l.setup(sum, opts.Size, opts.Grants)
	if err != nil {
		return rep, fmt.Errorf("benchmark ledger: %w", err)
	}
	logs, err := accesslog.Open(filepath.Join(dir, "logs"))
	if err != nil {
		return rep, err
	}
	// The ledger's clock is apitest's (2026-01-01, a block a second): the
	// service's clock is an hour after it, and signatures are made by it.
	now := apitest.GenesisTime.Add(time.Hour)
	clock := func() time.Time { return now }
	svc := share.New(share.Options{Store: blobs, Log: logs, Latest: l.st.Latest, BlockTime: l.blockTime, Now: clock,
		Cities: []string{"*"}}, now.Add(-time.Minute))

	m := metrics.New(func() float64 { return float64(l.st.Version()) }, func() float64 { return 0 })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return rep, err
	}
	var fe *node.FrontEnds
	labelled("front-end", func() {
		fe, err = node.ServeFrontEnds(ln, apitest.Backend{Store: l.st, ChainID: apitest.ChainID, Moniker: "bench"}, node.FrontEndOptions{
			PublicURL: "http://" + ln.Addr().String(), Zone: benchZone, Limits: api.DefaultLimits(), Metrics: m,
			Log: slog.New(slog.DiscardHandler), Data: svc,
		})
	})
	if err != nil {
		ln.Close()
		return rep, err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		fe.Shutdown(sctx)
	}()
	bareURL, stopBare, err := serveBareFile(blobPath)
	if err != nil {
		return rep, err
	}
	defer stopBare()

	client := &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 2}}
	defer client.CloseIdleConnections()
	signer := httpsig.Signer{KeyID: apitest.PubKey(dataGrantee), Key: apitest.Key(dataGrantee), Tag: wire.SignatureTag, Now: clock}
	dataURL := "http://" + fe.HTTPAddr + wire.DataPath + dataDataset
	buf := make([]byte, 1<<20)
	get := func(url string, sign bool) (DataTransfer, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return DataTransfer{}, err
		}
		if sign {
			if err := signer.Sign(req); err != nil {
				return DataTransfer{}, err
			}
		}
		start, cpu := time.Now(), processCPU()
		resp, err := client.Do(req)
		if err != nil {
			return DataTransfer{}, err
		}
		defer resp.Body.Close()
		// Read through a plain Writer so that the copy uses buf, a MiB at
		// a time, for both servers alike.
		n, err := io.CopyBuffer(struct{ io.Writer }{io.Discard}, resp.Body, buf)
		took, used := time.Since(start), processCPU()-cpu
		switch {
		case err != nil:
			return DataTransfer{}, fmt.Errorf("GET %s: %d bytes, then %w", url, n, err)
		case resp.StatusCode != http.StatusOK || n != opts.Size:
			return DataTransfer{}, fmt.Errorf("GET %s: %s, %d bytes of %d", url, resp.Status, n, opts.Size)
		case sign && resp.Header.Get("CityID-Access-Log") == "":
			return DataTransfer{}, fmt.Errorf("GET %s: no access log receipt", url)
		}
		return DataTransfer{MBPerSec: float64(n) / took.Seconds() / 1e6, Elapsed: took,
			CPUPerGB: time.Duration(float64(used) / (float64(n) / 1e9))}, nil
	}
	trusted := func() bool {
		b, err := blobs.Open(sum)
		if err != nil {
			return false
		}
		defer b.Close()
		return b.Trusted()
	}

	rep.Trusted = true
	best := func(cur *DataTransfer, t DataTransfer) {
		if t.MBPerSec > cur.MBPerSec {
			*cur = t
		}
	}
	for range opts.Rounds {
		// Cold: the file changed (its ctime moves with the touch), so the
		// next full read is hashed as it is sent; it is made long enough
		// after the change (datastore's racy guard, a second) for the
		// read to make the blob trusted again.
		mtime := time.Now().Add(-time.Hour)
		if err := os.Chtimes(blobPath, mtime, mtime); err != nil {
			return rep, err
		}
		if trusted() {
			return rep, errors.New("the blob is still trusted after its file changed")
		}
		select {
		case <-ctx.Done():
			return rep, ctx.Err()
		case <-time.After(1500 * time.Millisecond):
		}
		cold, err := get(dataURL, true)
		if err != nil {
			return rep, fmt.Errorf("cold read: %w", err)
		}
		rep.ColdRounds = append(rep.ColdRounds, cold.MBPerSec)
		best(&rep.Cold, cold)
		rep.Trusted = rep.Trusted && trusted()
		warm, err := get(dataURL, true)
		if err != nil {
			return rep, fmt.Errorf("warm read: %w", err)
		}
		rep.WarmRounds = append(rep.WarmRounds, warm.MBPerSec)
		best(&rep.Warm, warm)
		bare, err := get(bareURL, false)
		if err != nil {
			return rep, fmt.Errorf("bare server: %w", err)
		}
		rep.BareRounds = append(rep.BareRounds, bare.MBPerSec)
		best(&rep.Bare, bare)
	}
	rep.SHA256MBPerSec = sha256Rate(buf)
	rep.WarmRatio = rep.Warm.MBPerSec / rep.Bare.MBPerSec
	rep.ColdRatio = rep.Cold.MBPerSec / rep.Bare.MBPerSec
	if rep.LogEntries, _, err = logs.Head(dataDataset); err != nil {
		return rep, err
	}
	if want := uint64(2 * opts.Rounds); rep.LogEntries != want {
		return rep, fmt.Errorf("the access log holds %d entries after %d requests", rep.LogEntries, want)
	}

	rep.Decide, err = measureDecide(svc, l, signer, fe.HTTPAddr, grantee, opts)
	return rep, err
}

// sha256Rate is SHA-256's rate over buf, 256 MiB in all, in MB/s.
func sha256Rate(buf []byte) float64 {
	h := sha256.New()
	const total = 256 << 20
	start := time.Now()
	for n := 0; n < total; n += len(buf) {
		h.Write(buf)
	}
	return total / time.Since(start).Seconds() / 1e6
}

// serveBareFile serves the file at path with http.ServeContent behind
// node.HTTPServer on a loopback port: the ceiling the node is held to.
func serveBareFile(path string) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := node.HTTPServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := os.Open(path)
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		http.ServeContent(w, r, "", fi.ModTime(), f)
	}), slog.New(slog.DiscardHandler))
	go labelled("bare-file", func() { srv.Serve(ln) })
	return "http://" + ln.Addr().String() + "/file", func() { srv.Close() }, nil
}

// measureDecide times Decide on requests signed by the grantee's admin,
// as the node's server receives them, one at a time: opts.Decides at the
// same height, then 200 each first after a new block; and Ed25519
// verification of one of their signature bases.
func measureDecide(svc *share.Service, l *dataLedger, signer httpsig.Signer, host, grantee string, opts DataOptions) (DecideFigure, error) {
	fig := DecideFigure{Requests: opts.Decides, Grants: opts.Grants}
	id, err := code.Parse(dataDataset)
	if err != nil {
		return fig, err
	}
	var base []byte
	requests := func(n int) ([]*http.Request, error) {
		out := make([]*http.Request, n)
		for i := range out {
			nonce, err := httpsig.RandomNonce()
			if err != nil {
				return nil, err
			}
			p := httpsig.Params{Label: httpsig.DefaultLabel, Components: httpsig.DefaultComponents(), KeyID: signer.KeyID, Alg: httpsig.Alg,
				Created: signer.Now(), Nonce: nonce, Tag: signer.Tag}
			signed, err := http.NewRequest(http.MethodGet, "http://"+host+wire.DataPath+dataDataset, nil)
			if err == nil {
				err = httpsig.SignParams(signed, signer.Key, p)
			}
			if err == nil && base == nil {
				base, err = httpsig.SignatureBase(signed, p)
			}
			if err != nil {
				return nil, err
			}
			r := httptest.NewRequest(http.MethodGet, wire.DataPath+dataDataset, nil)
			r.Host = host
			r.Header = signed.Header
			out[i] = r
		}
		return out, nil
	}
	decide := func(r *http.Request) (time.Duration, error) {
		start := time.Now()
		a, refusal, err := svc.Decide(context.Background(), r, id, share.Download, 0)
		took := time.Since(start)
		if err == nil && refusal != nil {
			err = refusal
		}
		if err == nil && a.Grantee != grantee {
			err = fmt.Errorf("let in by %q's grant, want %q", a.Grantee, grantee)
		}
		return took, err
	}
	// Rounds of 2,000 Ed25519 verifications of a signature base, then
	// opts.Decides requests; the round with the lowest mean counts, with
	// its Ed25519, as other work on a shared machine only slows a round.
	if _, err := requests(1); err != nil { // the base
		return fig, err
	}
	pub := apitest.Key(dataGrantee).Public().(ed25519.PublicKey)
	sig := ed25519.Sign(apitest.Key(dataGrantee), base)
	for round := range opts.Rounds {
		const verifies = 2000
		start := time.Now()
		for range verifies {
			if !ed25519.Verify(pub, base, sig) {
				return fig, errors.New("ed25519: the signature base does not verify")
			}
		}
		verify := time.Since(start) / verifies
		reqs, err := requests(opts.Decides + 1)
		if err != nil {
			return fig, err
		}
		if _, err := decide(reqs[0]); err != nil { // the height's reads, in the first round
			return fig, err
		}
		times := make([]time.Duration, 0, opts.Decides)
		start = time.Now()
		for _, r := range reqs[1:] {
			t, err := decide(r)
			if err != nil {
				return fig, err
			}
			times = append(times, t)
		}
		mean := time.Since(start) / time.Duration(opts.Decides)
		fig.Rounds = append(fig.Rounds, mean)
		if round == 0 || mean < fig.Mean {
			slices.Sort(times)
			fig.Mean, fig.P50, fig.P99 = mean, times[len(times)/2], times[len(times)*99/100]
			fig.Ed25519 = verify
		}
	}

	const afterBlock = 200
	reqs, err := requests(afterBlock)
	if err != nil {
		return fig, err
	}
	times := make([]time.Duration, 0, afterBlock)
	for _, r := range reqs {
		if err := l.commit(); err != nil {
			return fig, err
		}
		t, err := decide(r)
		if err != nil {
			return fig, err
		}
		times = append(times, t)
	}
	slices.Sort(times)
	fig.FirstAfterBlock = times[len(times)/2]

	return fig, nil
}
