package faults

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cityid/cityid/client"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/testnode"
)

// Bounds of the byzantine test: a 4-validator network makes a block
// about every second, so each validator proposes about every four; an
// invalid proposal costs its round about a second more (the honest
// validators wait timeout_precommit after their nil precommits). The
// byzantine validator alternates judged and invalid turns, so the three
// judged groups and the three kinds of invalid proposal take about six
// of its turns: some 30 s.
const (
	byzantineGroups  = 3                // judged hostile blocks to see committed
	byzantineTimeout = 75 * time.Second // for them and every kind of invalid proposal, with writes going on
)

// The kinds of proposal the byzantine validator notes in its journal
// (internal/faults/byzantine).
const (
	byzJudged    = "judged"
	byzDuplicate = "duplicate"
	byzReplay    = "replay"
	byzUsedNonce = "used_nonce"
)

var byzInvalidKinds = []string{byzDuplicate, byzReplay, byzUsedNonce}

// byzPlan and byzProposal are the byzantine validator's Plan and
// Proposal, as JSON.
type byzPlan struct {
	Judged    [][][]byte `json:"judged"`
	UsedNonce [][]byte   `json:"used_nonce"`
}

type byzProposal struct {
	Height  int64    `json:"height"`
	Turn    int      `json:"turn"`
	Kind    string   `json:"kind"`
	Txs     int      `json:"txs"`
	Honest  int      `json:"honest"`
	Hostile []string `json:"hostile"`
}

// TestByzantineProposer runs four validators, one of them the byzantine
// program (internal/faults/byzantine), whose turns alternate between two
// kinds of proposal, while a client keeps registering through every
// node:
//
//   - judged: a group of the transactions the registry refuses in the
//     block (testnode.HostileTxs, but for those RefusedAtProposal), the
//     honest transactions between them. These blocks must commit, at
//     least byzantineGroups of them, each hostile transaction refused
//     with its code and each honest one applied.
//   - invalid: a transaction twice, a replay of an applied one, or
//     transactions whose nonce is used. The honest validators must
//     refuse each of these in ProcessProposal (their logs say so) and
//     the chain go on.
//
// Then every committed block is read from every node: the nodes agree
// on every result; no transaction is in the chain twice, none carries a
// nonce its signer had used, none is refused as a replay; every
// transaction looked up by hash shows the block and result it was
// committed with; every honest write was acknowledged; and every node
// holds the same blocks and app hashes.
func TestByzantineProposer(t *testing.T) {
	began := time.Now()
	byzBin, err := testnode.BuildPackage(t.TempDir(), "./internal/faults/byzantine")
	if err != nil {
		t.Fatal(err)
	}
	c := newCluster(t, 4, 0)
	const byz = 3
	c.nodes[byz].Bin = byzBin
	all := c.validators()
	c.start(t, all...)
	forks := c.watchForks(t)
	c.setupCity(t)
	world := c.hostileWorld(t)
	hostile, err := testnode.HostileTxs(world)
	if err != nil {
		t.Fatal(err)
	}
	byzAddr := validatorAddress(t, c.nodes[byz].Home)

	// The byzantine validator turns hostile once its plan is there.
	b, err := json.Marshal(byzantinePlan(hostile))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(c.nodes[byz].Home, "byzantine", "txs.json")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".tmp", b, 0o600); err != nil {
		t.Fatal(err)
	}
	from := slices.Max(c.heights(all)) + 1
	if err := os.Rename(path+".tmp", path); err != nil {
		t.Fatal(err)
	}

	w := c.startWriter(t, "byz", all)
	w.waitAcks(t, 2, 30*time.Second)
	c.waitByzantine(t, byz, byzAddr, hostile, from, byzantineTimeout)
	w.waitAcks(t, 2, 30*time.Second) // and the chain goes on after them
	// Every write that ended before the halt was acknowledged; the one
	// the halt abandons is not counted.
	w.mu.Lock()
	failed, lastErr := w.failed, w.lastErr
	w.mu.Unlock()
	w.halt(t)
	if failed > 0 {
		t.Errorf("%d honest writes were not acknowledged (last error: %v)", failed, lastErr)
	}
	c.checkConverged(t, all)
	forks.check(t)
	c.checkByzantineChain(t, all, byz, byzAddr, hostile, from)
	t.Logf("test took %s", time.Since(began).Round(time.Millisecond))
}

