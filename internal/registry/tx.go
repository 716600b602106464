package registry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Transaction kinds: the "kind" of a body.
const (
	KindApplyCity          = "apply_city"
	KindApproveApplication = "approve_application"
	KindRejectApplication  = "reject_application"
	KindRegisterSector     = "register_sector"
	KindRegisterUnit       = "register_unit"
	KindRegister           = "register"
	KindUpdate             = "update"
	KindDeactivate         = "deactivate"
	KindReactivate         = "reactivate"
	KindRegisterBatch      = "register_batch"
	KindTransfer           = "transfer"
	KindGrantAccess        = "grant_access"
	KindRevokeAccess       = "revoke_access"
	KindSetAuthority       = "set_authority"
	KindSetValidator       = "set_validator"
	KindWithdrawVote       = "withdraw_vote"
	KindSetCity            = "set_city"
	KindAnchorLog          = "anchor_log"
	KindSetUpgrade         = "set_upgrade"
)

// Kinds lists every transaction kind, in a fixed order.
func Kinds() []string {
	return []string{
		KindApplyCity, KindApproveApplication, KindRejectApplication,
		KindRegisterSector, KindRegisterUnit, KindRegister, KindUpdate,
		KindDeactivate, KindReactivate, KindRegisterBatch, KindTransfer,
		KindGrantAccess, KindRevokeAccess, KindSetAuthority, KindSetValidator,
		KindWithdrawVote, KindSetCity, KindAnchorLog, KindSetUpgrade,
	}
}

// Body is the signed part of a transaction.
type Body struct {
	Kind  string `json:"kind"`
	Nonce uint64 `json:"nonce"` // the account's next sequence number: 1 for its first transaction
	// ValidUntilHeight, when set, is the last height whose block may hold
	// the transaction: a signed transaction that was not committed in time
	// cannot be brought back later, when the state it was meant for has
	// changed.
	ValidUntilHeight uint64          `json:"valid_until_height,omitempty"`
	Msg              json.RawMessage `json:"msg"`
}

// NewBody encodes the body of a transaction of the given kind, valid at
// every height.
func NewBody(kind string, nonce uint64, msg any) ([]byte, error) {
	return NewBodyUntil(kind, nonce, 0, msg)
}

// NewBodyUntil encodes the body of a transaction of the given kind that
// only a block at most validUntil high may hold (0: no bound).
func NewBodyUntil(kind string, nonce, validUntil uint64, msg any) ([]byte, error) {
	m, err := marshalCompact(msg)
	if err != nil {
		return nil, fmt.Errorf("encode %s message: %w", kind, err)
	}
	b, err := marshalCompact(Body{Kind: kind, Nonce: nonce, ValidUntilHeight: validUntil, Msg: m})
	if err != nil {
		return nil, fmt.Errorf("encode %s body: %w", kind, err)
	}
	return b, nil
}

