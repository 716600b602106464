package registry

import (
	"bytes"
	"compress/flate"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"

	"filippo.io/edwards25519"
	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// Envelope is the wire form of a transaction: the exact body bytes that were
// signed, the signer's Ed25519 public key and the signature. The body is
// carried as base64 so that every node verifies the very bytes that were
// signed, as DSSE does with its payload.
//
// BodyEncoding, when set, says Body is the body compressed: "deflate"
// (EncodingDeflate) is raw DEFLATE (RFC 1951). The signature is over the
// bytes that travel, the compressed ones, with the encoding bound into
// what is signed (PAE's type, as DSSE binds payloadType): nobody but the
// signer can re-encode a transaction, and a signature made for one
// encoding never verifies for another. Absent, Body is the body itself,
// its bytes and hash those of application version 3. PlainBody is the one
// way to read the body.
type Envelope struct {
	Body         []byte `json:"body" jsonschema_description:"the signed body, standard base64; when body_encoding is set, the body compressed with it"` // base64 in JSON
	BodyEncoding string `json:"body_encoding,omitempty" jsonschema_description:"absent: body is the JSON body itself; deflate: body is the JSON body compressed with raw DEFLATE (RFC 1951), and the signature is over the compressed bytes under the type CITYIDv1+deflate"`
	PubKey       string `json:"pub_key" jsonschema_description:"the signer's Ed25519 public key, 64 lowercase hex digits"`                // lowercase hex, 64 characters
	Signature    []byte `json:"signature" jsonschema_description:"Ed25519 signature of the pre-authentication encoding, standard base64"` // base64 in JSON, 64 bytes
}

// EncodingDeflate is the BodyEncoding of a body compressed with raw
// DEFLATE (RFC 1951, Go's compress/flate), the one encoding there is.
const EncodingDeflate = "deflate"

// DeflateLevel is the compress/flate level the client and the bench
// compress bodies with: the bench's register_batch of 5,000 community
// identifiers is 99,701 bytes signed at level 1 against 771,719 plain
// (0.13), 86,773 at level 4 (0.11) and 82,013 at 9 (0.11) for 1.4 and 30
// times level 1's time (TestDeflatedBatchBytes); any level inflates in
// about the same time.
const DeflateLevel = flate.BestSpeed

// paePrefix names this signature scheme and its version, so a CityID
// signature can never be taken for a signature of another protocol;
// paeDeflate is its type for a deflated body, so that no signature of a
// plain body verifies for compressed bytes, nor the other way round.
const (
	paePrefix  = "CITYIDv1"
	paeDeflate = "CITYIDv1+deflate"
)

// paeType is PAE's first word for a body of encoding ("" or
// EncodingDeflate; readEnvelope refuses any other).
func paeType(encoding string) string {
	if encoding == EncodingDeflate {
		return paeDeflate
	}
	return paePrefix
}

// PAE is the pre-authentication encoding that is signed, after DSSE:
//
//	"CITYIDv1" SP LEN(chainID) SP chainID SP LEN(body) SP body
//
// LEN is the decimal byte length. The lengths make the encoding injective,
// so no (chain ID, body) pair signs the same bytes as another; the chain ID
// keeps a transaction for one network from being replayed on another.
func PAE(chainID string, body []byte) []byte {
	return paeOf("", chainID, body)
}

// PAEDeflate is PAE of a body compressed with raw DEFLATE, whose type
// word is "CITYIDv1+deflate":
//
//	"CITYIDv1+deflate" SP LEN(chainID) SP chainID SP LEN(compressed) SP compressed
func PAEDeflate(chainID string, compressed []byte) []byte {
	return paeOf(EncodingDeflate, chainID, compressed)
}

// Signed returns what the envelope's signature signs on chainID: PAE or
// PAEDeflate of its body as it travels.
func (e Envelope) Signed(chainID string) []byte { return paeOf(e.BodyEncoding, chainID, e.Body) }

func paeOf(encoding, chainID string, body []byte) []byte {
	b := make([]byte, 0, paeHeadMax(chainID)+len(body))
	return append(appendPAEHead(b, encoding, chainID, len(body)), body...)
}

// appendPAEHead appends what PAE writes before a body of n bytes in
// encoding.
func appendPAEHead(b []byte, encoding, chainID string, n int) []byte {
	b = append(b, paeType(encoding)...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(len(chainID)), 10)
	b = append(b, ' ')
	b = append(b, chainID...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, ' ')
}

// paeHeadMax bounds the length of appendPAEHead's head for chainID.
func paeHeadMax(chainID string) int { return len(paeDeflate) + len(chainID) + 2*20 + 4 }

// Sign builds the envelope of body signed by key for chainID.
func Sign(chainID string, body []byte, key ed25519.PrivateKey) Envelope {
	pub := key.Public().(ed25519.PublicKey)
	return Envelope{
		Body:      body,
		PubKey:    hex.EncodeToString(pub),
		Signature: ed25519.Sign(key, PAE(chainID, body)),
	}
}

// SignDeflate builds the envelope of body compressed with raw DEFLATE at
// level (DeflateLevel unless measured otherwise), signed by key for
// chainID over the compressed bytes (PAEDeflate).
//
// A body that deflates past MaxInflateRatio, which a node would refuse, is
// signed plain instead (Sign): it is as valid, only larger.
func SignDeflate(chainID string, body []byte, level int, key ed25519.PrivateKey) (Envelope, error) {
	z, err := Deflate(body, level)
	if err != nil {
		return Envelope{}, err
	}
	if len(body) > MaxInflateRatio*len(z)+inflateSlack {
		return Sign(chainID, body, key), nil
	}
	pub := key.Public().(ed25519.PublicKey)
	return Envelope{
		Body:         z,
		BodyEncoding: EncodingDeflate,
		PubKey:       hex.EncodeToString(pub),
		Signature:    ed25519.Sign(key, PAEDeflate(chainID, z)),
	}, nil
}

// Deflate compresses body with raw DEFLATE at level.
func Deflate(body []byte, level int) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(body)/4 + 64)
	w, err := flate.NewWriter(&buf, level)
	if err != nil {
		return nil, fmt.Errorf("deflate body: %w", err)
	}
	if _, err := w.Write(body); err != nil {
		return nil, fmt.Errorf("deflate body: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("deflate body: %w", err)
	}
	return buf.Bytes(), nil
}

