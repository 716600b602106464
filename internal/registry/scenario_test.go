package registry

// Scenario scripts: stories of transactions under testdata/scenarios/, in
// etcd raft's datadriven style, for a reader who does not read Go. Each file
// is a list of commands, each followed by "----" and what the registry
// answered; `go test -run Scenario -rewrite` writes the answers again, and
// the diff is then read, line by line, against DESIGN.md.
//
// Commands:
//
//	keys                       names, one or more a line: test keys from fixed
//	                           seeds (testKey); prints each public key
//	genesis threshold=M [application_blocks=N] [vote_blocks=N] [max_grant_days=N]
//	                           the authority's members, by name; validators
//	                           validator-1 … validator-4, power 10
//	block [height=H] [time=RFC3339]
//	                           one transaction a line, applied as one block:
//	                             SIGNER KIND [nonce=N] [until=H] [chain=ID] {JSON message}
//	                             replay tx5.1   (the very bytes of an earlier transaction)
//	                           a line that starts with a space continues the one
//	                           before; # starts a comment
//	check                      transaction lines as in a block, run through what
//	                           CheckTx runs and not applied: would the mempool
//	                           take them?
//	resolve ID                 the record as it is now
//	history ID                 every version of the record, the current last
//	application N              the application, with its status at the last height
//	grant DATASET GRANTEE      the grant, and whether it is live at the last block
//	anchors DATASET [after=N] [limit=N]
//	                           a page of the dataset's anchored log heads, and
//	                           the latest
//	state [PREFIX]             every state key under PREFIX ($NAME allowed), with its
//	                           value, in order
//	apphash                    the first 8 bytes of the state's Merkle root
//
// Height defaults to the next one, time to 5 s a block after the last. The
// nonce of a transaction is the signer's next one, counting the signer's
// earlier transactions of the block that pass the stateless checks, unless
// nonce= gives it. In a message, $NAME stands for what NAME labels: a key's
// public key, an application's content hash (app1.hash), a proposal
// (proposal1) or a transaction's hash (tx5.1). The output shows the same
// labels in place of the hex, so a story reads in names.

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
)

// scenarioDir holds the stories, one a file.
const scenarioDir = "testdata/scenarios"

// minScenarios is how many stories the directory holds at least, so that a
// lost or renamed directory fails the test instead of running nothing.
const minScenarios = 6

func TestScenarios(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(scenarioDir, "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < minScenarios {
		t.Fatalf("%d scenario files in %s, want at least %d", len(files), scenarioDir, minScenarios)
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			s := newScenario(t)
			datadriven.RunTest(t, path, s.run)
		})
	}
}

// applyScenarioBlock is the one place the scenarios apply a block: the
// registry's block API as FinalizeBlock calls it, every transaction checked
// (no prepared cache).
func applyScenarioBlock(m *Machine, kv KV, blk Block, txs [][]byte) ([]Result, error) {
	return m.ApplyBlock(kv, blk, txs, nil)
}

// scenario is one story's chain and the names it gives to keys and hashes.
type scenario struct {
	m       *Machine
	kv      *memKV
	genesis bool
	height  int64     // the last block applied (0: genesis)
	time    time.Time // its time
	keys    map[string]ed25519.PrivateKey
	// labels names hex strings in the output (lowercase hex → label);
	// values is the other way, for $LABEL in a message.
	labels    map[string]string
	values    map[string]string
	txs       map[string][]byte // transaction label → its bytes, for replay
	proposals int               // proposal labels given so far
}

func newScenario(t *testing.T) *scenario {
	return &scenario{
		m: New(testChainID), kv: newMemKV(t), time: genesisTime,
		keys: map[string]ed25519.PrivateKey{}, labels: map[string]string{},
		values: map[string]string{}, txs: map[string][]byte{},
	}
}

