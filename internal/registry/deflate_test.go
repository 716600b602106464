package registry

import (
	"bytes"
	"compress/flate"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// deflatedTx signs body deflated with key for the test chain.
func deflatedTx(t testing.TB, body []byte, key ed25519.PrivateKey) []byte {
	t.Helper()
	env, err := SignDeflate(testChainID, body, DeflateLevel, key)
	if err != nil {
		t.Fatal(err)
	}
	return encodeTx(t, env)
}

// signDeflated signs the raw compressed bytes z as a deflated body.
func signDeflated(key ed25519.PrivateKey, z []byte) Envelope {
	return Envelope{Body: z, BodyEncoding: EncodingDeflate, PubKey: pubHex(key), Signature: ed25519.Sign(key, PAEDeflate(testChainID, z))}
}

// TestPAEDeflate: the deflated form's type word is its own, and every
// other part as PAE writes it.
func TestPAEDeflate(t *testing.T) {
	if got, want := string(PAEDeflate("cityid-test", []byte("zz"))), "CITYIDv1+deflate 11 cityid-test 2 zz"; got != want {
		t.Errorf("PAEDeflate = %q, want %q", got, want)
	}
	e := Envelope{Body: []byte("zz")}
	if !bytes.Equal(e.Signed("c"), PAE("c", []byte("zz"))) {
		t.Error("a plain envelope signs PAE")
	}
	e.BodyEncoding = EncodingDeflate
	if !bytes.Equal(e.Signed("c"), PAEDeflate("c", []byte("zz"))) {
		t.Error("a deflated envelope signs PAEDeflate")
	}
}

// TestDeflatedWireGolden pins the bytes of a deflated transaction: the
// field's name and place, the PAE signed, and that the same message
// plain keeps application version 3's bytes (TestSignedTxWireGolden).
func TestDeflatedWireGolden(t *testing.T) {
	_, body := goldenApplyCity(t)
	tx := deflatedTx(t, body, testKey("city-admin"))
	goldenFile(t, "tx_deflated.json", append(bytes.Clone(tx), '\n'))
	env := decodeTx(t, tx)
	if !bytes.HasPrefix(tx, []byte(`{"body":"`+base64.StdEncoding.EncodeToString(env.Body)+`","body_encoding":"deflate","pub_key":"`)) {
		t.Fatalf("deflated envelope %s: body_encoding is not the second field", tx)
	}
	if !ed25519.Verify(testKey("city-admin").Public().(ed25519.PublicKey),
		[]byte(fmt.Sprintf("CITYIDv1+deflate %d %s %d %s", len(testChainID), testChainID, len(env.Body), env.Body)), env.Signature) {
		t.Fatal("the signature is not over the PAE of the compressed bytes written out by hand")
	}
}

// TestDeflatedSameAsPlain: a transaction prepared from a deflated body is
// the one prepared from the plain body, but for its hash; every kind may
// travel deflated.
func TestDeflatedSameAsPlain(t *testing.T) {
	w := newWorld(t)
	m := New(testChainID)
	for _, plain := range seedTxs(t, w) {
		env := decodeTx(t, plain)
		deflated := deflatedTx(t, env.Body, w.cityAdmin.key)
		p, perr := m.Prepare(plain)
		d, derr := m.Prepare(deflated)
		if fmt.Sprint(perr) != fmt.Sprint(derr) {
			t.Fatalf("%s: plain %v, deflated %v", env.Body, perr, derr)
		}
		if perr != nil {
			continue
		}
		if d.Hash != TxHash(deflated) || d.Hash == p.Hash {
			t.Fatalf("deflated hash %s, want %s", d.Hash, TxHash(deflated))
		}
		if d.Signer != p.Signer || d.Nonce != p.Nonce || d.Kind != p.Kind || d.ValidUntil != p.ValidUntil ||
			!reflect.DeepEqual(d.Message(), p.Message()) {
			t.Fatalf("%s: deflated prepares %+v, plain %+v", p.Kind, d, p)
		}
		in, ierr := Inspect(deflated)
		pin, _ := Inspect(plain)
		if ierr != nil || in.Kind != pin.Kind || in.Nonce != pin.Nonce || !bytes.Equal(in.Msg, pin.Msg) {
			t.Fatalf("Inspect of the deflated %s: %+v %v, plain %+v", p.Kind, in, ierr, pin)
		}
	}
}

// TestDeflatedBatchSameRecords applies one register_batch plain on one
// harness and deflated on another: every record is the same but for the
// transaction hash its stamps name (the two transactions' bytes differ,
// and so do the two app hashes, by those stamps alone).
func TestDeflatedBatchSameRecords(t *testing.T) {
	var entries []M
	for i := range 300 {
		entries = append(entries, M{"id": fmt.Sprintf("1561301001.85.1/meter-%04d", i), "values": []M{
			{"type": "URL", "data": fmt.Sprintf("https://meters.sjz.example/%d", i)}, {"type": "TEXT", "data": "水表 " + fmt.Sprint(i)}}})
	}
	var records [2][]string
	for k, deflate := range []bool{false, true} {
		w := newWorld(t)
		u := w.unitAdmin
		body, err := NewBody(KindRegisterBatch, u.nextNonce(t), batchMsg(entries))
		if err != nil {
			t.Fatal(err)
		}
		tx := signBody(t, testChainID, body, u.key)
		if deflate {
			tx = deflatedTx(t, body, u.key)
			if len(tx) > len(signBody(t, testChainID, body, u.key))/3 {
				t.Fatalf("a deflated batch of %d bytes is %d bytes", len(body), len(tx))
			}
		}
		if o := w.h.mustApply(t, tx); o.Count != len(entries) {
			t.Fatalf("deflate %v: %d registered, want %d", deflate, o.Count, len(entries))
		}
		for _, e := range entries {
			rec := string(w.h.rawRecord(t, e["id"].(string)))
			if strings.Count(rec, TxHash(tx)) != 2 {
				t.Fatalf("record %s does not name its transaction %s twice", rec, TxHash(tx))
			}
			records[k] = append(records[k], strings.ReplaceAll(rec, TxHash(tx), "TX"))
		}
	}
	for i := range records[0] {
		if records[0][i] != records[1][i] {
			t.Fatalf("record %d: plain %s, deflated %s", i, records[0][i], records[1][i])
		}
	}
}

// TestDeflatedRejections: each way a compressed body is wrong, and what
// the registry says, in the order it checks: the envelope, the
// signature, the inflating, the body.
func TestDeflatedRejections(t *testing.T) {
	w := newWorld(t)
	a := w.cityAdmin
	body := func(t testing.TB) []byte {
		b, err := NewBody(KindRegisterSector, a.nextNonce(t), M{"id": "1561301001.86"})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	z := func(t testing.TB, b []byte) []byte {
		out, err := Deflate(b, DeflateLevel)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	// 2 MiB of spaces: 2 KiB compressed, past every bound inflated.
	bomb := z(t, bytes.Repeat([]byte(" "), 2<<20))
	// Past the kind's bound but within MaxInflateRatio: counter digits
	// deflate a few times, not a thousand.
	var digits bytes.Buffer
	for i := 0; digits.Len() <= MaxBatchBodyBytes; i++ {
		fmt.Fprintf(&digits, "%08d,", i*7919)
	}
	long := z(t, digits.Bytes())
	if MaxInflateRatio*len(long)+inflateSlack <= MaxBatchBodyBytes {
		t.Fatalf("the long body deflates to %d bytes, past the ratio: the test wants one refused for the kind's bound", len(long))
	}
	tests := []struct {
		name     string
		tx       func(t testing.TB) []byte
		code     string
		reason   string
		msg      []string
		position bool
	}{
		{"a plain signature over compressed bytes", func(t testing.TB) []byte {
			e := Sign(testChainID, z(t, body(t)), a.key)
			e.BodyEncoding = EncodingDeflate
			return encodeTx(t, e)
		}, CodeBadSignature, "", []string{"does not verify"}, false},
		{"a deflated signature with the encoding taken away", func(t testing.TB) []byte {
			e := signDeflated(a.key, z(t, body(t)))
			e.BodyEncoding = ""
			return encodeTx(t, e)
		}, CodeBadSignature, "", []string{"does not verify"}, false},
		{"a bomb with a bad signature is refused for its signature, not inflated", func(t testing.TB) []byte {
			e := signDeflated(a.key, bomb)
			e.Signature[3] ^= 1
			return encodeTx(t, e)
		}, CodeBadSignature, "", []string{"does not verify"}, false},
		{"a bomb", func(t testing.TB) []byte { return encodeTx(t, signDeflated(a.key, bomb)) },
			CodeTooLarge, ReasonInflatedTooLarge, []string{fmt.Sprintf("inflates past the %d bytes allowed", MaxInflateRatio*len(bomb)+inflateSlack), "32 times its"}, true},
		{"a body past the kind's bound", func(t testing.TB) []byte { return encodeTx(t, signDeflated(a.key, long)) },
			CodeTooLarge, ReasonInflatedTooLarge, []string{"inflates past the 1572864 bytes allowed"}, true},
		{"no DEFLATE stream", func(t testing.TB) []byte { return encodeTx(t, signDeflated(a.key, []byte("\xffnot deflate"))) },
			CodeMalformed, ReasonBadDeflate, []string{"not a raw DEFLATE stream"}, true},
		{"a stream cut short", func(t testing.TB) []byte {
			b := z(t, body(t))
			return encodeTx(t, signDeflated(a.key, b[:len(b)/2]))
		}, CodeMalformed, ReasonBadDeflate, []string{"not a raw DEFLATE stream", "unexpected EOF"}, true},
		{"bytes after the final block", func(t testing.TB) []byte {
			return encodeTx(t, signDeflated(a.key, append(z(t, body(t)), 0, 0)))
		}, CodeMalformed, ReasonBadDeflate, []string{"2 bytes follow the DEFLATE stream's final block"}, true},
		{"an empty stream", func(t testing.TB) []byte { return encodeTx(t, signDeflated(a.key, z(t, nil))) },
			CodeMalformed, "", []string{"inflates to nothing"}, false},
		{"an unknown encoding", func(t testing.TB) []byte {
			e := Sign(testChainID, body(t), a.key)
			e.BodyEncoding = "gzip"
			return encodeTx(t, e)
		}, CodeMalformed, "", []string{`body_encoding "gzip"`}, false},
		{"an inflated body held to the plain body's rules: a surrogate escape", func(t testing.TB) []byte {
			return deflatedTx(t, []byte(`{"kind":"register_sector","nonce":5,"msg":{"id":"1561301001.86","name":"\ud800"}}`), a.key)
		}, CodeMalformed, "", []string{"surrogate"}, false},
		{"an inflated body held to the plain body's rules: an unknown field", func(t testing.TB) []byte {
			return deflatedTx(t, []byte(`{"kind":"register_sector","nonce":5,"msg":{"id":"1561301001.86"},"memo":1}`), a.key)
		}, CodeMalformed, "", []string{"memo"}, false},
		{"a small kind inflating past its own bound", func(t testing.TB) []byte {
			return deflatedTx(t, padJSON(t, body(t), MaxBodyBytes+1), a.key)
		}, CodeTooLarge, "", []string{"more than the 65536 allowed for register_sector"}, false},
		{"a small kind whose compressed bytes pass its bound", func(t testing.TB) []byte {
			// Stored blocks of nothing before the body: DEFLATE can
			// grow bytes without end.
			var buf bytes.Buffer
			fw, _ := flate.NewWriter(&buf, flate.NoCompression)
			for buf.Len() <= MaxBodyBytes {
				_ = fw.Flush() // an empty stored block
			}
			_, _ = fw.Write(body(t))
			_ = fw.Close()
			return encodeTx(t, signDeflated(a.key, buf.Bytes()))
		}, CodeTooLarge, "", []string{"compressed body is", "register_sector"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tx := tc.tx(t)
			err := w.h.expectRejected(t, tx, tc.code, tc.msg...)
			if err.Reason != tc.reason || (err.Position > 0) != tc.position {
				t.Errorf("reason %q, position %d: want %q and a position: %v", err.Reason, err.Position, tc.reason, tc.position)
			}
			if err.Position > len(decodeTx(t, tx).Body)+1 {
				t.Errorf("position %d is past the %d compressed bytes", err.Position, len(decodeTx(t, tx).Body))
			}
		})
	}
}

// TestDeflatedEnvelopeEncodings: a deflated envelope in another JSON
// encoding is put in its canonical form by CanonicalEnvelope and refused
// by the ledger's reading; an empty body_encoding is refused, not
// dropped.
func TestDeflatedEnvelopeEncodings(t *testing.T) {
	w := newWorld(t)
	body, err := NewBody(KindRegisterSector, w.cityAdmin.nextNonce(t), M{"id": "1561301001.86"})
	if err != nil {
		t.Fatal(err)
	}
	tx := deflatedTx(t, body, w.cityAdmin.key)
	env := decodeTx(t, tx)
	other := []byte(fmt.Sprintf(`{ "signature":%q, "pub_key":%q, "body_encoding":"defl\u0061te", "body":%q }`+"\n",
		base64.StdEncoding.EncodeToString(env.Signature), env.PubKey, base64.StdEncoding.EncodeToString(env.Body)))
	canon, cerr := CanonicalEnvelope(other)
	if cerr != nil || !bytes.Equal(canon, tx) {
		t.Fatalf("CanonicalEnvelope(%s) = %s, %v; want %s", other, canon, cerr, tx)
	}
	if _, derr := DecodeEnvelope(other); derr == nil || derr.Code != CodeMalformed {
		t.Fatalf("the ledger reads a non-canonical deflated envelope: %v", derr)
	}
	empty := bytes.Replace(other, []byte(`"defl\u0061te"`), []byte(`""`), 1)
	if _, cerr := CanonicalEnvelope(empty); cerr == nil || !strings.Contains(cerr.Msg, "body_encoding is empty") {
		t.Fatalf("an empty body_encoding: %v", cerr)
	}
	if o := w.h.mustApply(t, tx); o.ID != "1561301001.86" {
		t.Fatalf("the deflated transaction applied as %+v", o)
	}
}

// FuzzSignedDeflated signs arbitrary compressed bytes as a deflated body:
// nothing panics, every refusal is declared, an inflating refusal says
// where, and what Prepare accepts is what the inflated body, signed
// plain, prepares to.
func FuzzSignedDeflated(f *testing.F) {
	codes := declaredCodes(f)
	w := newWorld(f)
	for _, tx := range seedTxs(f, w) {
		e, _ := DecodeEnvelope(tx)
		z, err := Deflate(e.Body, DeflateLevel)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(z)
	}
	f.Add([]byte("\xff"))
	f.Add([]byte{0x01, 0x00, 0x00, 0xff, 0xff})
	bomb, _ := Deflate(bytes.Repeat([]byte("a"), MaxBatchBodyBytes+1), flate.BestCompression)
	f.Add(bomb)
	m := w.h.m
	key := w.cityAdmin.key
	f.Fuzz(func(t *testing.T, z []byte) {
		if len(z) == 0 {
			return // an envelope needs a body; FuzzPrepare covers it
		}
		tx := encodeTx(t, signDeflated(key, z))
		p, perr := m.Prepare(tx)
		body, ierr := inflate(z, MaxBatchBodyBytes)
		if perr != nil {
			checkRejection(t, codes, perr)
			if ierr != nil && (*ierr != *perr || ierr.Position < 1 || ierr.Position > len(z)+1) {
				t.Fatalf("inflating says %+v, Prepare %+v", ierr, perr)
			}
			if ierr == nil && len(body) > 0 && len(z) <= MaxBodyBytes {
				// The inflated body's own verdict, signed plain.
				if _, plainErr := m.Prepare(signBody(t, testChainID, body, key)); fmt.Sprint(plainErr) != fmt.Sprint(perr) {
					t.Fatalf("deflated %v, the same body plain %v", perr, plainErr)
				}
			}
			return
		}
		checkPrepared(t, tx, p)
		if ierr != nil {
			t.Fatalf("Prepare took a body inflating refuses: %v", ierr)
		}
		q, qerr := m.Prepare(signBody(t, testChainID, body, key))
		if qerr != nil || !reflect.DeepEqual(q.Message(), p.Message()) || q.Kind != p.Kind || q.Nonce != p.Nonce {
			t.Fatalf("deflated prepares %+v, the same body plain %+v %v", p, q, qerr)
		}
	})
}

// TestSignDeflateWithinRatio: a body that would inflate past
// MaxInflateRatio times its compressed bytes, which nodes refuse, is
// signed plain by SignDeflate, and verifies; one within it travels
// deflated.
func TestSignDeflateWithinRatio(t *testing.T) {
	key := testKey("ratio")
	body, err := NewBody(KindRegister, 1, M{"id": "1561301001.85.1/x", "values": []M{{"type": "TEXT", "data": strings.Repeat("a", 900)}}, "pad": strings.Repeat(" ", 60000)})
	if err != nil {
		t.Fatal(err)
	}
	env, err := SignDeflate(testChainID, body, DeflateLevel, key)
	if err != nil {
		t.Fatal(err)
	}
	if env.BodyEncoding != "" || !bytes.Equal(env.Body, body) {
		t.Fatalf("a body of %d bytes that deflates past %d times: encoding %q, want it signed plain", len(body), MaxInflateRatio, env.BodyEncoding)
	}
	if err := env.verifySignature(testChainID); err != nil {
		t.Fatalf("the plain fallback's signature: %v", err)
	}
	var digits bytes.Buffer
	for i := 0; digits.Len() < 30000; i++ {
		fmt.Fprintf(&digits, "%08d,", i*7919)
	}
	body, err = NewBody(KindRegister, 1, M{"id": "1561301001.85.1/x", "values": []M{{"type": "TEXT", "data": digits.String()[:900]}}})
	if err != nil {
		t.Fatal(err)
	}
	if env, err = SignDeflate(testChainID, body, DeflateLevel, key); err != nil || env.BodyEncoding != EncodingDeflate {
		t.Fatalf("an ordinary body: encoding %q (%v), want deflate", env.BodyEncoding, err)
	}
}
