package registry

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// FuzzApplyBlock is the audit's consensus fuzz target: whole blocks of
// signed transactions, derived from the input, applied through
// Machine.ApplyBlock (the block FinalizeBlock's parallel apply in package
// chain must equal) to a world that holds every kind of record, and
// through Decode, Checked and BlockApply (the chain's path, its goroutines
// aside) to a second world built the same way. ApplyBlock must
// not fail (a failure halts the chain), nothing may panic (the registry
// recovers a panic into a refusal: one is still a defect), every refusal is
// declared and not internal, and both chains must give the same results
// and the same app hash. Each input then rolls both stores back, so every
// input starts from the same world.

// blockWorld is newWorld and everything else a block can touch:
//
//	1561301001.85.1/exam-results   a dataset (DATA value), admin unitAdmin,
//	                               granted to 1561301001.86 until 2030
//	1561301001.85.1/closed         deactivated, admin unitAdmin
//	1561301001.85.1/alias          an ALIAS of the school
//	1561301001.86, .86.1           health sector and a unit, admin cityAdmin
//	156110100X, .36                Beijing, admin beijingAdmin
//
// two pending applications (Nanjing with one approval, Paris with none)
// and three pending proposals, each with one approval of the two needed
// (an authority of threshold 3, validator-5 at power 10, Beijing
// deactivated).
type blockWorld struct {
	*world
	beijingAdmin *signer
	beijing      string
	dataset      string
	closed       string
	grantee      string
	nanjingApp   uint64
	parisApp     uint64
	// signers are who may sign a chunk, by its first byte.
	signers []*signer
}

func newBlockWorld(t testing.TB) *blockWorld {
	t.Helper()
	w := &blockWorld{world: newWorld(t), beijing: "156110100X"}
	h := w.h
	ua, ca := w.unitAdmin, w.cityAdmin
	w.dataset = w.unit + "/exam-results"
	w.closed = w.unit + "/closed"
	w.grantee = w.city + ".86"
	h.mustApply(t, ua.tx(t, KindRegister, M{"id": w.dataset, "values": []M{
		{"type": "TEXT", "data": "exam results 2025"}, {"type": "DATA", "dataset": goodDataset()},
	}}))
	h.mustApply(t, ua.tx(t, KindRegister, M{"id": w.closed, "values": []M{{"type": "EMAIL", "data": "closed@sjz.example"}}}))
	h.mustApply(t, ua.tx(t, KindDeactivate, M{"id": w.closed, "reason": "closed"}))
	h.mustApply(t, ua.tx(t, KindRegister, M{"id": w.unit + "/alias", "values": []M{{"type": "ALIAS", "data": w.object}}}))
	h.mustApply(t, ca.tx(t, KindRegisterSector, M{"id": w.grantee}))
	h.mustApply(t, ca.tx(t, KindRegisterUnit, M{"parent": w.grantee, "name": "Hospital"}))
	h.mustApply(t, ua.tx(t, KindGrantAccess, M{"dataset": w.dataset, "grantee": w.grantee, "expires": "2030-01-01T00:00:00Z"}))

	w.beijingAdmin = h.signer("beijing-admin")
	o := h.mustApply(t, w.beijingAdmin.tx(t, KindApplyCity, M{"country": "156", "city_number": "110100", "name": "北京市", "locode": "CNBJS"}))
	h.mustApply(t, approve(t, h.members[0], o.Application))
	if o := h.mustApply(t, approve(t, h.members[1], o.Application)); o.CityCode != w.beijing {
		t.Fatalf("city code %s, want %s", o.CityCode, w.beijing)
	}
	h.mustApply(t, w.beijingAdmin.tx(t, KindRegisterSector, M{"id": w.beijing + ".36"}))

	w.nanjingApp = h.mustApply(t, w.stranger.tx(t, KindApplyCity, M{"country": "156", "city_number": "320100", "name": "南京市", "locode": "CNNKG"})).Application
	h.mustApply(t, approve(t, h.members[0], w.nanjingApp))
	w.parisApp = h.mustApply(t, w.beijingAdmin.tx(t, KindApplyCity, M{"country": "250", "city_number": "allocate", "name": "Paris"})).Application
	for _, p := range w.proposals() {
		if o := h.mustApply(t, h.members[0].tx(t, p.kind, p.msg)); o.Proposal == "" {
			t.Fatalf("%s did not make a proposal: %+v", p.kind, o)
		}
	}
	w.signers = []*signer{h.members[0], h.members[1], h.members[2], ca, ua, w.stranger, w.beijingAdmin}
	return w
}

