package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/store"
)

// Where the servers of the resolve and serve benchmarks run. `cityid
// bench` runs each in a process of its own (Subprocess): a node serving a
// state holds that state's caches, and in one process with the load
// generator, the other state and the bare servers, every garbage
// collection would scan all of them, so each figure would pay for the
// others. `go test` runs them in its own process (InProcess), which is
// enough to check that the harness works.

// ServeSpec says what a serving process serves: the node's front ends over
// a built state's store, or the bare servers' fixed answers.
type ServeSpec struct {
	// Store is the folder of a built state (closed by everyone else).
	Store string `json:"store,omitempty"`
	// CacheMB is the store's block cache, as a node's [state] cache_mb;
	// 0 takes the node's default.
	CacheMB int `json:"cache_mb,omitempty"`
	// Procs is the serving process's GOMAXPROCS (`cityid bench --procs`),
	// so that server and load generator scale together; 0 leaves it.
	Procs int `json:"procs,omitempty"`
	// BareRecord and BareHandle are the fixed bodies of the bare HTTP
	// servers; BareTXT is a packed DNS message whose TXT answers the bare
	// DNS server repeats.
	BareRecord []byte `json:"bare_record,omitempty"`
	BareHandle []byte `json:"bare_handle,omitempty"`
	BareTXT    []byte `json:"bare_txt,omitempty"`
}

// Endpoints are where a serving process listens. A node serves /v1/ids
// and /api/handles on HTTP; the bare servers answer the record body on
// HTTP and the Handle body on HandleHTTP.
type Endpoints struct {
	HTTP       string `json:"http"`
	HandleHTTP string `json:"handle_http"`
	DNS        string `json:"dns"`
}

// Served is a running serving process (or its in-process stand-in).
type Served struct {
	Endpoints
	// Procs is the serving process's GOMAXPROCS, as it reports it.
	Procs int
	// CPU is the serving process's CPU time so far; nil when it shares
	// this process.
	CPU  func() (time.Duration, error)
	Stop func() error
}

// Launcher starts what spec says and returns once it listens.
type Launcher func(ctx context.Context, spec ServeSpec) (*Served, error)

// WithCache makes launch open stores with a block cache of mb MiB.
func WithCache(launch Launcher, mb int) Launcher {
	return func(ctx context.Context, spec ServeSpec) (*Served, error) {
		if spec.Store != "" {
			spec.CacheMB = mb
		}
		return launch(ctx, spec)
	}
}

// InProcess serves spec in this process.
func InProcess(ctx context.Context, spec ServeSpec) (*Served, error) {
	var stops []func() error
	stop := func() error {
		var errs []error
		for i := len(stops) - 1; i >= 0; i-- {
			errs = append(errs, stops[i]())
		}
		return errors.Join(errs...)
	}
	out := &Served{Stop: stop, Procs: runtime.GOMAXPROCS(0)}
	if spec.Store != "" {
		st, err := store.Open(spec.Store, store.Options{BlockCacheBytes: spec.CacheMB << 20})
		if err != nil {
			return nil, err
		}
		stops = append(stops, st.Close)
		// As a node does at start; a node does it in the background, and
		// the figures are those of a node that has finished.
		if _, err := st.Preload(ctx, registry.RecordPrefix()); err != nil {
			stop()
			return nil, err
		}
		f, err := startFrontEnds(st, benchChainID)
		if err != nil {
			stop()
			return nil, err
		}
		stops = append(stops, f.stop)
		out.HTTP, out.HandleHTTP, out.DNS = f.HTTPAddr, f.HTTPAddr, f.DNSAddr
		return out, nil
	}
	for _, b := range []struct {
		body []byte
		addr *string
	}{{spec.BareRecord, &out.HTTP}, {spec.BareHandle, &out.HandleHTTP}} {
		if b.body == nil {
			continue
		}
		h, err := startBareHTTP(b.body)
		if err != nil {
			stop()
			return nil, err
		}
		stops = append(stops, h.stop)
		*b.addr = h.Addr
	}
	if spec.BareTXT != nil {
		var m dns.Msg
		if err := m.Unpack(spec.BareTXT); err != nil {
			stop()
			return nil, fmt.Errorf("bare dns answer: %w", err)
		}
		d, err := startBareDNS(m.Answer)
		if err != nil {
			stop()
			return nil, err
		}
		stops = append(stops, d.stop)
		out.DNS = d.Addr
	}
	return out, nil
}

