package testnode

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/cityid/cityid/internal/registry"
)

// Hostile is a transaction a byzantine proposer can put in a block, with
// the refusal the registry must give it there. Nothing in a block may make
// FinalizeBlock fail (DESIGN section 2): each of these must be refused and
// the block go on.
//
// Honest validators judge most of them in the block, transaction by
// transaction (FinalizeBlock). A few make the whole proposal invalid
// instead (RefusedAtProposal): ProcessProposal refuses a block holding a
// transaction twice or a nonce committed state has used, so on a network
// they never reach a block; FinalizeBlock, fed them directly, still
// refuses them with Code.
type Hostile struct {
	Name string
	Tx   []byte
	// Code is the registry's error code for the transaction the first
	// time a block holds it.
	Code string
	// UsesNonce is true when the refusal uses the transaction's nonce
	// (it passed the nonce check and state refused it): once a block
	// held it, a proposal holding it again is refused (its nonce is
	// used), and a block fed to FinalizeBlock anyway refuses it as
	// nonce_replayed. The others (refused in the envelope, signature,
	// body or message, or at the nonce check) write nothing and are
	// refused with Code every time.
	UsesNonce bool
	// RefusedAtProposal is true when the transaction makes any proposal
	// holding it invalid in the world it was signed for: its nonce is
	// one committed state has already used (a replayed nonce, or nonce
	// 0). Honest validators refuse such a proposal in ProcessProposal
	// and the round moves on.
	RefusedAtProposal bool
}

// HostileWorld is the state the hostile transactions are aimed at: a city
// with a sector, a unit under it and an object that is a dataset (a DATA
// value), the unit and the object administered by Admin, a second sector
// of the city to be the grantee of a grant, and an application already
// decided.
type HostileWorld struct {
	ChainID string
	// Admin administers the unit and the object. The transactions sign
	// Admin's nonces: while they are proposed nothing else may send with
	// Admin, or the poison grant and the bad batch (at AdminNonce+1)
	// would carry a used nonce and make their proposal invalid.
	Admin ed25519.PrivateKey
	// AdminNonce is the last nonce Admin used: its nonce 1 is a replay,
	// and one far past AdminNonce a gap that stays a gap.
	AdminNonce  uint64
	City        string // e.g. 1561301001
	Sector      string // e.g. 1561301001.85
	Unit        string // e.g. 1561301001.85.1
	Object      string // e.g. 1561301001.85.1/school-0042, with a DATA value
	Grantee     string // e.g. 1561301001.86
	Application uint64 // a decided application
	AppHash     string // its content hash
	// Height is the height of the last committed block: a transaction
	// valid until it is expired in every later block.
	Height int64
	// Time is the time of a recent block: a grant expiring a year after
	// it is within the network's term.
	Time time.Time
}