// byzantinePlan splits the hostile transactions: those judged in the
// block go into byzantineGroups groups (the i-th into group i mod n, so
// each group holds several kinds), those refused at the proposal are the
// used-nonce offence.
func byzantinePlan(hostile []testnode.Hostile) byzPlan {
	p := byzPlan{Judged: make([][][]byte, byzantineGroups)}
	k := 0
	for _, h := range hostile {
		if h.RefusedAtProposal {
			p.UsedNonce = append(p.UsedNonce, h.Tx)
			continue
		}
		p.Judged[k%byzantineGroups] = append(p.Judged[k%byzantineGroups], h.Tx)
		k++
	}
	return p
}

// hostileWorld completes the world the hostile transactions aim at: a
// unit of the city's education sector administered by a key of its own
// (the writers sign with the city's key, and the hostile transactions
// name their admin's nonces, which must stay as they were signed), with
// a dataset, and a health sector to be its grantee.
func (c *cluster) hostileWorld(t testing.TB) testnode.HostileWorld {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*writeTimeout)
	defer cancel()
	cl := c.cl[0]
	_, admin, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	send := func(key ed25519.PrivateKey, kind string, msg any) client.TxAnswer {
		t.Helper()
		ans, err := cl.Send(ctx, key, kind, msg)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		return ans
	}
	ans := send(c.cityKey, registry.KindRegisterUnit, registry.RegisterUnit{Parent: "1561301001.85", Name: "Examinations Authority",
		Admins: []string{registry.KeyText(admin.Public().(ed25519.PublicKey))}})
	unit := ans.Result.ID
	object := unit + "/exam-2026"
	send(admin, registry.KindRegister, registry.Register{ID: object, Values: []registry.Value{{Type: registry.TypeData, Dataset: &registry.Dataset{
		URI: "https://node.sjz.example/datasets/exam-2026.csv", SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		Size: 4096, MediaType: "text/csv",
	}}}})
	send(c.cityKey, registry.KindRegisterSector, registry.RegisterSector{ID: "1561301001.86"})
	st, err := cl.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	acct, err := cl.Account(ctx, registry.KeyText(admin.Public().(ed25519.PublicKey)))
	if err != nil {
		t.Fatal(err)
	}
	return testnode.HostileWorld{
		ChainID: st.ChainID, Admin: admin, AdminNonce: acct.Nonce,
		City: "1561301001", Sector: "1561301001.85", Unit: unit, Object: object, Grantee: "1561301001.86",
		Application: c.cityApp, AppHash: c.appHash, Height: st.Height, Time: st.BlockTime,
	}
}

// validatorAddress is the address of the home's validator key, as block
// headers name their proposer.
func validatorAddress(t testing.TB, home string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(home, "config", "priv_validator_key.json"))
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		Address string `json:"address"`
	}
	if err := json.Unmarshal(b, &k); err != nil || k.Address == "" {
		t.Fatalf("validator key of %s: %v", home, err)
	}
	return strings.ToUpper(k.Address)
}