type proposalMsg struct {
	kind string
	msg  M
}

// proposals are the governance proposals the world has pending, each
// approved by members[0]: members[1] approving one applies it.
func (w *blockWorld) proposals() []proposalMsg {
	return []proposalMsg{
		{KindSetAuthority, M{"members": pubs(w.h.members...), "threshold": 3}},
		{KindSetValidator, M{"pub_key": validatorKey(5), "power": 10}},
		{KindSetCity, M{"city": w.beijing, "status": StatusDeactivated, "reason": "audit"}},
		{KindSetUpgrade, M{"name": "v4", "height": 1_000_000, "info": "fuzz"}},
	}
}

// A block input is chunks separated by 0xFF, a byte UTF-8 never holds.
// A chunk's first byte chooses what the rest is:
//
//	low 3 bits   the signer: w.signers[i], or 7 for none (the rest is the
//	             transaction's bytes, as a peer could send them)
//	high 5 bits  k < len(Kinds()): the rest is the message of that kind,
//	             signed at the signer's next nonce; k ≥ len(Kinds()): the
//	             rest is the whole body, signed as it is
const (
	chunkSep       = 0xFF
	rawTxSigner    = 7
	maxBlockChunks = 16
)

// chunk encodes one chunk of a block input.
func chunk(signer, kind int, payload []byte) []byte {
	return append([]byte{byte(signer) | byte(kind)<<3}, payload...)
}

// blockInput joins chunks into a block input.
func blockInput(chunks ...[]byte) []byte { return bytes.Join(chunks, []byte{chunkSep}) }

// blockTxs turns a block input into transactions. The next nonce of each
// signer starts at its committed one and moves on with every transaction
// that Prepare accepts (one it refuses never reaches the nonce check), so
// a well-formed message goes past the signature and nonce into apply.
func (w *blockWorld) blockTxs(t testing.TB, in []byte) [][]byte {
	kinds := Kinds()
	nonces := make([]uint64, len(w.signers))
	for i, s := range w.signers {
		nonces[i] = s.nextNonce(t)
	}
	var txs [][]byte
	for _, c := range bytes.Split(in, []byte{chunkSep}) {
		if len(txs) == maxBlockChunks {
			break
		}
		if len(c) == 0 {
			continue
		}
		who, k, rest := int(c[0]&7), int(c[0]>>3), c[1:]
		if who == rawTxSigner {
			txs = append(txs, rest)
			continue
		}
		s := w.signers[who]
		var body []byte
		if k < len(kinds) {
			// The message is spliced in as it is: NewBody would refuse
			// bytes that are not JSON, and the decoder should judge them.
			head, err := NewBody(kinds[k], nonces[who], M{})
			if err != nil {
				t.Fatal(err)
			}
			body = append(bytes.TrimSuffix(head, []byte("{}}")), rest...)
			body = append(body, '}')
		} else {
			body = rest
		}
		if len(body) == 0 {
			continue
		}
		tx := signBody(t, testChainID, body, s.key)
		if p, err := w.h.m.Prepare(tx); err == nil && p.Nonce == nonces[who] {
			nonces[who]++
		}
		txs = append(txs, tx)
	}
	return txs
}