// The serving process's protocol: the spec as one JSON line on its
// standard input; it answers with its Endpoints and GOMAXPROCS as one
// JSON line (childHello), then
// with one line {"cpu_ns": N} for every line "cpu" it reads; at the end
// of its input it stops serving and exits.
const cpuRequest = "cpu"

type cpuAnswer struct {
	CPU int64 `json:"cpu_ns"`
}

// childHello is the serving process's first line: where it listens, and
// under which GOMAXPROCS it serves.
type childHello struct {
	Endpoints
	Procs int `json:"procs"`
}

// ServeChild is the serving process's side: it serves what the spec on in
// says until in ends or ctx is done.
func ServeChild(ctx context.Context, in io.Reader, out io.Writer) error {
	r := bufio.NewReaderSize(in, 1<<20)
	line, err := r.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("read the serving spec: %w", err)
	}
	var spec ServeSpec
	if err := json.Unmarshal(line, &spec); err != nil {
		return fmt.Errorf("serving spec: %w", err)
	}
	if spec.Procs > 0 {
		runtime.GOMAXPROCS(spec.Procs)
	}
	s, err := InProcess(ctx, spec)
	if err != nil {
		return err
	}
	defer s.Stop()
	enc := json.NewEncoder(out)
	if err := enc.Encode(childHello{Endpoints: s.Endpoints, Procs: s.Procs}); err != nil {
		return err
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				return
			}
			lines <- strings.TrimSpace(l)
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case l, ok := <-lines:
			if !ok {
				return s.Stop()
			}
			if l == cpuRequest {
				if err := enc.Encode(cpuAnswer{CPU: int64(processCPU())}); err != nil {
					return err
				}
			}
		}
	}
}

// Subprocess starts every server as a process of its own: the command
// (e.g. this binary and the arguments that make it call ServeChild), with
// the spec on its standard input.
func Subprocess(command ...string) Launcher {
	return func(ctx context.Context, spec ServeSpec) (*Served, error) {
		cmd := exec.Command(command[0], command[1:]...)
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			return nil, err
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("start the serving process: %w", err)
		}
		var once sync.Once
		var stopErr error
		stop := func() error {
			once.Do(func() {
				stdin.Close()
				done := make(chan error, 1)
				go func() { done <- cmd.Wait() }()
				select {
				case stopErr = <-done:
				case <-time.After(10 * time.Second):
					cmd.Process.Kill()
					stopErr = fmt.Errorf("the serving process did not stop; killed: %w", <-done)
				}
			})
			return stopErr
		}
		b, err := json.Marshal(spec)
		if err != nil {
			stop()
			return nil, err
		}
		if _, err := stdin.Write(append(b, '\n')); err != nil {
			stop()
			return nil, err
		}
		r := bufio.NewReader(stdout)
		var mu sync.Mutex
		readLine := func(v any) error {
			type result struct {
				line []byte
				err  error
			}
			ch := make(chan result, 1)
			go func() {
				l, err := r.ReadBytes('\n')
				ch <- result{l, err}
			}()
			select {
			case res := <-ch:
				if res.err != nil {
					return fmt.Errorf("the serving process: %w", res.err)
				}
				return json.Unmarshal(res.line, v)
			case <-time.After(5 * time.Minute):
				return errors.New("the serving process did not answer in 5 minutes")
			}
		}
		var hello childHello
		if err := readLine(&hello); err != nil {
			stop()
			return nil, err
		}
		s := &Served{Endpoints: hello.Endpoints, Procs: hello.Procs, Stop: stop}
		s.CPU = func() (time.Duration, error) {
			mu.Lock()
			defer mu.Unlock()
			if _, err := io.WriteString(stdin, cpuRequest+"\n"); err != nil {
				return 0, err
			}
			var a cpuAnswer
			if err := readLine(&a); err != nil {
				return 0, err
			}
			return time.Duration(a.CPU), nil
		}
		return s, nil
	}
}

// WithProcs makes launch run every serving process under GOMAXPROCS
// procs (0: as the process it starts sets it). In this process
// (InProcess) the setting is this process's own.
func WithProcs(launch Launcher, procs int) Launcher {
	return func(ctx context.Context, spec ServeSpec) (*Served, error) {
		spec.Procs = procs
		return launch(ctx, spec)
	}
}
