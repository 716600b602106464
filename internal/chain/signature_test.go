package chain

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"testing"

	"filippo.io/edwards25519"

	"github.com/cityid/cityid/internal/registry"
)

// Signatures a signer can craft that honest signing never makes. They are
// where Ed25519 verifiers disagree (the standard library's cofactorless
// check, ZIP-215's cofactored one), so they are where a batch check and a
// check one by one could disagree, and with them two nodes.

// scalarOf is the secret scalar of an Ed25519 private key.
func scalarOf(t testing.TB, k ed25519.PrivateKey) *edwards25519.Scalar {
	h := sha512.Sum512(k.Seed())
	s, err := new(edwards25519.Scalar).SetBytesWithClamping(h[:32])
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// challenge is k = SHA-512(R || A || msg) mod L, from the encodings as given.
func challenge(r, a, msg []byte) *edwards25519.Scalar {
	h := sha512.New()
	h.Write(r)
	h.Write(a)
	h.Write(msg)
	k, _ := new(edwards25519.Scalar).SetUniformBytes(h.Sum(nil))
	return k
}

// torsion8 is a point of order 8, found as [L]P of a point P of the curve.
func torsion8(t testing.TB) *edwards25519.Point {
	lMinus1 := new(edwards25519.Scalar).Subtract(edwards25519.NewScalar(), scalarOne())
	for y := byte(2); y < 255; y++ {
		enc := make([]byte, 32)
		enc[0] = y
		p, err := new(edwards25519.Point).SetBytes(enc)
		if err != nil {
			continue
		}
		q := new(edwards25519.Point).ScalarMult(lMinus1, p)
		q.Add(q, p) // [L]P: P's torsion part, times L mod 8
		four := new(edwards25519.Point).Add(q, q)
		four.Add(four, four)
		if four.Equal(edwards25519.NewIdentityPoint()) == 0 {
			return q
		}
	}
	t.Fatal("no point of order 8 found")
	return nil
}

func scalarOne() *edwards25519.Scalar {
	b := make([]byte, 32)
	b[0] = 1
	s, _ := new(edwards25519.Scalar).SetCanonicalBytes(b)
	return s
}

// signWith signs msg as the key whose point encodes as a (secret scalar
// s) with the nonce point encoded as r, whose discrete log is rs:
// S = rs + k·s.
func signWith(a []byte, s *edwards25519.Scalar, r []byte, rs *edwards25519.Scalar, msg []byte) []byte {
	k := challenge(r, a, msg)
	S := new(edwards25519.Scalar).MultiplyAdd(k, s, rs)
	return append(append([]byte{}, r...), S.Bytes()...)
}

// sigCase is one crafted signature and the verdict the rule gives it.
type sigCase struct {
	name  string
	pub   []byte
	msg   []byte
	sig   []byte
	valid bool // under registry.SignatureOptions (ZIP-215)
	std   bool // under crypto/ed25519, the rule before
	// keyRefused: DecodeEnvelope refuses the key before any signature
	// check (small order), so no transaction ever reaches the rule with it.
	keyRefused bool
}

func craftedSignatures(t testing.TB) []sigCase {
	k := key(9)
	a := []byte(k.Public().(ed25519.PublicKey))
	s := scalarOf(t, k)
	msg := registry.PAE(testChain, []byte(`{"kind":"register","nonce":1,"msg":{}}`))
	good := ed25519.Sign(k, msg)
	T := torsion8(t)
	L := []byte{0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10}
	var cases []sigCase
	add := func(c sigCase) { cases = append(cases, c) }

	add(sigCase{name: "honest", pub: a, msg: msg, sig: good, valid: true, std: true})
	flipped := bytes.Clone(good)
	flipped[40] ^= 1
	add(sigCase{name: "S changed", pub: a, msg: msg, sig: flipped})
	add(sigCase{name: "other message", pub: a, msg: append(bytes.Clone(msg), '!'), sig: good})
	// S+L: the same signature with S not reduced, a second encoding.
	var sPlusL [32]byte
	carry := 0
	for i := 0; i < 32; i++ {
		v := int(good[32+i]) + int(L[i]) + carry
		sPlusL[i], carry = byte(v), v>>8
	}
	add(sigCase{name: "S+L (non-canonical S)", pub: a, msg: msg, sig: append(bytes.Clone(good[:32]), sPlusL[:]...)})

	// A mixed-order key: the honest point plus a point of order 8. The
	// cofactored check ignores the torsion; the cofactorless one fails
	// unless k is a multiple of 8.
	A := new(edwards25519.Point).ScalarBaseMult(s)
	mixed := new(edwards25519.Point).Add(A, T).Bytes()
	for i := 0; ; i++ {
		m := append(bytes.Clone(msg), byte(i))
		rs := scalarFrom(t, fmt.Sprintf("nonce-%d", i))
		r := new(edwards25519.Point).ScalarBaseMult(rs).Bytes()
		kb := challenge(r, mixed, m).Bytes()
		if kb[0]%8 == 0 {
			continue // the torsion cancels: not the case wanted
		}
		add(sigCase{name: "mixed-order key", pub: mixed, msg: m, sig: signWith(mixed, s, r, rs, m), valid: true})
		break
	}
	// A small-order R (the identity), canonical and not: S = k·s.
	id := edwards25519.NewIdentityPoint().Bytes()
	zero := edwards25519.NewScalar()
	add(sigCase{name: "identity R", pub: a, msg: msg, sig: signWith(a, s, id, zero, msg), valid: true, std: true})
	nonCanonID := make([]byte, 32) // y = p + 1, the identity's other encoding
	nonCanonID[0] = 0xee
	for i := 1; i < 31; i++ {
		nonCanonID[i] = 0xff
	}
	nonCanonID[31] = 0x7f
	add(sigCase{name: "non-canonical R", pub: a, msg: msg, sig: signWith(a, s, nonCanonID, zero, msg), valid: true})
	// R of order 8: S = k·s; [8]R vanishes.
	add(sigCase{name: "order-8 R", pub: a, msg: msg, sig: signWith(a, s, T.Bytes(), zero, msg), valid: true})
	// A that is no point (y not on the curve) and a small-order A: the
	// envelope refuses both keys before any signature check.
	notPoint := make([]byte, 32)
	notPoint[0] = 2
	add(sigCase{name: "key not a point", pub: notPoint, msg: msg, sig: good, keyRefused: true})
	add(sigCase{name: "small-order key, (identity, 0) signature", pub: id, msg: msg, sig: append(bytes.Clone(id), make([]byte, 32)...), valid: true, std: true, keyRefused: true})
	add(sigCase{name: "non-canonical small-order key", pub: nonCanonID, msg: msg, sig: append(bytes.Clone(id), make([]byte, 32)...), valid: true, std: true, keyRefused: true})
	return cases
}

func scalarFrom(t testing.TB, label string) *edwards25519.Scalar {
	h := sha512.Sum512([]byte(label))
	s, err := new(edwards25519.Scalar).SetUniformBytes(h[:])
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestBatchAgreesWithSingle checks the signature rule on the signatures
// where verifiers differ: the verdict of registry.VerifySignature (CheckTx,
// and the registry's own ApplyBlock) is the one expected, verifyBatch gives
// the same verdict to each in a batch with honest signatures around it,
// the keys the rule would wrongly take are refused before it, and the
// change from the standard library's rule is only where the table says.
func TestBatchAgreesWithSingle(t *testing.T) {
	cases := craftedSignatures(t)
	honest := cases[0]
	var us []*registry.Unchecked
	var pending []int
	for i, c := range cases {
		if got := registry.VerifySignature(c.pub, c.msg, c.sig); got != c.valid {
			t.Errorf("%s: VerifySignature %v, want %v", c.name, got, c.valid)
		}
		if got := len(c.pub) == 32 && ed25519.Verify(c.pub, c.msg, c.sig); got != c.std {
			t.Errorf("%s: crypto/ed25519 %v, the table says %v", c.name, got, c.std)
		}
		_, err := registry.ParsePubKey(hex.EncodeToString(c.pub))
		if (err != nil) != c.keyRefused {
			t.Errorf("%s: key refused %v (%v), want %v", c.name, err != nil, err, c.keyRefused)
		}
		// Alone, twice (the second time with its key expanded), and in a
		// batch between two honest signatures.
		sigs := NewSignatures(0)
		for range 2 {
			if got := sigs.verify(&registry.Unchecked{PubKey: c.pub, Message: c.msg, Signature: c.sig}); got != c.valid {
				t.Errorf("%s: Signatures.verify %v, want %v", c.name, got, c.valid)
			}
		}
		alone := NewSignatures(0).verifyBatch([]*registry.Unchecked{{PubKey: c.pub, Message: c.msg, Signature: c.sig}}, []int{0})
		if alone[0] != c.valid {
			t.Errorf("%s: alone %v, want %v", c.name, alone[0], c.valid)
		}
		three := []*registry.Unchecked{
			{PubKey: honest.pub, Message: honest.msg, Signature: honest.sig},
			{PubKey: c.pub, Message: c.msg, Signature: c.sig},
			{PubKey: honest.pub, Message: honest.msg, Signature: honest.sig},
		}
		if got := NewSignatures(0).verifyBatch(three, []int{0, 1, 2}); !got[0] || got[1] != c.valid || !got[2] {
			t.Errorf("%s: in a batch %v, want [true %v true]", c.name, got, c.valid)
		}
		us = append(us, &registry.Unchecked{PubKey: c.pub, Message: c.msg, Signature: c.sig})
		pending = append(pending, i)
	}
	// All of them in one batch.
	for i, v := range NewSignatures(0).verifyBatch(us, pending) {
		if v != cases[i].valid {
			t.Errorf("%s: in the batch of all %v, want %v", cases[i].name, v, cases[i].valid)
		}
	}
}

// FuzzBatchVerify mutates a signature, its key and its message, and
// requires that verifyBatch give each entry of a batch (the mutated one
// between honest and crafted ones) the verdict registry.VerifySignature
// gives it alone.
func FuzzBatchVerify(f *testing.F) {
	f.Add(uint8(0), uint8(0), uint8(0), uint8(0), []byte("x"))
	f.Add(uint8(1), uint8(40), uint8(1), uint8(0), []byte{})
	f.Add(uint8(5), uint8(0), uint8(0), uint8(3), []byte("message"))
	f.Add(uint8(7), uint8(63), uint8(0x80), uint8(31), []byte("m"))
	f.Fuzz(func(t *testing.T, which, at, xor, keyAt uint8, extra []byte) {
		cases := craftedSignatures(t)
		c := cases[int(which)%len(cases)]
		sig, pub, msg := bytes.Clone(c.sig), bytes.Clone(c.pub), append(bytes.Clone(c.msg), extra...)
		sig[int(at)%64] ^= xor
		if keyAt%2 == 1 {
			pub[int(keyAt/2)%32] ^= xor
		}
		want := registry.VerifySignature(pub, msg, sig)
		var us []*registry.Unchecked
		var pending []int
		for i, d := range cases {
			us = append(us, &registry.Unchecked{PubKey: d.pub, Message: d.msg, Signature: d.sig})
			pending = append(pending, len(us)-1)
			if i == 1 {
				us = append(us, &registry.Unchecked{PubKey: pub, Message: msg, Signature: sig})
				pending = append(pending, len(us)-1)
			}
		}
		got := NewSignatures(0).verifyBatch(us, pending)
		for i, u := range us {
			if single := registry.VerifySignature(u.PubKey, u.Message, u.Signature); got[i] != single {
				t.Fatalf("entry %d: batch %v, alone %v (mutated entry is 2, alone %v)", i, got[i], single, want)
			}
		}
	})
}

// TestKnownKeys checks what Signatures remembers of keys: a key is taken
// as point-checked only after a transaction by it decoded, never because a
// signature by it was verified (which any bytes can be), so a small-order
// key is refused however often it is seen; and a known key's next
// transaction decodes as Decode decodes it.
func TestKnownKeys(t *testing.T) {
	m := registry.New(testChain)
	id := edwards25519.NewIdentityPoint().Bytes()
	small, err := registry.Envelope{
		Body:      []byte(`{"kind":"register_sector","nonce":1,"msg":{"id":"1561301001.86"}}`),
		PubKey:    hex.EncodeToString(id),
		Signature: append(bytes.Clone(id), make([]byte, 32)...),
	}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	// What the check guards: a decoder told the key was checked takes it.
	if _, err := m.DecodeKnown(small, func(string) bool { return true }); err != nil {
		t.Fatalf("DecodeKnown with every key known: %v; the test needs the check skipped", err)
	}
	sigs := NewSignatures(0)
	for range 2 {
		sigs.verify(&registry.Unchecked{PubKey: id, Message: []byte("m"), Signature: make([]byte, 64)})
		if _, err := sigs.decode(m, small); err == nil || err.Code != registry.CodeBadPubKey {
			t.Fatalf("small-order key after its signature was verified: %v, want %s", err, registry.CodeBadPubKey)
		}
	}
	good := signTx(t, key(2), 1, registry.KindRegisterSector, registry.RegisterSector{ID: "1561301001.86"})
	for i := range 3 {
		u, err := sigs.decode(m, good)
		if err != nil {
			t.Fatalf("decode %d: %v", i, err)
		}
		tx, terr := sigs.check(u)
		want, werr := m.Prepare(good)
		if terr != nil || werr != nil || tx.Hash != want.Hash || tx.Signer != want.Signer || tx.Nonce != want.Nonce {
			t.Fatalf("decode %d: %+v %v, Prepare %+v %v", i, tx, terr, want, werr)
		}
		if !sigs.known(pub(key(2))) {
			t.Fatalf("decode %d: the key is not known after its transaction decoded", i)
		}
	}
}
