package hostile

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"math/big"
	"strings"

	"github.com/cityid/cityid/internal/registry"
)

// How the rows make what a careful client never would. Each helper takes
// a well-formed transaction apart at one place and leaves the rest valid,
// so that the refusal a row expects is about that place alone.

// forged is a transaction body that the honest bob signs: the register
// that most rows about envelopes and bodies bend.
func (w *world) forgedBody() []byte {
	return w.body(w.bob, registry.KindRegister, registry.Register{ID: unit + "/forged", Values: text("forged")})
}

// envelope is bob's forged body, signed and not yet encoded.
func (w *world) envelope() registry.Envelope {
	return registry.Sign(w.chainID, w.forgedBody(), w.bob.key)
}

// spelled writes an envelope's three fields in the JSON form given, with
// the body and signature in base64.
func spelled(format string, e registry.Envelope) []byte {
	return fmt.Appendf(nil, format, base64.StdEncoding.EncodeToString(e.Body), e.PubKey, base64.StdEncoding.EncodeToString(e.Signature))
}

// edit signs, as a, the body of kind and msg after change has rewritten
// its bytes: the signature is good, the body is what the row makes it.
func (w *world) edit(a *actor, kind string, msg any, change func(body []byte) []byte) []byte {
	w.t.Helper()
	body := w.body(a, kind, msg)
	changed := change(bytes.Clone(body))
	if bytes.Equal(changed, body) {
		w.t.Fatalf("the edit left the %s body as it was: %s", kind, body)
	}
	return w.signBody(a, changed)
}

// replace returns an edit that replaces the first old with new.
func replace(old, new string) func([]byte) []byte {
	return func(b []byte) []byte { return bytes.Replace(b, []byte(old), []byte(new), 1) }
}

// oddBody is bob's forged body grown until its length is not a multiple
// of three, so that its base64 ends in padding.
func (w *world) oddBody() []byte {
	for local := "forged"; ; local += "x" {
		b := w.body(w.bob, registry.KindRegister, registry.Register{ID: unit + "/" + local, Values: text("forged")})
		if len(b)%3 != 0 {
			return b
		}
	}
}

// paddingBits spells the envelope's body in base64 whose unused bits
// before the padding are not zero: a decoder that does not insist on
// zeros reads the same bytes from a second spelling.
func paddingBits(e registry.Envelope) []byte {
	b64 := base64.StdEncoding.EncodeToString(e.Body)
	last := strings.TrimRight(b64, "=")
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	i := strings.IndexByte(alphabet, last[len(last)-1])
	odd := last[:len(last)-1] + string(alphabet[i+1]) + b64[len(last):]
	return fmt.Appendf(nil, `{"body":"%s","pub_key":"%s","signature":"%s"}`, odd, e.PubKey, base64.StdEncoding.EncodeToString(e.Signature))
}

// order is the order L of Ed25519's prime subgroup.
var order, _ = new(big.Int).SetString("7237005577332262213973186563042994240857116359379907606001950938285454250989", 10)

// plusL returns the signature with L added to its S: the same point
// equation holds, so a verifier that does not insist on S < L accepts a
// second signature of the same body.
func plusL(sig []byte) []byte {
	le := func(b []byte) []byte { // little-endian <-> big-endian
		out := bytes.Clone(b)
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
		return out
	}
	s := new(big.Int).SetBytes(le(sig[32:]))
	s.Add(s, order)
	out := bytes.Clone(sig)
	copy(out[32:], le(s.FillBytes(make([]byte, 32))))
	return out
}

// identity is the identity point of Ed25519, a key of small order.
const identity = "0100000000000000000000000000000000000000000000000000000000000000"

// identityForgery is a transaction "signed" by the identity key: the
// signature (R = identity, S = 0) verifies for every message under a
// verifier that lets the key through.
func (w *world) identityForgery() []byte {
	body, err := registry.NewBody(registry.KindRegister, 1, registry.Register{ID: unit + "/forged", Values: text("forged")})
	if err != nil {
		w.t.Fatal(err)
	}
	sig := make([]byte, ed25519.SignatureSize)
	sig[0] = 1
	return encode(w.t, registry.Envelope{Body: body, PubKey: identity, Signature: sig})
}

// sized returns bob's register_batch body padded with one long TEXT value
// to exactly n bytes.
func (w *world) sized(n int) []byte {
	w.t.Helper()
	body := w.body(w.bob, registry.KindRegisterBatch, registry.RegisterBatch{Entries: []registry.BatchEntry{
		{ID: unit + "/padded", Values: []registry.Value{{Type: registry.TypeText, Data: "#"}}}}})
	if len(body) > n {
		w.t.Fatalf("a batch body of %d bytes cannot be padded to %d", len(body), n)
	}
	return bytes.Replace(body, []byte(`"#"`), []byte(`"`+strings.Repeat("#", n-len(body)+1)+`"`), 1)
}

// batch is a register_batch of n objects under node.
func batch(node string, n int) registry.RegisterBatch {
	b := registry.RegisterBatch{Entries: make([]registry.BatchEntry, n)}
	for i := range b.Entries {
		b.Entries[i] = registry.BatchEntry{ID: fmt.Sprintf("%s/b-%d", node, i+1), Values: []registry.Value{}}
	}
	return b
}

// nested is n JSON arrays, one inside the other.
func nested(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }

// text is one TEXT value.
func text(s string) []registry.Value { return []registry.Value{{Type: registry.TypeText, Data: s}} }

// key is a fresh, valid public key, in hex.
func key() string { return newActor("fresh").pub }

// keys is n fresh, valid public keys.
func keys(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = key()
	}
	return out
}
