package registry

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// splitmix64: a tiny PRNG written out here, so the transaction script (and
// the app hash pinned in testdata) cannot change with the standard library.
type splitmix struct{ s uint64 }

func (r *splitmix) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (r *splitmix) intn(n int) int { return int(r.next() % uint64(n)) }

// script writes a deterministic, mixed workload: city applications, votes,
// sectors, units, objects, updates, status changes, and transactions that
// must be rejected (duplicates, wrong versions, strangers, bad values, bad
// signatures, malformed bytes, replays). It reads the state of the chain it
// writes for, as a client would, so that most transactions are valid; each
// signer sends at most one transaction per block, so one rejection does not
// turn the signer's later transactions into nonce gaps.
type script struct {
	h       *harness
	r       *splitmix
	cities  [][]*signer // the admins of each city; the first applies
	apps    []M
	strange *signer
	sent    [][]byte
	used    map[string]bool // signers that already sent in the block being written
}

func newScript(h *harness) *script {
	s := &script{h: h, r: &splitmix{s: 2025}, strange: h.signer("stranger")}
	apps := []M{
		{"country": "156", "city_number": "130100", "name": "石家庄市", "locode": "CNSJW"},
		{"country": "156", "city_number": "110100", "name": "北京市", "locode": "CNBJS"},
		{"country": "156", "city_number": "310100", "name": "上海市"},
		{"country": "250", "city_number": "allocate", "name": "Paris", "locode": "FRPAR"},
		{"country": "156", "city_number": "440100", "name": "广州市", "locode": "CNCAN"},
		{"country": "156", "city_number": "440300", "name": "深圳市", "locode": "CNSZX"},
		{"country": "156", "city_number": "130100", "name": "石家庄", "locode": "CNSJW"}, // a duplicate
	}
	for i, app := range apps {
		var admins []*signer
		var keys []string
		for j := 0; j < 3; j++ {
			a := h.signer(fmt.Sprintf("script-city-%d-%d", i, j))
			admins = append(admins, a)
			keys = append(keys, a.pub)
		}
		app["admins"] = keys
		s.cities = append(s.cities, admins)
		s.apps = append(s.apps, app)
	}
	return s
}

func (s *script) tx(t testing.TB, who *signer, kind string, msg any) []byte {
	s.used[who.pub] = true
	tx := who.tx(t, kind, msg)
	s.sent = append(s.sent, tx)
	return tx
}

// free picks a signer of cands that has not sent in this block, or nil.
func (s *script) free(cands []*signer) *signer {
	start := s.r.intn(len(cands))
	for i := range cands {
		if c := cands[(start+i)%len(cands)]; !s.used[c.pub] {
			return c
		}
	}
	return nil
}

func (s *script) exists(id string) bool {
	_, ok, _ := GetRecord(s.h.kv, id)
	return ok
}

// existing returns the ids of f(i) for i in [0, n) that are registered.
func (s *script) existing(n int, f func(i int) string) []string {
	var ids []string
	for i := 0; i < n; i++ {
		if id := f(i); s.exists(id) {
			ids = append(ids, id)
		}
	}
	return ids
}

func (s *script) pick(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	return ids[s.r.intn(len(ids))]
}

// cityOf returns the city code issued to the i-th city, or "".
func (s *script) cityOf(t testing.TB, i int) string {
	seq, _ := getSeq(s.h.kv, []byte(keyAppSeq))
	for id := uint64(1); id <= seq; id++ {
		a := s.h.application(t, id)
		if a.Applicant == s.cities[i][0].pub && a.Status == AppApproved {
			return a.CityCode
		}
	}
	return ""
}

func (s *script) block(t testing.TB, size int) [][]byte {
	s.used = map[string]bool{}
	var txs [][]byte
	for len(txs) < size {
		if tx := s.one(t); tx != nil {
			txs = append(txs, tx)
		}
	}
	return txs
}