func (s *scenario) run(t *testing.T, d *datadriven.TestData) string {
	if d.Cmd != "keys" && d.Cmd != "genesis" && !s.genesis {
		d.Fatalf(t, "%s before genesis", d.Cmd)
	}
	var out strings.Builder
	switch d.Cmd {
	case "keys":
		s.cmdKeys(t, d, &out)
		return out.String() // public keys in hex, not their names
	case "genesis":
		s.cmdGenesis(t, d, &out)
	case "block":
		s.cmdBlock(t, d, &out)
	case "check":
		s.cmdCheck(t, d, &out)
	case "resolve":
		s.cmdResolve(t, d, &out)
	case "history":
		s.cmdHistory(t, d, &out)
	case "application":
		s.cmdApplication(t, d, &out)
	case "grant":
		s.cmdGrant(t, d, &out)
	case "anchors":
		s.cmdAnchors(t, d, &out)
	case "state":
		s.cmdState(t, d, &out)
	case "apphash":
		fmt.Fprintf(&out, "%X\n", s.kv.Digest()[:8])
	default:
		d.Fatalf(t, "unknown command %q", d.Cmd)
	}
	return s.names(out.String())
}

// label names a hex string in the output, and lets $name stand for it in
// a message. A hex string keeps the first name it was given, and a name
// the first hex string (two applications of the same content share a
// hash, shown by the first one's name).
func (s *scenario) label(hexText, name string) {
	if _, ok := s.values[name]; !ok {
		s.values[name] = hexText
	}
	k := strings.ToLower(hexText)
	if _, ok := s.labels[k]; !ok {
		s.labels[k] = name
	}
}

var hexRun = regexp.MustCompile(`[0-9A-Fa-f]{32,}`)

// names replaces every labelled hex string in text by its label.
func (s *scenario) names(text string) string {
	return hexRun.ReplaceAllStringFunc(text, func(h string) string {
		if l, ok := s.labels[strings.ToLower(h)]; ok {
			return l
		}
		return h
	})
}

var dollarRef = regexp.MustCompile(`\$[A-Za-z0-9._-]+`)

// expand replaces every $LABEL in a message by what it stands for.
func (s *scenario) expand(t *testing.T, d *datadriven.TestData, text string) string {
	return dollarRef.ReplaceAllStringFunc(text, func(ref string) string {
		v, ok := s.values[ref[1:]]
		if !ok {
			d.Fatalf(t, "%s names nothing known yet", ref)
		}
		return v
	})
}

func (s *scenario) declare(name string) {
	if _, ok := s.keys[name]; ok {
		return
	}
	k := testKey(name)
	s.keys[name] = k
	s.label(pubHex(k), name)
}

func (s *scenario) cmdKeys(t *testing.T, d *datadriven.TestData, out io.Writer) {
	for _, name := range strings.Fields(d.Input) {
		s.declare(name)
		fmt.Fprintf(out, "%s %s\n", name, pubHex(s.keys[name]))
	}
}

func (s *scenario) cmdGenesis(t *testing.T, d *datadriven.TestData, out io.Writer) {
	if s.genesis {
		d.Fatalf(t, "genesis twice")
	}
	var threshold int
	d.ScanArgs(t, "threshold", &threshold)
	params := M{"oid_arc": "1.3.6.1.4.1.99999", "iac": "MA"}
	for _, p := range []string{"application_blocks", "vote_blocks", "max_grant_days"} {
		var n uint64
		if d.MaybeScanArgs(t, p, &n) {
			params[p] = n
		}
	}
	var members []string
	for _, name := range strings.Fields(d.Input) {
		s.declare(name)
		members = append(members, pubHex(s.keys[name]))
	}
	for i := 1; i <= genesisValidatorCount; i++ {
		s.declare(fmt.Sprintf("validator-%d", i))
	}
	g, err := json.Marshal(M{"authority": M{"members": members, "threshold": threshold}, "params": params})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.m.InitGenesis(s.kv, g, genesisValidators()); err != nil {
		writeLine(out, "genesis refused: %v", err)
		return
	}
	if _, _, err := s.kv.st.Commit(); err != nil {
		t.Fatalf("commit genesis: %v", err)
	}
	s.genesis = true
	s.printAuthority(t, out)
	p, err := GetParams(s.kv)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(out, "terms: applications open %d blocks, votes count %d blocks, grants run at most %d days\n",
		p.ApplicationTerm(), p.VoteTerm(), p.GrantTerm())
}

// writeLine writes one line of a command's output.
func writeLine(out io.Writer, format string, args ...any) {
	fmt.Fprintf(out, format+"\n", args...)
}

func (s *scenario) printAuthority(t *testing.T, out io.Writer) {
	a, err := GetAuthority(s.kv)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(out, "authority: %d of %s\n", a.Threshold, strings.Join(a.Members, " "))
	vals, err := Validators(s.kv)
	if err != nil {
		t.Fatal(err)
	}
	var vs []string
	for _, v := range vals {
		vs = append(vs, fmt.Sprintf("%s=%d", v.PubKey, v.Power))
	}
	fmt.Fprintf(out, "validators (in key order): %s\n", strings.Join(vs, " "))
}