// readJournal reads the byzantine validator's journal of proposals; a
// line it is still writing is left for the next read.
func readJournal(t testing.TB, home string) []byzProposal {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(home, "byzantine", "proposals.jsonl"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(b, []byte("\n"))
	var out []byzProposal
	for _, line := range lines[:len(lines)-1] { // the last is empty, or not ended yet
		var p byzProposal
		if err := json.Unmarshal(line, &p); err != nil {
			t.Fatalf("byzantine journal line %q: %v", line, err)
		}
		out = append(out, p)
	}
	return out
}

// waitByzantine waits until node 0 has committed blocks proposed by the
// byzantine validator holding every judged hostile transaction (at least
// byzantineGroups of them), and the validator has made each kind of
// invalid proposal at a height now decided.
func (c *cluster) waitByzantine(t testing.TB, byz int, addr string, hostile []testnode.Hostile, from int64, timeout time.Duration) {
	t.Helper()
	judged := map[string]bool{} // hash → committed; looked up only
	for _, h := range hostile {
		if !h.RefusedAtProposal {
			judged[registry.TxHash(h.Tx)] = false
		}
	}
	deadline := time.Now().Add(timeout)
	var blocks []int64
	next := from
	for {
		committed := 0
		for _, ok := range judged {
			if ok {
				committed++
			}
		}
		decided := map[string]bool{}
		for _, p := range readJournal(t, c.nodes[byz].Home) {
			if p.Kind != byzJudged && len(p.Hostile) > 0 && p.Height < next {
				decided[p.Kind] = true
			}
		}
		if committed == len(judged) && len(blocks) >= byzantineGroups && len(decided) == len(byzInvalidKinds) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s (heights %d–%d): %d of %d judged hostile transactions committed, in blocks %v; invalid proposals decided: %v, want %v",
				timeout, from, next-1, committed, len(judged), blocks, decided, byzInvalidKinds)
		}
		b, err := c.block(t, 0, next)
		if err != nil {
			if client.Code(err) != "not_found" {
				t.Fatalf("node0 block %d: %v", next, err)
			}
			time.Sleep(200 * time.Millisecond)
			continue
		}
		held := false
		for _, x := range b.Txs {
			if _, ok := judged[x.Hash]; ok {
				judged[x.Hash], held = true, true
			}
		}
		if held && strings.EqualFold(b.Proposer, addr) {
			blocks = append(blocks, next)
		}
		next++
	}
}

// heightField is the height in a log line of the text handler.
var heightField = regexp.MustCompile(`\bheight=(\d+)\b`)

// refusedHeights are the heights at which node i's log says it refused a
// proposal (chain.App.ProcessProposal).
func (c *cluster) refusedHeights(i int) map[int64]bool {
	out := map[int64]bool{}
	for _, line := range strings.Split(c.nodes[i].Output(), "\n") {
		if !strings.Contains(line, "proposal refused") {
			continue
		}
		if m := heightField.FindStringSubmatch(line); m != nil {
			if h, err := strconv.ParseInt(m[1], 10, 64); err == nil {
				out[h] = true
			}
		}
	}
	return out
}