// blockSeeds are valid transactions of every kind against the world's
// ids, each a block input of one chunk, by kind.
func (w *blockWorld) blockSeeds(t testing.TB) map[string][]byte {
	h := w.h
	ms, ca, ua, st := h.members, w.cityAdmin, w.unitAdmin, w.stranger
	who := func(s *signer) int {
		for i, x := range w.signers {
			if x == s {
				return i
			}
		}
		t.Fatalf("%s is not a signer", s.name)
		return 0
	}
	expires := blockTime(h.height + 100).Format(time.RFC3339)
	seeds := map[string]struct {
		s   *signer
		msg M
	}{
		KindApplyCity:          {ca, M{"country": "156", "city_number": "440100", "name": "广州市", "name_en": "Guangzhou", "locode": "CNCAN", "admins": []string{ca.pub, st.pub}, "contact": "office", "endpoint": "https://gz.example/"}},
		KindApproveApplication: {ms[1], M{"application": w.nanjingApp, "hash": h.appHash(t, w.nanjingApp)}},
		KindRejectApplication:  {ms[1], M{"application": w.parisApp, "hash": h.appHash(t, w.parisApp), "reason": "incomplete"}},
		KindRegisterSector:     {ca, M{"id": w.city + ".36", "name": "水务", "values": []M{{"type": "URL", "data": "https://water.sjz.example/"}}}},
		KindRegisterUnit:       {ca, M{"parent": w.sector, "name": "School board", "admins": []string{ua.pub, st.pub}}},
		KindRegister: {ua, M{"id": w.unit + "/new", "values": []M{
			{"type": "URL", "data": "https://x.example/"}, {"type": "GEO", "data": "38.04,114.51"}, {"type": "EMAIL", "data": "a@b.example"},
			{"type": "DATA", "dataset": goodDataset()}, {"type": "ALIAS", "data": w.object}, {"type": "ns:t", "data": "v", "ttl": 60},
		}}},
		KindUpdate:        {ua, M{"id": w.dataset, "version": h.record(t, w.dataset).Version, "values": []M{{"index": 1, "type": "DATA", "dataset": goodDataset()}, {"index": 9, "type": "TEXT", "data": "2026"}}}},
		KindDeactivate:    {ua, M{"id": w.object, "reason": "moved"}},
		KindReactivate:    {ua, M{"id": w.closed, "version": h.record(t, w.closed).Version}},
		KindRegisterBatch: {ua, M{"nodes": []M{{"node": w.unit, "entries": []any{[]any{"m-1", []any{[]string{"TEXT", "meter"}}}, []any{"m-2", []any{}, []string{st.pub}}}}}}},
		KindTransfer:      {ua, M{"id": w.object, "admins": []string{ua.pub, st.pub}, "version": h.record(t, w.object).Version}},
		KindGrantAccess:   {ua, M{"dataset": w.dataset, "grantee": w.beijing + ".36", "scope": "read:summary", "expires": expires}},
		KindRevokeAccess:  {ua, M{"dataset": w.dataset, "grantee": w.grantee}},
		KindSetAuthority:  {ms[1], w.proposals()[0].msg},
		KindSetValidator:  {ms[1], w.proposals()[1].msg},
		KindWithdrawVote:  {ms[0], M{"application": w.nanjingApp, "hash": h.appHash(t, w.nanjingApp)}},
		KindSetCity:       {ms[1], w.proposals()[2].msg},
		KindSetUpgrade:    {ms[1], w.proposals()[3].msg},
		KindAnchorLog:     {ua, M{"dataset": w.dataset, "entries": 3, "head": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}},
	}
	out := map[string][]byte{}
	for k, kind := range Kinds() {
		s, ok := seeds[kind]
		if !ok {
			t.Fatalf("no seed for %s", kind)
		}
		msg, err := marshalCompact(s.msg)
		if err != nil {
			t.Fatal(err)
		}
		out[kind] = chunk(who(s.s), k, msg)
	}
	return out
}