// blockLines are a block's transaction lines, continuations joined and
// comments dropped.
func blockLines(input string) []string {
	var lines []string
	for _, l := range strings.Split(input, "\n") {
		switch {
		case strings.TrimSpace(l) == "", strings.HasPrefix(strings.TrimSpace(l), "#"):
		case (l[0] == ' ' || l[0] == '\t') && len(lines) > 0:
			lines[len(lines)-1] += " " + strings.TrimSpace(l)
		default:
			lines = append(lines, strings.TrimSpace(l))
		}
	}
	return lines
}

func (s *scenario) cmdBlock(t *testing.T, d *datadriven.TestData, out io.Writer) {
	height := s.height + 1
	d.MaybeScanArgs(t, "height", &height)
	if height <= s.height {
		d.Fatalf(t, "height %d is not after %d", height, s.height)
	}
	blkTime := s.time.Add(time.Duration(height-s.height) * 5 * time.Second)
	var text string
	if d.MaybeScanArgs(t, "time", &text) {
		var err error
		if blkTime, err = time.Parse(time.RFC3339, text); err != nil {
			d.Fatalf(t, "time: %v", err)
		}
		if blkTime.Before(s.time) {
			d.Fatalf(t, "time %s is before the last block's %s", text, s.time.Format(time.RFC3339))
		}
	}
	blk := Block{Height: height, Time: blkTime}

	// Each signer's next nonce, as a wallet that signs the block's
	// transactions one after the other counts it: from committed state,
	// plus those it signed before that pass the stateless checks.
	next := map[string]uint64{}
	var txs [][]byte
	var labels []string
	for i, line := range blockLines(d.Input) {
		label := fmt.Sprintf("tx%d.%d", height, i+1)
		tx, signer, auto := s.signLine(t, d, line, next)
		if _, perr := s.m.Prepare(tx); perr == nil && auto {
			next[signer]++
		}
		txs = append(txs, tx)
		labels = append(labels, label)
		s.txs[label] = tx
		s.label(TxHash(tx), label)
	}

	rs, err := applyScenarioBlock(s.m, s.kv, blk, txs)
	if err != nil {
		d.Fatalf(t, "apply block %d: %v", height, err)
	}
	if len(rs) != len(txs) {
		d.Fatalf(t, "%d results for %d transactions", len(rs), len(txs))
	}
	if _, _, err := s.kv.st.Commit(); err != nil {
		t.Fatalf("commit block %d: %v", height, err)
	}
	s.height, s.time = height, blkTime

	fmt.Fprintf(out, "block %d at %s\n", height, blkTime.UTC().Format(time.RFC3339))
	for i, r := range rs {
		if r.Err != nil {
			fmt.Fprintf(out, "%s refused %s: %s\n", labels[i], r.Err.Code, r.Err.Msg)
			continue
		}
		fmt.Fprintf(out, "%s ok %s\n", labels[i], s.outcome(t, r.Data))
		for _, v := range r.Validators {
			fmt.Fprintf(out, "  validator update: %s power %d\n", v.PubKey, v.Power)
		}
	}
}