func (s *script) values() []M {
	r := s.r
	palette := []M{
		{"type": "URL", "data": "https://example.org/" + fmt.Sprint(r.intn(100))},
		{"type": "TEXT", "data": "水务 " + fmt.Sprint(r.intn(1000))},
		{"type": "GEO", "data": fmt.Sprintf("%d.%d,%d.5", r.intn(90), r.intn(1000), r.intn(180))},
		{"type": "EMAIL", "data": "ops@example.org"},
		{"type": "DATA", "dataset": goodDataset()},
		{"type": "ALIAS", "data": "1561301001.85"},
	}
	var vs []M
	for i := r.intn(3); i > 0; i-- {
		vs = append(vs, palette[r.intn(len(palette))])
	}
	if r.intn(25) == 0 {
		vs = append(vs, M{"type": "GEO", "data": "90.5,0"}) // rejected
	}
	return vs
}

func (s *script) one(t testing.TB) []byte {
	r := s.r
	ci := r.intn(len(s.cities))
	city := s.cityOf(t, ci)
	k := r.intn(100)
	switch {
	case k < 5: // apply, or apply again: a duplicate unless the last was rejected
		if a := s.cities[ci][0]; !s.used[a.pub] && (city == "" || r.intn(4) == 0) {
			return s.tx(t, a, KindApplyCity, s.apps[ci])
		}
		return nil
	case k < 17: // vote, mostly on pending applications
		seq, _ := getSeq(s.h.kv, []byte(keyAppSeq))
		var pending []string
		for id := uint64(1); id <= seq; id++ {
			if s.h.application(t, id).Status == AppPending || r.intn(8) == 0 {
				pending = append(pending, fmt.Sprint(id))
			}
		}
		m := s.free(s.h.members)
		if len(pending) == 0 || m == nil {
			return nil
		}
		var app uint64
		fmt.Sscan(s.pick(pending), &app)
		kind := KindApproveApplication
		if r.intn(3) == 0 {
			kind = KindRejectApplication
		}
		return s.tx(t, m, kind, M{"application": app})
	case k < 92 && k >= 60 && r.intn(12) == 0: // a stranger writes: unauthorized
		if city == "" || s.used[s.strange.pub] {
			return nil
		}
		return s.tx(t, s.strange, KindRegisterSector, M{"id": city + ".84"})
	case k < 92:
		if city == "" {
			return nil
		}
		w := s.free(s.cities[ci])
		if w == nil {
			return nil
		}
		sectorCodes := []string{"85", "86", "36", "37"}
		sectors := s.existing(len(sectorCodes), func(i int) string { return city + "." + sectorCodes[i] })
		var units []string
		for _, sec := range sectors {
			units = append(units, s.existing(4, func(i int) string { return fmt.Sprintf("%s.%d", sec, i+1) })...)
		}
		var objects []string
		for _, u := range units {
			objects = append(objects, s.existing(6, func(i int) string { return fmt.Sprintf("%s/obj-%d", u, i) })...)
		}
		switch {
		case k < 25 || len(sectors) == 0:
			return s.tx(t, w, KindRegisterSector, M{"id": city + "." + sectorCodes[r.intn(len(sectorCodes))]})
		case k < 35 || len(units) == 0:
			return s.tx(t, w, KindRegisterUnit, M{"parent": s.pick(sectors), "name": "unit " + fmt.Sprint(r.intn(50))})
		case k < 52 || len(objects) == 0:
			return s.tx(t, w, KindRegister, M{"id": fmt.Sprintf("%s/obj-%d", s.pick(units), r.intn(6)), "values": s.values()})
		case k < 58:
			return s.tx(t, w, KindRegister, M{"id": s.pick(units), "allocate": true, "values": s.values()})
		case k < 78:
			obj := s.pick(objects)
			version := s.h.record(t, obj).Version
			if r.intn(3) == 0 { // a stale or confused writer: version_mismatch
				if version > 1 && r.intn(2) == 0 {
					version--
				} else {
					version++
				}
			}
			return s.tx(t, w, KindUpdate, M{"id": obj, "version": version, "values": s.values()})
		default:
			target := s.pick(objects)
			if r.intn(4) == 0 {
				target = s.pick(units)
			}
			kind := KindDeactivate
			if s.h.record(t, target).Status == StatusDeactivated {
				kind = KindReactivate
			}
			if r.intn(10) == 0 { // already active / already inactive
				kind = map[bool]string{true: KindDeactivate, false: KindReactivate}[kind == KindReactivate]
			}
			return s.tx(t, w, kind, M{"id": target, "reason": "script " + fmt.Sprint(r.intn(9))})
		}
	case k < 95: // a forged signature
		if city == "" {
			return nil
		}
		tx := s.cities[ci][0].tx(t, KindRegisterSector, M{"id": city + ".38"})
		return tamper(t, tx, func(e *Envelope) { e.Signature[r.intn(64)] ^= 1 << r.intn(8) })
	case k < 97 && r.intn(2) == 0: // not a transaction
		return []byte(fmt.Sprintf(`{"body":"%d"`, r.intn(10)))
	default: // a replay
		if len(s.sent) == 0 {
			return nil
		}
		return s.sent[r.intn(len(s.sent))]
	}
}