// Reasons of a compressed body's refusal, in Error.Reason, with
// Error.Position the 1-based byte of the compressed body where the
// inflater stood.
const (
	// ReasonInflatedTooLarge: the body inflates past MaxBatchBodyBytes
	// (too_large), a bomb or just too much; inflating stops there.
	ReasonInflatedTooLarge = "inflated_too_large"
	// ReasonBadDeflate: the body is no raw DEFLATE stream, or has bytes
	// after its final block (malformed).
	ReasonBadDeflate = "bad_deflate"
)

// PlainBody returns the body the envelope carries, inflated when it
// travels compressed: the one way every reader of a body (the state
// machine, the explorer, the API's transaction answers, the CLI) reads
// it. Inflating is bounded by MaxBatchBodyBytes, the largest body of any
// kind, and stops as soon as it would pass it; each kind's own bound
// applies to the inflated body after. The state machine calls it only
// once the signature has verified, so no one but a key's holder makes a
// node inflate anything in its name.
func (e Envelope) PlainBody() ([]byte, *Error) {
	switch e.BodyEncoding {
	case "":
		return e.Body, nil
	case EncodingDeflate:
		return inflate(e.Body, MaxBatchBodyBytes)
	}
	return nil, badEncoding(e.BodyEncoding)
}

func badEncoding(enc string) *Error {
	return errorf(CodeMalformed, "envelope: body_encoding %q is not one there is: absent (the body itself) or %q", clip(enc), EncodingDeflate)
}