// checkByzantineChain reads every block from every node in idx and
// checks: the nodes agree on every transaction's result; no transaction
// is in the chain twice, none carries a nonce an earlier block applied
// for its signer, none is refused as a replay; each judged hostile
// transaction is in a block of the byzantine validator, refused with its
// code, with the honest ones around it applied, and none refused at the
// proposal is in any block; each invalid proposal was refused by enough
// honest validators that it could not gather two thirds, and they refused
// nothing else; and a lookup by hash on every node shows each
// transaction's block and result.
func (c *cluster) checkByzantineChain(t testing.TB, idx []int, byz int, byzAddr string, hostile []testnode.Hostile, from int64) {
	t.Helper()
	want := make(map[string]testnode.Hostile, len(hostile)) // looked up only
	for _, h := range hostile {
		want[registry.TxHash(h.Tx)] = h
	}
	type place struct {
		height int64
		index  uint32
		code   uint32
		err    string
	}
	errCode := func(e *registry.Error) string {
		if e == nil {
			return ""
		}
		return e.Code
	}
	top := slices.Min(c.heights(idx))
	first := map[string]place{}    // hash → where it was committed first; looked up only
	applied := map[string]uint64{} // signer → the highest nonce applied in the blocks read; looked up only
	var judgedBlocks []int64
	var byzBlocks []int64
	honestBetween, again := 0, 0
	for h := int64(1); h <= top; h++ {
		var blk client.BlockInfo
		for k, i := range idx {
			b, err := c.committedBlock(t, i, h)
			if err != nil {
				t.Fatalf("%s block %d: %v", c.name(i), h, err)
			}
			if k == 0 {
				blk = b
				continue
			}
			if len(b.Txs) != len(blk.Txs) {
				t.Fatalf("height %d: %s has %d transactions, %s %d", h, c.name(idx[0]), len(blk.Txs), c.name(i), len(b.Txs))
			}
			for j := range b.Txs {
				x, y := blk.Txs[j], b.Txs[j]
				if x.Hash != y.Hash || x.Code != y.Code || errCode(x.Error) != errCode(y.Error) || string(x.Result) != string(y.Result) {
					t.Errorf("height %d tx %d: %s has %s code %d, %s has %s code %d", h, j, c.name(idx[0]), x.Hash, x.Code, c.name(i), y.Hash, y.Code)
				}
			}
		}
		byzantine := strings.EqualFold(blk.Proposer, byzAddr)
		if byzantine && h >= from {
			byzBlocks = append(byzBlocks, h)
		}
		judged := false
		usedNow := map[string]uint64{} // looked up only
		for j, x := range blk.Txs {
			code := errCode(x.Error)
			if p, ok := first[x.Hash]; ok {
				again++
				t.Errorf("height %d tx %d: %s is in the chain again (first at height %d tx %d)", h, j, x.Hash, p.height, p.index)
			} else {
				first[x.Hash] = place{height: h, index: uint32(j), code: x.Code, err: code}
			}
			if code == registry.CodeNonceReplayed {
				t.Errorf("height %d tx %d: %s refused as %s: a block held a used nonce", h, j, x.Hash, code)
			}
			if x.Tx != nil {
				if used := applied[x.Tx.Signer]; x.Tx.Nonce <= used {
					t.Errorf("height %d tx %d: %s by %s carries nonce %d; an earlier block applied its nonce %d", h, j, x.Hash, x.Tx.Signer, x.Tx.Nonce, used)
				}
				if x.Code == 0 {
					usedNow[x.Tx.Signer] = max(usedNow[x.Tx.Signer], x.Tx.Nonce)
				}
			}
			hw, isHostile := want[x.Hash]
			switch {
			case isHostile && hw.RefusedAtProposal:
				t.Errorf("height %d tx %d: hostile %s, which makes a proposal invalid, is in a block (%q)", h, j, hw.Name, code)
			case isHostile:
				judged = true
				if !byzantine {
					t.Errorf("height %d tx %d: hostile %s is in a block proposed by %s, not the byzantine validator", h, j, hw.Name, blk.Proposer)
				}
				if code != hw.Code {
					t.Errorf("height %d tx %d: hostile %s got %q (%v), want %q", h, j, hw.Name, code, x.Error, hw.Code)
				}
			}
		}
		for s, n := range usedNow {
			applied[s] = max(applied[s], n)
		}
		if judged {
			judgedBlocks = append(judgedBlocks, h)
			for j, x := range blk.Txs {
				if _, isHostile := want[x.Hash]; isHostile {
					continue
				}
				honestBetween++
				if x.Code != 0 {
					t.Errorf("height %d tx %d: honest %s, proposed among the hostile ones, got %q (%v)", h, j, x.Hash, errCode(x.Error), x.Error)
				}
			}
		}
	}
	for _, hw := range hostile {
		if _, ok := first[registry.TxHash(hw.Tx)]; !ok && !hw.RefusedAtProposal {
			t.Errorf("hostile %s is in no block of heights 1–%d", hw.Name, top)
		}
	}
	if len(judgedBlocks) < byzantineGroups {
		t.Errorf("judged hostile transactions are in blocks %v: want %d or more", judgedBlocks, byzantineGroups)
	}
	if honestBetween == 0 {
		t.Error("no honest transaction was committed among the hostile ones: the test proves less than it says")
	}

	// The invalid proposals: each refused by at least two of the three
	// honest validators (the byzantine one and a single honest vote are
	// not the three a block needs), and nothing else refused.
	journal := readJournal(t, c.nodes[byz].Home)
	refused := map[int][]int64{} // honest node → heights it refused a proposal at
	invalidAt := map[int64]bool{}
	for _, p := range journal {
		if p.Kind != byzJudged && p.Height <= top {
			invalidAt[p.Height] = true
		}
	}
	refusedBy := map[int64]int{} // looked up only
	for _, i := range idx {
		if i == byz {
			continue
		}
		for h := range c.refusedHeights(i) {
			refusedBy[h]++
			if !invalidAt[h] && h <= top {
				refused[i] = append(refused[i], h)
			}
		}
	}
	for i, hs := range refused {
		slices.Sort(hs)
		t.Errorf("%s refused proposals at heights %v, where the byzantine validator proposed no invalid block", c.name(i), hs)
	}
	kinds := map[string][]int64{}
	for _, p := range journal {
		if p.Kind == byzJudged || p.Height >= top {
			continue
		}
		if len(p.Hostile) == 0 {
			t.Logf("turn %d at height %d: a %s proposal with no offence to make", p.Turn, p.Height, p.Kind)
			continue
		}
		kinds[p.Kind] = append(kinds[p.Kind], p.Height)
		if refusedBy[p.Height] < 2 {
			t.Errorf("turn %d at height %d: a %s proposal (%d transactions, %s) was refused by %d honest validators, want 2 or more",
				p.Turn, p.Height, p.Kind, p.Txs, strings.Join(p.Hostile, ", "), refusedBy[p.Height])
		}
		if p.Kind == byzUsedNonce {
			for _, hash := range p.Hostile {
				if at, ok := first[hash]; ok {
					t.Errorf("turn %d at height %d: used-nonce transaction %s is in block %d", p.Turn, p.Height, hash, at.height)
				}
			}
		}
	}
	for _, k := range byzInvalidKinds {
		if len(kinds[k]) == 0 {
			t.Errorf("no %s proposal was decided in heights %d–%d", k, from, top)
		}
	}
	if len(byzBlocks) == 0 || top <= byzBlocks[len(byzBlocks)-1] {
		t.Errorf("the byzantine validator's blocks are %v of %d–%d: want blocks after its last", byzBlocks, from, top)
	}

	// A lookup by hash shows each transaction where it was committed,
	// with its result: no proposal put it into the index a second time.
	looked := 0
	for hash, p := range first {
		for _, i := range idx {
			ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
			tx, err := c.cl[i].Tx(ctx, hash)
			cancel()
			switch {
			case err != nil:
				t.Errorf("%s: look up %s, committed at height %d: %v", c.name(i), hash, p.height, err)
			case tx.Height != p.height || tx.Index != p.index || tx.Code != p.code || errCode(tx.Error) != p.err:
				t.Errorf("%s: %s, committed at height %d tx %d with code %d %q, is looked up at height %d tx %d with code %d %q",
					c.name(i), hash, p.height, p.index, p.code, p.err, tx.Height, tx.Index, tx.Code, errCode(tx.Error))
			default:
				looked++
			}
		}
	}
	t.Logf("heights 1–%d: %d transactions, each in one block; the byzantine validator's blocks %v, judged hostile ones in %v (%d honest transactions among them, applied); invalid proposals decided at %v; %d lookups by hash matched; %d again",
		top, len(first), byzBlocks, judgedBlocks, honestBetween, kinds, looked, again)
}
