package accesslog

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// crashEnv, when set to a directory, makes the test binary a child that
// appends to the logs there until it is killed (see TestMain).
const crashEnv = "CITYID_ACCESSLOG_CRASH_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashEnv); dir != "" {
		os.Exit(crashChild(dir))
	}
	os.Exit(m.Run())
}

// crashChild appends from several goroutines to two datasets and prints
// "<dataset> <seq> <hash>" for every entry after Append returned it, until
// it is killed; every third entry is deferred (AppendDeferred).
func crashChild(dir string) int {
	l, err := Open(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	var out sync.Mutex
	w := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ds := []string{dsA, dsB}[g%2]
			for i := 0; ; i++ {
				if i%3 == 1 {
					// Deferred entries (refusals) between acknowledged
					// ones: not reported, as nobody holds their receipt.
					if _, err := l.AppendDeferred(access(ds, i)); err != nil {
						fmt.Fprintln(os.Stderr, err)
						os.Exit(3)
					}
					continue
				}
				e, err := l.Append(access(ds, i))
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(3)
				}
				out.Lock()
				fmt.Fprintf(w, "%s %d %s\n", e.Dataset, e.Seq, e.Hash)
				w.Flush() // the parent sees exactly what was acknowledged
				out.Unlock()
			}
		}()
	}
	wg.Wait()
	return 0
}

// A child process appends and is killed with SIGKILL mid-stream: every
// entry it reported appended is there, the chain verifies, and appending
// goes on from where it stopped. Repeated to hit different moments.
func TestCrashKeepsAcknowledgedEntries(t *testing.T) {
	dir := t.TempDir()
	acked := map[string]map[uint64]string{dsA: {}, dsB: {}}
	for round := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashEnv+"="+dir)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		killAt := 60 + 37*round
		n := 0
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) != 3 || acked[f[0]] == nil {
				t.Fatalf("child said %q", sc.Text())
			}
			seq, err := strconv.ParseUint(f[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			acked[f[0]][seq] = f[2]
			if n++; n == killAt {
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
			}
		}
		err = cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("round %d: child ended by %v, not SIGKILL (stderr %q)", round, err, stderr.String())
		}
		if n < killAt {
			t.Fatalf("round %d: child reported %d entries before dying", round, n)
		}

		l := openLog(t, dir)
		for ds, seqs := range acked {
			es := all(t, l, ds)
			if r := Verify(es, nil); !r.OK {
				t.Fatalf("round %d %s: %+v", round, ds, r)
			}
			for seq, hash := range seqs {
				if seq > uint64(len(es)) || es[seq-1].Hash != hash {
					t.Fatalf("round %d %s: acknowledged entry %d lost (log has %d)", round, ds, seq, len(es))
				}
			}
			// The log goes on from where the crash left it.
			e, err := l.Append(access(ds, 0))
			if err != nil || e.Seq != uint64(len(es))+1 {
				t.Fatalf("round %d %s: append after crash: %+v %v", round, ds, e, err)
			}
			seqs[e.Seq] = e.Hash
		}
		l.Close()
	}
}