// inflate reads the raw DEFLATE stream z, whole and nothing after it, into
// at most limit bytes, and at most MaxInflateRatio times z's bytes.
func inflate(z []byte, limit int) ([]byte, *Error) {
	if r := MaxInflateRatio*len(z) + inflateSlack; r < limit {
		limit = r
	}
	// A bytes.Reader is an io.ByteReader, which compress/flate reads
	// byte by byte without a buffer of its own: what it has consumed is
	// where the stream stands, for the position of a refusal and the
	// check that nothing follows the final block.
	src := bytes.NewReader(z)
	fr := flate.NewReader(src)
	defer fr.Close()
	at := func() int { return len(z) - src.Len() }
	// A first guess of the inflated size: batches of identifiers inflate
	// about tenfold; append grows it past that.
	out := make([]byte, 0, min(limit+1, 10*len(z)+512))
	for {
		if len(out) == cap(out) {
			out = append(out, 0)[:len(out)]
		}
		room := out[len(out):min(cap(out), limit+1)]
		n, err := fr.Read(room)
		out = out[:len(out)+n]
		if len(out) > limit {
			e := errorf(CodeTooLarge, "body inflates past the %d bytes allowed, the least of its kind's bound and %d times its %d compressed bytes (stopped at byte %d)",
				limit, MaxInflateRatio, len(z), at())
			e.Reason, e.Position = ReasonInflatedTooLarge, at()
			return nil, e
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			e := errorf(CodeMalformed, "body: not a raw DEFLATE stream: %s (at byte %d of %d)", clip(err.Error()), at(), len(z))
			e.Reason, e.Position = ReasonBadDeflate, at()
			return nil, e
		}
	}
	if src.Len() != 0 {
		e := errorf(CodeMalformed, "body: %d bytes follow the DEFLATE stream's final block, which ends at byte %d", src.Len(), at())
		e.Reason, e.Position = ReasonBadDeflate, at()+1
		return nil, e
	}
	return out, nil
}

// Encode returns the transaction bytes of the envelope.
func (e Envelope) Encode() ([]byte, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode envelope: %w", err)
	}
	return b, nil
}

// CanonicalEnvelope returns the transaction bytes of an envelope given in
// any valid JSON encoding — spaces, another key order, a trailing newline
// (Go's json.Encoder), escaped characters — as Envelope.Encode writes them:
// the one encoding the ledger and CometBFT's RPC see, whose hash is the
// transaction's. The signature signs the body's bytes, not the envelope's,
// so re-encoding the envelope keeps it valid. It refuses what is not an
// envelope (duplicate or unknown keys, trailing data) with the error
// DecodeEnvelope gives.
func CanonicalEnvelope(b []byte) ([]byte, *Error) {
	if _, ok := parseCanonical(b); ok {
		return b, nil
	}
	e, err := readAnyEnvelope(b)
	if err != nil {
		return nil, errorf(CodeMalformed, "envelope: %v", err)
	}
	tx, err := e.Encode()
	if err != nil {
		return nil, errorf(CodeMalformed, "envelope: %v", err)
	}
	if _, perr := DecodeEnvelope(tx); perr != nil {
		return nil, perr
	}
	return tx, nil
}

// readAnyEnvelope reads an envelope from any JSON encoding of it with the
// registry's strict decoder (decodeStrict's checks: its keys exactly,
// each once, nothing else and nothing after it), keys taken in any JSON
// spelling; body, pub_key and signature must be there.
func readAnyEnvelope(b []byte) (Envelope, error) {
	// Raw values, to tell a key that is there (null included, which the
	// envelope's own checks then refuse with their codes) from one that
	// is not.
	var in struct {
		Body         json.RawMessage `json:"body"`
		BodyEncoding json.RawMessage `json:"body_encoding"`
		PubKey       json.RawMessage `json:"pub_key"`
		Signature    json.RawMessage `json:"signature"`
	}
	var e Envelope
	if err := decodeAnySpelling(b, &in); err != nil {
		return e, err
	}
	for _, f := range []struct {
		key string
		raw json.RawMessage
		dst any
	}{{"body", in.Body, &e.Body}, {"body_encoding", in.BodyEncoding, &e.BodyEncoding}, {"pub_key", in.PubKey, &e.PubKey}, {"signature", in.Signature, &e.Signature}} {
		if f.raw == nil {
			if f.key == "body_encoding" {
				continue
			}
			return e, fmt.Errorf("no %s", f.key)
		}
		if err := json.Unmarshal(f.raw, f.dst); err != nil {
			return e, fmt.Errorf("%s: %s", f.key, clip(err.Error()))
		}
	}
	if in.BodyEncoding != nil && e.BodyEncoding == "" {
		// Encode would leave it out: refused rather than changed, as
		// an encoding no one asked for must not be guessed.
		return e, fmt.Errorf("body_encoding is empty: leave it out for a plain body")
	}
	return e, nil
}