const scriptBlocks, scriptBlockSize = 20, 10 // 200 transactions

func resultsEqual(a, b []Result) (int, bool) {
	if len(a) != len(b) {
		return -1, false
	}
	for i := range a {
		if (a[i].Err == nil) != (b[i].Err == nil) || !bytes.Equal(a[i].Data, b[i].Data) {
			return i, false
		}
		if a[i].Err != nil && *a[i].Err != *b[i].Err {
			return i, false
		}
	}
	return 0, true
}

// TestDeterminism applies the same 200 transactions to fresh chains that
// verify signatures with different numbers of workers, and requires the
// same results and the same IAVL root after every block. The final root is
// pinned in testdata: a change to it is a change of consensus.
func TestDeterminism(t *testing.T) {
	a := newHarness(t, 3, 2)
	b := newHarness(t, 3, 2)
	c := newHarness(t, 3, 2)
	b.m.workers = 1
	c.m.workers = 3
	if !bytes.Equal(a.kv.Digest(), b.kv.Digest()) {
		t.Fatal("genesis app hashes differ")
	}
	s := newScript(a)
	accepted := map[string]int{}
	codes := map[string]int{}
	for blk := 0; blk < scriptBlocks; blk++ {
		txs := s.block(t, scriptBlockSize)
		ra := a.applyBlock(t, txs...)
		rb := b.applyBlock(t, txs...)
		rc := c.applyBlock(t, txs...)
		if i, ok := resultsEqual(ra, rb); !ok {
			t.Fatalf("block %d tx %d: results differ between 1 worker and %d: %+v vs %+v", blk+1, i, a.m.workers, rb, ra)
		}
		if i, ok := resultsEqual(ra, rc); !ok {
			t.Fatalf("block %d tx %d: results differ between 3 workers and %d", blk+1, i, a.m.workers)
		}
		ha, hb, hc := a.kv.Digest(), b.kv.Digest(), c.kv.Digest()
		if !bytes.Equal(ha, hb) || !bytes.Equal(ha, hc) {
			t.Fatalf("block %d: app hashes differ: %X, %X, %X", blk+1, ha, hb, hc)
		}
		for i, r := range ra {
			if r.Err != nil {
				codes[r.Err.Code]++
				continue
			}
			p, err := a.m.Prepare(txs[i])
			if err != nil {
				t.Fatalf("accepted transaction fails Prepare: %v", err)
			}
			accepted[p.Kind]++
		}
	}
	total := 0
	for _, k := range Kinds() {
		if accepted[k] == 0 {
			t.Errorf("the script never applied a %s: the test does not cover it", k)
		}
		total += accepted[k]
	}
	rejected := scriptBlocks*scriptBlockSize - total
	t.Logf("accepted %d %v; rejected %d %v", total, accepted, rejected, codes)
	if total < 60 || rejected < 30 {
		t.Errorf("accepted %d, rejected %d: the script should mix both", total, rejected)
	}
	for _, code := range []string{CodeBadSignature, CodeMalformed, CodeNonceReplayed, CodeUnauthorized, CodeExists, CodeVersionMismatch, CodeBadValue} {
		if codes[code] == 0 {
			t.Errorf("the script produced no %s rejection", code)
		}
	}
	goldenFile(t, "determinism_apphash.txt", []byte(strings.ToUpper(hex.EncodeToString(a.kv.Digest()))+"\n"))
}

