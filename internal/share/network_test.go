package share_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cityid/cityid/client"
	"github.com/cityid/cityid/internal/keyring"
	"github.com/cityid/cityid/internal/node"
	"github.com/cityid/cityid/internal/testnode"
)

// network is two validators (cities A and B keep their data on them) and
// a full node (city C's), each with its own home and keyring.
type network struct {
	t       *testing.T
	a, b, c *testnode.Node
	cl      *client.Client // node A's API, for setting up
	ops     []ed25519.PrivateKey
}

func (n *network) send(key ed25519.PrivateKey, kind string, msg any) client.TxAnswer {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ans, err := n.cl.Send(ctx, key, kind, msg)
	if err != nil {
		n.t.Fatalf("%s: %v", kind, err)
	}
	return ans
}

// city has admin apply for a city whose node is at endpoint, and the
// authority (both validators' operators) approve it.
func (n *network) city(admin keyring.Key, number, name, endpoint string) string {
	n.t.Helper()
	ans := n.send(admin.Private, client.KindApplyCity, client.ApplyCity{Country: "156", CityNumber: number, Name: name, Endpoint: endpoint})
	app, hash := ans.Result.Application, ans.Result.Hash
	for _, op := range n.ops {
		ans = n.send(op, client.KindApproveApplication, client.Decision{Application: app, Hash: hash})
	}
	if ans.Result.CityCode == "" {
		n.t.Fatalf("city %s not issued after the authority's approvals: %+v", name, ans.Result)
	}
	return ans.Result.CityCode
}

// synced waits until nd has committed what node A has.
func (n *network) synced(nd *testnode.Node) {
	n.t.Helper()
	ctx := context.Background()
	st, err := n.cl.Status(ctx)
	if err != nil {
		n.t.Fatal(err)
	}
	c, err := client.New(nd.URL())
	if err != nil {
		n.t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		got, err := c.Status(ctx)
		if err == nil && got.Height >= st.Height {
			return
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("%s did not reach height %d in 30 s: %+v, %v", nd.Home, st.Height, got, err)
		}
	}
}

