package hostile

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cityid/cityid/internal/registry"
)

// row is one hostile transaction and the registry's answer to it.
type row struct {
	name  string // short, and the subtest's name
	sends string // what the transaction is
	code  string // the refusal, as every interface shows it
	why   string // why the registry refuses it
	on    stage  // what refuses it, and so whether a block would use its nonce

	// The transaction: msg of kind, signed by `by` with its next nonce;
	// or, when the row forges what no careful client would sign, the
	// bytes raw makes (`by` then names the actor whose body or key it
	// bends, nil for a key that has no account).
	by   *actor
	kind string
	msg  any
	raw  func(w *world) []byte
	// rpcOnly: sent only through CometBFT's RPC, which takes transaction
	// bytes as they are. The HTTP API takes an envelope in any JSON
	// encoding and submits its canonical one (TestAnyEnvelopeEncoding in
	// internal/api): there such a spelling is not refused but corrected.
	rpcOnly bool
	// reason, when set, is the problem's "reason", which comes with a
	// "position" (a deflated body's refusal says why and where).
	reason string
}

// stage is what refuses a transaction.
type stage int

const (
	// onContent: the transaction by itself (its envelope, signature, key,
	// body or message), before its nonce is checked: it never uses its
	// nonce, in the mempool or in a block.
	onContent stage = iota
	// onNonce: its nonce, replayed or skipping ahead: it uses no nonce.
	onNonce
	// onState: the state, after its nonce check (rights, existence,
	// version, status, expiry): CheckTx refuses it before any block; a
	// block that held it anyway would use its nonce and write nothing
	// else.
	onState
)

func (s stage) String() string { return [...]string{"content", "nonce", "state"}[s] }