// signLine signs one transaction line. Its nonce, unless the line gives
// one, is next[signer] (the account's next one in committed state when
// next has none); auto reports that, so the caller moves next on when the
// transaction would use it.
func (s *scenario) signLine(t *testing.T, d *datadriven.TestData, line string, next map[string]uint64) (tx []byte, signer string, auto bool) {
	if ref, ok := strings.CutPrefix(line, "replay "); ok {
		tx, found := s.txs[strings.TrimSpace(ref)]
		if !found {
			d.Fatalf(t, "replay %s: no such transaction", ref)
		}
		return tx, "", false
	}
	brace := strings.IndexByte(line, '{')
	if brace < 0 {
		d.Fatalf(t, "%q: a transaction is SIGNER KIND [nonce=N] [until=H] [chain=ID] {message}", line)
	}
	head, msg := strings.Fields(line[:brace]), s.expand(t, d, line[brace:])
	if len(head) < 2 {
		d.Fatalf(t, "%q: a transaction starts with its signer and kind", line)
	}
	name, kind := head[0], head[1]
	key, ok := s.keys[name]
	if !ok {
		d.Fatalf(t, "signer %q is not a declared key", name)
	}
	if !json.Valid([]byte(msg)) {
		d.Fatalf(t, "%q: the message is not JSON", msg)
	}
	var nonce, until uint64
	explicit := false
	chainID := testChainID
	for _, opt := range head[2:] {
		k, v, _ := strings.Cut(opt, "=")
		var err error
		switch k {
		case "nonce":
			nonce, err = strconv.ParseUint(v, 10, 64)
			explicit = true
		case "until":
			until, err = strconv.ParseUint(v, 10, 64)
		case "chain":
			chainID = v
		default:
			d.Fatalf(t, "%q: unknown option %q", line, opt)
		}
		if err != nil {
			d.Fatalf(t, "%q: %s: %v", line, opt, err)
		}
	}
	pub := pubHex(key)
	if !explicit {
		if _, seen := next[pub]; !seen {
			last, err := AccountNonce(s.kv, pub)
			if err != nil {
				t.Fatal(err)
			}
			next[pub] = last + 1
		}
		nonce = next[pub]
	}
	body, err := NewBodyUntil(kind, nonce, until, json.RawMessage(msg))
	if err != nil {
		d.Fatalf(t, "%q: %v", line, err)
	}
	tx, err = Sign(chainID, body, key).Encode()
	if err != nil {
		t.Fatal(err)
	}
	return tx, pub, !explicit
}

// cmdCheck runs what CheckTx runs on each line, against committed state as
// the signer's transactions accepted before it leave it (each account's
// pending state), for the next block; nothing is applied. A nonce left to
// the runner counts the signer's transactions accepted before.
func (s *scenario) cmdCheck(t *testing.T, d *datadriven.TestData, out io.Writer) {
	blk := Block{Height: s.height + 1, Time: s.time.Add(5 * time.Second)}
	pending := map[string]*Pending{}
	next := map[string]uint64{}
	for i, line := range blockLines(d.Input) {
		tx, signer, auto := s.signLine(t, d, line, next)
		f := strings.Fields(line)
		what := fmt.Sprintf("%d %s %s", i+1, f[0], f[1])
		p, perr := s.m.Prepare(tx)
		if perr == nil {
			if pending[p.Signer] == nil {
				pending[p.Signer] = NewPending(s.kv.st.Latest())
			}
			perr = s.m.Stage(pending[p.Signer], blk, p)
		}
		if perr != nil {
			fmt.Fprintf(out, "%s: refused %s: %s\n", what, perr.Code, perr.Msg)
			continue
		}
		if auto {
			next[signer]++
		}
		fmt.Fprintf(out, "%s: accepted\n", what)
	}
}

// outcome writes a result's data as key=value in the order the registry
// wrote its fields, and labels the hashes it is the first to show.
func (s *scenario) outcome(t *testing.T, data []byte) string {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("result data %q is not an object", data)
	}
	var parts []string
	var app string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		v, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		val := fmt.Sprint(v)
		switch k {
		case "application":
			app = val
		case "hash":
			s.label(val, "app"+app+".hash")
		case "proposal":
			if _, ok := s.labels[val]; !ok {
				s.proposals++
				s.label(val, fmt.Sprintf("proposal%d", s.proposals))
			}
		}
		parts = append(parts, fmt.Sprintf("%s=%s", k, val))
	}
	return strings.Join(parts, " ")
}

func stampText(st Stamp) string {
	return fmt.Sprintf("height %d at %s by %s", st.Height, st.Time.UTC().Format(time.RFC3339), st.Tx)
}

func (s *scenario) oneArg(t *testing.T, d *datadriven.TestData, what string) string {
	if len(d.CmdArgs) != 1 || len(d.CmdArgs[0].Vals) != 0 {
		d.Fatalf(t, "%s takes %s", d.Cmd, what)
	}
	return d.CmdArgs[0].Key
}

func (s *scenario) cmdResolve(t *testing.T, d *datadriven.TestData, out io.Writer) {
	id := s.oneArg(t, d, "an identifier")
	rec, ok, err := GetRecord(s.kv, id)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		writeLine(out, "%s is not registered", id)
		return
	}
	writeRecord(out, rec)
}