// cli runs a cityid command on node nd and fails the test unless it exits
// with want.
func cli(t *testing.T, nd *testnode.Node, want int, args ...string) (stdout, stderr string) {
	t.Helper()
	stdout, stderr, code := nd.CLI(args...)
	if code != want {
		t.Fatalf("cityid %s on %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), nd.Home, code, want, stdout, stderr)
	}
	return stdout, stderr
}

// TestSharingAcrossNodes tells the story on a network of two
// validators and a full node: city A's node keeps a dataset; city B's
// sector holds a grant and downloads with its own CLI against A's node;
// city C is refused; B is refused after a revocation commits, after the
// grant expires and after B's sector is deactivated (by B's admin: A has
// no right over another city's nodes); a public
// dataset is read anonymously and from a mirror; bytes altered on A's
// disk are never delivered as valid; the access log verifies against its
// anchors and a tampered log does not.
func TestSharingAcrossNodes(t *testing.T) {
	bin := testnode.Build(t)
	nodes := testnode.Testnet(t, bin, 2, 1)
	n := &network{t: t, a: nodes[0], b: nodes[1], c: nodes[2]}
	mustKey := func(home, name string) keyring.Key {
		kr, err := node.OpenKeyring(home, node.KeyringOptions{})
		if err != nil {
			t.Fatal(err)
		}
		k, err := kr.Add(name)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	alice, bob, carol, dave := mustKey(n.a.Home, "alice"), mustKey(n.b.Home, "bob"), mustKey(n.b.Home, "carol"), mustKey(n.c.Home, "dave")
	// A's node anchors its logs every second with alice's key.
	n.a.EditConfig("cityid.toml", "data", "anchor_key", `"alice"`)
	n.a.EditConfig("cityid.toml", "data", "anchor_every", "1")
	for i := range 2 {
		op, err := node.LoadKey(nodes[i].Home, "operator")
		if err != nil {
			t.Fatal(err)
		}
		n.ops = append(n.ops, op.Private)
	}
	testnode.StartAll(t, nodes, 90*time.Second)
	var err error
	if n.cl, err = client.New(n.a.URL()); err != nil {
		t.Fatal(err)
	}

	cityA := n.city(alice, "130100", "石家庄市", n.a.URL())
	cityB := n.city(bob, "130200", "唐山市", n.b.URL())
	n.city(dave, "130300", "秦皇岛市", n.c.URL())
	n.send(alice.Private, client.KindRegisterSector, client.RegisterSector{ID: cityA + ".36"})
	unit := n.send(alice.Private, client.KindRegisterUnit, client.RegisterUnit{Parent: cityA + ".36", Name: "Water Supply"}).Result.ID
	grantee := cityB + ".36"
	n.send(bob.Private, client.KindRegisterSector, client.RegisterSector{ID: grantee, Admins: []string{carol.Public()}})

	// Alice puts a dataset with her CLI on A's node.
	dir := t.TempDir()
	content := bytes.Repeat([]byte("2026-01-01,main-7,1200\n"), 5000)
	src := filepath.Join(dir, "flow.csv")
	if err := os.WriteFile(src, content, 0o600); err != nil {
		t.Fatal(err)
	}
	ds := unit + "/flow-2026"
	out, _ := cli(t, n.a, 0, "data", "put", src, ds, "--from", "alice")
	var put struct {
		Dataset  client.Dataset `json:"dataset"`
		Node     string         `json:"node"`
		Uploaded bool           `json:"uploaded"`
	}
	if err := json.Unmarshal([]byte(out), &put); err != nil || !put.Uploaded || put.Node != n.a.URL() || put.Dataset.Size != int64(len(content)) {
		t.Fatalf("data put answered %s (%v): want the bytes uploaded to A's node %s", out, err, n.a.URL())
	}

	// B and C trust their own nodes' first block.
	trust := func(nd *testnode.Node) []string {
		c, err := client.New(nd.URL())
		if err != nil {
			t.Fatal(err)
		}
		blk, err := c.Block(context.Background(), 1)
		if err != nil {
			t.Fatal(err)
		}
		return []string{"--trust-height", "1", "--trust-hash", blk.Hash}
	}
	trustB, trustC := trust(n.b), trust(n.c)
	get := func(nd *testnode.Node, trustArgs []string, want int, args ...string) (string, string) {
		t.Helper()
		return cli(t, nd, want, append(append([]string{"data", "get"}, args...), trustArgs...)...)
	}
	refusedFor := func(nd *testnode.Node, trustArgs []string, code, key, file string) {
		t.Helper()
		_, stderr := get(nd, trustArgs, 1, ds, "--from", key, "-o", file)
		if !strings.Contains(stderr, code) {
			t.Fatalf("data get by %s: %q, want a refusal saying %s", key, stderr, code)
		}
		if _, err := os.Stat(file); err == nil {
			t.Fatalf("a refused download wrote %s", file)
		}
	}

	// Before the grant, B's sector is refused; C always is.
	got := filepath.Join(dir, "b.csv")
	refusedFor(n.b, trustB, client.CodeNoGrant, "carol", got)
	cli(t, n.a, 0, "tx", "grant", ds, "--to", grantee, "--for", "1h", "--from", "alice")
	get(n.b, trustB, 0, ds, "--from", "carol", "-o", got)
	if b, err := os.ReadFile(got); err != nil || !bytes.Equal(b, content) {
		t.Fatalf("B downloaded %d bytes (%v), want the %d put", len(b), err, len(content))
	}
	refusedFor(n.c, trustC, client.CodeNoGrant, "dave", filepath.Join(dir, "c.csv"))

	// A revocation takes effect with its block.
	cli(t, n.a, 0, "tx", "revoke", ds, "--to", grantee, "--from", "alice")
	refusedFor(n.b, trustB, client.CodeGrantRevoked, "carol", filepath.Join(dir, "b2.csv"))

	// A grant that expired (by block time, or by the owner node's clock on
	// a quiet chain).
	cli(t, n.a, 0, "tx", "grant", ds, "--to", grantee, "--for", "10s", "--from", "alice")
	get(n.b, trustB, 0, ds, "--from", "carol", "-o", filepath.Join(dir, "b3.csv"))
	grants, err := n.cl.Grants(context.Background(), ds, "", "", 10)
	if err != nil || len(grants.Grants) != 1 {
		t.Fatalf("grants of %s: %+v, %v", ds, grants, err)
	}
	time.Sleep(time.Until(grants.Grants[0].Expires) + time.Second)
	refusedFor(n.b, trustB, client.CodeGrantExpired, "carol", filepath.Join(dir, "b4.csv"))

	// Deactivating B's sector closes it too, and reactivating opens it.
	cli(t, n.a, 0, "tx", "grant", ds, "--to", grantee, "--for", "1h", "--from", "alice")
	cli(t, n.b, 0, "tx", "deactivate", grantee, "--from", "bob")
	refusedFor(n.b, trustB, client.CodeGrantInactive, "carol", filepath.Join(dir, "b5.csv"))
	cli(t, n.b, 0, "tx", "reactivate", grantee, "--from", "bob")
	get(n.b, trustB, 0, ds, "--from", "carol", "-o", filepath.Join(dir, "b6.csv"))

	// A public dataset: read anonymously, and from C's mirror of it.
	mapFile := filepath.Join(dir, "pipes.geojson")
	if err := os.WriteFile(mapFile, []byte(`{"type":"FeatureCollection","features":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	pub := unit + "/pipes"
	cli(t, n.a, 0, "data", "put", mapFile, pub, "--public", "--from", "alice")
	n.synced(n.c)
	get(n.c, trustC, 0, pub, "-o", filepath.Join(dir, "c-pipes.geojson"))
	cli(t, n.c, 0, "data", "mirror", pub)
	out, _ = get(n.c, trustC, 0, pub, "--owner", n.c.URL(), "-o", filepath.Join(dir, "c-mirror.geojson"))
	if !strings.Contains(out, `"node": "`+n.c.URL()+`"`) {
		t.Fatalf("the mirrored dataset was not read from C's node: %s", out)
	}

	// Bytes altered on A's disk are never delivered as valid.
	blob := findBlob(t, n.a.Home, put.Dataset.SHA256)
	b, err := os.ReadFile(blob)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.WriteFile(blob, b, 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "b-altered.csv")
	get(n.b, trustB, 1, ds, "--from", "carol", "-o", bad)
	if _, err := os.Stat(bad); err == nil {
		t.Fatal("altered bytes were written as the dataset")
	}

	// The log lists every access, verifies, and its head is anchored.
	deadline := time.Now().Add(30 * time.Second)
	var logOut string
	for {
		var stderr string
		var code int
		logOut, stderr, code = n.a.CLI("data", "log", ds, "--from", "alice")
		if code != 0 {
			t.Fatalf("data log: exit %d: %s", code, stderr)
		}
		var lg struct {
			Anchors []client.Anchor `json:"anchors"`
		}
		if err := json.Unmarshal([]byte(logOut), &lg); err != nil {
			t.Fatal(err)
		}
		if len(lg.Anchors) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no anchor of the log after 30 s:\n%s", n.a.Output())
		}
		time.Sleep(time.Second)
	}
	for _, want := range []string{carol.Public(), dave.Public(), client.CodeNoGrant, client.CodeGrantRevoked, client.CodeGrantExpired, client.CodeGrantInactive, `"served"`} {
		if !strings.Contains(logOut, want) {
			t.Errorf("the access log does not show %s", want)
		}
	}
	// An entry rewritten on disk is found out.
	logFile := findLog(t, n.a.Home, ds)
	lb, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(logFile, bytes.Replace(lb, []byte(dave.Public()), []byte(carol.Public()), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := n.a.CLI("data", "log", ds, "--from", "alice"); code == 0 || !strings.Contains(stderr, "does not verify") {
		t.Fatalf("data log of a tampered log: exit %d, %s", code, stderr)
	}
}

// findBlob is the file of a dataset's bytes in a node's home.
func findBlob(t *testing.T, home, sha string) string {
	t.Helper()
	var found string
	_ = filepath.WalkDir(filepath.Join(home, "datasets", "bytes"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Base(p) == sha {
			found = p
		}
		return nil
	})
	if found == "" {
		t.Fatalf("no file %s under %s/datasets/bytes", sha, home)
	}
	return found
}

// findLog is the access log file of a dataset in a node's home.
func findLog(t *testing.T, home, dataset string) string {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join(home, "datasets", "logs", "*"))
	for _, m := range matches {
		b, err := os.ReadFile(m)
		if err == nil && bytes.Contains(b, []byte(`"dataset":"`+dataset+`"`)) {
			return m
		}
	}
	t.Fatalf("no access log of %s under %s/datasets/logs (%v)", dataset, home, matches)
	return ""
}