// hostileKey is a key of its own for each transaction that may use its
// nonce, so that no two hostile transactions depend on each other's order
// and an honest account's nonces are never touched.
func hostileKey(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("cityid hostile key " + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

// HostileTxs returns every kind of transaction the registry must refuse,
// signed for w: garbage, an empty transaction, envelopes that are not
// canonical, forged or foreign signatures, a small-order key, an oversize
// transaction, an unknown kind, an invalid message of each kind, a write
// of each kind by a key with no rights to it, a replayed and a skipping
// nonce, an expired transaction, the security audit's poison grant and a
// batch with one bad entry. The nonce replay and nonce 0 are marked
// RefusedAtProposal, as are a signature ProcessProposal finds bad as it
// weighs a transaction against the block's budget (a deflated body's,
// checked before it is inflated, and one that is not 64 bytes); every
// other one is judged in the block.
func HostileTxs(w HostileWorld) ([]Hostile, error) {
	var out []Hostile
	var ferr error
	keep := func(err error) {
		if err != nil && ferr == nil {
			ferr = err
		}
	}
	envelope := func(e registry.Envelope) []byte {
		b, err := e.Encode()
		keep(err)
		return b
	}
	mustBody := func(b []byte, err error) []byte {
		keep(err)
		return b
	}
	sign := func(chainID string, key ed25519.PrivateKey, kind string, nonce, until uint64, msg any) []byte {
		body, err := registry.NewBodyUntil(kind, nonce, until, msg)
		keep(err)
		return envelope(registry.Sign(chainID, body, key))
	}
	add := func(name, code string, usesNonce bool, tx []byte) {
		out = append(out, Hostile{Name: name, Tx: tx, Code: code, UsesNonce: usesNonce})
	}
	// atProposal marks the last one added as making a proposal invalid.
	atProposal := func() { out[len(out)-1].RefusedAtProposal = true }
	own := func(name, kind string, msg any) []byte {
		return sign(w.ChainID, hostileKey(name), kind, 1, 0, msg)
	}
	text := []registry.Value{{Type: "TEXT", Data: "hostile"}}

	// Envelopes.
	add("garbage", registry.CodeMalformed, false, []byte("\x00\xffnot a transaction\x7f"))
	add("empty", registry.CodeMalformed, false, []byte{})
	good := own("canonical", registry.KindRegister, registry.Register{ID: w.Unit + "/hostile-canonical", Values: text})
	add("non_canonical_spaces", registry.CodeMalformed, false, bytes.Replace(good, []byte(`{"body":`), []byte(`{ "body": `), 1))
	add("non_canonical_order", registry.CodeMalformed, false, reorder(good, keep))
	add("envelope_unknown_field", registry.CodeMalformed, false, append(bytes.TrimSuffix(good, []byte("}")), []byte(`,"extra":1}`)...))
	forged := registry.Sign(w.ChainID, mustBody(registry.NewBody(registry.KindRegister, 1, registry.Register{ID: w.Unit + "/hostile-forged", Values: text})), hostileKey("forged"))
	forged.Signature[0] ^= 0x80
	add("bad_signature", registry.CodeBadSignature, false, envelope(forged))
	add("foreign_chain", registry.CodeBadSignature, false,
		sign(w.ChainID+"-elsewhere", hostileKey("foreign"), registry.KindRegister, 1, 0, registry.Register{ID: w.Unit + "/hostile-foreign", Values: text}))
	// The identity point as the key, and (R = identity, S = 0): a
	// signature that verifies for every message under a lax verifier.
	identity := make([]byte, 32)
	identity[0] = 1
	add("small_order_key", registry.CodeBadPubKey, false, envelope(registry.Envelope{
		Body:      mustBody(registry.NewBody(registry.KindSetAuthority, 1, registry.SetAuthority{Members: []string{hex.EncodeToString(identity)}, Threshold: 1})),
		PubKey:    hex.EncodeToString(identity),
		Signature: append(bytes.Clone(identity), make([]byte, 32)...),
	}))
	add("short_signature", registry.CodeBadSignature, false, envelope(registry.Envelope{
		Body: []byte(`{}`), PubKey: hex.EncodeToString(hostileKey("short").Public().(ed25519.PublicKey)), Signature: make([]byte, 63),
	}))
	atProposal() // its envelope is refused as ProcessProposal weighs it
	over := []byte(`{"body":"` + strings.Repeat("A", registry.MaxTxBytes) + `","pub_key":"00","signature":""}`)
	add("oversize_tx", registry.CodeTooLarge, false, over)
	add("oversize_body", registry.CodeTooLarge, false, own("oversize_body", registry.KindRegister,
		registry.Register{ID: w.Unit + "/hostile-big", Values: []registry.Value{{Type: "TEXT", Data: strings.Repeat("x", registry.MaxBodyBytes)}}}))

	// Compressed bodies (application version 4): each signed, so that
	// what refuses it is the inflating or the body, after the signature.
	deflated := func(name string, z []byte) []byte {
		key := hostileKey(name)
		return envelope(registry.Envelope{Body: z, BodyEncoding: registry.EncodingDeflate,
			PubKey: registry.KeyText(key.Public().(ed25519.PublicKey)), Signature: ed25519.Sign(key, registry.PAEDeflate(w.ChainID, z))})
	}
	deflate := func(b []byte) []byte {
		z, err := registry.Deflate(b, registry.DeflateLevel)
		keep(err)
		return z
	}
	plainBody := mustBody(registry.NewBody(registry.KindRegister, 1, registry.Register{ID: w.Unit + "/hostile-deflated", Values: text}))
	// 2 MiB of spaces in 2 KiB: past MaxBatchBodyBytes, so inflating
	// stops before the end.
	add("deflate_bomb", registry.CodeTooLarge, false, deflated("deflate_bomb", deflate(bytes.Repeat([]byte(" "), 2<<20))))
	add("deflate_trailing_bytes", registry.CodeMalformed, false, deflated("deflate_trailing", append(deflate(plainBody), 0)))
	add("deflate_not_a_stream", registry.CodeMalformed, false, deflated("deflate_not_a_stream", []byte("\xffnot deflate at all")))
	add("deflate_surrogate_escape", registry.CodeMalformed, false, deflated("deflate_surrogate",
		deflate([]byte(`{"kind":"register","nonce":1,"msg":{"id":"`+w.Unit+`/a\ud800","values":[]}}`))))
	// The compressed bytes signed as a plain body: the encoding is
	// bound into what is signed, so this signature is not theirs.
	crossed := registry.Sign(w.ChainID, deflate(plainBody), hostileKey("deflate_crossed"))
	crossed.BodyEncoding = registry.EncodingDeflate
	add("deflate_signed_as_plain", registry.CodeBadSignature, false, envelope(crossed))
	atProposal() // a deflated body's signature is checked as ProcessProposal weighs it
	unknownEnc := registry.Sign(w.ChainID, plainBody, hostileKey("unknown_encoding"))
	unknownEnc.BodyEncoding = "gzip"
	add("unknown_body_encoding", registry.CodeMalformed, false, envelope(unknownEnc))

	// Bodies.
	add("unknown_kind", registry.CodeUnknownKind, false, own("unknown_kind", "mint_tokens", map[string]int{"amount": 1}))
	// Nonce 0 is never an account's next: ProcessProposal counts it as
	// used.
	add("nonce_zero", registry.CodeInvalid, false, sign(w.ChainID, hostileKey("nonce_zero"), registry.KindRegister, 0, 0, registry.Register{ID: w.Unit + "/hostile-zero", Values: text}))
	atProposal()
	add("surrogate_escape", registry.CodeMalformed, false, envelope(registry.Sign(w.ChainID,
		[]byte(`{"kind":"register","nonce":1,"msg":{"id":"`+w.Unit+`/a\ud800","values":[]}}`), hostileKey("surrogate"))))
	add("missing_msg", registry.CodeMalformed, false, envelope(registry.Sign(w.ChainID, []byte(`{"kind":"register","nonce":1}`), hostileKey("missing_msg"))))

	// An invalid message of each kind: empty, refused by its validation.
	for _, kind := range registry.Kinds() {
		name := "invalid_" + kind
		code, ok := invalidCodes[kind]
		if !ok {
			return nil, fmt.Errorf("hostile transactions: no refusal known for an empty %s message: add it to invalidCodes", kind)
		}
		add(name, code, false, own(name, kind, struct{}{}))
	}

	// A write of each kind by a key with no right to it, on the real
	// world: refused by state, so it uses its nonce.
	for _, u := range []struct {
		kind, code string
		msg        any
	}{
		// Anyone may apply; not for a city that exists.
		{registry.KindApplyCity, registry.CodeDuplicateCity, registry.ApplyCity{Country: w.City[:3], CityNumber: w.City[3:9], Name: "Hostile city"}},
		{registry.KindApproveApplication, registry.CodeUnauthorized, registry.Decision{Application: w.Application, Hash: w.AppHash}},
		{registry.KindRejectApplication, registry.CodeUnauthorized, registry.Decision{Application: w.Application, Hash: w.AppHash, Reason: "hostile"}},
		{registry.KindRegisterSector, registry.CodeUnauthorized, registry.RegisterSector{ID: w.City + ".36"}},
		{registry.KindRegisterUnit, registry.CodeUnauthorized, registry.RegisterUnit{Parent: w.Sector, Name: "Hostile unit"}},
		{registry.KindRegister, registry.CodeUnauthorized, registry.Register{ID: w.Unit + "/hostile", Values: text}},
		{registry.KindUpdate, registry.CodeUnauthorized, registry.Update{ID: w.Object, Values: text, Version: 2}},
		{registry.KindDeactivate, registry.CodeUnauthorized, registry.SetStatus{ID: w.Object, Reason: "hostile"}},
		{registry.KindReactivate, registry.CodeUnauthorized, registry.SetStatus{ID: w.Object, Reason: "hostile"}},
		{registry.KindRegisterBatch, registry.CodeUnauthorized, registry.RegisterBatch{Entries: []registry.BatchEntry{{ID: w.Unit + "/hostile-batch", Values: text}}}},
		{registry.KindTransfer, registry.CodeUnauthorized, registry.Transfer{ID: w.Object, Admins: []string{registry.KeyText(hostileKey("thief").Public().(ed25519.PublicKey))}}},
		{registry.KindGrantAccess, registry.CodeUnauthorized, registry.GrantAccess{Dataset: w.Object, Grantee: w.Grantee, Expires: w.Time.AddDate(1, 0, 0)}},
		{registry.KindRevokeAccess, registry.CodeUnauthorized, registry.RevokeAccess{Dataset: w.Object, Grantee: w.Grantee}},
		{registry.KindSetAuthority, registry.CodeUnauthorized, registry.SetAuthority{Members: []string{registry.KeyText(hostileKey("thief").Public().(ed25519.PublicKey))}, Threshold: 1}},
		{registry.KindSetValidator, registry.CodeUnauthorized, registry.SetValidator{PubKey: registry.KeyText(hostileKey("thief").Public().(ed25519.PublicKey)), Power: 1000}},
		{registry.KindWithdrawVote, registry.CodeUnauthorized, registry.WithdrawVote{Application: w.Application, Hash: w.AppHash}},
		{registry.KindSetCity, registry.CodeUnauthorized, registry.SetCity{City: w.City, Status: "deactivated", Reason: "hostile"}},
		{registry.KindAnchorLog, registry.CodeUnauthorized, registry.AnchorLog{Dataset: w.Object, Entries: 1, Head: strings.Repeat("ab", 32)}},
	} {
		name := "unauthorized_" + u.kind
		add(name, u.code, true, own(name, u.kind, u.msg))
	}

	// Nonces and heights.
	admin := func(nonce uint64, kind string, msg any) []byte { return sign(w.ChainID, w.Admin, kind, nonce, 0, msg) }
	add("nonce_replay", registry.CodeNonceReplayed, false, admin(1, registry.KindRegister, registry.Register{ID: w.Unit + "/hostile-replay", Values: text}))
	atProposal()
	add("nonce_gap", registry.CodeNonceGap, false, admin(w.AdminNonce+1_000_000, registry.KindRegister, registry.Register{ID: w.Unit + "/hostile-gap", Values: text}))
	add("expired", registry.CodeExpired, true, sign(w.ChainID, hostileKey("expired"), registry.KindApplyCity, 1, uint64(max(w.Height, 1)),
		registry.ApplyCity{Country: "156", CityNumber: "130200", Name: "唐山市"}))

	// The audit's poison: by the dataset's own admin, an expiry whose
	// offset carries year 9999 into year 10000 in UTC.
	add("poison_grant", registry.CodeInvalid, false, admin(w.AdminNonce+1, registry.KindGrantAccess,
		map[string]string{"dataset": w.Object, "grantee": w.Grantee, "expires": "9999-12-31T23:59:59-23:59"}))
	// A batch by the unit's admin, all good but one value.
	add("batch_bad_entry", registry.CodeBadValue, false, admin(w.AdminNonce+1, registry.KindRegisterBatch, registry.RegisterBatch{Entries: []registry.BatchEntry{
		{ID: w.Unit + "/hostile-batch-1", Values: text},
		{ID: w.Unit + "/hostile-batch-2", Values: []registry.Value{{Type: "GEO", Data: "91,181"}}},
		{ID: w.Unit + "/hostile-batch-3", Values: text},
	}}))
	if ferr != nil {
		return nil, fmt.Errorf("hostile transactions: %w", ferr)
	}
	return out, nil
}

// invalidCodes is the refusal of each kind's empty message: each names
// what is missing.
var invalidCodes = map[string]string{
	registry.KindApplyCity:          registry.CodeInvalidID,
	registry.KindApproveApplication: registry.CodeInvalid,
	registry.KindRejectApplication:  registry.CodeInvalid,
	registry.KindRegisterSector:     registry.CodeInvalidID,
	registry.KindRegisterUnit:       registry.CodeInvalidID,
	registry.KindRegister:           registry.CodeInvalidID,
	registry.KindUpdate:             registry.CodeInvalidID,
	registry.KindDeactivate:         registry.CodeInvalidID,
	registry.KindReactivate:         registry.CodeInvalidID,
	registry.KindRegisterBatch:      registry.CodeInvalid,
	registry.KindTransfer:           registry.CodeInvalidID,
	registry.KindGrantAccess:        registry.CodeInvalidID,
	registry.KindRevokeAccess:       registry.CodeInvalidID,
	registry.KindSetAuthority:       registry.CodeInvalid,
	registry.KindSetValidator:       registry.CodeBadPubKey,
	registry.KindWithdrawVote:       registry.CodeInvalid,
	registry.KindSetCity:            registry.CodeInvalidID,
	registry.KindAnchorLog:          registry.CodeInvalidID,
	registry.KindSetUpgrade:         registry.CodeInvalid,
}

// reorder writes a canonical envelope with its fields in another order:
// the same signed content in other bytes.
func reorder(tx []byte, keep func(error)) []byte {
	e, rerr := registry.DecodeEnvelope(tx)
	if rerr != nil {
		keep(rerr)
		return nil
	}
	enc := ""
	if e.BodyEncoding != "" {
		enc = fmt.Sprintf(`"body_encoding":%q,`, e.BodyEncoding)
	}
	return []byte(fmt.Sprintf(`{"pub_key":%q,%s"body":%q,"signature":%q}`, e.PubKey, enc,
		base64.StdEncoding.EncodeToString(e.Body), base64.StdEncoding.EncodeToString(e.Signature)))
}