func writeRecord(out io.Writer, rec Record) {
	fmt.Fprintf(out, "%s: %s %s, version %d\n", rec.ID, rec.Kind, rec.Status, rec.Version)
	if rec.Reason != "" {
		fmt.Fprintf(out, "  reason: %s\n", rec.Reason)
	}
	if rec.Name != "" {
		fmt.Fprintf(out, "  name: %s\n", rec.Name)
	}
	if c := rec.City; c != nil {
		fmt.Fprintf(out, "  city: country %s, number %s, application %d", c.Country, c.CityNumber, c.Application)
		for _, f := range []struct{ k, v string }{{"name_en", c.NameEn}, {"locode", c.Locode}, {"contact", c.Contact}, {"endpoint", c.Endpoint}} {
			if f.v != "" {
				fmt.Fprintf(out, ", %s %s", f.k, f.v)
			}
		}
		fmt.Fprintln(out)
	}
	fmt.Fprintf(out, "  admins: %s\n", strings.Join(rec.Admins, " "))
	for _, v := range rec.Values {
		fmt.Fprintf(out, "  value %s\n", valueText(v))
	}
	fmt.Fprintf(out, "  created at %s\n", stampText(rec.Created))
	fmt.Fprintf(out, "  updated at %s\n", stampText(rec.Updated))
}

func valueText(v Value) string {
	data := v.Data
	if ds := v.Dataset; ds != nil {
		data = fmt.Sprintf("%s sha256=%s size=%d type=%s", ds.URI, ds.SHA256, ds.Size, ds.MediaType)
		if ds.Public {
			data += " public"
		}
	}
	return fmt.Sprintf("%d %s %s (ttl %d)", v.Index, v.Type, data, v.TTL)
}

func (s *scenario) cmdHistory(t *testing.T, d *datadriven.TestData, out io.Writer) {
	id := s.oneArg(t, d, "an identifier")
	var recs []Record
	err := s.kv.st.Latest().Iterate(HistoryPrefix(id), nil, func(_, value []byte) bool {
		var rec Record
		if err := DecodeState(value, &rec); err != nil {
			t.Fatalf("history of %s: %v", id, err)
		}
		recs = append(recs, rec)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	rec, ok, err := GetRecord(s.kv, id)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		writeLine(out, "%s is not registered", id)
		return
	}
	for _, r := range append(recs, rec) {
		var vals []string
		for _, v := range r.Values {
			vals = append(vals, fmt.Sprintf("%s %s", v.Type, v.Data))
		}
		line := fmt.Sprintf("version %d, %s, height %d: admins %s; values [%s]",
			r.Version, r.Status, r.Updated.Height, strings.Join(r.Admins, " "), strings.Join(vals, ", "))
		if r.Reason != "" {
			line += "; reason: " + r.Reason
		}
		writeLine(out, "%s", line)
	}
}

func (s *scenario) cmdApplication(t *testing.T, d *datadriven.TestData, out io.Writer) {
	n, err := strconv.ParseUint(s.oneArg(t, d, "an application number"), 10, 64)
	if err != nil {
		d.Fatalf(t, "application: %v", err)
	}
	a, ok, err := GetApplication(s.kv, n)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		writeLine(out, "application %d does not exist", n)
		return
	}
	s.label(a.Hash, fmt.Sprintf("app%d.hash", a.ID))
	status := a.StatusAt(s.height)
	if status != a.Status {
		status += " (" + a.Status + " in state)"
	}
	fmt.Fprintf(out, "application %d: %s at height %d", a.ID, status, s.height)
	if a.Status == AppPending {
		fmt.Fprintf(out, "; open for votes until height %d", a.Expires)
	}
	fmt.Fprintln(out)
	fmt.Fprintf(out, "  city: %s %s %s", a.Country, a.CityNumber, a.Name)
	if a.NameEn != "" {
		fmt.Fprintf(out, " (%s)", a.NameEn)
	}
	if a.Locode != "" {
		fmt.Fprintf(out, ", locode %s", a.Locode)
	}
	fmt.Fprintln(out)
	fmt.Fprintf(out, "  applicant %s; admins %s\n", a.Applicant, strings.Join(a.Admins, " "))
	for _, votes := range []struct {
		what string
		vs   []Vote
	}{{"approvals", a.Approvals}, {"rejections", a.Rejections}} {
		var vs []string
		for _, v := range votes.vs {
			text := fmt.Sprintf("%s at %d", v.Member, v.Height)
			if v.Reason != "" {
				text += fmt.Sprintf(" (%s)", v.Reason)
			}
			vs = append(vs, text)
		}
		if len(vs) == 0 {
			vs = []string{"none"}
		}
		fmt.Fprintf(out, "  %s: %s\n", votes.what, strings.Join(vs, ", "))
	}
	auth, err := GetAuthority(s.kv)
	if err != nil {
		t.Fatal(err)
	}
	params, err := GetParams(s.kv)
	if err != nil {
		t.Fatal(err)
	}
	c := CountVotes(a, auth, params, s.height)
	fmt.Fprintf(out, "  votes that count now: %d approvals, %d rejections, threshold %d\n", c.Approvals, c.Rejections, c.Threshold)
	fmt.Fprintf(out, "  submitted at %s\n", stampText(a.Submitted))
	if a.Decided != nil {
		fmt.Fprintf(out, "  decided at %s\n", stampText(*a.Decided))
	}
	if a.CityCode != "" {
		fmt.Fprintf(out, "  city code %s\n", a.CityCode)
	}
	fmt.Fprintf(out, "  hash %s\n", a.Hash)
}

