package registry

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestPAE(t *testing.T) {
	t.Run("layout is prefix, lengths and parts separated by spaces", func(t *testing.T) {
		got := string(PAE("cityid-test", []byte(`{"a":1}`)))
		want := `CITYIDv1 11 cityid-test 7 {"a":1}`
		if got != want {
			t.Errorf("PAE = %q, want %q", got, want)
		}
		if got := string(PAE("", nil)); got != "CITYIDv1 0  0 " {
			t.Errorf("PAE of empty parts = %q", got)
		}
		// Lengths are byte lengths, not runes.
		if got := string(PAE("链", []byte("é"))); got != "CITYIDv1 3 链 2 é" {
			t.Errorf("PAE counts bytes: got %q", got)
		}
	})
	t.Run("moving bytes between chain ID and body changes the encoding", func(t *testing.T) {
		pairs := [][2]string{{"a b", "c"}, {"a", "b c"}, {"a 1 b", ""}, {"a", "1 b"}, {"ab", ""}, {"a", "b"}}
		seen := map[string]string{}
		for _, p := range pairs {
			k := string(PAE(p[0], []byte(p[1])))
			if prev, ok := seen[k]; ok {
				t.Errorf("PAE(%q) collides with PAE(%q)", p, prev)
			}
			seen[k] = fmt.Sprint(p)
		}
	})
}

// goldenApplyCity is the signed transaction pinned in testdata: a fixed key
// (so a deterministic Ed25519 signature) over a body built as a client
// builds it, from the registry's message struct.
func goldenApplyCity(t *testing.T) (tx, body []byte) {
	body, err := NewBody(KindApplyCity, 1, ApplyCity{
		Country: "156", CityNumber: "130100", Name: "石家庄市", NameEn: "Shijiazhuang",
		Locode: "CNSJW", Contact: "CityID office", Endpoint: "https://node.sjz.example/",
	})
	if err != nil {
		t.Fatal(err)
	}
	return signBody(t, testChainID, body, testKey("city-admin")), body
}

func TestSignedTxWireGolden(t *testing.T) {
	tx, body := goldenApplyCity(t)
	t.Run("wire bytes match the golden file", func(t *testing.T) {
		goldenFile(t, "tx_apply_city.body.json", body)
		goldenFile(t, "tx_apply_city.tx.json", tx)
	})
	t.Run("signing is deterministic", func(t *testing.T) {
		again, _ := goldenApplyCity(t)
		if !bytes.Equal(tx, again) {
			t.Errorf("two signatures of one body differ:\n%s\n%s", tx, again)
		}
	})
	t.Run("envelope is body, pub_key, signature in base64 and hex", func(t *testing.T) {
		var e map[string]string
		if err := json.Unmarshal(tx, &e); err != nil {
			t.Fatal(err)
		}
		if len(e) != 3 {
			t.Errorf("envelope has fields %v, want body, pub_key, signature", e)
		}
		b, err := base64.StdEncoding.DecodeString(e["body"])
		if err != nil || !bytes.Equal(b, body) {
			t.Errorf("body field is not the body in standard base64: %q, %v", e["body"], err)
		}
		key := testKey("city-admin")
		if want := hex.EncodeToString(key.Public().(ed25519.PublicKey)); e["pub_key"] != want {
			t.Errorf("pub_key %q, want %q", e["pub_key"], want)
		}
		sig, err := base64.StdEncoding.DecodeString(e["signature"])
		if err != nil {
			t.Fatal(err)
		}
		// Verify against the message written out by hand, not through PAE.
		msg := fmt.Sprintf("CITYIDv1 %d %s %d %s", len(testChainID), testChainID, len(body), body)
		if !ed25519.Verify(key.Public().(ed25519.PublicKey), []byte(msg), sig) {
			t.Errorf("signature does not verify over the DSSE-style encoding %q", msg)
		}
	})
	t.Run("golden transaction passes Prepare", func(t *testing.T) {
		p, err := New(testChainID).Prepare(tx)
		if err != nil {
			t.Fatalf("Prepare: %v", err)
		}
		sum := sha256.Sum256(tx)
		if want := strings.ToUpper(hex.EncodeToString(sum[:])); p.Hash != want || TxHash(tx) != want {
			t.Errorf("hash %s / TxHash %s, want uppercase SHA-256 %s", p.Hash, TxHash(tx), want)
		}
		if p.Kind != KindApplyCity || p.Nonce != 1 || p.Signer != pubHex(testKey("city-admin")) {
			t.Errorf("prepared %+v", p)
		}
		// DecodeHashed takes the hash its caller made, to the same
		// transaction.
		u, derr := New(testChainID).DecodeHashed(tx, sum, nil)
		if derr != nil {
			t.Fatalf("DecodeHashed: %v", derr)
		}
		h, herr := u.Checked(true)
		if herr != nil || !reflect.DeepEqual(h, p) {
			t.Errorf("DecodeHashed gives %+v (%v), Prepare %+v", h, herr, p)
		}
	})
}