// What the registry refuses, and why. Every row is sent to a real node
// through POST /v1/txs and CometBFT's broadcast_tx_sync (hostile_test.go
// says what is checked). The world it is sent against is in world_test.go:
// the city 1561301001 (admin alice), its sectors .85 and .86, the active
// unit .85.1 and the deactivated unit .85.2 (admin bob), the object
// school-0042 and the dataset exam-2026 under .85.1 with a live grant to
// .86, carol's pending application 2 for Tangshan, a 1-of-1 authority
// (the operator) and a stranger with no rights.
//
// Four refusal codes are not rows, each for a reason (TestHostileCatalogue
// checks that every other code is some row's):
//   - account_busy, an account with more than chain.MaxPendingTxs (1,000)
//     transactions waiting in the mempool: it takes 1,001 transactions
//     queued between two blocks, which over the wire races the next block
//     (one every 200 ms under load); internal/chain TestCheckTxAccountShare
//     sends them to CheckTx directly;
//   - already_voted, a member voting again the same way: with this
//     world's 1-of-1 authority every vote decides (internal/registry
//     TestVotesMeanWhatTheySay has an authority of three);
//   - exhausted, no unit or city number left: it takes 999,999 of them
//     (internal/registry);
//   - internal: a store that fails, never caused by input.
func catalogue(w *world) []row {
	const (
		malformed  = registry.CodeMalformed
		tooLarge   = registry.CodeTooLarge
		badSig     = registry.CodeBadSignature
		badKey     = registry.CodeBadPubKey
		invalid    = registry.CodeInvalid
		badValue   = registry.CodeBadValue
		denied     = registry.CodeUnauthorized
		notFound   = registry.CodeNotFound
		inactive   = registry.CodeInactive
		nonCanon   = "one transaction has one encoding: another spelling would be another hash that applies the same"
		twoReading = "a key twice, or in another case, could be read one way by the chain and another by a wallet"
	)
	bob, op, st := w.bob, w.op, w.stranger
	wire := func(msg string) json.RawMessage { return json.RawMessage(msg) }
	month := time.Now().AddDate(0, 0, 30).UTC().Truncate(time.Second)
	return []row{
		// Envelopes: one spelling, whole and canonical.
		{name: "envelope with spaces", sends: `{"body": "…", …}: a space after a colon`, code: malformed, why: nonCanon, by: bob, rpcOnly: true,
			raw: func(w *world) []byte { return spelled(`{"body": "%s","pub_key":"%s","signature":"%s"}`, w.envelope()) }},
		{name: "envelope keys reordered", sends: `{"pub_key":…,"body":…,"signature":…}`, code: malformed, why: nonCanon, by: bob, rpcOnly: true,
			raw: func(w *world) []byte {
				e := w.envelope()
				return fmt.Appendf(nil, `{"pub_key":"%s","body":"%s","signature":"%s"}`, e.PubKey, base64.StdEncoding.EncodeToString(e.Body), base64.StdEncoding.EncodeToString(e.Signature))
			}},
		{name: "envelope with a trailing newline", sends: "a valid envelope and \\n", code: malformed, why: nonCanon, by: bob, rpcOnly: true,
			raw: func(w *world) []byte { return append(encode(w.t, w.envelope()), '\n') }},
		{name: "envelope base64 with padding bits", sends: "the body's base64 with non-zero bits before its '='", code: malformed, why: nonCanon, by: bob, rpcOnly: true,
			raw: func(w *world) []byte {
				return paddingBits(registry.Sign(w.chainID, w.oddBody(), w.bob.key))
			}},
		{name: "envelope base64 with a line break", sends: `the body's base64 with "\n" in it`, code: malformed, why: nonCanon, by: bob, rpcOnly: true,
			raw: func(w *world) []byte {
				e := w.envelope()
				b64 := base64.StdEncoding.EncodeToString(e.Body)
				return fmt.Appendf(nil, `{"body":"%s\n%s","pub_key":"%s","signature":"%s"}`, b64[:8], b64[8:], e.PubKey, base64.StdEncoding.EncodeToString(e.Signature))
			}},
		{name: "envelope duplicate key", sends: `{"body":A,"body":B,…}`, code: malformed, why: twoReading, by: bob,
			raw: func(w *world) []byte {
				return spelled(`{"body":"%s","body":"%[1]s","pub_key":"%s","signature":"%s"}`, w.envelope())
			}},
		{name: "envelope unknown field", sends: `a valid envelope with "memo":"x"`, code: malformed, why: "an unknown field is a typo or a meaning the chain does not read: refused, never ignored", by: bob,
			raw: func(w *world) []byte {
				return spelled(`{"body":"%s","pub_key":"%s","signature":"%s","memo":"x"}`, w.envelope())
			}},
		{name: "envelope empty body", sends: `"body":""`, code: malformed, why: "there is nothing to apply", by: bob,
			raw: func(w *world) []byte {
				e := w.envelope()
				e.Body = []byte{}
				return encode(w.t, e)
			}},
		{name: "envelope without signature", sends: `"signature":null`, code: badSig, why: "an Ed25519 signature is 64 bytes", by: bob,
			raw: func(w *world) []byte {
				e := w.envelope()
				e.Signature = nil
				return encode(w.t, e)
			}},
		{name: "envelope not JSON", sends: "hello", code: malformed, why: "a transaction is a JSON envelope", raw: func(*world) []byte { return []byte("hello") }},
		{name: "envelope nested 100000 deep", sends: "[[[…]]], 100,000 arrays deep", code: malformed, why: "JSON nests 16 deep at most, so no decoder recurses without bound", raw: func(*world) []byte { return []byte(nested(100000)) }},

		// Keys and signatures: only the key's holder signs, once, for this chain.
		{name: "key in upper-case hex", sends: "bob's key in upper-case hex", code: badKey, why: "a key has one spelling, lowercase hex, or one account would have two", by: bob,
			raw: func(w *world) []byte {
				e := w.envelope()
				e.PubKey = strings.ToUpper(e.PubKey)
				return encode(w.t, e)
			}},
		{name: "key not on the curve", sends: "key 02 00…00, no point of Ed25519", code: badKey, why: "no one holds a private key for it", by: bob,
			raw: func(w *world) []byte {
				e := w.envelope()
				e.PubKey = "02" + strings.Repeat("0", 62)
				return encode(w.t, e)
			}},
		{name: "small-order key as signer", sends: "key 01 00…00 (the identity) with the signature R = identity, S = 0", code: badKey, why: "that signature verifies for every message: anyone could sign as the key",
			raw: func(w *world) []byte { return w.identityForgery() }},
		{name: "signature S+L", sends: "bob's signature with the group order L added to S", code: badSig, why: "a second signature of the same body would be a second hash of one transaction", by: bob,
			raw: func(w *world) []byte {
				e := w.envelope()
				e.Signature = plusL(e.Signature)
				return encode(w.t, e)
			}},
		{name: "signature bit flipped", sends: "bob's signature with one bit flipped", code: badSig, why: "it does not verify", by: bob,
			raw: func(w *world) []byte {
				e := w.envelope()
				e.Signature[10] ^= 0x04
				return encode(w.t, e)
			}},
		{name: "signature 63 bytes", sends: "bob's signature less its last byte", code: badSig, why: "an Ed25519 signature is 64 bytes", by: bob,
			raw: func(w *world) []byte {
				e := w.envelope()
				e.Signature = e.Signature[:63]
				return encode(w.t, e)
			}},
		{name: "signature of another body", sends: "bob's signature over one body sent with another", code: badSig, why: "the signature is over the body's exact bytes", by: bob,
			raw: func(w *world) []byte {
				e := w.envelope()
				e.Body = bytes.Replace(e.Body, []byte("forged"), []byte("forgex"), 1)
				return encode(w.t, e)
			}},
		{name: "signature by another key", sends: "bob's body and signature under the stranger's key", code: badSig, why: "a signature is its key's", by: st,
			raw: func(w *world) []byte {
				e := w.envelope()
				e.PubKey = w.stranger.pub
				return encode(w.t, e)
			}},
		{name: "foreign chain ID", sends: "bob's body signed for chain cityid-local-other", code: badSig, why: "the signature covers the chain ID: a transaction for one network is refused by every other", by: bob,
			raw: func(w *world) []byte {
				return encode(w.t, registry.Sign("cityid-local-other", w.forgedBody(), w.bob.key))
			}},
		{name: "signature without PAE", sends: "bob's signature over the bare body, not its pre-authentication encoding", code: badSig, why: "the signed bytes name the scheme and the chain (CITYIDv1 PAE)", by: bob,
			raw: func(w *world) []byte {
				e := w.envelope()
				e.Signature = ed25519.Sign(w.bob.key, e.Body)
				return encode(w.t, e)
			}},

		// Bodies: one reading, within bounds.
		{name: "body duplicate key", sends: `{"kind":"deactivate","kind":"register",…}`, code: malformed, why: twoReading, by: bob,
			raw: func(w *world) []byte {
				return w.edit(w.bob, registry.KindRegister, registry.Register{ID: unit + "/x", Values: text("x")}, replace(`{"kind":`, `{"kind":"deactivate","kind":`))
			}},
		{name: "body key in upper case", sends: `"NONCE" for "nonce"`, code: malformed, why: twoReading, by: bob,
			raw: func(w *world) []byte {
				return w.edit(w.bob, registry.KindRegister, registry.Register{ID: unit + "/x", Values: text("x")}, replace(`"nonce"`, `"NONCE"`))
			}},
		{name: "body unknown field", sends: `a body with "fee":1`, code: malformed, why: "an unknown field is refused, never ignored", by: bob,
			raw: func(w *world) []byte {
				return w.edit(w.bob, registry.KindRegister, registry.Register{ID: unit + "/x", Values: text("x")}, replace(`{"kind"`, `{"fee":1,"kind"`))
			}},
		{name: "msg unknown field", sends: `a register with "owner":"…"`, code: malformed, why: "an unknown field is refused, never ignored", by: bob,
			raw: func(w *world) []byte {
				return w.edit(w.bob, registry.KindRegister, registry.Register{ID: unit + "/x", Values: text("x")}, replace(`{"id"`, `{"owner":"me","id"`))
			}},
		{name: "body trailing data", sends: "a body followed by {}", code: malformed, why: "a body is one JSON value", by: bob,
			raw: func(w *world) []byte {
				return w.edit(w.bob, registry.KindRegister, registry.Register{ID: unit + "/x", Values: text("x")}, func(b []byte) []byte { return append(b, "{}"...) })
			}},
		{name: "body with a byte-order mark", sends: "EF BB BF before the body's JSON", code: malformed, why: "a body is JSON and nothing else, byte for byte", by: bob,
			raw: func(w *world) []byte {
				return w.edit(w.bob, registry.KindRegister, registry.Register{ID: unit + "/x", Values: text("x")}, func(b []byte) []byte { return append([]byte("\ufeff"), b...) })
			}},
		{name: "body nested 20 deep", sends: "a register whose values are 20 arrays deep", code: malformed, why: "JSON nests 16 deep at most", by: bob,
			raw: func(w *world) []byte {
				return w.edit(w.bob, registry.KindRegister, registry.Register{ID: unit + "/x", Values: text("x")}, func(b []byte) []byte {
					i := bytes.Index(b, []byte(`"values":`)) + len(`"values":`)
					j := bytes.LastIndexByte(b, ']') + 1
					return slices.Concat(b[:i], []byte(nested(20)), b[j:])
				})
			}},
		{name: "body invalid UTF-8", sends: "bytes FF FE inside a TEXT value of the signed body", code: malformed, why: "JSON decoding would turn them into U+FFFD: the state would differ from what was signed", by: bob,
			raw: func(w *world) []byte {
				return w.edit(w.bob, registry.KindRegister, registry.Register{ID: unit + "/x", Values: text("AB")}, replace("AB", "\xff\xfe"))
			}},
		{name: "body lone surrogate", sends: `\udc00 in a TEXT value`, code: malformed, why: "a lone surrogate decodes to U+FFFD: the state would differ from what was signed", by: bob,
			raw: func(w *world) []byte {
				return w.edit(w.bob, registry.KindRegister, registry.Register{ID: unit + "/x", Values: text("AB")}, replace("AB", `\udc00`))
			}},
		{name: "body surrogate pair", sends: `\ud83d\ude00 in a TEXT value`, code: malformed, why: "a character has one spelling in a body, itself in UTF-8", by: bob,
			raw: func(w *world) []byte {
				return w.edit(w.bob, registry.KindRegister, registry.Register{ID: unit + "/x", Values: text("AB")}, replace("AB", `\ud83d\ude00`))
			}},
		{name: "body without msg", sends: `{"kind":"register","nonce":n}`, code: malformed, why: "a transaction says what it does", by: bob,
			raw: func(w *world) []byte {
				return w.signBody(w.bob, fmt.Appendf(nil, `{"kind":"register","nonce":%d}`, w.nextNonce(w.bob)))
			}},
		{name: "unknown kind", sends: `kind "delete"`, code: registry.CodeUnknownKind, why: "no transaction deletes: an identifier is never deleted, its history stays resolvable", by: bob,
			raw: func(w *world) []byte { return w.sign(w.bob, "delete", registry.SetStatus{ID: object}) }},
		{name: "kind in another case", sends: `kind "Register"`, code: registry.CodeUnknownKind, why: "a kind has one spelling", by: bob,
			raw: func(w *world) []byte {
				return w.sign(w.bob, "Register", registry.Register{ID: unit + "/x", Values: text("x")})
			}},
		{name: "body over 64 KiB", sends: "a register with one 70,000-byte TEXT value", code: tooLarge, why: "only a register_batch body may exceed 64 KiB (limits.go)", by: bob,
			raw: func(w *world) []byte {
				return w.sign(w.bob, registry.KindRegister, registry.Register{ID: unit + "/x", Values: text(strings.Repeat("x", 70000))})
			}},
		{name: "batch body over its bound", sends: "a register_batch body of 1,572,865 bytes", code: tooLarge, why: "a batch body is 1.5 MiB at most (MaxBatchBodyBytes)", by: bob,
			raw: func(w *world) []byte { return w.signBody(w.bob, w.sized(registry.MaxBatchBodyBytes+1)) }},
		{name: "deflate bomb", sends: "a body deflated from 2 MiB of spaces to 2 KiB, signed over its compressed bytes", code: tooLarge, why: "a node inflates at most 1.5 MiB (MaxBatchBodyBytes), and only once the signature verifies", by: bob, reason: registry.ReasonInflatedTooLarge,
			raw: func(w *world) []byte { return w.signDeflated(w.bob, bytes.Repeat([]byte(" "), 2<<20), nil) }},
		{name: "bytes after the deflate stream", sends: "bob's body deflated, a zero byte after its final block, signed", code: malformed, why: "a compressed body is one DEFLATE stream and nothing after it", by: bob, reason: registry.ReasonBadDeflate,
			raw: func(w *world) []byte { return w.signDeflated(w.bob, w.forgedBody(), []byte{0}) }},
		{name: "deflated body signed as plain", sends: `bob's body deflated, "body_encoding":"deflate", signed under the plain PAE`, code: badSig, why: "the encoding is bound into what is signed (CITYIDv1+deflate), so no signature made for one encoding verifies for another", by: bob,
			raw: func(w *world) []byte {
				z, err := registry.Deflate(w.forgedBody(), registry.DeflateLevel)
				if err != nil {
					w.t.Fatal(err)
				}
				e := registry.Sign(w.chainID, z, w.bob.key)
				e.BodyEncoding = registry.EncodingDeflate
				return encode(w.t, e)
			}},
		{name: "transaction over its bound", sends: "an envelope in its canonical encoding, its body long enough that it is 2,098,177 bytes or a few more", code: tooLarge, why: "a transaction is 2 MiB + 1 KiB at most (MaxTxBytes)", by: bob,
			raw: func(w *world) []byte {
				// The smallest body whose envelope is past the bound: the
				// API takes any spelling, so spaces would not do.
				for n := (registry.MaxTxBytes - 300) * 3 / 4; ; n++ {
					e := registry.Envelope{Body: bytes.Repeat([]byte("x"), n), PubKey: w.bob.pub, Signature: make([]byte, 64)}
					if b := encode(w.t, e); len(b) > registry.MaxTxBytes {
						return b
					}
				}
			}},
		{name: "request over the API's bound", sends: "a POST body 4 KiB past the largest transaction", code: tooLarge, why: "the API reads no more than a transaction can be",
			raw: func(*world) []byte { return bytes.Repeat([]byte(" "), registry.MaxTxBytes+4<<10+1) }},
		{name: "batch of 5001", sends: "a register_batch of 5,001 objects", code: tooLarge, why: "a batch holds 5,000 identifiers at most (MaxBatch)", by: bob, kind: registry.KindRegisterBatch, msg: batch(unit, registry.MaxBatch+1)},

		// Numbers out of their range.
		{name: "nonce 2^64", sends: `"nonce":18446744073709551616`, code: malformed, why: "a nonce is a 64-bit unsigned integer", by: bob,
			raw: func(w *world) []byte {
				return w.edit(w.bob, registry.KindRegister, registry.Register{ID: unit + "/x", Values: text("x")}, func(b []byte) []byte {
					return bytes.Replace(b, fmt.Appendf(nil, `"nonce":%d`, w.nextNonce(w.bob)), []byte(`"nonce":18446744073709551616`), 1)
				})
			}},
		{name: "nonce negative", sends: `"nonce":-1`, code: malformed, why: "a nonce is a 64-bit unsigned integer", by: bob,
			raw: func(w *world) []byte {
				return w.edit(w.bob, registry.KindRegister, registry.Register{ID: unit + "/x", Values: text("x")}, replace(`"nonce":`, `"nonce":-`))
			}},
		{name: "nonce as a fraction", sends: `"nonce":n.0`, code: malformed, why: "a nonce is an integer, written as one", by: bob,
			raw: func(w *world) []byte {
				return w.edit(w.bob, registry.KindRegister, registry.Register{ID: unit + "/x", Values: text("x")}, replace(`,"msg"`, `.0,"msg"`))
			}},
		{name: "nonce zero", sends: `"nonce":0`, code: invalid, why: "an account's first transaction has nonce 1", by: bob,
			raw: func(w *world) []byte {
				b, _ := registry.NewBody(registry.KindRegister, 0, registry.Register{ID: unit + "/x", Values: text("x")})
				return w.signBody(w.bob, b)
			}},
		{name: "valid_until_height 2^64", sends: `"valid_until_height":18446744073709551616`, code: malformed, why: "a height is a 64-bit unsigned integer", by: bob,
			raw: func(w *world) []byte {
				return w.edit(w.bob, registry.KindRegister, registry.Register{ID: unit + "/x", Values: text("x")}, replace(`,"msg"`, `,"valid_until_height":18446744073709551616,"msg"`))
			}},
		{name: "power over the bound", sends: "set_validator with power 1,000,000,001", code: invalid, why: "one validator's power is 10^9 at most (MaxValidatorPower), far from CometBFT's overflow", by: op,
			kind: registry.KindSetValidator, msg: registry.SetValidator{PubKey: key(), Power: registry.MaxValidatorPower + 1}},
		{name: "power negative", sends: "set_validator with power -1", code: invalid, why: "power is 0 (remove) or more", by: op,
			kind: registry.KindSetValidator, msg: registry.SetValidator{PubKey: key(), Power: -1}},
		{name: "power 2^63", sends: `set_validator with "power":9223372036854775808`, code: malformed, why: "power is a 64-bit signed integer", by: op,
			raw: func(w *world) []byte {
				return w.edit(w.op, registry.KindSetValidator, registry.SetValidator{PubKey: key(), Power: 7}, replace(`"power":7`, `"power":9223372036854775808`))
			}},
		{name: "value index over the bound", sends: "a value at index 65536", code: badValue, why: "indexes are 1 to 65535 (MaxValueIndex), as a Handle server's", by: bob,
			kind: registry.KindRegister, msg: registry.Register{ID: unit + "/x", Values: []registry.Value{{Index: 65536, Type: registry.TypeText, Data: "x"}}}},
		{name: "value index 2^32", sends: `"index":4294967296`, code: malformed, why: "an index is a 32-bit unsigned integer", by: bob,
			raw: func(w *world) []byte {
				return w.edit(w.bob, registry.KindRegister, registry.Register{ID: unit + "/x", Values: []registry.Value{{Index: 7, Type: registry.TypeText, Data: "x"}}}, replace(`"index":7`, `"index":4294967296`))
			}},
		{name: "ttl over a week", sends: "a value with ttl 604801", code: badValue, why: "a corrected record reaches every cache within a week (MaxTTL)", by: bob,
			kind: registry.KindRegister, msg: registry.Register{ID: unit + "/x", Values: []registry.Value{{Type: registry.TypeText, Data: "x", TTL: registry.MaxTTL + 1}}}},

		// Nonces: each signed transaction applies once, in its turn.
		{name: "nonce replayed", sends: "bob's register with his last used nonce", code: registry.CodeNonceReplayed, why: "a nonce is used once", on: onNonce, by: bob,
			raw: func(w *world) []byte {
				b, _ := registry.NewBody(registry.KindRegister, w.nextNonce(w.bob)-1, registry.Register{ID: unit + "/x", Values: text("x")})
				return w.signBody(w.bob, b)
			}},
		{name: "nonce gap", sends: "bob's register with the nonce after his next", code: registry.CodeNonceGap, why: "transactions of one account apply in order", on: onNonce, by: bob,
			raw: func(w *world) []byte {
				b, _ := registry.NewBody(registry.KindRegister, w.nextNonce(w.bob)+1, registry.Register{ID: unit + "/x", Values: text("x")})
				return w.signBody(w.bob, b)
			}},
		{name: "valid_until_height past", sends: "bob's register valid until height 1", code: registry.CodeExpired, why: "a transaction not committed in time cannot be brought back when the state has changed", on: onState, by: bob,
			raw: func(w *world) []byte {
				b, _ := registry.NewBodyUntil(registry.KindRegister, w.nextNonce(w.bob), 1, registry.Register{ID: unit + "/x", Values: text("x")})
				return w.signBody(w.bob, b)
			}},
		{name: "refused approval replayed", sends: "the authority's approval of application 2 signed before it was filed, refused then, its nonce used since", code: registry.CodeNonceReplayed,
			why: "a vote signed for what did not exist yet can never count for what a squatter files later", on: onNonce, by: op,
			raw: func(w *world) []byte { return w.earlyVote }},

		// Applications and votes.
		{name: "city number not in GB/T 2260", sends: "apply_city for 156/999999", code: invalid, why: "a Chinese city number is a GB/T 2260 division code; others are allocated", by: st,
			kind: registry.KindApplyCity, msg: registry.ApplyCity{Country: "156", CityNumber: "999999", Name: "假城"}},
		{name: "city number 000000", sends: "apply_city for 156/000000", code: invalid, why: "no division code is all zeros", by: st,
			kind: registry.KindApplyCity, msg: registry.ApplyCity{Country: "156", CityNumber: "000000", Name: "假城"}},
		{name: "second open application", sends: "carol applies for Qinhuangdao while Tangshan waits", code: registry.CodeExists, why: "one open application per key, so one key cannot fill the authority's desk", on: onState, by: w.carol,
			kind: registry.KindApplyCity, msg: registry.ApplyCity{Country: "156", CityNumber: "130300", Name: "秦皇岛市"}},
		{name: "locode of another city", sends: "apply_city for Handan with Shijiazhuang's UN/LOCODE CNSJW", code: registry.CodeDuplicateLocode, why: "one city per UN/LOCODE", on: onState, by: st,
			kind: registry.KindApplyCity, msg: registry.ApplyCity{Country: "156", CityNumber: "130400", Name: "邯郸市", Locode: "CNSJW"}},
		{name: "small-order key as city admin", sends: "apply_city naming the identity key as admin", code: badKey, why: "anyone could sign as that admin", by: st,
			kind: registry.KindApplyCity, msg: registry.ApplyCity{Country: "156", CityNumber: "130400", Name: "邯郸市", Admins: []string{identity}}},
		{name: "approval without hash", sends: "approve_application 2 with no content hash", code: invalid, why: "a vote names the application's content, not only its number", by: op,
			kind: registry.KindApproveApplication, msg: registry.Decision{Application: 2}},
		{name: "approval with a wrong hash", sends: "approve_application 2 naming another content hash", code: registry.CodeHashMismatch, why: "the vote was signed for another application", on: onState, by: op,
			kind: registry.KindApproveApplication, msg: registry.Decision{Application: 2, Hash: strings.Repeat("0", 64)}},
		{name: "approval of a decided application", sends: "approve_application 1, approved already", code: registry.CodeAlreadyDecided, why: "a decision is final", on: onState, by: op,
			kind: registry.KindApproveApplication, msg: registry.Decision{Application: 1, Hash: w.shijiazhuangHash}},
		{name: "approval of no application", sends: "approve_application 99", code: notFound, why: "there is no application 99", on: onState, by: op,
			kind: registry.KindApproveApplication, msg: registry.Decision{Application: 99, Hash: w.tangshanHash}},

		// Governance.
		{name: "small-order key as authority member", sends: "set_authority with the identity key as a member", code: badKey, why: "anyone could vote as that member", by: op,
			kind: registry.KindSetAuthority, msg: registry.SetAuthority{Members: []string{op.pub, identity}, Threshold: 1}},
		{name: "small-order key as validator", sends: "set_validator of the identity key", code: badKey, why: "anyone could sign blocks as that validator", by: op,
			kind: registry.KindSetValidator, msg: registry.SetValidator{PubKey: identity, Power: 10}},
		{name: "threshold above members", sends: "set_authority of one member with threshold 2", code: invalid, why: "an authority that can never decide would stop every city and change", by: op,
			kind: registry.KindSetAuthority, msg: registry.SetAuthority{Members: []string{op.pub}, Threshold: 2}},
		{name: "last validator removed", sends: "set_validator of the only validator with power 0", code: invalid, why: "a network without validators makes no block again", on: onState, by: op,
			kind: registry.KindSetValidator, msg: registry.SetValidator{PubKey: w.validator, Power: 0}},

		// Grants.
		{name: "grant expiry past year 9999", sends: "grant_access expiring 9999-12-31T23:59:59-23:59 (year 10000 in UTC)", code: invalid, why: "RFC 3339 cannot write year 10000: applied, it would halt the chain", by: bob,
			kind: registry.KindGrantAccess, msg: registry.GrantAccess{Dataset: dataset, Grantee: health, Expires: time.Date(9999, 12, 31, 23, 59, 59, 0, time.FixedZone("", -(23*3600+59*60)))}},
		{name: "grant expiry before year 1", sends: "grant_access expiring 0001-01-01T00:00:00+23:59 (year 0 in UTC)", code: invalid, why: "RFC 3339 cannot write year 0 either", by: bob,
			kind: registry.KindGrantAccess, msg: registry.GrantAccess{Dataset: dataset, Grantee: health, Expires: time.Date(1, 1, 1, 0, 0, 0, 0, time.FixedZone("", 23*3600+59*60))}},
		{name: "grant over ten years", sends: "grant_access expiring ten years and a month ahead", code: invalid, why: "a grant lasts 3,653 days at most (DefaultMaxGrantDays); it is renewed, not made longer", on: onState, by: bob,
			kind: registry.KindGrantAccess, msg: registry.GrantAccess{Dataset: dataset, Grantee: health, Expires: time.Now().AddDate(10, 1, 0).UTC().Truncate(time.Second)}},
		{name: "grant expired already", sends: "grant_access expiring in 2001", code: invalid, why: "an expiry is after the block time", on: onState, by: bob,
			kind: registry.KindGrantAccess, msg: registry.GrantAccess{Dataset: dataset, Grantee: health, Expires: time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{name: "grant to an object", sends: "grant_access to the school, an object", code: invalid, why: "access is granted to a node, whose admins sign its requests", by: bob,
			kind: registry.KindGrantAccess, msg: registry.GrantAccess{Dataset: dataset, Grantee: object, Expires: month}},
		{name: "grant of no dataset", sends: "grant_access to the school's record, which has no DATA value", code: invalid, why: "only a dataset's access is granted", on: onState, by: bob,
			kind: registry.KindGrantAccess, msg: registry.GrantAccess{Dataset: object, Grantee: health, Expires: month}},
		{name: "grant scope in upper case", sends: `grant_access with scope "READ"`, code: invalid, why: "a scope is lowercase letters, digits and :_.-", by: bob,
			kind: registry.KindGrantAccess, msg: registry.GrantAccess{Dataset: dataset, Grantee: health, Scope: "READ", Expires: month}},
		{name: "anchor of an empty log", sends: "anchor_log of the dataset's log at 0 entries", code: invalid, why: "a log is anchored after its first entry", by: bob,
			kind: registry.KindAnchorLog, msg: registry.AnchorLog{Dataset: dataset, Entries: 0, Head: strings.Repeat("ab", 32)}},
		{name: "anchor head in upper case", sends: "anchor_log whose head is 64 upper-case hex digits", code: invalid, why: "a head is a SHA-256 in one spelling, 64 lowercase hex digits, so two anchors of one head read alike", by: bob,
			kind: registry.KindAnchorLog, msg: registry.AnchorLog{Dataset: dataset, Entries: 1, Head: strings.Repeat("AB", 32)}},
		{name: "revoke of no grant", sends: "revoke_access of the dataset from sector .85, which has no grant", code: notFound, why: "there is nothing to revoke", on: onState, by: bob,
			kind: registry.KindRevokeAccess, msg: registry.RevokeAccess{Dataset: dataset, Grantee: sector}},

		// Text that is not what it seems, and values that are not what they say.
		{name: "name with U+200B", sends: "register_unit named \"Bureau\u200bx\" (zero-width space)", code: invalid, why: "an invisible character makes one name look like another", by: w.alice,
			kind: registry.KindRegisterUnit, msg: registry.RegisterUnit{Parent: sector, Name: "Bureau\u200bx"}},
		{name: "name with U+200F", sends: "register_unit named with a right-to-left mark", code: invalid, why: "a direction mark makes one name look like another", by: w.alice,
			kind: registry.KindRegisterUnit, msg: registry.RegisterUnit{Parent: sector, Name: "Bureau\u200fx"}},
		{name: "name with U+061C", sends: "register_unit named with an Arabic letter mark", code: invalid, why: "a direction mark makes one name look like another", by: w.alice,
			kind: registry.KindRegisterUnit, msg: registry.RegisterUnit{Parent: sector, Name: "Bureau\u061cx"}},
		{name: "name over 256 bytes", sends: "register_unit with a 257-byte name", code: tooLarge, why: "names are 256 bytes at most (MaxNameBytes)", by: w.alice,
			kind: registry.KindRegisterUnit, msg: registry.RegisterUnit{Parent: sector, Name: strings.Repeat("n", registry.MaxNameBytes+1)}},
		{name: "TEXT with U+202E", sends: "a TEXT value with a right-to-left override", code: badValue, why: "bidirectional controls make text read otherwise than it is stored", by: bob,
			kind: registry.KindRegister, msg: registry.Register{ID: unit + "/x", Values: text("abc\u202edef")}},
		{name: "TEXT with U+2067", sends: "a TEXT value with a right-to-left isolate", code: badValue, why: "bidirectional controls make text read otherwise than it is stored", by: bob,
			kind: registry.KindRegister, msg: registry.Register{ID: unit + "/x", Values: text("abc\u2067def")}},
		{name: "TEXT with U+200E", sends: "a TEXT value with a left-to-right mark", code: badValue, why: "bidirectional controls make text read otherwise than it is stored", by: bob,
			kind: registry.KindRegister, msg: registry.Register{ID: unit + "/x", Values: text("abc\u200edef")}},
		{name: "URL with U+202E in its host", sends: "a URL value https://\u202eexample.org/gnp.exe", code: badValue, why: "an override makes a link read otherwise than where /r/{id} sends a browser", by: bob,
			kind: registry.KindRegister, msg: registry.Register{ID: unit + "/x", Values: []registry.Value{{Type: registry.TypeURL, Data: "https://\u202eexample.org/gnp.exe"}}}},
		{name: "URL with U+200B", sends: "a URL value with a zero-width space in its host", code: badValue, why: "an invisible character makes one host look like another", by: bob,
			kind: registry.KindRegister, msg: registry.Register{ID: unit + "/x", Values: []registry.Value{{Type: registry.TypeURL, Data: "https://exa\u200bmple.org/"}}}},
		{name: "EMAIL with U+202E", sends: "an EMAIL value a\u202eb@example.org", code: badValue, why: "an override makes an address read otherwise than where mail goes", by: bob,
			kind: registry.KindRegister, msg: registry.Register{ID: unit + "/x", Values: []registry.Value{{Type: registry.TypeEmail, Data: "a\u202eb@example.org"}}}},
		{name: "DATA media type with ESC and NUL", sends: "a dataset whose media_type is text/\x1b[31mcsv\x00", code: badValue, why: "a descriptor shown in a terminal or a log must not carry escapes", by: bob,
			kind: registry.KindRegister, msg: registry.Register{ID: unit + "/x", Values: []registry.Value{{Type: registry.TypeData, Dataset: &registry.Dataset{URI: "https://example.org/x", SHA256: strings.Repeat("ab", 32), Size: 1, MediaType: "text/\x1b[31mcsv\x00"}}}}},
		{name: "value index 100", sends: "a value at index 100", code: badValue, why: "100–115 are the admins' HS_ADMIN values in the Handle interface", by: bob,
			kind: registry.KindRegister, msg: registry.Register{ID: unit + "/x", Values: []registry.Value{{Index: 100, Type: registry.TypeText, Data: "x"}}}},
		{name: "value index 115", sends: "a value at index 115", code: badValue, why: "100–115 are the admins' HS_ADMIN values in the Handle interface", by: bob,
			kind: registry.KindRegister, msg: registry.Register{ID: unit + "/x", Values: []registry.Value{{Index: 115, Type: registry.TypeText, Data: "x"}}}},
		{name: "value index 300", sends: "a value at index 300", code: badValue, why: "300–315 are the admins' HS_PUBKEY values in the Handle interface", by: bob,
			kind: registry.KindRegister, msg: registry.Register{ID: unit + "/x", Values: []registry.Value{{Index: 300, Type: registry.TypeText, Data: "x"}}}},
		{name: "value index 315", sends: "a value at index 315", code: badValue, why: "300–315 are the admins' HS_PUBKEY values in the Handle interface", by: bob,
			kind: registry.KindRegister, msg: registry.Register{ID: unit + "/x", Values: []registry.Value{{Index: 315, Type: registry.TypeText, Data: "x"}}}},
		{name: "URL javascript:", sends: "a URL value javascript:alert(1)", code: badValue, why: "a resolver follows or shows the link: no scheme that runs code or reads local files", by: bob,
			kind: registry.KindRegister, msg: registry.Register{ID: unit + "/x", Values: []registry.Value{{Type: registry.TypeURL, Data: "javascript:alert(1)"}}}},
		{name: "ALIAS to no identifier", sends: "an ALIAS value 1561301002.85", code: badValue, why: "an alias names an identifier (here the check character is wrong)", by: bob,
			kind: registry.KindRegister, msg: registry.Register{ID: unit + "/x", Values: []registry.Value{{Type: registry.TypeAlias, Data: "1561301002.85"}}}},
		{name: "ADMIN value", sends: "a value of type ADMIN", code: badValue, why: "a record's admins are its admins field, never a value that could say otherwise", by: bob,
			kind: registry.KindRegister, msg: registry.Register{ID: unit + "/x", Values: []registry.Value{{Type: registry.TypeAdmin, Data: w.stranger.pub}}}},
		{name: "33 values", sends: "a register with 33 values", code: tooLarge, why: "a record holds 32 values at most (MaxValues)", by: bob,
			kind: registry.KindRegister, msg: registry.Register{ID: unit + "/x", Values: slices.Repeat(text("x"), registry.MaxValues+1)}},
		{name: "value over 1 KiB", sends: "a TEXT value of 1,025 bytes", code: tooLarge, why: "a value is 1 KiB at most (MaxValueBytes): one value fits one DNS answer", by: bob,
			kind: registry.KindRegister, msg: registry.Register{ID: unit + "/x", Values: text(strings.Repeat("x", registry.MaxValueBytes+1))}},
		{name: "small-order key as admin", sends: "transfer of the school to the identity key", code: badKey, why: "anyone could sign as that admin", by: bob,
			kind: registry.KindTransfer, msg: registry.Transfer{ID: object, Admins: []string{identity}}},
		{name: "small-order key as batch admin", sends: "a register_batch entry whose admin is the identity key", code: badKey, why: "anyone could sign as that admin", by: bob,
			kind: registry.KindRegisterBatch, msg: registry.RegisterBatch{Entries: []registry.BatchEntry{{ID: unit + "/b-1", Values: []registry.Value{}, Admins: []string{identity}}}}},
		{name: "17 admins", sends: "a register with 17 admin keys", code: tooLarge, why: "a record has 16 admins at most (MaxAdmins): a department, not a population", by: bob,
			kind: registry.KindRegister, msg: registry.Register{ID: unit + "/x", Values: text("x"), Admins: keys(registry.MaxAdmins + 1)}},

		// Identifiers and records.
		{name: "wrong check character", sends: "register 1561301002.85.1/x", code: registry.CodeInvalidID, why: "1561301002 is no city code: its MOD 11-2 check character is 1", by: bob,
			kind: registry.KindRegister, msg: registry.Register{ID: "1561301002.85.1/x", Values: text("x")}},
		{name: "reserved local id", sends: "register 1561301001.85.1/history", code: invalid, why: "/v1/ids/{node}/history names the node's history", by: bob,
			kind: registry.KindRegister, msg: registry.Register{ID: unit + "/history", Values: text("x")}},
		{name: "registered already", sends: "register of the school again", code: registry.CodeExists, why: "one record per identifier", on: onState, by: bob,
			kind: registry.KindRegister, msg: registry.Register{ID: object, Values: text("again")}},
		{name: "stale version", sends: "update of the school naming version 2; it is at 1", code: registry.CodeVersionMismatch, why: "two writers never overwrite each other silently", on: onState, by: bob,
			kind: registry.KindUpdate, msg: registry.Update{ID: object, Version: 2, Values: text("late")}},
		{name: "unit under no sector", sends: "register_unit under 1561301001.37, not registered", code: notFound, why: "a unit is registered under its sector", on: onState, by: w.alice,
			kind: registry.KindRegisterUnit, msg: registry.RegisterUnit{Parent: city + ".37", Name: "Sewerage"}},
		{name: "deactivated twice", sends: "deactivate of unit .85.2, deactivated already", code: registry.CodeAlreadyInactive, why: "it changes nothing", on: onState, by: w.alice,
			kind: registry.KindDeactivate, msg: registry.SetStatus{ID: closed}},
		{name: "reactivated while active", sends: "reactivate of unit .85.1, active", code: registry.CodeAlreadyActive, why: "it changes nothing", on: onState, by: w.alice,
			kind: registry.KindReactivate, msg: registry.SetStatus{ID: unit}},
		{name: "empty batch", sends: "a register_batch of no entries", code: invalid, why: "it changes nothing", by: bob,
			kind: registry.KindRegisterBatch, msg: registry.RegisterBatch{Entries: []registry.BatchEntry{}}},
		{name: "batch repeats an id", sends: "a register_batch naming one object twice", code: invalid, why: "all or nothing: the second entry could never be registered", by: bob,
			kind: registry.KindRegisterBatch, msg: registry.RegisterBatch{Entries: []registry.BatchEntry{{ID: unit + "/twice", Values: []registry.Value{}}, {ID: unit + "/twice", Values: []registry.Value{}}}}},
		{name: "batch group of no entries", sends: `a register_batch group {"node":".85.1","entries":[]} after a good one`, code: invalid, why: "a group says its node for its entries: one with none is a spelling of nothing", by: bob,
			kind: registry.KindRegisterBatch, msg: wire(`{"nodes":[{"node":"` + city + `.85","entries":[["g-1",[]]]},{"node":"` + unit + `","entries":[]}]}`)},
		{name: "batch node in two groups", sends: "a register_batch with groups for .85.1, .85 and .85.1 again", code: invalid, why: "a node's entries travel in one group: one batch has one encoding, and each node is checked once", by: bob,
			kind: registry.KindRegisterBatch, msg: wire(`{"nodes":[{"node":"` + unit + `","entries":[["g-1",[]]]},{"node":"` + city + `.85","entries":[["g-2",[]]]},{"node":"` + unit + `","entries":[["g-3",[]]]}]}`)},
		{name: "batch group under an object", sends: `a register_batch group whose node is the school, 1561301001.85.1/school-0042`, code: invalid, why: "objects are registered under a city, a sector or a unit, never under an object", by: bob,
			kind: registry.KindRegisterBatch, msg: wire(`{"nodes":[{"node":"` + object + `","entries":[["g-1",[]]]}]}`)},
		{name: "batch group's node does not parse", sends: "a register_batch group under 1561301002.85.1", code: registry.CodeInvalidID, why: "1561301002 is no city code: its MOD 11-2 check character is 1", by: bob,
			kind: registry.KindRegisterBatch, msg: wire(`{"nodes":[{"node":"1561301002.85.1","entries":[["g-1",[]]]}]}`)},
		{name: "batch value pair of three", sends: `a register_batch value ["TEXT","x","y"]`, code: malformed, why: "a pair is [type, data]; what else a value says is the object form's", by: bob,
			kind: registry.KindRegisterBatch, msg: wire(`{"nodes":[{"node":"` + unit + `","entries":[["g-1",[["TEXT","x","y"]]]]}]}`)},
		{name: "batch value pair with a number", sends: `a register_batch value ["TEXT",7]`, code: malformed, why: "a value's data is text", by: bob,
			kind: registry.KindRegisterBatch, msg: wire(`{"nodes":[{"node":"` + unit + `","entries":[["g-1",[["TEXT",7]]]]}]}`)},
		{name: "batch entry of four", sends: `a register_batch entry ["g-1",[],[],[]]`, code: malformed, why: "an entry is [local-id, values] or [local-id, values, admins]", by: bob,
			kind: registry.KindRegisterBatch, msg: wire(`{"nodes":[{"node":"` + unit + `","entries":[["g-1",[],[],[]]]}]}`)},
		{name: "batch entry of one", sends: `a register_batch entry ["g-1"]`, code: malformed, why: "an entry is [local-id, values] or [local-id, values, admins]", by: bob,
			kind: registry.KindRegisterBatch, msg: wire(`{"nodes":[{"node":"` + unit + `","entries":[["g-1"]]}]}`)},
		{name: "batch null values", sends: `a register_batch entry ["g-1",null]`, code: malformed, why: "an absent list has one spelling, []", by: bob,
			kind: registry.KindRegisterBatch, msg: wire(`{"nodes":[{"node":"` + unit + `","entries":[["g-1",null]]}]}`)},
		{name: "batch group unknown member", sends: `a register_batch group with "name":"x"`, code: malformed, why: "an unknown field is refused, never ignored", by: bob,
			kind: registry.KindRegisterBatch, msg: wire(`{"nodes":[{"node":"` + unit + `","name":"x","entries":[["g-1",[]]]}]}`)},
		{name: "batch in the old form", sends: `a register_batch of {"entries":[{"id":…,"values":[]}]}, application version 2's`, code: malformed, why: "application version 3 reads one form of a batch", by: bob,
			kind: registry.KindRegisterBatch, msg: wire(`{"entries":[{"id":"` + unit + `/g-1","values":[]}]}`)},

		// Under a deactivated unit (.85.2), its own admin bob.
		{name: "register under a deactivated unit", sends: "register .85.2/new", code: inactive, why: "nothing is registered under a deactivated node", on: onState, by: bob,
			kind: registry.KindRegister, msg: registry.Register{ID: closed + "/new", Values: text("x")}},
		{name: "batch under a deactivated unit", sends: "register_batch of .85.2/b-1", code: inactive, why: "nothing is registered under a deactivated node", on: onState, by: bob,
			kind: registry.KindRegisterBatch, msg: batch(closed, 1)},
		{name: "update under a deactivated unit", sends: "update of .85.2/closed-1", code: inactive, why: "a deactivation holds everything under it", on: onState, by: bob,
			kind: registry.KindUpdate, msg: registry.Update{ID: closedObj, Version: 1, Values: text("changed")}},
		{name: "transfer under a deactivated unit", sends: "transfer of .85.2/closed-1 to the stranger", code: inactive, why: "a deactivation holds everything under it", on: onState, by: bob,
			kind: registry.KindTransfer, msg: registry.Transfer{ID: closedObj, Admins: []string{st.pub}}},
		{name: "deactivate under a deactivated unit", sends: "deactivate of .85.2/closed-1", code: inactive, why: "a deactivation holds everything under it", on: onState, by: bob,
			kind: registry.KindDeactivate, msg: registry.SetStatus{ID: closedObj}},
		{name: "transfer of a deactivated unit by its admin", sends: "bob transfers .85.2 to the stranger", code: inactive, why: "a deactivated record's own admins cannot hand it over; an admin above can", on: onState, by: bob,
			kind: registry.KindTransfer, msg: registry.Transfer{ID: closed, Admins: []string{st.pub}}},
		{name: "reactivation by the unit's own admin", sends: "bob reactivates .85.2", code: denied, why: "a deactivation is lifted from above, or a unit deactivated for misuse would lift it itself", on: onState, by: bob,
			kind: registry.KindReactivate, msg: registry.SetStatus{ID: closed}},

		// A key with no rights, sending every kind (TestHostileCatalogue checks that every kind is here).
		{name: "stranger apply_city for a city's number", sends: "apply_city for 156/130100, Shijiazhuang's", code: registry.CodeDuplicateCity, why: "anyone may apply, but one city per country and number", on: onState, by: st,
			kind: registry.KindApplyCity, msg: registry.ApplyCity{Country: "156", CityNumber: "130100", Name: "石家庄市"}},
		{name: "stranger approve_application", sends: "approve_application 2 with its hash", code: denied, why: "only members of the registry authority vote", on: onState, by: st,
			kind: registry.KindApproveApplication, msg: registry.Decision{Application: 2, Hash: w.tangshanHash}},
		{name: "stranger reject_application", sends: "reject_application 2 with its hash", code: denied, why: "only members of the registry authority vote", on: onState, by: st,
			kind: registry.KindRejectApplication, msg: registry.Decision{Application: 2, Hash: w.tangshanHash}},
		{name: "stranger register_sector", sends: "register_sector 1561301001.36", code: denied, why: "only the city's admins add to it", on: onState, by: st,
			kind: registry.KindRegisterSector, msg: registry.RegisterSector{ID: city + ".36"}},
		{name: "stranger register_unit", sends: "register_unit under .85", code: denied, why: "only the admins of the sector or the city add to it", on: onState, by: st,
			kind: registry.KindRegisterUnit, msg: registry.RegisterUnit{Parent: sector, Name: "Mine"}},
		{name: "stranger register", sends: "register .85.1/mine", code: denied, why: "only the admins of a node and those above register under it", on: onState, by: st,
			kind: registry.KindRegister, msg: registry.Register{ID: unit + "/mine", Values: text("mine")}},
		{name: "stranger update", sends: "update of the school at its version", code: denied, why: "only the admins of a record and those above change it", on: onState, by: st,
			kind: registry.KindUpdate, msg: registry.Update{ID: object, Version: 1, Values: text("mine")}},
		{name: "stranger deactivate", sends: "deactivate of the school", code: denied, why: "only the admins of a record and those above change it", on: onState, by: st,
			kind: registry.KindDeactivate, msg: registry.SetStatus{ID: object}},
		{name: "stranger reactivate", sends: "reactivate of unit .85.2", code: denied, why: "only an admin above a deactivated record lifts it", on: onState, by: st,
			kind: registry.KindReactivate, msg: registry.SetStatus{ID: closed}},
		{name: "stranger register_batch", sends: "register_batch of .85.1/b-1", code: denied, why: "only the admins of a node and those above register under it", on: onState, by: st,
			kind: registry.KindRegisterBatch, msg: batch(unit, 1)},
		{name: "stranger transfer", sends: "transfer of the school to the stranger", code: denied, why: "only the admins of a record and those above hand it over", on: onState, by: st,
			kind: registry.KindTransfer, msg: registry.Transfer{ID: object, Admins: []string{st.pub}}},
		{name: "stranger grant_access", sends: "grant_access of the dataset to .86", code: denied, why: "only the dataset's admins grant its access", on: onState, by: st,
			kind: registry.KindGrantAccess, msg: registry.GrantAccess{Dataset: dataset, Grantee: health, Expires: month}},
		{name: "stranger revoke_access", sends: "revoke_access of the dataset's grant to .86", code: denied, why: "only the dataset's admins revoke its grants", on: onState, by: st,
			kind: registry.KindRevokeAccess, msg: registry.RevokeAccess{Dataset: dataset, Grantee: health}},
		{name: "stranger set_authority", sends: "set_authority making the stranger the authority", code: denied, why: "only the authority changes itself, M of N", on: onState, by: st,
			kind: registry.KindSetAuthority, msg: registry.SetAuthority{Members: []string{st.pub}, Threshold: 1}},
		{name: "stranger set_validator", sends: "set_validator of a new key with power 10", code: denied, why: "only the authority changes the validators, M of N", on: onState, by: st,
			kind: registry.KindSetValidator, msg: registry.SetValidator{PubKey: key(), Power: 10}},
		{name: "stranger withdraw_vote", sends: "withdraw_vote on application 2", code: denied, why: "only members of the authority vote, or take a vote back", on: onState, by: st,
			kind: registry.KindWithdrawVote, msg: registry.WithdrawVote{Application: 2, Hash: w.tangshanHash}},
		{name: "stranger set_city", sends: "set_city suspending Shijiazhuang", code: denied, why: "only the authority suspends or restores a city, M of N", on: onState, by: st,
			kind: registry.KindSetCity, msg: registry.SetCity{City: city, Status: registry.StatusDeactivated}},
		{name: "stranger anchor_log", sends: "anchor_log of the dataset's access log at 1 entry", code: denied, why: "only the dataset's admins and those above anchor its log, or anyone could pin a history the owner never wrote", on: onState, by: st,
			kind: registry.KindAnchorLog, msg: registry.AnchorLog{Dataset: dataset, Entries: 1, Head: strings.Repeat("ab", 32)}},
		{name: "stranger set_upgrade", sends: "set_upgrade of an upgrade at height 1,000,000", code: denied, why: "only the authority schedules an upgrade, M of N: a plan stops every node without its handler", on: onState, by: st,
			kind: registry.KindSetUpgrade, msg: registry.SetUpgrade{Name: "hostile", Height: 1_000_000}},
		{name: "upgrade without notice", sends: "set_upgrade by the authority for height 500, nearer than the network's upgrade_lead_blocks (1,000)", code: registry.CodeUpgradeTooSoon,
			why: "a plan nearer than the network's lead would stop the nodes whose operators never heard of it in time", on: onState, by: op,
			kind: registry.KindSetUpgrade, msg: registry.SetUpgrade{Name: "sudden", Height: 500}},
		{name: "stranger update of nothing", sends: "update of .85.1/no-such-thing", code: notFound, why: "there is no record to change", on: onState, by: st,
			kind: registry.KindUpdate, msg: registry.Update{ID: unknown, Version: 1, Values: text("x")}},
		{name: "city admin set_city", sends: "alice, the city's admin, gives her city new admins by set_city", code: denied, why: "a city's admins do not govern it: the authority does, M of N", on: onState, by: w.alice,
			kind: registry.KindSetCity, msg: registry.SetCity{City: city, Admins: []string{w.alice.pub, st.pub}}},
	}
}