// TestApplyBlockMatchesApply requires that ApplyBlock (parallel signature
// checks) give, transaction by transaction, the results and app hash of
// Prepare followed by Apply, one transaction at a time.
func TestApplyBlockMatchesApply(t *testing.T) {
	a := newHarness(t, 3, 2)
	b := newHarness(t, 3, 2)
	s := newScript(a)
	for blk := 0; blk < scriptBlocks; blk++ {
		txs := s.block(t, scriptBlockSize)
		ra := a.applyBlock(t, txs...)

		b.height++
		block := Block{Height: b.height, Time: blockTime(b.height)}
		var rb []Result
		for _, tx := range txs {
			p, perr := b.m.Prepare(tx)
			if perr != nil {
				rb = append(rb, Result{Err: perr})
				continue
			}
			r, err := b.m.Apply(b.kv, block, p)
			if err != nil {
				t.Fatal(err)
			}
			rb = append(rb, r)
		}
		b.commit(t)
		if i, ok := resultsEqual(ra, rb); !ok {
			t.Fatalf("block %d tx %d: ApplyBlock says %+v, Prepare+Apply says %+v", blk+1, i, ra[i], rb[i])
		}
		if !bytes.Equal(a.kv.Digest(), b.kv.Digest()) {
			t.Fatalf("block %d: app hashes differ: %X vs %X", blk+1, a.kv.Digest(), b.kv.Digest())
		}
	}
}

func TestApplyBlockEmpty(t *testing.T) {
	w := newWorld(t)
	before, writes := w.h.kv.Digest(), w.h.kv.writes
	rs := w.h.applyBlock(t)
	if len(rs) != 0 || w.h.kv.writes != writes || !bytes.Equal(before, w.h.kv.Digest()) {
		t.Errorf("empty block: %d results, %d writes, hash changed %v", len(rs), w.h.kv.writes-writes, !bytes.Equal(before, w.h.kv.Digest()))
	}
}

func TestApplyBlockInOrder(t *testing.T) {
	// A block's transactions see each other's writes in block order: the
	// unit registered second is under the sector registered first, the
	// same signer's nonces follow each other, and a later duplicate fails.
	h, admin := newCity(t)
	n := admin.nextNonce(t)
	rs := h.applyBlock(t,
		admin.txNonce(t, n, KindRegisterSector, M{"id": "1561301001.36"}),
		admin.txNonce(t, n+1, KindRegisterUnit, M{"parent": "1561301001.36", "name": "Water company"}),
		admin.txNonce(t, n+2, KindRegisterSector, M{"id": "1561301001.36"}),
		admin.txNonce(t, n+3, KindRegister, M{"id": "1561301001.36.1/main-1", "values": []M{}}),
	)
	for i, want := range []string{"", "", CodeExists, CodeNonceGap} {
		got := ""
		if rs[i].Err != nil {
			got = rs[i].Err.Code
		}
		if got != want {
			t.Errorf("tx %d: %q (%v), want %q", i, got, rs[i].Err, want)
		}
	}
}

func TestDryRunLeavesStateUntouched(t *testing.T) {
	w := newWorld(t)
	h := w.h
	tx := w.unitAdmin.tx(t, KindRegister, M{"id": w.unit + "/dry", "values": []M{{"type": "TEXT", "data": "x"}}})
	p, perr := h.m.Prepare(tx)
	if perr != nil {
		t.Fatal(perr)
	}
	before, writes, nonce := h.kv.Digest(), h.kv.writes, h.nonce(t, w.unitAdmin.pub)
	if err := h.m.DryRun(h.kv, h.next(), p); err != nil {
		t.Fatalf("DryRun of a valid transaction: %v", err)
	}
	if err := h.m.DryRun(h.kv.st.Latest(), h.next(), p); err != nil {
		t.Fatalf("DryRun on the committed view: %v", err)
	}
	if !bytes.Equal(before, h.kv.Digest()) || h.kv.writes != writes || h.nonce(t, w.unitAdmin.pub) != nonce {
		t.Fatal("DryRun changed state")
	}
	if _, ok, _ := GetRecord(h.kv, w.unit+"/dry"); ok {
		t.Fatal("DryRun wrote the record")
	}
	// The same prepared transaction, already dry-run, applies as if fresh.
	r, err := h.m.Apply(h.kv, h.next(), p)
	if err != nil || r.Err != nil {
		t.Fatalf("Apply after DryRun: %v %v", err, r.Err)
	}
	if got := string(r.Data); got != `{"id":"1561301001.85.1/dry","version":1,"status":"active"}` {
		t.Errorf("outcome %s", got)
	}
	if err := h.m.DryRun(h.kv, h.next(), p); err == nil || err.Code != CodeNonceReplayed {
		t.Errorf("DryRun of an applied transaction: %v, want %s", err, CodeNonceReplayed)
	}
}

