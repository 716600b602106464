package registry

import (
	"bytes"
	"reflect"
	"testing"
)

// FuzzApplyBlockPaths applies FuzzApplyBlock's blocks three ways: the
// sequential definition (Machine.ApplyBlock: BlockApply, nonces of
// existing accounts written at End), the chain's path with what
// ReadAhead found in the block's starting state (Decode, Checked,
// ApplyAhead, End), and transaction by transaction through Machine.Apply
// (every nonce written in its turn, no block cache, nothing read ahead).
// Results and app hashes must be the same. Signer 5 is an account that
// does not exist yet (FuzzApplyBlock's stranger has one).
func FuzzApplyBlockPaths(f *testing.F) {
	a, b := newBlockWorld(f), newBlockWorld(f)
	world := a.h.kv.Digest()
	seeds := a.blockSeeds(f)
	var all [][]byte
	for _, kind := range Kinds() {
		f.Add(seeds[kind])
		all = append(all, seeds[kind])
	}
	f.Add(blockInput(all...))
	// Identifiers a block registers twice: read ahead as absent, then
	// written by the block before their second registration.
	f.Add(blockInput(seeds[KindRegister], seeds[KindRegisterBatch], seeds[KindRegister], seeds[KindRegisterBatch]))
	// Signer 5 has no account yet: its first transaction inserts its
	// key, which its later ones update at the block's end.
	a.signers[5], b.signers[5] = a.h.signer("fresh"), b.h.signer("fresh")
	f.Add(blockInput(chunk(5, 0, []byte(`{"country":"156","city_number":"440100","name":"广州市","locode":"CNCAN"}`)), chunk(5, 5, []byte(`{"id":"1561301001.85.1/f","values":[]}`)), seeds[KindRegister], chunk(5, 3, []byte(`{"id":"1561301001.36"}`))))
	f.Fuzz(func(t *testing.T, in []byte) {
		txs := a.blockTxs(t, in)
		blk := a.h.next()
		ra, erra := a.h.m.ApplyBlock(a.h.kv, blk, txs, nil)
		ha := a.h.kv.Digest()
		a.h.kv.st.Rollback()

		// In turn, on a's store.
		rc := []Result{}
		var errc error
		for _, raw := range txs {
			tx, perr := a.h.m.Prepare(raw)
			if perr != nil {
				rc = append(rc, Result{Err: perr})
				continue
			}
			r, err := a.h.m.Apply(a.h.kv, blk, tx)
			if err != nil {
				errc = err
				break
			}
			r.Kind, r.Hash = tx.Kind, tx.Hash
			rc = append(rc, r)
		}
		hc := a.h.kv.Digest()
		a.h.kv.st.Rollback()

		// Ahead, on b's store.
		base := b.h.kv.st.Latest()
		var preps []*Tx
		var perrs []*Error
		var absent []Absent
		for _, raw := range txs {
			var tx *Tx
			u, err := b.h.m.Decode(raw)
			if err == nil {
				tx, err = u.Checked(VerifySignature(u.PubKey, u.Message, u.Signature))
			}
			var ab Absent
			if err == nil {
				var rerr error
				if ab, rerr = b.h.m.ReadAhead(base, tx); rerr != nil {
					t.Fatal(rerr)
				}
			}
			preps, perrs, absent = append(preps, tx), append(perrs, err), append(absent, ab)
		}
		run := b.h.m.BeginBlock(b.h.kv, blk)
		rb := []Result{}
		var errb error
		for i := range txs {
			if perrs[i] != nil {
				rb = append(rb, run.Refused(perrs[i]))
				continue
			}
			r, err := run.ApplyAhead(preps[i], absent[i])
			if err != nil {
				errb = err
				break
			}
			rb = append(rb, r)
		}
		if errb == nil {
			errb = run.End()
		}
		hb := b.h.kv.Digest()
		b.h.kv.st.Rollback()

		if wa, wb := a.h.kv.Digest(), b.h.kv.Digest(); !bytes.Equal(wa, world) || !bytes.Equal(wb, world) {
			t.Fatalf("rolled back elsewhere")
		}
		if erra != nil || errb != nil || errc != nil {
			t.Fatalf("apply failed: %v / %v / %v", erra, errb, errc)
		}
		if !reflect.DeepEqual(ra, rb) || !reflect.DeepEqual(ra, rc) {
			t.Fatalf("results differ:\n%+v\n%+v\n%+v", ra, rb, rc)
		}
		if !bytes.Equal(ha, hb) || !bytes.Equal(ha, hc) {
			t.Fatalf("app hashes differ: definition %X, ahead %X, in turn %X", ha, hb, hc)
		}
	})
}