func FuzzApplyBlock(f *testing.F) {
	codes := declaredCodes(f)
	a, b := newBlockWorld(f), newBlockWorld(f)
	world := a.h.kv.Digest()
	if !bytes.Equal(world, b.h.kv.Digest()) {
		f.Fatal("two worlds built the same way differ")
	}
	seeds := a.blockSeeds(f)
	var all [][]byte
	for _, kind := range Kinds() {
		// Each seed applies on its own: the corpus starts past every
		// check, in every kind's apply.
		rs, err := a.h.m.ApplyBlock(a.h.kv, a.h.next(), a.blockTxs(f, seeds[kind]), nil)
		a.h.kv.st.Rollback()
		if err != nil || len(rs) != 1 || rs[0].Err != nil {
			f.Fatalf("seed %s: %v %+v", kind, err, rs)
		}
		f.Add(seeds[kind])
		all = append(all, seeds[kind])
	}
	f.Add(blockInput(all...))
	// The same signer twice in a block, a body signed as it is (with a
	// nonce, a bound and a kind of its own), and a transaction's raw bytes.
	ua := a.unitAdmin
	n := ua.nextNonce(f)
	until, _ := NewBodyUntil(KindRegister, n+2, uint64(a.h.height+1), M{"id": a.unit + "/late", "values": []M{}})
	f.Add(blockInput(seeds[KindRegister], seeds[KindUpdate], chunk(4, len(Kinds()), until),
		chunk(rawTxSigner, 0, ua.txNonce(f, n+3, KindDeactivate, M{"id": a.dataset}))))
	f.Add(blockInput(seeds[KindApproveApplication], seeds[KindRejectApplication], seeds[KindWithdrawVote]))
	f.Add(blockInput(seeds[KindSetCity], seeds[KindGrantAccess], seeds[KindRevokeAccess]))
	f.Add(blockInput(seeds[KindAnchorLog], seeds[KindAnchorLog], seeds[KindDeactivate], seeds[KindAnchorLog]))
	f.Add(blockInput(chunk(3, 3, []byte(`{"id":"1561301001.85"}`)), chunk(5, 5, []byte(`{"id":"1561301001.85.1/x","values":[]}`)), chunk(2, 13, []byte(`{"members":[],"threshold":0}`))))

	f.Fuzz(func(t *testing.T, in []byte) {
		txs := a.blockTxs(t, in)
		blk := a.h.next()
		ra, erra := a.h.m.ApplyBlock(a.h.kv, blk, txs, nil)
		ha := a.h.kv.Digest()
		a.h.kv.st.Rollback()
		rb, errb := applyDecoded(b.h.m, b.h.kv, blk, txs)
		hb := b.h.kv.Digest()
		b.h.kv.st.Rollback()
		if wa, wb := a.h.kv.Digest(), b.h.kv.Digest(); !bytes.Equal(wa, world) || !bytes.Equal(wb, world) {
			t.Fatalf("rolled back to %X and %X, not the world %X: the next input starts elsewhere", wa, wb, world)
		}
		if erra != nil || errb != nil {
			t.Fatalf("ApplyBlock failed, which halts the chain: %v / %v", erra, errb)
		}
		if len(ra) != len(txs) {
			t.Fatalf("%d results for %d transactions", len(ra), len(txs))
		}
		for i, r := range ra {
			if r.Err != nil {
				checkRejection(t, codes, r.Err)
				if r.Err.Defect {
					t.Fatalf("transaction %d (%s) made the registry panic: %s", i, r.Kind, r.Err.Msg)
				}
				if r.Data != nil || r.Validators != nil {
					t.Fatalf("transaction %d refused with data %q, validators %v", i, r.Data, r.Validators)
				}
				continue
			}
			var o Outcome
			if err := json.Unmarshal(r.Data, &o); err != nil {
				t.Fatalf("transaction %d (%s) result %q: %v", i, r.Kind, r.Data, err)
			}
		}
		if !reflect.DeepEqual(ra, rb) {
			t.Fatalf("two chains give different results:\n%+v\n%+v", ra, rb)
		}
		if !bytes.Equal(ha, hb) {
			t.Fatalf("two chains give different app hashes: %X, %X", ha, hb)
		}
		// The first transaction of a block meets committed state, as
		// CheckTx does: both must say the same of it.
		if len(txs) > 0 {
			check := a.h.checkTx(txs[0])
			if (check == nil) != (ra[0].Err == nil) || check != nil && *check != *ra[0].Err {
				t.Fatalf("CheckTx says %v, FinalizeBlock %v", check, ra[0].Err)
			}
		}
	})
}