// TxHash is the transaction's hash as CometBFT computes it (SHA-256 of the
// transaction bytes), in CometBFT's uppercase hex.
func TxHash(tx []byte) string { return hashText(sha256.Sum256(tx)) }

// hashText is a SHA-256 sum in CometBFT's uppercase hex.
func hashText(h [sha256.Size]byte) string {
	const digits = "0123456789ABCDEF"
	// Written here in uppercase rather than by hex and strings.ToUpper:
	// every transaction is hashed in CheckTx and in its block, and this
	// is one allocation instead of two.
	var out [2 * sha256.Size]byte
	for i, c := range h {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&0x0f]
	}
	return string(out[:])
}

// DecodeEnvelope parses transaction bytes into an envelope and checks its
// shape (sizes, key and signature lengths) without verifying the signature.
func DecodeEnvelope(tx []byte) (Envelope, *Error) {
	e, _, err := decodeEnvelope(tx, nil)
	return e, err
}

// decodeEnvelope is DecodeEnvelope; checked, when set, reports keys that
// passed ParsePubKey before, whose point check (a square root and a
// multiplication, a seventh of a transaction's preparation) is not
// repeated. It returns the key's bytes too.
func decodeEnvelope(tx []byte, checked func(pub string) bool) (Envelope, ed25519.PublicKey, *Error) {
	e, pub, _, err := decodeSigned(tx, checked, nil)
	return e, pub, err
}

// decodeSigned is decodeEnvelope that, given chainID, also returns what
// the signature signs, e.Signed(*chainID): made with the body when the
// envelope is read in its canonical form (parseCanonicalSigned), nil
// when it is not (the caller makes it).
func decodeSigned(tx []byte, checked func(pub string) bool, chainID *string) (Envelope, ed25519.PublicKey, []byte, *Error) {
	e, msg, err := readEnvelopeSigned(tx, chainID)
	if err != nil {
		return e, nil, nil, err
	}
	var pub ed25519.PublicKey
	if checked != nil && checked(e.PubKey) {
		pub, err = keyBytes(e.PubKey)
	} else {
		var perr error
		if pub, perr = ParsePubKey(e.PubKey); perr != nil {
			err = AsError(perr)
		}
	}
	if err != nil {
		return e, nil, nil, err
	}
	if len(e.Signature) != ed25519.SignatureSize {
		return e, nil, nil, errorf(CodeBadSignature, "signature is %d bytes, want %d", len(e.Signature), ed25519.SignatureSize)
	}
	return e, pub, msg, nil
}

// readEnvelope reads the envelope of tx and checks its encoding and
// sizes: decodeEnvelope's checks before the key's.
func readEnvelope(tx []byte) (Envelope, *Error) {
	e, _, err := readEnvelopeSigned(tx, nil)
	return e, err
}