// TestVerifiedSkipsSignatureCheck shows what the verified callback of
// ApplyBlock does: a transaction it vouches for is not checked against its
// signature at all. That is why the chain's signature cache is keyed on the
// SHA-256 of the whole transaction (body, pub key and signature): a hit must
// mean "these exact bytes verified in CheckTx". Keyed on the body alone, a
// proposer could take a body signed once by anyone, put another pub key and
// any signature on it, and have it applied as that key's transaction.
func TestVerifiedSkipsSignatureCheck(t *testing.T) {
	w := newWorld(t)
	h := w.h
	good := w.cityAdmin.tx(t, KindRegisterSector, M{"id": "1561301001.86"})
	forged := tamper(t, good, func(e *Envelope) { e.Signature[0] ^= 0xff })
	run := func(verified func([]byte) bool, txs ...[]byte) []Result {
		t.Helper()
		rs, err := h.m.ApplyBlock(h.kv, h.next(), txs, verified)
		if err != nil {
			t.Fatal(err)
		}
		h.height++
		h.commit(t)
		return rs
	}
	t.Run("no callback: the signature is checked", func(t *testing.T) {
		if r := run(nil, forged); r[0].Err == nil || r[0].Err.Code != CodeBadSignature {
			t.Errorf("forged signature: %+v", r[0])
		}
	})
	t.Run("callback says no: the signature is checked", func(t *testing.T) {
		if r := run(func([]byte) bool { return false }, forged); r[0].Err == nil || r[0].Err.Code != CodeBadSignature {
			t.Errorf("forged signature: %+v", r[0])
		}
	})
	t.Run("callback vouches for other bytes: the signature is checked", func(t *testing.T) {
		if r := run(func(b []byte) bool { return bytes.Equal(b, good) }, forged); r[0].Err == nil || r[0].Err.Code != CodeBadSignature {
			t.Errorf("forged signature: %+v", r[0])
		}
	})
	t.Run("callback vouches for these bytes: applied unchecked", func(t *testing.T) {
		if r := run(func(b []byte) bool { return bytes.Equal(b, forged) }, forged); r[0].Err != nil {
			t.Errorf("vouched transaction rejected: %v", r[0].Err)
		}
		if _, ok, _ := GetRecord(h.kv, "1561301001.86"); !ok {
			t.Error("vouched transaction did not write its record")
		}
	})
	t.Run("callback does not skip the envelope's shape or the body", func(t *testing.T) {
		short := tamper(t, w.cityAdmin.tx(t, KindRegisterSector, M{"id": "1561301001.36"}), func(e *Envelope) { e.Signature = e.Signature[:10] })
		junk := tamper(t, short, func(e *Envelope) { e.Signature = make([]byte, 64); e.Body = []byte("{") })
		rs := run(func([]byte) bool { return true }, short, junk)
		if rs[0].Err == nil || rs[0].Err.Code != CodeBadSignature || rs[1].Err == nil || rs[1].Err.Code != CodeMalformed {
			t.Errorf("results %+v %+v, want bad_signature and malformed", rs[0].Err, rs[1].Err)
		}
	})
	t.Run("callback is asked once per transaction, with its exact bytes", func(t *testing.T) {
		var mu sync.Mutex
		asked := map[string]int{}
		n := w.cityAdmin.nextNonce(t)
		txs := [][]byte{
			w.cityAdmin.txNonce(t, n, KindRegisterSector, M{"id": "1561301001.37"}),
			w.cityAdmin.txNonce(t, n+1, KindRegisterSector, M{"id": "1561301001.38"}),
			[]byte("not a transaction"),
			w.cityAdmin.txNonce(t, n+2, KindRegisterSector, M{"id": "1561301001.39"}),
		}
		rs := run(func(b []byte) bool {
			mu.Lock()
			defer mu.Unlock()
			asked[string(b)]++
			return false
		}, txs...)
		for i, tx := range txs {
			if asked[string(tx)] != 1 {
				t.Errorf("tx %d asked %d times", i, asked[string(tx)])
			}
		}
		if len(asked) != len(txs) {
			t.Errorf("callback saw %d distinct inputs for %d transactions", len(asked), len(txs))
		}
		if rs[0].Err != nil || rs[1].Err != nil || rs[2].Err == nil || rs[3].Err != nil {
			t.Errorf("results %+v", rs)
		}
	})
}