// withBody signs body (raw bytes, valid or not) as s.
func (s *signer) withBody(t testing.TB, body string) []byte {
	t.Helper()
	return signBody(t, testChainID, []byte(body), s.key)
}

// tamper decodes tx, lets f change the envelope and encodes it again.
func tamper(t testing.TB, tx []byte, f func(e *Envelope)) []byte {
	t.Helper()
	e := decodeTx(t, tx)
	f(&e)
	return encodeTx(t, e)
}

// padJSON pads JSON text with trailing spaces to exactly n bytes.
func padJSON(t testing.TB, b []byte, n int) []byte {
	t.Helper()
	if len(b) > n {
		t.Fatalf("cannot pad %d bytes to %d", len(b), n)
	}
	return append(b, bytes.Repeat([]byte(" "), n-len(b))...)
}

func TestEnvelopeAndBodyRejections(t *testing.T) {
	w := newWorld(t)
	a := w.cityAdmin
	// A valid transaction to tamper with: a sector under the city.
	valid := func(t testing.TB) []byte { return a.tx(t, KindRegisterSector, M{"id": "1561301001.86"}) }
	n := func(t testing.TB) uint64 { return a.nextNonce(t) }

	tests := []struct {
		name string
		tx   func(t testing.TB) []byte
		code string
		msg  []string
	}{
		{"tampered body fails the signature", func(t testing.TB) []byte {
			return tamper(t, valid(t), func(e *Envelope) { e.Body = bytes.Replace(e.Body, []byte("86"), []byte("87"), 1) })
		}, CodeBadSignature, []string{a.pub, `chain "cityid-test"`}},
		{"tampered signature fails", func(t testing.TB) []byte {
			return tamper(t, valid(t), func(e *Envelope) { e.Signature[10] ^= 0x01 })
		}, CodeBadSignature, []string{"does not verify", a.pub}},
		{"signature by another key under the admin's pub key fails", func(t testing.TB) []byte {
			body, _ := NewBody(KindRegisterSector, n(t), M{"id": "1561301001.86"})
			e := Sign(testChainID, body, w.stranger.key)
			e.PubKey = a.pub
			return encodeTx(t, e)
		}, CodeBadSignature, []string{a.pub}},
		{"signature for another chain ID fails", func(t testing.TB) []byte {
			body, _ := NewBody(KindRegisterSector, n(t), M{"id": "1561301001.86"})
			return signBody(t, "cityid-other", body, a.key)
		}, CodeBadSignature, []string{`on chain "cityid-test"`}},
		{"signature of 63 bytes", func(t testing.TB) []byte {
			return tamper(t, valid(t), func(e *Envelope) { e.Signature = e.Signature[:63] })
		}, CodeBadSignature, []string{"signature is 63 bytes, want 64"}},
		{"signature missing", func(t testing.TB) []byte {
			return tamper(t, valid(t), func(e *Envelope) { e.Signature = nil })
		}, CodeBadSignature, []string{"signature is 0 bytes"}},
		{"pub key in uppercase hex", func(t testing.TB) []byte {
			return tamper(t, valid(t), func(e *Envelope) { e.PubKey = strings.ToUpper(e.PubKey) })
		}, CodeBadPubKey, []string{"must be lowercase hex", strings.ToUpper(a.pub)}},
		{"pub key of 62 hex digits", func(t testing.TB) []byte {
			return tamper(t, valid(t), func(e *Envelope) { e.PubKey = e.PubKey[:62] })
		}, CodeBadPubKey, []string{"is 62 characters, want 64 hex digits"}},
		{"pub key not hex", func(t testing.TB) []byte {
			return tamper(t, valid(t), func(e *Envelope) { e.PubKey = "zz" + e.PubKey[2:] })
		}, CodeBadPubKey, []string{"is not hex"}},
		{"pub key missing", func(t testing.TB) []byte {
			return tamper(t, valid(t), func(e *Envelope) { e.PubKey = "" })
		}, CodeBadPubKey, []string{"is 0 characters"}},
		{"empty body", func(t testing.TB) []byte {
			return tamper(t, valid(t), func(e *Envelope) { e.Body = nil })
		}, CodeMalformed, []string{"body is empty"}},
		{"envelope is not JSON", func(t testing.TB) []byte { return []byte(`{"body":`) }, CodeMalformed, []string{"envelope"}},
		{"envelope is an array", func(t testing.TB) []byte { return []byte(`[]`) }, CodeMalformed, []string{"envelope"}},
		{"envelope body is not base64", func(t testing.TB) []byte {
			return bytes.Replace(valid(t), []byte(`"body":"`), []byte(`"body":"!!`), 1)
		}, CodeMalformed, []string{"envelope", "base64"}},
		{"unknown field in the envelope", func(t testing.TB) []byte {
			return bytes.Replace(valid(t), []byte(`{`), []byte(`{"memo":"x",`), 1)
		}, CodeMalformed, []string{`unknown field "memo"`}},
		{"trailing junk after the envelope", func(t testing.TB) []byte {
			return append(valid(t), 'x')
		}, CodeMalformed, []string{"trailing data"}},
		{"second JSON value after the envelope", func(t testing.TB) []byte {
			return append(valid(t), []byte(`{}`)...)
		}, CodeMalformed, []string{"trailing data"}},
		{"a no-break space after the body", func(t testing.TB) []byte {
			// Unicode white space, but not JSON's: trailing data.
			return a.withBody(t, fmt.Sprintf(`{"kind":"register_sector","nonce":%d,"msg":{"id":"1561301001.86"}}`+"\u00a0", n(t)))
		}, CodeMalformed, []string{"body:", "trailing data"}},
		{"a form feed after the body", func(t testing.TB) []byte {
			return a.withBody(t, fmt.Sprintf(`{"kind":"register_sector","nonce":%d,"msg":{"id":"1561301001.86"}}`+"\f", n(t)))
		}, CodeMalformed, []string{"body:"}},
		{"body is not JSON", func(t testing.TB) []byte {
			return a.withBody(t, `kind=register_sector`)
		}, CodeMalformed, []string{"body:"}},
		{"trailing junk after the body", func(t testing.TB) []byte {
			return a.withBody(t, fmt.Sprintf(`{"kind":"register_sector","nonce":%d,"msg":{"id":"1561301001.86"}} x`, n(t)))
		}, CodeMalformed, []string{"body:", "trailing data"}},
		{"unknown field in the body", func(t testing.TB) []byte {
			return a.withBody(t, fmt.Sprintf(`{"kind":"register_sector","nonce":%d,"msg":{"id":"1561301001.86"},"fee":1}`, n(t)))
		}, CodeMalformed, []string{"body:", `unknown field "fee"`}},
		{"unknown field in the msg", func(t testing.TB) []byte {
			return a.tx(t, KindApplyCity, M{"country": "156", "city_num": "110100", "name": "北京市"})
		}, CodeMalformed, []string{"apply_city msg:", `unknown field "city_num"`}},
		{"msg missing", func(t testing.TB) []byte {
			return a.withBody(t, fmt.Sprintf(`{"kind":"register_sector","nonce":%d}`, n(t)))
		}, CodeMalformed, []string{"register_sector: msg is missing"}},
		{"msg is a string", func(t testing.TB) []byte {
			return a.withBody(t, fmt.Sprintf(`{"kind":"register_sector","nonce":%d,"msg":"1561301001.86"}`, n(t)))
		}, CodeMalformed, []string{"register_sector msg:"}},
		{"nonce is a string", func(t testing.TB) []byte {
			return a.withBody(t, `{"kind":"register_sector","nonce":"1","msg":{"id":"1561301001.86"}}`)
		}, CodeMalformed, []string{"body:"}},
		{"nonce is negative", func(t testing.TB) []byte {
			return a.withBody(t, `{"kind":"register_sector","nonce":-1,"msg":{"id":"1561301001.86"}}`)
		}, CodeMalformed, []string{"body:"}},
		{"nonce 0", func(t testing.TB) []byte {
			return a.txNonce(t, 0, KindRegisterSector, M{"id": "1561301001.86"})
		}, CodeInvalid, []string{"nonce is missing", "nonce 1"}},
		{"nonce absent", func(t testing.TB) []byte {
			return a.withBody(t, `{"kind":"register_sector","msg":{"id":"1561301001.86"}}`)
		}, CodeInvalid, []string{"nonce is missing"}},
		{"unknown kind", func(t testing.TB) []byte {
			return a.tx(t, "teleport", M{"id": w.city})
		}, CodeUnknownKind, []string{`kind "teleport" is not a transaction kind`}},
		{"kind in another case", func(t testing.TB) []byte {
			return a.tx(t, "Register_Sector", M{"id": "1561301001.86"})
		}, CodeUnknownKind, []string{`"Register_Sector"`}},
		{"kind missing", func(t testing.TB) []byte {
			return a.withBody(t, fmt.Sprintf(`{"nonce":%d,"msg":{}}`, n(t)))
		}, CodeUnknownKind, []string{`kind ""`}},
		{"nonce skips ahead", func(t testing.TB) []byte {
			return a.txNonce(t, n(t)+1, KindRegisterSector, M{"id": "1561301001.86"})
		}, CodeNonceGap, []string{fmt.Sprintf("nonce %d skips ahead; the account's next nonce is %d", n(t)+1, n(t))}},
		{"nonce far ahead", func(t testing.TB) []byte {
			return a.txNonce(t, 1<<63, KindRegisterSector, M{"id": "1561301001.86"})
		}, CodeNonceGap, []string{"nonce 9223372036854775808 skips ahead"}},
		{"nonce already used", func(t testing.TB) []byte {
			return a.txNonce(t, n(t)-1, KindRegisterSector, M{"id": "1561301001.86"})
		}, CodeNonceReplayed, []string{fmt.Sprintf("nonce %d is already used; the account's next nonce is %d", n(t)-1, n(t))}},
		{"transaction over MaxTxBytes", func(t testing.TB) []byte {
			return padJSON(t, valid(t), MaxTxBytes+1)
		}, CodeTooLarge, []string{fmt.Sprintf("transaction is %d bytes, more than the %d allowed", MaxTxBytes+1, MaxTxBytes)}},
		{"body over MaxBodyBytes", func(t testing.TB) []byte {
			body, _ := NewBody(KindRegisterSector, n(t), M{"id": "1561301001.86"})
			return signBody(t, testChainID, padJSON(t, body, MaxBodyBytes+1), a.key)
		}, CodeTooLarge, []string{fmt.Sprintf("body is %d bytes, more than the %d allowed", MaxBodyBytes+1, MaxBodyBytes)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w.h.expectRejected(t, tc.tx(t), tc.code, tc.msg...)
		})
	}

	t.Run("replayed transaction bytes are rejected", func(t *testing.T) {
		tx := valid(t)
		nonce := n(t)
		w.h.mustApply(t, tx)
		w.h.expectRejected(t, tx, CodeNonceReplayed,
			fmt.Sprintf("nonce %d is already used; the account's next nonce is %d", nonce, nonce+1))
	})
	t.Run("a new account's first nonce is 1", func(t *testing.T) {
		s := w.h.signer("newcomer")
		w.h.expectRejected(t, s.txNonce(t, 2, KindApplyCity, M{"country": "156", "city_number": "110100", "name": "北京市"}),
			CodeNonceGap, "next nonce is 1")
		w.h.mustApply(t, s.txNonce(t, 1, KindApplyCity, M{"country": "156", "city_number": "110100", "name": "北京市"}))
		if got := w.h.nonce(t, s.pub); got != 1 {
			t.Errorf("nonce after first transaction %d, want 1", got)
		}
	})
}