// readEnvelopeSigned is readEnvelope that, given chainID, also returns
// e.Signed(*chainID) when the envelope is canonical
// (parseCanonicalSigned); nil otherwise.
func readEnvelopeSigned(tx []byte, chainID *string) (Envelope, []byte, *Error) {
	var e Envelope
	var msg []byte
	if len(tx) > MaxTxBytes {
		return e, nil, errorf(CodeTooLarge, "transaction is %d bytes, more than the %d allowed", len(tx), MaxTxBytes)
	}
	// One envelope, one encoding: otherwise anyone could re-encode a
	// signed transaction (reorder fields, add spaces) into other bytes with
	// another hash that still apply, and the signer, waiting for its own
	// hash, would be told its transaction failed. The canonical form is
	// read directly, the way nearly every transaction comes; anything else
	// goes through the JSON decoder, which says what is wrong with it.
	if fast, signed, ok := parseCanonicalSigned(tx, chainID); ok {
		e, msg = fast, signed
	} else {
		if err := decodeStrict(tx, &e); err != nil {
			return e, nil, errorf(CodeMalformed, "envelope: %v", err)
		}
		if canon, err := json.Marshal(e); err != nil || !bytes.Equal(canon, tx) {
			return e, nil, errorf(CodeMalformed, "envelope is not in its canonical encoding: {\"body\":…,(\"body_encoding\":…,)\"pub_key\":…,\"signature\":…} with no spaces, as Envelope.Encode writes it")
		}
	}
	if e.BodyEncoding != "" && e.BodyEncoding != EncodingDeflate {
		return e, nil, badEncoding(e.BodyEncoding)
	}
	if len(e.Body) == 0 {
		return e, nil, errorf(CodeMalformed, "envelope: body is empty")
	}
	if len(e.Body) > MaxBatchBodyBytes {
		return e, nil, errorf(CodeTooLarge, "body is %d bytes, more than the %d allowed", len(e.Body), MaxBatchBodyBytes)
	}
	return e, msg, nil
}

// parseCanonical reads an envelope in exactly the form json.Marshal writes
// it: {"body":"<base64>",("body_encoding":"deflate",)"pub_key":"<key>","signature":"<base64>"}, base64
// in its one canonical spelling, the key of letters and digits only (which
// JSON never escapes). It reports false for anything else, which the JSON
// decoder then judges.
func parseCanonical(tx []byte) (Envelope, bool) {
	e, _, ok := parseCanonicalSigned(tx, nil)
	return e, ok
}

// parseCanonicalSigned is parseCanonical that, given chainID, also
// returns e.Signed(*chainID), the message the signature signs: the
// body is decoded right behind PAE's head, and the signature behind it,
// in one allocation, where the body, its copy into the message and the
// signature took three (FuzzParseCanonical).
func parseCanonicalSigned(tx []byte, chainID *string) (Envelope, []byte, bool) {
	var e Envelope
	rest, ok := bytes.CutPrefix(tx, []byte(`{"body":"`))
	if !ok {
		return e, nil, false
	}
	body, rest, ok := bytes.Cut(rest, []byte(`","pub_key":"`))
	if !ok {
		return e, nil, false
	}
	// Base64 has no quote: a body followed by this is deflated.
	if b, ok := bytes.CutSuffix(body, []byte(`","body_encoding":"`+EncodingDeflate)); ok {
		body, e.BodyEncoding = b, EncodingDeflate
	}
	pub, rest, ok := bytes.Cut(rest, []byte(`","signature":"`))
	if !ok {
		return e, nil, false
	}
	sig, ok := bytes.CutSuffix(rest, []byte(`"}`))
	if !ok || !alnum(pub) {
		return e, nil, false
	}
	var msg []byte
	if chainID == nil {
		if e.Body, ok = canonicalBase64(body); !ok {
			return e, nil, false
		}
		if e.Signature, ok = canonicalBase64(sig); !ok {
			return e, nil, false
		}
	} else {
		// The body's length is in the head before it: it is the one
		// its base64 must decode to, or canonicalBase64 would refuse
		// it (canonicalBase64Into checks).
		n := len(body) / 4 * 3
		for i := 1; i <= 2 && i <= len(body) && body[len(body)-i] == '='; i++ {
			n--
		}
		dn, ds := base64.StdEncoding.DecodedLen(len(body)), base64.StdEncoding.DecodedLen(len(sig))
		buf := appendPAEHead(make([]byte, 0, paeHeadMax(*chainID)+dn+ds), e.BodyEncoding, *chainID, max(n, 0))
		h := len(buf)
		buf = buf[:h+dn+ds]
		got, ok := canonicalBase64Into(buf[h:h+dn], body)
		if !ok || got != n {
			return e, nil, false
		}
		msg = buf[: h+n : h+n]
		e.Body = msg[h:]
		if got, ok = canonicalBase64Into(buf[h+n:h+n+ds], sig); !ok {
			return e, nil, false
		}
		e.Signature = buf[h+n : h+n+got : h+n+got]
	}
	e.PubKey = string(pub)
	return e, msg, true
}

