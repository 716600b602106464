package registry

import (
	"errors"
	"fmt"

	"github.com/cityid/cityid/code"
)

// Error is the one error type the registry returns for a rejected
// transaction. Code is stable and machine-readable; every interface (ABCI
// result codes, the HTTP API's problem+json, the CLI's exit message) shows it
// unchanged. Msg says what is wrong and where, for a person.
type Error struct {
	Code string `json:"code"`
	Msg  string `json:"message"`
	// Reason and Position, for invalid_id: the identifier grammar's own
	// code (code.ErrBadCheckChar …) and where, 1-based in characters of
	// the identifier the message names, so a client can point at it.
	Reason   string `json:"reason,omitempty"`
	Position int    `json:"position,omitempty"`
	// Defect marks a refusal the registry made of a panic of its own
	// while decoding or applying the transaction: the refusal is the same
	// on every node, so the chain goes on, but the panic is a bug, which
	// the chain layer logs for someone to fix. Never on the wire.
	Defect bool `json:"-"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Msg }

// Stable rejection codes. Never renumber or rename one: clients and the ABCI
// numbers and HTTP statuses of the error table (internal/wire/errors.go)
// depend on them.
const (
	CodeMalformed       = "malformed"        // not a valid envelope or body (JSON, base64, unknown field)
	CodeTooLarge        = "too_large"        // transaction, body or value over a bound in limits.go
	CodeBadSignature    = "bad_signature"    // signature does not verify for this chain ID and body
	CodeBadPubKey       = "bad_pub_key"      // public key is not a 32-byte Ed25519 key
	CodeNonceReplayed   = "nonce_replayed"   // nonce already used by this account
	CodeNonceGap        = "nonce_gap"        // nonce skips ahead of the account's next nonce
	CodeUnknownKind     = "unknown_kind"     // body kind is not a transaction kind
	CodeInvalid         = "invalid"          // a field is missing or out of its range
	CodeInvalidID       = "invalid_id"       // an identifier does not parse (the code package says where)
	CodeUnauthorized    = "unauthorized"     // signer is not an admin of the node or a member of the authority
	CodeNotFound        = "not_found"        // identifier, parent or application does not exist
	CodeExists          = "exists"           // identifier already registered, or the key already has an open application
	CodeDuplicateCity   = "duplicate_city"   // a city or pending application has this country and city number
	CodeDuplicateLocode = "duplicate_locode" // a city or pending application has this UN/LOCODE
	CodeAlreadyDecided  = "already_decided"  // application is no longer pending
	CodeAlreadyVoted    = "already_voted"    // this member already approved or rejected the application
	CodeVersionMismatch = "version_mismatch" // expected version is not the record's current version
	CodeInactive        = "inactive"         // record or its parent is deactivated
	CodeAlreadyActive   = "already_active"   // reactivate on an active record
	CodeAlreadyInactive = "already_inactive" // deactivate on a deactivated record
	CodeBadValue        = "bad_value"        // a record value is not valid for its type
	CodeExhausted       = "exhausted"        // no number left to allocate (units, city numbers)
	CodeExpired         = "expired"          // past the body's valid_until_height, or an application or vote past its term
	CodeHashMismatch    = "hash_mismatch"    // a vote names another content hash than the application's
	CodeAccountBusy     = "account_busy"     // the account has as many transactions waiting in the mempool as it may
	CodeInternal        = "internal"         // a store failure; never caused by input
	CodeUpgradeTooSoon  = "upgrade_too_soon" // an upgrade plan's height is nearer than the network's upgrade_lead_blocks
)

// Codes lists every rejection code, in a fixed order.
func Codes() []string {
	return []string{
		CodeMalformed, CodeTooLarge, CodeBadSignature, CodeBadPubKey, CodeNonceReplayed,
		CodeNonceGap, CodeUnknownKind, CodeInvalid, CodeInvalidID, CodeUnauthorized,
		CodeNotFound, CodeExists, CodeDuplicateCity, CodeDuplicateLocode, CodeAlreadyDecided,
		CodeAlreadyVoted, CodeVersionMismatch, CodeInactive, CodeAlreadyActive,
		CodeAlreadyInactive, CodeBadValue, CodeExhausted, CodeExpired, CodeHashMismatch,
		CodeAccountBusy, CodeInternal, CodeUpgradeTooSoon,
	}
}

func errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// invalidID wraps a parse error of the code package, keeping its position
// and reason in the message and as fields.
func invalidID(field, text string, err error) *Error {
	var ce *code.Error
	if errors.As(err, &ce) {
		e := errorf(CodeInvalidID, "%s %q: %s (%s)", field, clip(text), ce.Error(), ce.Code)
		e.Reason, e.Position = ce.Code, ce.Pos
		return e
	}
	return errorf(CodeInvalidID, "%s %q: %v", field, clip(text), err)
}

// internal turns a store failure into an Error. Store failures are not caused
// by input; the chain layer treats them as fatal for the block. An err that
// carries a refusal (putJSON's value that cannot be encoded) stays that
// refusal: what a transaction says must never stop the chain.
func internal(op string, err error) *Error {
	var e *Error
	if errors.As(err, &e) && e.Code != CodeInternal {
		return errorf(e.Code, "%s: %s", op, e.Msg)
	}
	return &Error{Code: CodeInternal, Msg: op + ": " + err.Error()}
}

// AsError returns err as a registry *Error, wrapping anything else as an
// internal error.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return internal("unexpected", err)
}