// marshalCompact is json.Marshal without the HTML escaping of <, > and &,
// which would triple their size in a bounded body for no reader's benefit.
func marshalCompact(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// message is one transaction kind's message. validate runs every check that
// needs no state and puts the message in canonical form; apply runs the
// rest against state and returns the result to report.
type message interface {
	validate(signer string) *Error
	apply(c *txContext) (Outcome, *Error)
}

func newMessage(kind string) (message, bool) {
	switch kind {
	case KindApplyCity:
		return &ApplyCity{}, true
	case KindApproveApplication:
		return &Decision{approve: true}, true
	case KindRejectApplication:
		return &Decision{}, true
	case KindRegisterSector:
		return &RegisterSector{}, true
	case KindRegisterUnit:
		return &RegisterUnit{}, true
	case KindRegister:
		return &Register{}, true
	case KindUpdate:
		return &Update{}, true
	case KindDeactivate:
		return &SetStatus{active: false}, true
	case KindReactivate:
		return &SetStatus{active: true}, true
	case KindRegisterBatch:
		return &RegisterBatch{}, true
	case KindTransfer:
		return &Transfer{}, true
	case KindGrantAccess:
		return &GrantAccess{}, true
	case KindRevokeAccess:
		return &RevokeAccess{}, true
	case KindSetAuthority:
		return &SetAuthority{}, true
	case KindSetValidator:
		return &SetValidator{}, true
	case KindWithdrawVote:
		return &WithdrawVote{}, true
	case KindSetCity:
		return &SetCity{}, true
	case KindAnchorLog:
		return &AnchorLog{}, true
	case KindSetUpgrade:
		return &SetUpgrade{}, true
	}
	return nil, false
}

// Tx is a transaction that passed every check that needs no state: its
// envelope decoded, its signature verified, its body decoded and validated.
type Tx struct {
	Hash   string // CometBFT's hash of the transaction bytes
	Signer string // public key, hex
	Nonce  uint64
	Kind   string
	// ValidUntil is the body's valid_until_height: 0, or the last height
	// at which the transaction applies.
	ValidUntil uint64
	// BodyBytes is the length of the plain body, inflated if it traveled
	// deflated: the decoded message's memory is of its order, not of the
	// bytes that traveled (a tenth of it for a deflated batch).
	BodyBytes int
	msg       message
}

// CheckHeight refuses the transaction in a block at height h past its
// valid_until_height.
func (t *Tx) CheckHeight(h int64) *Error {
	if t.ValidUntil != 0 && uint64(max(h, 0)) > t.ValidUntil {
		return errorf(CodeExpired, "the transaction was valid until height %d; this is height %d", t.ValidUntil, h)
	}
	return nil
}

// Message returns the decoded, canonical message of the transaction.
func (t *Tx) Message() any { return t.msg }

// decodeBody decodes and validates body, the plain body of an envelope
// signed by signer (its key's text form) whose signature has been checked.
func decodeBody(body []byte, signer string) (*Tx, *Error) {
	if err := checkBodyText(body); err != nil {
		return nil, err
	}
	// A register in the plain form is read directly: whatever that
	// reading takes, checkObjectKeys passes and the decoders read alike
	// (FuzzRegisterBody), and the checks below are made in the same
	// order.
	b, reg, plain := parseRegisterBody(body)
	var msg message = reg
	if !plain {
		if err := checkObjectKeys(body); err != nil {
			return nil, errorf(CodeMalformed, "body: %v", err)
		}
		if err := decodeBodyJSON(body, &b); err != nil {
			return nil, errorf(CodeMalformed, "body: %v", err)
		}
		m, ok := newMessage(b.Kind)
		if !ok {
			return nil, errorf(CodeUnknownKind, "kind %q is not a transaction kind", clip(b.Kind))
		}
		msg = m
	}
	if b.Kind != KindRegisterBatch && len(body) > MaxBodyBytes {
		return nil, errorf(CodeTooLarge, "body is %d bytes, more than the %d allowed for %s (only %s may be up to %d)",
			len(body), MaxBodyBytes, b.Kind, KindRegisterBatch, MaxBatchBodyBytes)
	}
	if b.Nonce == 0 {
		return nil, errorf(CodeInvalid, "nonce is missing: an account's first transaction has nonce 1")
	}
	if !plain {
		if len(b.Msg) == 0 {
			return nil, errorf(CodeMalformed, "%s: msg is missing", b.Kind)
		}
		if err := decodeBodyJSON(b.Msg, msg); err != nil { // its keys were checked with the body's
			return nil, errorf(CodeMalformed, "%s msg: %v", b.Kind, err)
		}
	}
	if err := msg.validate(signer); err != nil {
		return nil, err
	}
	return &Tx{Signer: signer, Nonce: b.Nonce, Kind: b.Kind, ValidUntil: b.ValidUntilHeight, BodyBytes: len(body), msg: msg}, nil
}

// checkBodyText refuses a body that JSON decoding would change without a
// word: bytes that are not UTF-8, and \u escapes of UTF-16 surrogates
// (lone ones become U+FFFD). Either way the state would differ from what
// the signer saw. A pair of surrogates is refused too: the character it
// stands for is written as itself, as every encoder here writes it.
func checkBodyText(b []byte) *Error {
	if !utf8.Valid(b) {
		for i := 0; i < len(b); {
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size <= 1 {
				return errorf(CodeMalformed, "body: byte %d is not valid UTF-8", i+1)
			}
			i += size
		}
	}
	for i := 0; i+1 < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		// Only a whole escape, four hex digits: the message quotes it, and
		// bytes after a partial one may be half a character. What is not
		// an escape the decoder refuses as malformed JSON.
		if b[i+1] == 'u' && i+5 < len(b) && (b[i+2] == 'd' || b[i+2] == 'D') && strings.IndexByte("89abcdefABCDEF", b[i+3]) >= 0 &&
			isHex(b[i+4]) && isHex(b[i+5]) {
			return errorf(CodeMalformed, "body: byte %d: \\u%s escapes a UTF-16 surrogate; write the character itself in UTF-8", i+1, b[i+2:i+6])
		}
		i++ // skip the escaped character, a backslash included
	}
	return nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
