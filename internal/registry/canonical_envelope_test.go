package registry

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// The fast reading of a canonical envelope accepts only what the JSON
// decoder reads the same way and finds canonical.
func FuzzParseCanonical(f *testing.F) {
	h := newHarness(f, 1, 1)
	tx := h.signer("a").tx(f, KindRegisterSector, M{"id": "1561301001.85"})
	f.Add(tx)
	f.Add(bytes.Replace(tx, []byte(`"}`), []byte(`" }`), 1))
	f.Add(bytes.Replace(tx, []byte(`","pub_key"`), []byte(`","body_encoding":"deflate","pub_key"`), 1))
	f.Add(bytes.Replace(tx, []byte(`","pub_key"`), []byte(`","body_encoding":"gzip","pub_key"`), 1))
	f.Add(bytes.Replace(tx, []byte(`","pub_key"`), []byte(`","body_encoding":"","pub_key"`), 1))
	f.Add([]byte(`{"body":"QQ==","body_encoding":"deflate","pub_key":"ab","signature":"QQ=="}`))
	f.Add([]byte(`{"body":"","pub_key":"","signature":""}`))
	f.Add([]byte(`{"body":"QQ==","pub_key":"ab","signature":"QR=="}`))
	f.Add([]byte(`{"body":"QQ\u003d\u003d","pub_key":"ab","signature":"QQ=="}`))
	f.Add([]byte("{\"body\":\"QQ\n==\",\"pub_key\":\"ab\",\"signature\":\"Q\rQ==\"}"))
	f.Add([]byte(`{"body":"Q Q==","pub_key":"ab","signature":"QQ-_"}`))
	f.Add([]byte(`{"body":"=","pub_key":"ab","signature":""}`))
	f.Add([]byte(`{"body":"QQ=","pub_key":"ab","signature":"QUI="}`))
	f.Add([]byte(`{"body":"QUJD","pub_key":"ab","signature":"QQ=="}`))
	f.Add([]byte(`{"body":"QR==","pub_key":"ab","signature":"QQ=="}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		fast, ok := parseCanonical(b)
		// With the message the signature signs, the same verdict and
		// envelope, and the message PAE makes.
		chainID := "cityid-fuzz"
		signed, msg, signedOK := parseCanonicalSigned(b, &chainID)
		if signedOK != ok {
			t.Fatalf("parseCanonical(%q) says %v, parseCanonicalSigned %v", b, ok, signedOK)
		}
		if !ok {
			return
		}
		if !bytes.Equal(signed.Body, fast.Body) || signed.BodyEncoding != fast.BodyEncoding || signed.PubKey != fast.PubKey || !bytes.Equal(signed.Signature, fast.Signature) {
			t.Fatalf("parseCanonical and parseCanonicalSigned read %q differently", b)
		}
		if want := fast.Signed(chainID); !bytes.Equal(msg, want) {
			t.Fatalf("parseCanonicalSigned(%q) signs %q, want %q", b, msg, want)
		}
		var slow Envelope
		if err := decodeStrict(b, &slow); err != nil {
			t.Fatalf("fast path took %q, the decoder refuses it: %v", b, err)
		}
		canon, err := json.Marshal(slow)
		if err != nil || !bytes.Equal(canon, b) {
			t.Fatalf("fast path took %q, which is not canonical (%s)", b, canon)
		}
		if !bytes.Equal(fast.Body, slow.Body) || fast.BodyEncoding != slow.BodyEncoding || fast.PubKey != slow.PubKey || !bytes.Equal(fast.Signature, slow.Signature) {
			t.Fatalf("fast and slow readings of %q differ", b)
		}
	})
}

// An envelope posted in any JSON encoding is read by the registry's one
// strict decoder: what it refuses is refused with decodeStrict's own
// words (the same bounds, the same key rules), a key spelt with escapes
// as decodeStrict would refuse it spelt plainly; and an escaped spelling
// of a valid key is taken.
func TestCanonicalEnvelopeDecodesStrictly(t *testing.T) {
	h := newHarness(t, 1, 1)
	tx := string(h.signer("a").tx(t, KindRegisterSector, M{"id": "1561301001.85"}))
	deep := strings.Repeat("[", 20) + strings.Repeat("]", 20)
	for _, c := range []struct{ name, in, plain string }{
		{"another case", strings.Replace(tx, `"pub_key"`, `"PUB_KEY"`, 1), ""},
		{"unknown key", strings.Replace(tx, `"pub_key"`, `"extra":1,"pub_key"`, 1), ""},
		{"key twice", strings.Replace(tx, `{`, `{"body":"AA==",`, 1), ""},
		{"nested too deep", strings.Replace(tx, `"pub_key"`, `"extra":`+deep+`,"pub_key"`, 1), ""},
		{"trailing data", tx + " {}", ""},
		{"escaped, another case", strings.Replace(tx, `"pub_key"`, `"PUB\u005fKEY"`, 1), strings.Replace(tx, `"pub_key"`, `"PUB_KEY"`, 1)},
		{"escaped, twice", strings.TrimSuffix(tx, "}") + `,"b\u006fdy":"AA=="}`, strings.TrimSuffix(tx, "}") + `,"body":"AA=="}`},
	} {
		plain := c.plain
		if plain == "" {
			plain = c.in
		}
		err := decodeStrict([]byte(plain), &Envelope{})
		if err == nil {
			t.Fatalf("%s: decodeStrict takes %s", c.name, plain)
		}
		_, cerr := CanonicalEnvelope([]byte(c.in))
		if want := "envelope: " + err.Error(); cerr == nil || cerr.Code != CodeMalformed || cerr.Msg != want {
			t.Errorf("%s: CanonicalEnvelope refuses with %v, want malformed: %s", c.name, cerr, want)
		}
	}
	// A key given as null is there: the envelope's own checks refuse it,
	// with their code.
	e := decodeTx(t, []byte(tx))
	nullSig := fmt.Sprintf(`{"body":"%s","pub_key":"%s","signature":null}`, base64.StdEncoding.EncodeToString(e.Body), e.PubKey)
	if _, cerr := CanonicalEnvelope([]byte(nullSig)); cerr == nil || cerr.Code != CodeBadSignature {
		t.Errorf("CanonicalEnvelope of a null signature: %v, want bad_signature", cerr)
	}
	escaped := strings.Replace(tx, `"signature"`, `"sign\u0061ture"`, 1)
	if canon, cerr := CanonicalEnvelope([]byte(escaped)); cerr != nil || string(canon) != tx {
		t.Errorf("CanonicalEnvelope(%s) = %s, %v; want %s", escaped, canon, cerr, tx)
	}
}