// canonicalBase64 decodes standard base64 that json.Marshal would write
// back the same: padded, no line breaks, zero padding bits.
func canonicalBase64(b []byte) ([]byte, bool) {
	out := make([]byte, base64.StdEncoding.DecodedLen(len(b)))
	n, ok := canonicalBase64Into(out, b)
	if !ok {
		return nil, false
	}
	return out[:n], true
}

// canonicalBase64Into is canonicalBase64 into out, of
// base64.StdEncoding.DecodedLen(len(b)) bytes; it returns how many it
// wrote.
func canonicalBase64Into(out, b []byte) (int, bool) {
	// The decoder refuses every byte outside the alphabet but the line
	// breaks it skips: refusing those two is refusing all, and two
	// IndexByte scans are a fraction of a test of each byte.
	if bytes.IndexByte(b, '\n') >= 0 || bytes.IndexByte(b, '\r') >= 0 {
		return 0, false
	}
	n, err := base64.StdEncoding.Strict().Decode(out, b)
	if err != nil {
		return 0, false
	}
	if base64.StdEncoding.EncodedLen(n) != len(b) {
		return 0, false
	}
	return n, true
}

func alnum(b []byte) bool {
	for _, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// Verify checks the envelope's key and its signature for chainID.
func (e Envelope) Verify(chainID string) *Error {
	if _, err := ParsePubKey(e.PubKey); err != nil {
		return AsError(err)
	}
	return e.verifySignature(chainID)
}

// verifySignature checks the signature of an envelope whose key
// DecodeEnvelope has checked (the point check costs a square root: once a
// transaction is enough).
func (e Envelope) verifySignature(chainID string) *Error {
	pub, err := keyBytes(e.PubKey)
	if err != nil {
		return err
	}
	if !VerifySignature(pub, e.Signed(chainID), e.Signature) {
		return badSignature(e.PubKey, chainID)
	}
	return nil
}

func badSignature(pub, chainID string) *Error {
	return errorf(CodeBadSignature, "signature does not verify for key %s on chain %q", pub, chainID)
}

// SignatureOptions is the rule every node checks a transaction's
// signature by: ZIP-215's, in github.com/oasisprotocol/curve25519-voi (as
// CometBFT's own crypto/ed25519 does). S must be below the group order (so
// S+L, a second signature of the same body, is refused); A and R are taken
// in any encoding that decodes to a point; the check is the cofactored
// equation [8][S]B = [8]R + [8][k]A. The cofactored equation is the one a
// batch of signatures can be checked by (a random linear combination of
// cofactorless equations does not cancel torsion), so a batch check and a
// check one by one reach the same verdict on every signature: the chain
// checks a block's signatures in batches, CheckTx one at a time.
// Small-order keys, whose signatures verify without a private key, are
// refused apart, in DecodeEnvelope (checkPoint), so the rule never sees
// one. Each call returns a new value: the rule cannot be changed.
func SignatureOptions() *voi.Options {
	return &voi.Options{Verify: &voi.VerifyOptions{
		AllowSmallOrderA:   true, // refused before, by checkPoint
		AllowSmallOrderR:   true,
		AllowNonCanonicalA: true,
		AllowNonCanonicalR: true,
	}}
}

// zip215 is SignatureOptions, made once; it is only read.
var zip215 = SignatureOptions()

// VerifySignature checks one Ed25519 signature of msg by pub under
// SignatureRule.
func VerifySignature(pub ed25519.PublicKey, msg, sig []byte) bool {
	if len(pub) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize {
		return false
	}
	return voi.VerifyWithOptions(voi.PublicKey(pub), msg, sig, zip215)
}

// ParsePubKey parses a public key in its text form, 64 lowercase hex
// digits, and refuses a key that is no point of the curve or has small
// order.
func ParsePubKey(s string) (ed25519.PublicKey, error) {
	b, err := keyBytes(s)
	if err != nil {
		return nil, err
	}
	if err := checkPoint(b); err != nil {
		return nil, errorf(CodeBadPubKey, "public key %s %s", s, err.Msg)
	}
	return b, nil
}

// keyBytes decodes a public key's text form without checking the point.
func keyBytes(s string) (ed25519.PublicKey, *Error) {
	if len(s) != 2*ed25519.PublicKeySize {
		return nil, errorf(CodeBadPubKey, "public key %q is %d characters, want %d hex digits", clip(s), len(s), 2*ed25519.PublicKeySize)
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, errorf(CodeBadPubKey, "public key %q is not hex: %v", clip(s), err)
	}
	if s != strings.ToLower(s) {
		return nil, errorf(CodeBadPubKey, "public key %q must be lowercase hex", clip(s))
	}
	return ed25519.PublicKey(b), nil
}

// checkPoint refuses a public key that is not a point of the curve, or one
// of small order. A small-order key (the identity among them) has
// signatures that verify for every message without its private key, (R =
// identity, S = 0) for one: anyone could sign as such an account, admin or
// validator. RFC 8032 verifiers differ on these keys; the registry takes
// none of them.
func checkPoint(b []byte) *Error {
	p, err := new(edwards25519.Point).SetBytes(b)
	if err != nil {
		return errorf(CodeBadPubKey, "is not a point of Ed25519's curve")
	}
	if new(edwards25519.Point).MultByCofactor(p).Equal(edwards25519.NewIdentityPoint()) == 1 {
		return errorf(CodeBadPubKey, "has small order: signatures by it verify without a private key")
	}
	return nil
}

// KeyText is the text form of a public key.
func KeyText(pub ed25519.PublicKey) string { return hex.EncodeToString(pub) }

// decodeStrict decodes one JSON value into v, refusing unknown fields and
// trailing data, so that two nodes can never read different meanings into
// the same bytes and a typo in a field name is an error, not a silent default.
func decodeStrict(b []byte, v any) error {
	if err := checkObjectKeys(b); err != nil {
		return err
	}
	return decodeKeysChecked(b, v)
}

// decodeAnySpelling is decodeStrict for JSON a client wrote in any of its
// encodings, keys spelt with escapes among them (checkObjectKeysAnySpelling):
// an envelope posted to the API, which CanonicalEnvelope re-encodes.
func decodeAnySpelling(b []byte, v any) error {
	if err := checkObjectKeysAnySpelling(b); err != nil {
		return err
	}
	return decodeKeysChecked(b, v)
}

// decodeKeysChecked is decodeStrict for a value inside one whose keys
// checkObjectKeys has passed: a body's msg, whose objects were all checked
// with the body's (one level deeper, so within the same bounds), and
// which a batch makes the bulk of the body.
func decodeKeysChecked(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("%s", clip(err.Error()))
	}
	// JSON's own whitespace only: bytes.TrimSpace would also pass a
	// trailing \v, \f, U+0085 or U+00A0, which no JSON parser skips.
	if rest := bytes.Trim(b[d.InputOffset():], " \t\r\n"); len(rest) != 0 {
		return fmt.Errorf("trailing data after the JSON value at byte %d", d.InputOffset()+1)
	}
	return nil
}

