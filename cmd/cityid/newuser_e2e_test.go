package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cityid/cityid/client"
	"github.com/cityid/cityid/internal/testnode"
)

// TestNewUser walks issue 13's "the command line and the README, as a new
// user met them" on a real node: each subtest is one place where a person
// following the README tripped.
func TestNewUser(t *testing.T) {
	bin := testnode.Build(t)
	n := testnode.New(t, bin)
	n.Start()

	// run is the command line as a person types it: only the flags given,
	// no --node or --json added.
	run := func(args ...string) (stdout, stderr string, code int) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		var o, e strings.Builder
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("run cityid %v: %v", args, err)
		}
		return o.String(), e.String(), code
	}
	must := func(args ...string) string {
		t.Helper()
		stdout, stderr, code := run(args...)
		if code != 0 {
			t.Fatalf("cityid %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
		}
		return stdout
	}

	t.Run("banner on the first start only", func(t *testing.T) {
		out := banner(n)
		if !strings.Contains(out, "Next, in another terminal") || !strings.Contains(out, "go build -o cityid ./cmd/cityid") || strings.Contains(out, "go install") {
			t.Errorf("the first start's banner has no first-run story with go build, as the README:\n%s", out)
		}
		if strings.Contains(out, "--node") {
			t.Errorf("the banner tells commands given --home to add --node, which they no longer need:\n%s", out)
		}
	})

	t.Run("--home talks to the home's own node", func(t *testing.T) {
		// No --node: the home's config, not 127.0.0.1:8680, which on this
		// machine may be another node or nothing.
		var st client.Status
		if err := json.Unmarshal([]byte(must("query", "status", "--home", n.Home, "--json")), &st); err != nil {
			t.Fatal(err)
		}
		var direct client.Status
		out, _, _ := n.CLI("query", "status")
		if err := json.Unmarshal([]byte(out), &direct); err != nil || direct.ChainID == "" || st.ChainID != direct.ChainID {
			t.Fatalf("query status --home answered chain %q, the node's is %q (%v)", st.ChainID, direct.ChainID, err)
		}
		must("keys", "add", "alice", "--home", n.Home)
		must("tx", "apply-city", "--country", "156", "--city-number", "130100", "--name", "石家庄市", "--from", "alice", "--home", n.Home)
		must("tx", "approve", "1", "--from", "operator", "--home", n.Home)
		must("tx", "register-sector", "1561301001.85", "--from", "alice", "--home", n.Home)
		must("tx", "register-unit", "1561301001.85", "--name", "Education Bureau", "--from", "alice", "--home", n.Home)
	})

	t.Run("a chain ID mismatch is named before signing", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "other")
		must("init", "--home", other, "--chain-id", "cityid-other", "--dns", "off", "--http", testnode.FreeAddr(t))
		_, stderr, code := run("tx", "approve", "1", "--from", "operator", "--home", other, "--node", n.URL())
		if code != exitUsage || !strings.Contains(stderr, "chain ID mismatch") || !strings.Contains(stderr, "cityid-other") || strings.Contains(stderr, "unauthorized") {
			t.Errorf("a key of chain cityid-other signing for another chain: exit %d, stderr %q; want exit %d naming the mismatch", code, stderr, exitUsage)
		}
		// A read is not signed: a home of keys may look at any chain.
		if _, stderr, code := run("query", "status", "--home", other, "--node", n.URL()); code != 0 {
			t.Errorf("query status of another chain's node: exit %d: %s", code, stderr)
		}
	})

	t.Run("--json is always JSON", func(t *testing.T) {
		out := must("id", "city-code", "156", "130100", "--json")
		var s string
		if err := json.Unmarshal([]byte(out), &s); err != nil || s != "1561301001" {
			t.Errorf("id city-code --json printed %q: want the JSON string \"1561301001\" (%v)", out, err)
		}
	})

	t.Run("an identifier that does not parse is a usage mistake", func(t *testing.T) {
		for _, args := range [][]string{
			{"resolve", "1561301001.85.9x", "--home", n.Home},
			{"resolve", "1561301002.85", "--home", n.Home},
			{"id", "parse", "1561301002"},
		} {
			if _, stderr, code := run(args...); code != exitUsage {
				t.Errorf("cityid %s: exit %d, want %d\n%s", strings.Join(args, " "), code, exitUsage, stderr)
			}
		}
	})

	t.Run("update replaces every value, --keep the others", func(t *testing.T) {
		id := "1561301001.85.1/school-0042"
		must("tx", "register", id, "--value", "URL=https://example.org/a", "--value", "TEXT=No. 42", "--value", "EMAIL=a@example.org", "--from", "alice", "--home", n.Home)
		must("tx", "update", id, "--keep", "--value", "TEXT=No. 42 Primary", "--version", "1", "--from", "alice", "--home", n.Home)
		got := values(t, must("resolve", id, "--home", n.Home, "--json"))
		if want := "1 URL https://example.org/a|2 TEXT No. 42 Primary|3 EMAIL a@example.org"; got != want {
			t.Errorf("after update --keep: %s, want %s", got, want)
		}
		if _, stderr, code := run("tx", "update", id, "--keep", "--value", "TEXT=x", "--version", "1", "--from", "alice", "--home", n.Home); code != exitRefused || !strings.Contains(stderr, "at version 2, not 1") {
			t.Errorf("update --keep at an old version: exit %d, %s", code, stderr)
		}
		must("tx", "update", id, "--value", "URL=https://example.org/b", "--version", "2", "--from", "alice", "--home", n.Home)
		if got, want := values(t, must("resolve", id, "--home", n.Home, "--json")), "1 URL https://example.org/b"; got != want {
			t.Errorf("after update without --keep: %s, want %s (every value replaced)", got, want)
		}
	})

	t.Run("resolve --verify shows the verdict", func(t *testing.T) {
		var b struct {
			Hash string `json:"hash"`
		}
		if err := json.Unmarshal([]byte(must("query", "block", "1", "--home", n.Home, "--json")), &b); err != nil {
			t.Fatal(err)
		}
		stdout, stderr, code := run("resolve", "1561301001.85.1/school-0042", "--verify", "--trust-height", "1", "--trust-hash", b.Hash, "--home", n.Home)
		if code != 0 || strings.Contains(stdout, "proof") || !strings.Contains(stdout, "school-0042") || !strings.Contains(stderr, "verified at height") {
			t.Errorf("resolve --verify: exit %d, want the record without its proof and the verdict\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
		stdout, _, _ = run("resolve", "1561301001.85.1/school-0042", "--verify", "--json", "--home", n.Home)
		if !strings.Contains(stdout, `"proof"`) {
			t.Errorf("resolve --verify --json has no proof:\n%s", stdout)
		}
		stdout, stderr, code = run("resolve", "1561301001.85.1/nobody", "--verify", "--home", n.Home)
		if code != exitRefused || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "1561301001.85.1/nobody is not registered") || strings.Contains(stderr, "error:") {
			t.Errorf("resolve --verify of an absent identifier: exit %d, want %d and one verdict line\nstdout:\n%s\nstderr:\n%s", code, exitRefused, stdout, stderr)
		}
	})

	t.Run("register-batch --resume", func(t *testing.T) {
		dir := t.TempDir()
		first := filepath.Join(dir, "first.csv")
		second := filepath.Join(dir, "second.csv")
		writeFile(t, first, "id,TEXT\n1561301001.85.1/m-1,Meter 1\n1561301001.85.1/m-2,Meter 2\n")
		writeFile(t, second, "id,TEXT\n1561301001.85.1/m-1,Meter 1\n1561301001.85.1/m-2,Meter two\n1561301001.85.1/m-3,Meter 3\n1561301001.85.1/m-4,Meter 4\n")
		must("tx", "register-batch", "--file", first, "--from", "alice", "--home", n.Home)
		// Without --resume the transaction holding m-1 is refused whole.
		if _, stderr, code := run("tx", "register-batch", "--file", second, "--from", "alice", "--home", n.Home); code != exitRefused || !strings.Contains(stderr, "none of them written") || !strings.Contains(stderr, "--resume") {
			t.Errorf("a file with registered rows: exit %d, %s", code, stderr)
		}
		stdout, stderr, code := run("tx", "register-batch", "--file", second, "--from", "alice", "--resume", "--json", "--home", n.Home)
		var rep batchReport
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatalf("register-batch --resume --json: %v\n%s", err, stdout)
		}
		if code != exitRefused || rep.Rows != 4 || rep.Skipped != 1 || rep.Sent != 2 || len(rep.Refused) != 1 || rep.Refused[0].Row != 2 ||
			len(rep.Transactions) != 1 || rep.Transactions[0].Rows != "3-4" || !strings.Contains(stderr, "1 rows refused") {
			t.Errorf("register-batch --resume: exit %d, report %+v, stderr %s", code, rep, stderr)
		}
		if got := values(t, must("resolve", "1561301001.85.1/m-4", "--home", n.Home, "--json")); got != "1 TEXT Meter 4" {
			t.Errorf("m-4 after --resume: %s", got)
		}
		if got := values(t, must("resolve", "1561301001.85.1/m-2", "--home", n.Home, "--json")); got != "1 TEXT Meter 2" {
			t.Errorf("m-2, refused by --resume, changed: %s", got)
		}
	})

	t.Run("transfer hands over the record's own admins only", func(t *testing.T) {
		var bob, alice struct {
			PubKey string `json:"pub_key"`
		}
		if err := json.Unmarshal([]byte(must("keys", "add", "bob", "--home", n.Home, "--json")), &bob); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(must("keys", "show", "alice", "--home", n.Home, "--json")), &alice); err != nil {
			t.Fatal(err)
		}
		must("tx", "transfer", "1561301001.85.1", "--admin", "bob", "--from", "alice", "--home", n.Home)
		// The unit's Handle answer lists its new admin alone...
		code, body := getBody(t, n.URL()+"/api/handles/0.NA/1561301001.85.1?type=HS_PUBKEY")
		if code != 200 || !strings.Contains(body, bob.PubKey) || strings.Contains(body, alice.PubKey) {
			t.Errorf("the unit's HS_PUBKEY after the transfer to bob: %d %s", code, body)
		}
		// ...an identifier under it keeps its own, and the city's admin
		// (alice, above the unit) still writes under it, as --help says.
		if _, body := getBody(t, n.URL()+"/api/handles/1561301001.85.1/school-0042?type=HS_PUBKEY"); !strings.Contains(body, alice.PubKey) {
			t.Errorf("school-0042's HS_PUBKEY after its unit's transfer: %s", body)
		}
		must("tx", "register", "1561301001.85.1/after-transfer", "--value", "TEXT=x", "--from", "alice", "--home", n.Home)
		must("tx", "register", "1561301001.85.1/by-bob", "--value", "TEXT=x", "--from", "bob", "--home", n.Home)
	})

	t.Run("a clean stop and restart log no warnings, and no first-run story", func(t *testing.T) {
		n.Stop()
		if out := n.Output(); strings.Contains(out, "level=WARN") || strings.Contains(out, "level=ERROR") {
			t.Errorf("a clean stop logged warnings:\n%s", out)
		}
		n.Start()
		out := banner(n)
		if strings.Contains(out, "Next, in another terminal") || !strings.Contains(out, "CityID node running") {
			t.Errorf("a restart's banner:\n%s", out)
		}
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, "WAL file") || (strings.HasPrefix(line, "20") && !strings.HasPrefix(line, "time=")) {
				t.Errorf("a restart printed an unstructured line: %s", line)
			}
		}
	})
}

// getBody GETs url and returns its status and body.
func getBody(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// banner is the node's output once its banner is printed: it follows
// readiness by a moment.
func banner(n *testnode.Node) string {
	out := n.Output()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out, "Stop with Ctrl-C") && time.Now().Before(deadline); out = n.Output() {
		time.Sleep(50 * time.Millisecond)
	}
	return out
}

// values is a resolve --json answer's values, "INDEX TYPE DATA" joined by |.
func values(t *testing.T, out string) string {
	t.Helper()
	var ans client.RecordAnswer
	if err := json.Unmarshal([]byte(out), &ans); err != nil {
		t.Fatalf("resolve --json: %v\n%s", err, out)
	}
	var parts []string
	for _, v := range ans.Record.Values {
		parts = append(parts, strings.Join([]string{strconv.Itoa(int(v.Index)), v.Type, v.Data}, " "))
	}
	return strings.Join(parts, "|")
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}