func TestSizeBoundsAreInclusive(t *testing.T) {
	t.Run("body of exactly MaxBodyBytes is accepted", func(t *testing.T) {
		w := newWorld(t)
		body, _ := NewBody(KindRegisterSector, w.cityAdmin.nextNonce(t), M{"id": "1561301001.86"})
		tx := signBody(t, testChainID, padJSON(t, body, MaxBodyBytes), w.cityAdmin.key)
		if got := len(decodeTx(t, tx).Body); got != MaxBodyBytes {
			t.Fatalf("body is %d bytes", got)
		}
		w.h.mustApply(t, tx)
	})
	t.Run("transaction of exactly MaxTxBytes is not refused for its size", func(t *testing.T) {
		// Only a padded envelope is this long: MaxBodyBytes binds first
		// (see the next case), so this checks the bound, not acceptance.
		w := newWorld(t)
		tx := padJSON(t, w.cityAdmin.tx(t, KindRegisterSector, M{"id": "1561301001.86"}), MaxTxBytes)
		if _, err := DecodeEnvelope(tx); err != nil && err.Code == CodeTooLarge {
			t.Errorf("DecodeEnvelope(%d bytes) = %v", len(tx), err)
		}
	})
	t.Run("a body at its bound fits a transaction", func(t *testing.T) {
		// base64 of MaxBodyBytes plus key, signature and field names must fit
		// MaxTxBytes, or the body bound could never be reached.
		overhead := len(`{"body":"","pub_key":"","signature":""}`) + 64 + base64.StdEncoding.EncodedLen(64)
		if need := base64.StdEncoding.EncodedLen(MaxBodyBytes) + overhead; need > MaxTxBytes {
			t.Errorf("a %d-byte body needs a %d-byte transaction, more than MaxTxBytes %d", MaxBodyBytes, need, MaxTxBytes)
		}
	})
}

func TestParsePubKey(t *testing.T) {
	k := pubHex(testKey("x"))
	if _, err := ParsePubKey(k); err != nil {
		t.Fatalf("valid key: %v", err)
	}
	for _, tc := range []struct{ name, in, msg string }{
		{"uppercase hex", strings.ToUpper(k), "must be lowercase hex"},
		{"mixed case hex", "A" + k[1:], "must be lowercase hex"},
		{"too short", k[:63], "is 63 characters"},
		{"too long", k + "0", "is 65 characters"},
		{"not hex", "g" + k[1:], "is not hex"},
		{"empty", "", "is 0 characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePubKey(tc.in)
			e := AsError(err)
			if e == nil || e.Code != CodeBadPubKey || !strings.Contains(e.Msg, tc.msg) {
				t.Errorf("ParsePubKey(%q) = %v, want %s containing %q", tc.in, err, CodeBadPubKey, tc.msg)
			}
		})
	}
}
