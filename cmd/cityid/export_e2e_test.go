package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	dbm "github.com/cometbft/cometbft-db"

	"github.com/cityid/cityid/client"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/testnode"
)

// TestExportImport writes records of every kind on a real node, exports
// its state, starts a new network from the export, resolves a record
// there with a proof checked against the new network's headers, and
// exports the new network: byte for byte the same entries, and the same
// content hash, as the network it came from (issue 14).
func TestExportImport(t *testing.T) {
	bin := testnode.Build(t)
	old := testnode.New(t, bin)
	old.Start()

	const (
		object  = "1561301001.85.1/school-0042"
		dataset = "1561301001.85.1/census-2026"
	)
	var ans client.TxAnswer
	cli(t, old, nil, "keys", "add", "alice")
	cli(t, old, nil, "keys", "add", "bob")
	cli(t, old, &ans, "tx", "apply-city", "--country", "156", "--city-number", "130100", "--name", "石家庄市", "--name-en", "Shijiazhuang", "--locode", "CN SJW", "--from", "alice")
	cli(t, old, nil, "tx", "approve", "1", "--from", "operator")
	cli(t, old, nil, "tx", "register-sector", "1561301001.85", "--from", "alice")
	cli(t, old, nil, "tx", "register-sector", "1561301001.86", "--from", "alice")
	cli(t, old, nil, "tx", "register-unit", "1561301001.85", "--name", "Education Bureau", "--from", "alice")
	cli(t, old, nil, "tx", "register", object, "--value", "URL=https://example.org/school-0042", "--from", "alice")
	cli(t, old, nil, "tx", "update", object, "--value", "URL=https://example.org/new", "--version", "1", "--from", "alice")
	cli(t, old, nil, "tx", "register", dataset, "--from", "alice",
		"--value", `DATA={"uri":"https://example.org/census.csv","sha256":"`+strings.Repeat("ab", 32)+`","size":12,"media_type":"text/csv"}`)
	cli(t, old, nil, "tx", "anchor-log", dataset, "--entries", "3", "--head", strings.Repeat("cd", 32), "--from", "alice")
	cli(t, old, nil, "tx", "grant", dataset, "--to", "1561301001.86", "--for", "720h", "--from", "alice")
	// An application left open: a new network does not carry it.
	cli(t, old, nil, "tx", "apply-city", "--country", "156", "--city-number", "110100", "--name", "北京市", "--from", "bob")

	if _, stderr, code := old.CLI("export"); code == 0 || !strings.Contains(stderr, "stop it first") {
		t.Fatalf("export of a running node: exit %d, %s", code, stderr)
	}
	old.Stop()

	dir := t.TempDir()
	file := filepath.Join(dir, "registry.jsonl")
	var out struct {
		File   string                `json:"file"`
		Header registry.ExportHeader `json:"header"`
	}
	cli(t, old, &out, "export", "--out", file)
	exp, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	hd := out.Header
	if hd.Format != registry.ExportFormat || hd.Height < 10 || hd.Entries < 15 {
		t.Fatalf("export header %+v", hd)
	}
	for _, want := range []string{`{"kind":"record","key":"id/` + object + `"`, `{"kind":"history","key":"hist/` + object + `#`,
		`{"kind":"grant",`, `{"kind":"anchor",`, `{"kind":"anchor_head",`, `{"kind":"city",`, `{"kind":"locode",`, `{"kind":"authority",`, `{"kind":"params",`, `{"kind":"application",`} {
		if !bytes.Contains(exp, []byte("\n"+want)) {
			t.Errorf("the export has no line %s…", want)
		}
	}
	for _, not := range []string{`"kind":"account"`, `"kind":"validators"`, `"status":"pending"`} {
		if bytes.Contains(exp, []byte(not)) {
			t.Errorf("the export holds %s", not)
		}
	}
	// Again, to standard output and at the height by number: the same bytes.
	again, stderr, code := old.CLI("export", "--height", strconv.FormatInt(hd.Height, 10))
	if code != 0 || again != string(exp) {
		t.Fatalf("a second export of height %d differs (exit %d, %s)", hd.Height, code, stderr)
	}

	// A tampered export is refused at init, naming its line, and leaves
	// no home behind.
	bad := filepath.Join(dir, "bad.jsonl")
	if err := os.WriteFile(bad, bytes.Replace(exp, []byte(`"key":"id/`+object+`"`), []byte(`"key":"id/`+object+`x"`), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	badHome := filepath.Join(dir, "bad-home")
	if _, stderr, code := runCLI(t, bin, "init", "--home", badHome, "--import", bad); code != exitRefused || !strings.Contains(stderr, "export line ") {
		t.Fatalf("init --import of a tampered export: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(badHome, "config", "genesis.json")); err == nil {
		t.Fatalf("a refused import left a genesis in %s", badHome)
	}

	// The new network.
	nw := testnode.New(t, bin)
	var res struct {
		ChainID  string                 `json:"chain_id"`
		Imported *registry.ExportHeader `json:"imported"`
	}
	stdout, stderr, code := runCLI(t, bin, "init", "--home", nw.Home, "--import", file, "--json")
	if code != 0 || json.Unmarshal([]byte(stdout), &res) != nil || res.Imported == nil || *res.Imported != hd || res.ChainID == hd.ChainID {
		t.Fatalf("init --import: exit %d\n%s\n%s", code, stdout, stderr)
	}
	nw.Start()

	ctx := context.Background()
	c, err := client.New(nw.URL())
	if err != nil {
		t.Fatal(err)
	}
	b1, err := c.Block(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	trustHash, _ := hex.DecodeString(b1.Hash)
	// The new network goes on: an application, by a key of the new
	// home's (keys are not state; how admins bring theirs is
	// docs/keys.md's). Block 1 was made before it, so it is in block 2
	// or later, and the header of block 2 signs the state of height 1.
	// (An idle new network makes no block 2 of itself: the genesis
	// state's app hash is block 1's, and a proof verifies against the
	// header after its height.)
	cli(t, nw, nil, "keys", "add", "carol")
	cli(t, nw, &ans, "tx", "apply-city", "--country", "156", "--city-number", "320100", "--name", "南京市", "--from", "carol")
	if ans.Result.Application != 3 {
		t.Errorf("the new network's first application is number %d, want 3 (after the carried counter's 2)", ans.Result.Application)
	}
	b2, err := c.Block(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	v, err := client.NewVerifier(ctx, c, nil, client.TrustOptions{Height: 1, Hash: trustHash}, dbm.NewMemDB())
	if err != nil {
		t.Fatal(err)
	}
	rec, ver, err := v.ResolveVerified(ctx, object)
	if err != nil || !ver.Exists || rec.Record.Version != 2 || rec.Record.Values[0].Data != "https://example.org/new" {
		t.Fatalf("verified resolve on the new network: %+v %+v %v", rec.Record, ver, err)
	}
	a, ver, err := v.LatestAnchorVerified(ctx, dataset)
	if err != nil || !ver.Exists || a == nil || a.Entries != 3 {
		t.Fatalf("verified anchor on the new network: %+v %+v %v", a, ver, err)
	}
	var hist struct {
		Versions []registry.Record `json:"versions"`
	}
	cli(t, nw, &hist, "query", "history", object)
	if len(hist.Versions) != 2 {
		t.Errorf("history on the new network: %+v", hist)
	}
	nw.Stop()

	// Its state right after InitChain (height 1: the genesis state is
	// committed with the first block, which held no transaction) holds
	// exactly the exported entries: the same content hash, the same
	// lines. Only the header's chain ID, height and app hash differ.
	again, stderr, code = nw.CLI("export", "--height", "1")
	if code != 0 {
		t.Fatalf("export of the new network: exit %d, %s", code, stderr)
	}
	head2, body2, _ := strings.Cut(again, "\n")
	head1, body1, _ := strings.Cut(string(exp), "\n")
	if body2 != body1 {
		t.Fatalf("the new network's export differs from the old one's after the header")
	}
	var hd2 registry.ExportHeader
	if err := json.Unmarshal([]byte(head2), &hd2); err != nil {
		t.Fatal(err)
	}
	if hd2.ChainID != res.ChainID || hd2.Height != 1 || hd2.ContentSHA256 != hd.ContentSHA256 || hd2.Entries != hd.Entries {
		t.Fatalf("new network's header %s, old %s", head2, head1)
	}
	if !strings.EqualFold(b1.AppHash, hd2.AppHash) {
		t.Errorf("block 1 carries app hash %s (InitChain's), the export of height 1 says %s", b1.AppHash, hd2.AppHash)
	}
	if !strings.EqualFold(b2.AppHash, hd2.AppHash) {
		t.Errorf("block 2 carries app hash %s, the export of height 1 says %s", b2.AppHash, hd2.AppHash)
	}

	t.Run("testnet", func(t *testing.T) { importTestnet(t, bin, file, exp) })
}

// importTestnet starts a network of two validators from the export with
// cityid testnet --import: both apply it at InitChain and agree on it
// (they make blocks together), a carried record is resolved with a proof
// from the second validator once a transaction made block 2, and both
// export height 1 as the very same bytes, whose entries are the export's.
func importTestnet(t *testing.T, bin, file string, exp []byte) {
	base, err := testnode.FreeBasePort(6)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "net")
	stdout, stderr, code := runCLI(t, bin, "testnet", "--validators", "2", "--out", dir, "--base-port", strconv.Itoa(base), "--import", file, "--json")
	var homes []struct {
		Home string `json:"home"`
		HTTP string `json:"http"`
		RPC  string `json:"rpc"`
		P2P  string `json:"p2p"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &homes) != nil || len(homes) != 2 {
		t.Fatalf("testnet --import: exit %d\n%s\n%s", code, stdout, stderr)
	}
	nodes := make([]*testnode.Node, 2)
	for i, h := range homes {
		n := testnode.New(t, bin)
		n.Home, n.HTTP, n.DNS = h.Home, h.HTTP, ""
		n.RPC, n.P2P = strings.TrimPrefix(h.RPC, "tcp://"), strings.TrimPrefix(h.P2P, "tcp://")
		nodes[i] = n
	}
	testnode.StartAll(t, nodes, 90*time.Second)
	cli(t, nodes[0], nil, "tx", "apply-city", "--country", "156", "--city-number", "320100", "--name", "南京市", "--from", "operator")

	ctx := context.Background()
	c, err := client.New(nodes[1].URL())
	if err != nil {
		t.Fatal(err)
	}
	b1, err := c.Block(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	trustHash, _ := hex.DecodeString(b1.Hash)
	v, err := client.NewVerifier(ctx, c, nil, client.TrustOptions{Height: 1, Hash: trustHash}, dbm.NewMemDB())
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"1561301001.85.1/school-0042", "1561301001.85.1/census-2026"} {
		// The second validator may be a block behind the first's answer.
		var verr error
		for range 50 {
			if _, ver, err := v.ResolveVerified(ctx, id); err == nil && ver.Exists {
				verr = nil
				break
			} else {
				verr = fmt.Errorf("%+v %v", ver, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
		if verr != nil {
			t.Fatalf("verified resolve of %s on the second validator: %v", id, verr)
		}
	}
	var exports []string
	for _, n := range nodes {
		n.Stop()
		out, stderr, code := n.CLI("export", "--height", "1")
		if code != 0 {
			t.Fatalf("export of %s: exit %d, %s", n.Home, code, stderr)
		}
		exports = append(exports, out)
	}
	_, body, _ := strings.Cut(exports[0], "\n")
	_, want, _ := strings.Cut(string(exp), "\n")
	if exports[0] != exports[1] || body != want {
		t.Fatalf("the validators' exports of height 1 differ from each other (%v) or from the imported entries (%v)", exports[0] != exports[1], body != want)
	}
}

// runCLI runs the binary with args alone, as a person types them.
func runCLI(t *testing.T, bin string, args ...string) (stdout, stderr string, code int) {
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
