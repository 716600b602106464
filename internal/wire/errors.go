package wire

import "github.com/cityid/cityid/internal/registry"

// Codes of the API itself, beside the registry's refusal codes
// (registry.Code...). A code the two share (not_found, internal) is the
// same string and the same row of the table.
const (
	CodeNotFound    = registry.CodeNotFound
	CodeInternal    = registry.CodeInternal
	CodeBadRequest  = "bad_request"
	CodeTimeout     = "timeout"
	CodeUnavailable = "unavailable"
	CodeAliasLoop   = "alias_loop"
	// CodeHeightTooHigh: a height this node has not reached yet.
	CodeHeightTooHigh = "height_too_high"
	// CodeRateLimited: the client is past its rate limit (429).
	CodeRateLimited = "rate_limited"
	// CodeHeightPruned: a height older than this node keeps ([storage]
	// keep_blocks and keep_versions, or a join by state sync); the detail
	// names the oldest height it keeps. 410 Gone: asking again will not
	// help, asking a node that keeps more will.
	CodeHeightPruned = "height_pruned"

	// Data sharing (issue 12): why the owner's node refused a request for
	// a dataset's bytes or its log.
	//
	// CodeNotADataset: the identifier has no DATA value (at that index).
	CodeNotADataset = "not_a_dataset"
	// CodeSignatureRequired: the request was not signed (RFC 9421) and the
	// dataset is not public.
	CodeSignatureRequired = "signature_required"
	// CodeNoGrant: the signer is not an admin of the dataset's owner nor
	// of any node holding a grant for it.
	CodeNoGrant = "no_grant"
	// CodeGrantRevoked, CodeGrantExpired: the signer's node held a grant,
	// revoked or expired at the latest block.
	CodeGrantRevoked = "grant_revoked"
	CodeGrantExpired = "grant_expired"
	// CodeGrantInactive: the dataset, the grantee or a node above either
	// is deactivated.
	CodeGrantInactive = "grant_inactive"
	// CodeDataNotHere: this node does not hold the dataset's bytes; the
	// detail names where its owner's node is.
	CodeDataNotHere = "data_not_here"
	// CodeDigestMismatch: uploaded bytes do not hash to (or are not the
	// size of) the DATA value on the ledger.
	CodeDigestMismatch = "digest_mismatch"
	// CodeUploadOffset: an upload chunk does not start where the bytes
	// received so far end; the Range header of the answer says where.
	CodeUploadOffset = "upload_offset"
	// CodeMethodNotAllowed: the path is a route, not for this method; the
	// answer's Allow header lists those it is for (RFC 9110 15.5.6).
	CodeMethodNotAllowed = "method_not_allowed"
	// CodeAccessLogHeld: the dataset's access log no longer holds what
	// was anchored of it (entries lost); every request that would be
	// logged is refused until an operator repairs it, since an entry
	// appended would fork the anchored chain (503: try again later).
	CodeAccessLogHeld = "access_log_held"
)

// ABCI numbers that are no registry code: success.
const ABCIOK uint32 = 0

// ErrorCode is one row of the error table: a stable code, the HTTP status
// the API answers it with, and, for a code a transaction can be refused
// with, its ABCI result number (0 for the API's own codes, which never
// reach a block).
type ErrorCode struct {
	Code string
	HTTP int
	ABCI uint32
}

// table is every stable error code. ABCI numbers are part of the wire
// protocol (CometBFT RPC clients see them) and HTTP statuses part of the
// API: never renumber a row, only append. It is an array, never written,
// so that no caller can change it; Errors hands out a copy.
var table = [...]ErrorCode{
	{registry.CodeMalformed, 400, 1},
	{registry.CodeTooLarge, 413, 2},
	{registry.CodeBadSignature, 401, 3},
	{registry.CodeBadPubKey, 400, 4},
	{registry.CodeNonceReplayed, 409, 5},
	{registry.CodeNonceGap, 409, 6},
	{registry.CodeUnknownKind, 400, 7},
	{registry.CodeInvalid, 400, 8},
	{registry.CodeInvalidID, 400, 9},
	{registry.CodeUnauthorized, 403, 10},
	{registry.CodeNotFound, 404, 11},
	{registry.CodeExists, 409, 12},
	{registry.CodeDuplicateCity, 409, 13},
	{registry.CodeDuplicateLocode, 409, 14},
	{registry.CodeAlreadyDecided, 409, 15},
	{registry.CodeAlreadyVoted, 409, 16},
	{registry.CodeVersionMismatch, 409, 17},
	{registry.CodeInactive, 409, 18},
	{registry.CodeAlreadyActive, 409, 19},
	{registry.CodeAlreadyInactive, 409, 20},
	{registry.CodeBadValue, 400, 21},
	{registry.CodeExhausted, 409, 22},
	{registry.CodeExpired, 410, 23},
	{registry.CodeHashMismatch, 409, 24},
	{registry.CodeAccountBusy, 429, 25},
	{registry.CodeInternal, 500, 99},

	{CodeBadRequest, 400, 0},
	{CodeTimeout, 504, 0},
	{CodeUnavailable, 503, 0},
	{CodeAliasLoop, 508, 0},
	{CodeHeightTooHigh, 404, 0},
	{CodeRateLimited, 429, 0},
	{CodeHeightPruned, 410, 0},
	{CodeNotADataset, 404, 0},
	{CodeSignatureRequired, 401, 0},
	{CodeNoGrant, 403, 0},
	{CodeGrantRevoked, 403, 0},
	{CodeGrantExpired, 403, 0},
	{CodeGrantInactive, 403, 0},
	{CodeDataNotHere, 404, 0},
	{CodeDigestMismatch, 409, 0},
	{CodeUploadOffset, 409, 0},
	{CodeMethodNotAllowed, 405, 0},
	{registry.CodeUpgradeTooSoon, 409, 26},
	{CodeAccessLogHeld, 503, 0},
}

// Errors returns the error table, in its fixed order.
func Errors() []ErrorCode { return append([]ErrorCode(nil), table[:]...) }

// HTTPStatus is the HTTP status of an error code; 500 for a code that is
// not in the table (a bug: every code a node answers with is).
func HTTPStatus(code string) int {
	for _, e := range table {
		if e.Code == code {
			return e.HTTP
		}
	}
	return 500
}

// ABCICode is the ABCI result number of a registry refusal (ABCIOK for
// nil), or that of CodeInternal for a code that has none.
func ABCICode(err *registry.Error) uint32 {
	if err == nil {
		return ABCIOK
	}
	for _, e := range table {
		if e.Code == err.Code && e.ABCI != 0 {
			return e.ABCI
		}
	}
	return ABCICode(&registry.Error{Code: registry.CodeInternal})
}

// CodeOfABCI is the registry code of an ABCI result number; internal for
// a number that is not in the table.
func CodeOfABCI(n uint32) string {
	for _, e := range table {
		if e.ABCI == n && n != ABCIOK {
			return e.Code
		}
	}
	return registry.CodeInternal
}
