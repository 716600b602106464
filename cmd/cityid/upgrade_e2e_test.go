package main

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cityid/cityid/client"
	"github.com/cityid/cityid/internal/chain"
	"github.com/cityid/cityid/internal/chain/upgradetest"
	"github.com/cityid/cityid/internal/testnode"
)

// TestUpgrade is the operator's procedure of docs/upgrade.md on real node
// processes: the authority schedules an upgrade; the binary of today,
// which has no handler for it, stops at its height with exit code 4 and
// the upgrade named, and refuses to start again; the binary built with
// the handler (-tags cityid_upgradetest, package upgradetest) runs the
// migration once, reports the next application version (upgradetest.AppVersion, in headers too) and goes
// on with every record; the old binary then refuses the upgraded state.
func TestUpgrade(t *testing.T) {
	oldBin := testnode.Build(t)
	newBin := testnode.BuildTags(t, "cityid_upgradetest")
	n := testnode.New(t, oldBin)
	// A plan must be upgrade_lead_blocks ahead; a local node makes no
	// empty blocks, so the test's network takes a lead of 5, set in the
	// genesis before the first start as an operator would.
	cli(t, n, nil, "init", "--http", n.HTTP, "--rpc", n.RPC, "--p2p", n.P2P, "--dns", "off")
	n.DNS = ""
	setGenesisParam(t, n.Home, "upgrade_lead_blocks", 5)
	n.Start()

	cli(t, n, nil, "keys", "add", "alice")
	var ans client.TxAnswer
	cli(t, n, &ans, "tx", "apply-city", "--country", "156", "--city-number", "130100", "--name", "石家庄市", "--from", "alice")
	cli(t, n, &ans, "tx", "approve", "1", "--from", "operator")
	cli(t, n, &ans, "tx", "register-sector", "1561301001.85", "--from", "alice")
	cli(t, n, &ans, "tx", "register", "1561301001.85/school-0042", "--value", "URL=https://example.org/v1", "--from", "alice")
	cli(t, n, &ans, "tx", "update", "1561301001.85/school-0042", "--value", "URL=https://example.org/v2", "--version", "1", "--from", "alice")

	// A plan in the past, and one without --height, are refused.
	if _, stderr, code := n.CLI("tx", "propose-upgrade", upgradetest.Name, "--height", "1", "--from", "operator"); code != exitRefused || !strings.Contains(stderr, "not in the future") {
		t.Fatalf("a plan at height 1: exit %d, %s", code, stderr)
	}
	if _, stderr, code := n.CLI("tx", "propose-upgrade", upgradetest.Name, "--from", "operator"); code != exitUsage {
		t.Fatalf("a plan without --height: exit %d, %s", code, stderr)
	}
	// A plan nearer than the lead is refused, naming the earliest height.
	if _, stderr, code := n.CLI("tx", "propose-upgrade", upgradetest.Name, "--height", fmt.Sprint(ans.Height+2), "--from", "operator"); code != exitRefused ||
		!strings.Contains(stderr, "upgrade_too_soon") || !strings.Contains(stderr, "upgrade_lead_blocks is 5, so the earliest allowed height is") {
		t.Fatalf("a plan 2 blocks ahead: exit %d, %s", code, stderr)
	}
	at := ans.Height + 8
	cli(t, n, &ans, "tx", "propose-upgrade", upgradetest.Name, "--height", fmt.Sprint(at), "--info", "the test binary", "--from", "operator")
	if ans.Result.Status != "applied" {
		t.Fatalf("propose-upgrade answered %+v, want applied (1 of 1)", ans)
	}
	var st client.UpgradeStatus
	cli(t, n, &st, "query", "upgrade")
	if st.Plan == nil || st.Plan.Name != upgradetest.Name || st.Plan.Height != at || st.AppVersion != chain.AppVersion || len(st.Done) != 0 {
		t.Fatalf("query upgrade before the height: %+v", st)
	}

	// The old binary stops by itself at the height, cleanly. A local
	// node makes no empty blocks: writes take the chain there.
	code, ok := 0, false
	for i := 0; !ok; i++ {
		if i == 60 {
			t.Fatalf("the old binary still runs after %d writes past height %d\n%s", i, at, n.Output())
		}
		n.CLI("tx", "register", fmt.Sprintf("1561301001.85/filler-%d", i), "--value", "TEXT=filler", "--from", "alice")
		code, ok = n.WaitExit(time.Second)
	}
	out := n.Output()
	want := fmt.Sprintf("UPGRADE %q NEEDED at height %d", upgradetest.Name, at)
	if code != exitUpgrade || !strings.Contains(out, want) {
		t.Fatalf("the old binary exited %d, want %d with %q:\n%s", code, exitUpgrade, want, out)
	}
	for _, bad := range []string{"panic", "goroutine ", "CONSENSUS FAILURE"} {
		if strings.Contains(out, bad) {
			t.Errorf("the old binary's output has %q:\n%s", bad, out)
		}
	}
	info, err := os.ReadFile(filepath.Join(n.Home, "data", "upgrade-info.json"))
	if err != nil || !strings.Contains(string(info), fmt.Sprintf(`"name":%q,"height":%d`, upgradetest.Name, at)) {
		t.Errorf("upgrade-info.json: %s (%v)", info, err)
	}

	// Started again, it refuses at once, the same way.
	if code, out := n.StartExiting(time.Minute); code != exitUpgrade || !strings.Contains(out, want) {
		t.Fatalf("the old binary restarted: exit %d, want %d with %q:\n%s", code, exitUpgrade, want, out)
	}

	// The new binary runs the migration and goes on.
	n.Bin = newBin
	n.Start()
	cli(t, n, &ans, "tx", "register", "1561301001.85/school-0043", "--value", "URL=https://example.org/43", "--from", "alice")
	if ans.Height < at {
		t.Fatalf("a write after the restart landed at %d, before the upgrade's %d", ans.Height, at)
	}
	st = client.UpgradeStatus{} // plan is absent when none: not decoded over the last
	cli(t, n, &st, "query", "upgrade")
	if st.Plan != nil || st.AppVersion != upgradetest.AppVersion || len(st.Done) != 1 || st.Done[0].Name != upgradetest.Name ||
		st.Done[0].Height != at || st.Done[0].AppVersion != upgradetest.AppVersion {
		t.Fatalf("query upgrade after the height: %+v", st)
	}
	// The migration wrote its layout; headers from the next carry its version.
	var q struct {
		Result struct {
			Response struct {
				Value  string `json:"value"`
				Height string `json:"height"`
			} `json:"response"`
		} `json:"result"`
	}
	rpc(t, n, &q, fmt.Sprintf(`abci_query?path="/key"&data=0x%s`, hex.EncodeToString(upgradetest.Key("1561301001"))))
	if v, _ := base64.StdEncoding.DecodeString(q.Result.Response.Value); string(v) != "石家庄市" {
		t.Errorf("the migration's key holds %q, want the city's name", v)
	}
	for h, want := range map[int64]string{at: fmt.Sprint(chain.AppVersion), at + 1: fmt.Sprint(upgradetest.AppVersion)} {
		var b struct {
			Result struct {
				Block struct {
					Header struct {
						Version struct {
							App string `json:"app"`
						} `json:"version"`
					} `json:"header"`
				} `json:"block"`
			} `json:"result"`
		}
		// Block at+1 may be the proof block after the write, still to come.
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			rpc(t, n, &b, fmt.Sprintf("block?height=%d", h))
			if b.Result.Block.Header.Version.App != "" || time.Now().After(deadline) {
				break
			}
		}
		if got := b.Result.Block.Header.Version.App; got != want {
			t.Errorf("header %d: version.app %q, want %s", h, got, want)
		}
	}
	// Every record written before still resolves, with its history.
	var rec client.RecordAnswer
	cli(t, n, &rec, "resolve", "1561301001.85/school-0042")
	if rec.Record.Version != 2 || rec.Record.Values[0].Data != "https://example.org/v2" {
		t.Errorf("after the upgrade: %+v", rec.Record)
	}
	var hist client.History
	cli(t, n, &hist, "query", "history", "1561301001.85/school-0042")
	if len(hist.Versions) != 2 {
		t.Errorf("history after the upgrade: %+v", hist)
	}
	n.Stop()

	// The old binary refuses the upgraded state: it ran a migration it
	// does not know.
	n.Bin = oldBin
	code, out = n.StartExiting(time.Minute)
	if code != exitUpgrade || !strings.Contains(out, fmt.Sprintf("application version %d", upgradetest.AppVersion)) || !strings.Contains(out, upgradetest.Name) {
		t.Fatalf("the old binary on the upgraded state: exit %d, want %d naming version %d and the upgrade:\n%s", code, exitUpgrade, upgradetest.AppVersion, out)
	}
}

// rpc reads CometBFT's JSON-RPC of node n.
func rpc(t *testing.T, n *testnode.Node, out any, path string) {
	t.Helper()
	resp, err := http.Get("http://" + n.RPC + "/" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("rpc %s: %v", path, err)
	}
}

// setGenesisParam sets one of the registry's params in the genesis of
// home, before the node's first start.
func setGenesisParam(t *testing.T, home, name string, value any) {
	t.Helper()
	path := filepath.Join(home, "config", "genesis.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var gen map[string]json.RawMessage
	var state map[string]json.RawMessage
	var params map[string]any
	if err := json.Unmarshal(raw, &gen); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(gen["app_state"], &state); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(state["params"], &params); err != nil {
		t.Fatal(err)
	}
	params[name] = value
	var errs [3]error
	state["params"], errs[0] = json.Marshal(params)
	gen["app_state"], errs[1] = json.Marshal(state)
	raw, errs[2] = json.MarshalIndent(gen, "", "  ")
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
}
