package registry

// The test harness: the real IAVL tree in memory as the state, genesis with
// fixed-seed authority keys, signers that keep their nonces, and apply paths
// that go through Machine.ApplyBlock exactly as FinalizeBlock does.

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cityid/cityid/internal/store"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ with what the code produces now")

// testChainID is the chain every test machine signs and verifies for.
const testChainID = "cityid-test"

// genesisTime is the header time of block 0; block h is h×5 s later. Fixed,
// so records, stamps and app hashes are the same on every run.
var genesisTime = time.Date(2025, time.March, 14, 9, 26, 0, 0, time.UTC)

func blockTime(h int64) time.Time { return genesisTime.Add(time.Duration(h) * 5 * time.Second) }

// M is a message or value written as JSON by hand, so that the tests pin the
// wire field names instead of borrowing them from the registry's structs.
type M = map[string]any

// testKey returns the Ed25519 key of a named test actor. Its seed is
// SHA-256("cityid test key " + name): reproducible, and distinct per name.
func testKey(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("cityid test key " + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

func pubHex(k ed25519.PrivateKey) string { return hex.EncodeToString(k.Public().(ed25519.PublicKey)) }

// memKV is registry.KV on the real Merkle tree (IAVL in memory). It counts
// writes, so a test can tell that a rejected transaction wrote nothing, and
// its digest is the IAVL working root: the app hash the block would commit.
type memKV struct {
	st     *store.Store
	writes int
}

var (
	_ KV     = (*memKV)(nil)
	_ KV     = (*store.Store)(nil)
	_ Reader = (*store.View)(nil)
)

func newMemKV(t testing.TB) *memKV {
	t.Helper()
	st, err := store.OpenMemory(store.Options{})
	if err != nil {
		t.Fatalf("open memory store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return &memKV{st: st}
}

func (k *memKV) Get(key []byte) ([]byte, error) { return k.st.Get(key) }

func (k *memKV) Set(key, value []byte) error {
	k.writes++
	return k.st.Set(key, value)
}

func (k *memKV) Delete(key []byte) error {
	k.writes++
	return k.st.Delete(key)
}

// Digest is the IAVL root hash of the working state.
func (k *memKV) Digest() []byte { return bytes.Clone(k.st.WorkingHash()) }

// harness is one chain: a machine, its state and the blocks applied so far.
type harness struct {
	m       *Machine
	kv      *memKV
	height  int64 // the last block applied
	members []*signer
	// applyWith, when set, applies a block instead of Machine.ApplyBlock.
	applyWith func(kv KV, blk Block, txs [][]byte) ([]Result, error)
}

// newHarness starts a chain whose authority is n fixed keys
// ("authority-1" … "authority-n") with threshold m.
func newHarness(t testing.TB, n, m int) *harness {
	t.Helper()
	return newHarnessWith(t, n, m, M{"oid_arc": "1.3.6.1.4.1.99999", "iac": "MA"})
}

// newHarnessParams is a harness of a 1-of-1 authority whose genesis has
// the params given.
func newHarnessParams(t testing.TB, params M) *harness {
	t.Helper()
	return newHarnessWith(t, 1, 1, params)
}

func newHarnessWith(t testing.TB, n, m int, params M) *harness {
	t.Helper()
	h := &harness{m: New(testChainID), kv: newMemKV(t)}
	var keys []string
	for i := 1; i <= n; i++ {
		s := h.signer(fmt.Sprintf("authority-%d", i))
		h.members = append(h.members, s)
		keys = append(keys, s.pub)
	}
	g, err := json.Marshal(M{
		"authority": M{"members": keys, "threshold": m},
		"params":    params,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.m.InitGenesis(h.kv, g, genesisValidators()); err != nil {
		t.Fatalf("init genesis: %v", err)
	}
	h.commit(t)
	return h
}

// genesisValidatorCount and genesisValidatorPower make the harness's
// validator set: fixed keys "validator-1" … "validator-4", power 10 each,
// as a 4-validator testnet's genesis would list them.
const genesisValidatorCount, genesisValidatorPower = 4, 10

// genesisValidators is the validator set every harness starts with, in the
// order a genesis file might list them (not key order: InitGenesis sorts).
func genesisValidators() []Validator {
	var vals []Validator
	for i := 1; i <= genesisValidatorCount; i++ {
		vals = append(vals, Validator{PubKey: validatorKey(i), Power: genesisValidatorPower})
	}
	return vals
}

// validatorKey is the CometBFT key of the test validator "validator-i", in
// the registry's hex form.
func validatorKey(i int) string { return pubHex(testKey(fmt.Sprintf("validator-%d", i))) }

func (h *harness) commit(t testing.TB) {
	t.Helper()
	if _, _, err := h.kv.st.Commit(); err != nil {
		t.Fatalf("commit: %v", err)
	}
}

// next is the block the next apply will make.
func (h *harness) next() Block {
	return Block{Height: h.height + 1, Time: blockTime(h.height + 1)}
}

// applyBlock applies txs as one block through Machine.ApplyBlock (or
// applyWith, when set), then commits it.
func (h *harness) applyBlock(t testing.TB, txs ...[]byte) []Result {
	t.Helper()
	blk := h.next()
	apply := h.applyWith
	if apply == nil {
		apply = func(kv KV, blk Block, txs [][]byte) ([]Result, error) { return h.m.ApplyBlock(kv, blk, txs, nil) }
	}
	rs, err := apply(h.kv, blk, txs)
	if err != nil {
		t.Fatalf("apply block %d: %v", blk.Height, err)
	}
	if len(rs) != len(txs) {
		t.Fatalf("apply block %d: %d results for %d transactions", blk.Height, len(rs), len(txs))
	}
	h.height = blk.Height
	h.commit(t)
	return rs
}

// applyDecoded applies txs as the chain does, without its goroutines: each
// decoded (Decode), its signature checked (VerifySignature, Checked), and
// fed in order to a BlockApply. It must give ApplyBlock's results.
func applyDecoded(m *Machine, kv KV, blk Block, txs [][]byte) ([]Result, error) {
	run := m.BeginBlock(kv, blk)
	rs := make([]Result, 0, len(txs))
	for _, raw := range txs {
		u, err := m.Decode(raw)
		if err != nil {
			rs = append(rs, run.Refused(err))
			continue
		}
		tx, err := u.Checked(VerifySignature(u.PubKey, u.Message, u.Signature))
		if err != nil {
			rs = append(rs, run.Refused(err))
			continue
		}
		r, serr := run.Apply(tx)
		if serr != nil {
			return nil, serr
		}
		rs = append(rs, r)
	}
	if err := run.End(); err != nil {
		return nil, err
	}
	return rs, nil
}

// apply applies one transaction in a block of its own.
func (h *harness) apply(t testing.TB, tx []byte) Result {
	t.Helper()
	return h.applyBlock(t, tx)[0]
}

// mustApply applies tx, fails the test if it is rejected, and returns its
// outcome.
func (h *harness) mustApply(t testing.TB, tx []byte) Outcome {
	t.Helper()
	r := h.apply(t, tx)
	if r.Err != nil {
		t.Fatalf("transaction rejected: %s: %s", r.Err.Code, r.Err.Msg)
	}
	var o Outcome
	if err := json.Unmarshal(r.Data, &o); err != nil {
		t.Fatalf("result data %q: %v", r.Data, err)
	}
	return o
}

// checkTx runs what CheckTx runs on a transaction against the committed
// state: Prepare, then DryRun.
func (h *harness) checkTx(tx []byte) *Error {
	p, err := h.m.Prepare(tx)
	if err != nil {
		return err
	}
	return h.m.DryRun(h.kv.st.Latest(), h.next(), p)
}

// expectRejected applies tx and requires that it be rejected with code, that
// the message contain every one of want, that CheckTx would have said the
// same, and that nothing but the signer's nonce change: a transaction
// refused before its nonce check (it does not decode, its signature or nonce
// is wrong) changes nothing, not one write, the IAVL working hash the same;
// one refused after it uses its nonce and writes only that.
func (h *harness) expectRejected(t testing.TB, tx []byte, code string, want ...string) *Error {
	t.Helper()
	var env struct {
		PubKey string `json:"pub_key"`
	}
	_ = json.Unmarshal(tx, &env) // a malformed envelope has no signer to check
	nonceBefore := h.nonce(t, env.PubKey)
	hashBefore := h.kv.Digest()
	writesBefore := h.kv.writes
	check := h.checkTx(tx)
	_, stateless := h.m.Prepare(tx)

	r := h.apply(t, tx)
	if r.Err == nil {
		t.Fatalf("transaction accepted (%s), want rejection %q", r.Data, code)
	}
	if r.Err.Code != code {
		t.Errorf("code %q (%s), want %q", r.Err.Code, r.Err.Msg, code)
	}
	for _, w := range want {
		if !strings.Contains(r.Err.Msg, w) {
			t.Errorf("message %q does not contain %q", r.Err.Msg, w)
		}
	}
	if r.Data != nil {
		t.Errorf("rejected transaction has result data %q", r.Data)
	}
	usesNonce := stateless == nil && code != CodeNonceReplayed && code != CodeNonceGap
	wantWrites, wantNonce := 0, nonceBefore
	if usesNonce {
		wantWrites, wantNonce = 1, nonceBefore+1
	}
	if n := h.kv.writes - writesBefore; n != wantWrites {
		t.Errorf("rejected transaction made %d writes to state, want %d (its nonce only)", n, wantWrites)
	}
	if got := h.kv.Digest(); !usesNonce && !bytes.Equal(got, hashBefore) {
		t.Errorf("app hash changed by a rejected transaction: %X, was %X", got, hashBefore)
	}
	if got := h.nonce(t, env.PubKey); got != wantNonce {
		t.Errorf("signer's nonce is %d after a rejected transaction, want %d", got, wantNonce)
	}
	if check == nil {
		t.Errorf("CheckTx (Prepare + DryRun) accepts a transaction that FinalizeBlock rejects with %s", r.Err.Code)
	} else if check.Code != r.Err.Code || check.Msg != r.Err.Msg {
		t.Errorf("CheckTx says %s, FinalizeBlock says %s", check, r.Err)
	}
	return r.Err
}

// nonce is the last nonce an account used.
func (h *harness) nonce(t testing.TB, pub string) uint64 {
	t.Helper()
	if pub == "" {
		return 0
	}
	n, err := AccountNonce(h.kv, pub)
	if err != nil {
		t.Fatalf("read nonce: %v", err)
	}
	return n
}

// record reads a record from state and fails the test if it is missing.
func (h *harness) record(t testing.TB, id string) Record {
	t.Helper()
	rec, ok, err := GetRecord(h.kv, id)
	if err != nil || !ok {
		t.Fatalf("record %s: found %v, err %v", id, ok, err)
	}
	return rec
}

// rawRecord is the record's bytes as stored: its consensus encoding.
func (h *harness) rawRecord(t testing.TB, id string) []byte {
	t.Helper()
	b, err := h.kv.Get(RecordKey(id))
	if err != nil || b == nil {
		t.Fatalf("record %s: %q, %v", id, b, err)
	}
	return b
}

func (h *harness) application(t testing.TB, id uint64) Application {
	t.Helper()
	a, ok, err := GetApplication(h.kv, id)
	if err != nil || !ok {
		t.Fatalf("application %d: found %v, err %v", id, ok, err)
	}
	return a
}

// appHash is application id's content hash in state, or 64 zeros when
// there is no such application.
func (h *harness) appHash(t testing.TB, id uint64) string {
	t.Helper()
	a, ok, err := GetApplication(h.kv, id)
	if err != nil {
		t.Fatalf("application %d: %v", id, err)
	}
	if !ok {
		return strings.Repeat("0", 64)
	}
	return a.Hash
}

// signer is a test actor with a key on the harness's chain.
type signer struct {
	h    *harness
	name string
	key  ed25519.PrivateKey
	pub  string
}

func (h *harness) signer(name string) *signer {
	k := testKey(name)
	return &signer{h: h, name: name, key: k, pub: pubHex(k)}
}

// nextNonce is the account's next nonce in the current state.
func (s *signer) nextNonce(t testing.TB) uint64 { return s.h.nonce(t, s.pub) + 1 }

// tx signs a transaction with the account's next nonce.
func (s *signer) tx(t testing.TB, kind string, msg any) []byte {
	t.Helper()
	return s.txNonce(t, s.nextNonce(t), kind, msg)
}

// txNonce signs a transaction with the given nonce.
func (s *signer) txNonce(t testing.TB, nonce uint64, kind string, msg any) []byte {
	t.Helper()
	body, err := NewBody(kind, nonce, msg)
	if err != nil {
		t.Fatal(err)
	}
	return signBody(t, testChainID, body, s.key)
}

// signBody signs raw body bytes and encodes the envelope.
func signBody(t testing.TB, chainID string, body []byte, key ed25519.PrivateKey) []byte {
	t.Helper()
	tx, err := Sign(chainID, body, key).Encode()
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

// decodeTx decodes an envelope the tests built, to tamper with it.
func decodeTx(t testing.TB, tx []byte) Envelope {
	t.Helper()
	var e Envelope
	if err := json.Unmarshal(tx, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

func encodeTx(t testing.TB, e Envelope) []byte {
	t.Helper()
	b, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// outcomeJSON is a result's data as a string, for exact comparison.
func outcomeJSON(t testing.TB, r Result) string {
	t.Helper()
	if r.Err != nil {
		t.Fatalf("rejected: %s", r.Err)
	}
	return string(r.Data)
}

// mod112 is ISO/IEC 7064 MOD 11-2 written from the standard's weighted-sum
// definition (weight 2^k mod 11 for the digit k places left of the check),
// independently of package code's Horner form: the check value c makes
// (Σ dᵢ·wᵢ + c) ≡ 1 (mod 11), and 10 is written X.
func mod112(digits string) byte {
	sum, w := 0, 2
	for i := len(digits) - 1; i >= 0; i-- {
		sum += int(digits[i]-'0') * w
		w = w * 2 % 11
	}
	c := (1 - sum%11 + 11) % 11
	if c == 10 {
		return 'X'
	}
	return '0' + byte(c)
}

// cityCode is country + number + check, by mod112.
func cityCode(country, number string) string {
	return country + number + string(mod112(country+number))
}

func TestHarnessCheckCharacter(t *testing.T) {
	// Published vectors, so the harness's own check is checked.
	for _, tc := range []struct{ digits, want string }{
		{"000000021825009", "7"},   // ORCID 0000-0002-1825-0097
		{"11010519491231002", "X"}, // China resident ID 11010519491231002X
		{"156130100", "1"},         // DESIGN: Shijiazhuang 1561301001
	} {
		if got := string(mod112(tc.digits)); got != tc.want {
			t.Errorf("mod112(%s) = %s, want %s", tc.digits, got, tc.want)
		}
	}
}

// goldenFile compares got with testdata/name, or rewrites it with -update.
func goldenFile(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s changed:\n got: %s\nwant: %s\nIf the change is intended (it changes consensus or the wire format), run go test -run %s -update.", path, got, want, t.Name())
	}
}

// goldenJSON compares compact JSON bytes with testdata/name, which holds
// them indented for people to read. The comparison is exact: the file,
// compacted again, must be byte-for-byte got, so a change of escaping or
// field order is caught as well as a change of value.
func goldenJSON(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		goldenFile(t, name, indentJSON(t, got))
		return
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	var want bytes.Buffer
	if err := json.Compact(&want, file); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Errorf("%s changed:\n got: %s\nwant: %s\nIf the change is intended (it changes consensus state), run go test -run %s -update.", path, got, want.Bytes(), t.Name())
	}
}

// indentJSON is b indented, for golden files a person can read; it keeps
// the field order of b.
func indentJSON(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		t.Fatalf("indent %q: %v", b, err)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

// world is a chain with one city issued and a little tree under it:
//
//	1561301001                     Shijiazhuang, admin cityAdmin, locode CNSJW
//	1561301001.85                  education, admin cityAdmin
//	1561301001.85.1                education bureau, admin unitAdmin only
//	1561301001.85.1/school-0042    admin unitAdmin
//
// on an authority of three members with threshold two.
type world struct {
	h          *harness
	cityAdmin  *signer
	unitAdmin  *signer
	stranger   *signer
	city       string
	sector     string
	unit       string
	object     string
	cityApp    uint64
	cityIssued Block
}

func newWorld(t testing.TB) *world {
	t.Helper()
	h := newHarness(t, 3, 2)
	w := &world{
		h:         h,
		cityAdmin: h.signer("city-admin"),
		unitAdmin: h.signer("unit-admin"),
		stranger:  h.signer("stranger"),
		city:      "1561301001",
		sector:    "1561301001.85",
		unit:      "1561301001.85.1",
		object:    "1561301001.85.1/school-0042",
	}
	o := h.mustApply(t, w.cityAdmin.tx(t, KindApplyCity, M{
		"country": "156", "city_number": "130100", "name": "石家庄市", "name_en": "Shijiazhuang",
		"locode": "CN SJW", "contact": "CityID office", "endpoint": "https://node.sjz.example/",
	}))
	w.cityApp = o.Application
	h.mustApply(t, approve(t, h.members[0], w.cityApp))
	w.cityIssued = h.next()
	if o := h.mustApply(t, approve(t, h.members[1], w.cityApp)); o.CityCode != w.city {
		t.Fatalf("city code %q, want %s", o.CityCode, w.city)
	}
	h.mustApply(t, w.cityAdmin.tx(t, KindRegisterSector, M{"id": w.sector}))
	if o := h.mustApply(t, w.cityAdmin.tx(t, KindRegisterUnit, M{
		"parent": w.sector, "name": "Education bureau", "admins": []string{w.unitAdmin.pub},
	})); o.ID != w.unit {
		t.Fatalf("unit %q, want %s", o.ID, w.unit)
	}
	h.mustApply(t, w.unitAdmin.tx(t, KindRegister, M{
		"id": w.object, "values": []M{{"type": "URL", "data": "https://school-0042.sjz.example/"}},
	}))
	return w
}

// batchMsg is a register_batch of entries written as objects ({"id",
// "values", "admins"}), the Go form RegisterBatch encodes in groups.
func batchMsg(entries []M) RegisterBatch {
	b, err := json.Marshal(entries)
	if err != nil {
		panic(err) // test data: a bug in the test
	}
	m := RegisterBatch{Entries: []BatchEntry{}}
	if err := json.Unmarshal(b, &m.Entries); err != nil {
		panic(err)
	}
	return m
}
