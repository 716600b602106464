package httpsig

import "errors"

// Stable error codes of a refused signature. The server answers and logs
// them unchanged, and a client shows them to say why it was refused. They
// never change once published; add new ones instead.
const (
	ErrMissing    = "signature_missing"     // no Signature-Input or Signature, or none with the label asked for
	ErrMalformed  = "signature_malformed"   // the fields are not the structured fields RFC 9421 defines, or a parameter has the wrong type
	ErrStale      = "signature_stale"       // created too long ago, expired, or before the verifier's NotBefore
	ErrFuture     = "signature_future"      // created later than now plus the allowed clock skew
	ErrReplayed   = "signature_replayed"    // its nonce was already seen for this key within the window
	ErrBad        = "signature_bad"         // the signature does not verify for the request as received
	ErrUnknownKey = "signature_unknown_key" // no keyid, or the verifier has no key for it
	ErrNotCovered = "signature_not_covered" // a component the verifier requires is not covered
	ErrAlg        = "signature_alg"         // alg is present and is not ed25519
	ErrTag        = "signature_tag"         // the tag is not the one the verifier requires
	ErrBusy       = "signature_busy"        // the nonce cache holds as many other keys as it may: try again later
)

// Codes lists every error code, in a fixed order.
func Codes() []string {
	return []string{
		ErrMissing, ErrMalformed, ErrStale, ErrFuture, ErrReplayed,
		ErrBad, ErrUnknownKey, ErrNotCovered, ErrAlg, ErrTag, ErrBusy,
	}
}

// Error is the one error type Verify returns. Code is one of the Err*
// constants; Msg says what is wrong, for a person (it may quote the
// request's own parameters, never key material); Err is the cause when
// there is one, such as the error of Verifier.Key.
type Error struct {
	Code string
	Msg  string
	Err  error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Code + ": " + e.Msg + ": " + e.Err.Error()
	}
	return e.Code + ": " + e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same Code, so that
// errors.Is(err, &httpsig.Error{Code: httpsig.ErrStale}) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// ErrorCode returns the code of the *Error in err's chain, or "" when
// there is none.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func refuse(code, msg string) *Error { return &Error{Code: code, Msg: msg} }