// failingKV fails reads or writes of keys with a prefix, as a damaged or
// full disk would.
type failingKV struct {
	KV
	failGet, failSet string
}

var errDisk = errors.New("disk on fire")

func (f *failingKV) Get(key []byte) ([]byte, error) {
	if f.failGet != "" && strings.HasPrefix(string(key), f.failGet) {
		return nil, errDisk
	}
	return f.KV.Get(key)
}

func (f *failingKV) Set(key, value []byte) error {
	if f.failSet != "" && strings.HasPrefix(string(key), f.failSet) {
		return errDisk
	}
	return f.KV.Set(key, value)
}

func TestStoreFailureStopsTheBlock(t *testing.T) {
	w := newWorld(t)
	h := w.h
	tx := w.cityAdmin.tx(t, KindRegisterSector, M{"id": "1561301001.86"})
	for _, tc := range []struct {
		name string
		kv   *failingKV
	}{
		{"account read fails", &failingKV{KV: h.kv, failGet: "acct/"}},
		{"record read fails", &failingKV{KV: h.kv, failGet: "id/"}},
		{"write fails", &failingKV{KV: h.kv, failSet: "id/"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := h.m.ApplyBlock(tc.kv, h.next(), [][]byte{tx}, nil)
			if err == nil || rs != nil {
				t.Fatalf("ApplyBlock = %v, %v; want no results and an error", rs, err)
			}
			if !errors.Is(err, errDisk) && !strings.Contains(err.Error(), errDisk.Error()) {
				t.Errorf("error %q does not carry the store's error", err)
			}
			if !strings.Contains(err.Error(), "apply tx 0") || !strings.Contains(err.Error(), fmt.Sprint("at height ", h.next().Height)) {
				t.Errorf("error %q does not say which transaction and height", err)
			}
			if tc.kv.failGet != "" {
				p, _ := h.m.Prepare(tx)
				if e := h.m.DryRun(tc.kv, h.next(), p); e == nil || e.Code != CodeInternal {
					t.Errorf("DryRun = %v, want %s", e, CodeInternal)
				}
			}
			// Nothing was flushed: the tree is as it was.
			h.kv.st.Rollback()
		})
	}
	// And the store, healthy again, applies the same transaction.
	h.mustApply(t, tx)
}

func TestKindsAreTheWireNames(t *testing.T) {
	want := "apply_city approve_application reject_application register_sector register_unit register update deactivate reactivate"
	if got := strings.Join(Kinds(), " "); got != want {
		t.Errorf("Kinds() = %s, want %s", got, want)
	}
}

func TestPrepareCanonicalizes(t *testing.T) {
	s := newHarness(t, 1, 1).signer("x")
	tx := s.txNonce(t, 1, KindRegister, M{"id": "156110100x.85.1/Pump-A", "values": []M{{"type": "ALIAS", "data": "156110100x"}}})
	p, err := New(testChainID).Prepare(tx)
	if err != nil {
		t.Fatal(err)
	}
	m, ok := p.Message().(*Register)
	if !ok {
		t.Fatalf("message %T", p.Message())
	}
	if m.ID != "156110100X.85.1/pump-a" || m.Values[0].Data != "156110100X" || m.Values[0].Index != 1 || m.Values[0].TTL != DefaultTTL ||
		len(m.Admins) != 1 || m.Admins[0] != s.pub {
		t.Errorf("canonical message %+v", m)
	}
}