// decodeBodyJSON is decodeKeysChecked for a transaction's body and the
// messages of the write path. A register_batch, up to a megabyte of JSON,
// is read by its own strict token reader (batch_wire.go), which both
// engines call too. A body and a register run encoding/json/v2's engine,
// almost twice as fast as v1's, with unknown members refused. The input's keys have passed checkObjectKeys and its text
// checkBodyText (lowercase ASCII keys, none repeated, valid UTF-8, no
// escaped surrogates), and these types hold only strings, integers,
// booleans, a raw message, and slices, pointers and structs of them, which
// both engines read alike on such input (FuzzBodyDecoders). Whatever v2
// refuses is read again by v1 from zero, so an input's verdict, and a
// refusal's words, stay v1's. Other messages (times, among others) are
// read by v1 alone: they are few and small.
func decodeBodyJSON(b []byte, v any) error {
	switch v := v.(type) {
	case *RegisterBatch:
		return v.decode(b)
	case *Body, *Register:
	default:
		return decodeKeysChecked(b, v)
	}
	if jsonv2.Unmarshal(b, v, bodyV2Options) == nil {
		return nil
	}
	// v2 may have filled part of v before it stopped.
	reflect.ValueOf(v).Elem().SetZero()
	return decodeKeysChecked(b, v)
}

