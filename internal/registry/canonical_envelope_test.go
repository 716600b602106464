package registry

import (
	"bytes"
	"encoding/json"
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