func (s *scenario) cmdGrant(t *testing.T, d *datadriven.TestData, out io.Writer) {
	if len(d.CmdArgs) != 2 {
		d.Fatalf(t, "grant takes a dataset and a grantee")
	}
	dataset, grantee := d.CmdArgs[0].Key, d.CmdArgs[1].Key
	g, ok, err := GetGrant(s.kv, dataset, grantee)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		writeLine(out, "no grant of %s to %s", dataset, grantee)
		return
	}
	fmt.Fprintf(out, "grant of %s to %s: scope %s, version %d, expires %s\n",
		g.Dataset, g.Grantee, g.Scope, g.Version, g.Expires.UTC().Format(time.RFC3339))
	fmt.Fprintf(out, "  granted at %s\n", stampText(g.Granted))
	if g.Revoked != nil {
		fmt.Fprintf(out, "  revoked at %s\n", stampText(*g.Revoked))
	}
	live, why, err := g.LiveAt(s.kv, s.time)
	if err != nil {
		t.Fatal(err)
	}
	at := fmt.Sprintf("at height %d (%s)", s.height, s.time.UTC().Format(time.RFC3339))
	if live {
		fmt.Fprintf(out, "  live %s\n", at)
	} else {
		fmt.Fprintf(out, "  not live %s: %s\n", at, why)
	}
}

// cmdAnchors lists a dataset's anchored log heads as GetAnchors pages
// them (after=N, limit=N; all by default), then its latest.
func (s *scenario) cmdAnchors(t *testing.T, d *datadriven.TestData, out io.Writer) {
	if len(d.CmdArgs) == 0 {
		d.Fatalf(t, "anchors takes a dataset")
	}
	dataset := d.CmdArgs[0].Key
	var after uint64
	limit := 1000
	for _, a := range d.CmdArgs[1:] {
		switch a.Key {
		case "after":
			a.Scan(t, 0, &after)
		case "limit":
			a.Scan(t, 0, &limit)
		default:
			d.Fatalf(t, "anchors: unknown argument %s", a.Key)
		}
	}
	view := s.kv.st.Latest()
	anchors, err := GetAnchors(view, dataset, after, limit)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range anchors {
		fmt.Fprintf(out, "%d entries: head %s, by %s at %s\n", a.Entries, a.Head, a.Signer, stampText(a.Anchored))
	}
	latest, ok, err := LatestAnchor(view, dataset)
	switch {
	case err != nil:
		t.Fatal(err)
	case ok:
		fmt.Fprintf(out, "latest: %d entries at height %d\n", latest.Entries, latest.Anchored.Height)
	default:
		writeLine(out, "latest: none")
	}
}

func (s *scenario) cmdState(t *testing.T, d *datadriven.TestData, out io.Writer) {
	var prefix string
	if len(d.CmdArgs) > 0 {
		prefix = s.expand(t, d, s.oneArg(t, d, "a key prefix"))
	}
	n := 0
	err := s.kv.st.Latest().Iterate([]byte(prefix), nil, func(key, value []byte) bool {
		n++
		fmt.Fprintf(out, "%s = %s\n", key, value)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		fmt.Fprintf(out, "no key starts with %q\n", prefix)
	}
}