// bodyV2Options are the options decodeBodyJSON runs encoding/json/v2's
// engine with: unknown members refused, as v1's strict decoder refuses
// them; repeated names not looked for, since checkObjectKeys refused them
// before (v2's own check, a set of every object's names, was a tenth of a
// register's decode). It is only read.
var bodyV2Options = jsonv2.JoinOptions(jsonv2.RejectUnknownMembers(true), jsontext.AllowDuplicateNames(true))

// clip shortens text quoted in error messages so a huge input cannot make a
// huge error.
func clip(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	// Cut on a rune boundary.
	for i := max; i > 0; i-- {
		if s[i]&0xC0 != 0x80 {
			return s[:i] + "…"
		}
	}
	return ""
}

// Inspected is what a transaction says, decoded without checking its
// signature or rules: for showing a committed transaction.
type Inspected struct {
	Signer string          `json:"signer"`
	Kind   string          `json:"kind"`
	Nonce  uint64          `json:"nonce"`
	Msg    json.RawMessage `json:"msg"`
	// BodyBytes is the length of the plain (inflated) body: what a
	// block's budget counts (MaxBlockBodyBytes).
	BodyBytes int `json:"-"`
}

// Inspect decodes a transaction for display. A compressed body is
// inflated (PlainBody, bounded) without its signature checked: what is
// shown is what a block held, not a verdict on it.
func Inspect(tx []byte) (Inspected, *Error) {
	env, err := DecodeEnvelope(tx)
	if err != nil {
		return Inspected{}, err
	}
	return inspect(env)
}

// InspectWithin is Inspect for chainID, for a reader that counts a
// proposal's plain bodies against the block's budget (MaxBlockBodyBytes)
// before anyone has checked them: a compressed body is inflated only once
// its signature verifies and never past limit (nor MaxBatchBodyBytes), so
// what a proposal makes a validator inflate is bounded by the budget,
// however many transactions it holds; one that would pass it is refused
// as too_large, reason inflated_too_large. A plain body is returned
// whatever its length.
func InspectWithin(chainID string, tx []byte, limit int) (Inspected, *Error) {
	env, err := DecodeEnvelope(tx)
	if err != nil {
		return Inspected{}, err
	}
	var body []byte
	switch env.BodyEncoding {
	case "":
		body = env.Body // its length is known without work: the caller compares
	case EncodingDeflate:
		if err := env.verifySignature(chainID); err != nil {
			return Inspected{}, err
		}
		if body, err = inflate(env.Body, min(limit, MaxBatchBodyBytes)); err != nil {
			return Inspected{}, err
		}
	default:
		return Inspected{}, badEncoding(env.BodyEncoding)
	}
	return inspectBody(env, body)
}

func inspect(env Envelope) (Inspected, *Error) {
	body, err := env.PlainBody()
	if err != nil {
		return Inspected{}, err
	}
	return inspectBody(env, body)
}

// inspectBody reads a body's kind, nonce and message. A body that is no
// JSON object is refused, with BodyBytes still its length: what it cost
// to read counts against a block's budget whether or not it decodes.
func inspectBody(env Envelope, body []byte) (Inspected, *Error) {
	var b Body
	if err := json.Unmarshal(body, &b); err != nil {
		return Inspected{BodyBytes: len(body)}, errorf(CodeMalformed, "body: %s", clip(err.Error()))
	}
	return Inspected{Signer: env.PubKey, Kind: b.Kind, Nonce: b.Nonce, Msg: b.Msg, BodyBytes: len(body)}, nil
}
