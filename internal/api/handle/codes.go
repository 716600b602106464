package handle

import "github.com/cityid/cityid/internal/registry"

// Handle protocol response codes (the responseCode of an answer).
const (
	CodeSuccess        = 1
	CodeError          = 2
	CodeHandleNotFound = 100
	CodeInvalidHandle  = 102
	CodeValuesNotFound = 200
	CodeNotResponsible = 301
)

// How admins are shown.
const (
	adminPermissions = "011111110011"       // Handle's usual admin permission bits
	adminIndex       = registry.AdminIndex  // HS_ADMIN values start here; the registry keeps these indexes free
	pubKeyIndex      = registry.PubKeyIndex // the admin keys, as HS_PUBKEY values, start here
)
