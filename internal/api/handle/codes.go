package handle

import "github.com/cityid/cityid/internal/registry"

// Handle protocol response codes (the responseCode of an answer), with
// the HTTP status the HANDLE.NET manual's REST API section pairs each
// with: 1 200, 2 500, 100 404, 102 400, 200 200 (in resolution), 202 400,
// 301 400, 401 403.
const (
	CodeSuccess        = 1
	CodeError          = 2
	CodeHandleNotFound = 100
	CodeInvalidHandle  = 102
	CodeValuesNotFound = 200
	CodeInvalidValue   = 202
	CodeNotResponsible = 301
	// CodeInsufficientPermissions answers a write: nobody may write
	// through this interface (identifiers change only by signed ledger
	// transactions), so authenticating would not help (402 would say it
	// does).
	CodeInsufficientPermissions = 401
)

// How admins are shown.
const (
	adminPermissions = "011111110011"       // Handle's usual admin permission bits
	adminIndex       = registry.AdminIndex  // HS_ADMIN values start here; the registry keeps these indexes free
	pubKeyIndex      = registry.PubKeyIndex // the admin keys, as HS_PUBKEY values, start here
)
