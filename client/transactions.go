package client

import (
	"crypto/ed25519"

	"github.com/cityid/cityid/internal/registry"
)

// Transaction kinds: the kind argument of Send, Signer.Send and BuildTx,
// each with the message type it takes.
const (
	KindApplyCity          = registry.KindApplyCity          // ApplyCity
	KindApproveApplication = registry.KindApproveApplication // Decision
	KindRejectApplication  = registry.KindRejectApplication  // Decision
	KindWithdrawVote       = registry.KindWithdrawVote       // WithdrawVote
	KindRegisterSector     = registry.KindRegisterSector     // RegisterSector
	KindRegisterUnit       = registry.KindRegisterUnit       // RegisterUnit
	KindRegister           = registry.KindRegister           // Register
	KindRegisterBatch      = registry.KindRegisterBatch      // RegisterBatch
	KindUpdate             = registry.KindUpdate             // Update
	KindDeactivate         = registry.KindDeactivate         // SetStatus
	KindReactivate         = registry.KindReactivate         // SetStatus
	KindTransfer           = registry.KindTransfer           // Transfer
	KindGrantAccess        = registry.KindGrantAccess        // GrantAccess
	KindRevokeAccess       = registry.KindRevokeAccess       // RevokeAccess
	KindSetAuthority       = registry.KindSetAuthority       // SetAuthority
	KindSetValidator       = registry.KindSetValidator       // SetValidator
	KindSetCity            = registry.KindSetCity            // SetCity
	KindAnchorLog          = registry.KindAnchorLog          // AnchorLog
	KindSetUpgrade         = registry.KindSetUpgrade         // SetUpgrade
)

// Kinds lists every transaction kind, in a fixed order.
func Kinds() []string { return registry.Kinds() }

// The messages of the transaction kinds, and the parts they are made of.
type (
	ApplyCity      = registry.ApplyCity
	Decision       = registry.Decision
	WithdrawVote   = registry.WithdrawVote
	RegisterSector = registry.RegisterSector
	RegisterUnit   = registry.RegisterUnit
	Register       = registry.Register
	RegisterBatch  = registry.RegisterBatch
	BatchEntry     = registry.BatchEntry
	Update         = registry.Update
	SetStatus      = registry.SetStatus
	Transfer       = registry.Transfer
	GrantAccess    = registry.GrantAccess
	RevokeAccess   = registry.RevokeAccess
	SetAuthority   = registry.SetAuthority
	SetValidator   = registry.SetValidator
	SetCity        = registry.SetCity
	AnchorLog      = registry.AnchorLog
	SetUpgrade     = registry.SetUpgrade
)

// Value types of a record (Value.Type); a user type is "namespace:name".
const (
	TypeURL   = registry.TypeURL
	TypeEmail = registry.TypeEmail
	TypeText  = registry.TypeText
	TypeGeo   = registry.TypeGeo
	TypeData  = registry.TypeData
	TypeAlias = registry.TypeAlias
)

// Bounds a transaction must keep, checked by every node.
const (
	// MaxBatch is the most identifiers one register_batch may hold.
	MaxBatch = registry.MaxBatch
	// AllocateCityNumber, as ApplyCity.CityNumber, asks the registry to
	// allocate the city number.
	AllocateCityNumber = registry.AllocateCityNumber
	// AdminIndex and PubKeyIndex are the first of MaxAdmins value indexes
	// each that a record's values may not use: the Handle interface shows
	// the admins there, as HS_ADMIN and HS_PUBKEY.
	AdminIndex  = registry.AdminIndex
	PubKeyIndex = registry.PubKeyIndex
	MaxAdmins   = registry.MaxAdmins
)

// KeyText is a public key as the ledger writes it: 64 lowercase hex
// digits, the account and admin name of the key.
func KeyText(pub ed25519.PublicKey) string { return registry.KeyText(pub) }

// ParsePubKey reads a public key written as KeyText writes it.
func ParsePubKey(s string) (ed25519.PublicKey, error) { return registry.ParsePubKey(s) }
