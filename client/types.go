package client

import (
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/wire"
)

// The node's answers, named here so that programs outside this module,
// which cannot import the module's internal packages, can use them.
type (
	Record          = registry.Record
	Value           = registry.Value
	Dataset         = registry.Dataset
	Grant           = registry.Grant
	Anchor          = registry.Anchor
	Outcome         = registry.Outcome
	Application     = wire.ApplicationView
	RecordAnswer    = wire.RecordAnswer
	TxAnswer        = wire.TxAnswer
	Account         = wire.Account
	Status          = wire.StatusAnswer
	City            = wire.City
	CityList        = wire.CityList
	Problem         = wire.Problem
	Proof           = wire.Proof
	History         = wire.History
	HistoryEntry    = wire.HistoryEntry
	Child           = wire.Child
	Children        = wire.Children
	BlockInfo       = wire.BlockInfo
	TxInfo          = wire.TxInfo
	ApplicationList = wire.ApplicationList
	GrantList       = wire.GrantList
	AnchorList      = wire.AnchorList
	HandleAnswer    = wire.HandleAnswer
	HandleValue     = wire.HandleValue
	ValidatorList   = wire.ValidatorList
	ProposalList    = wire.ProposalList
	UpgradeStatus   = wire.UpgradeStatus
)

// Stable error codes of a node's refusals (Code(err), Problem.Code): the
// API's own, then the registry's. They never change once published.
const (
	CodeNotFound      = wire.CodeNotFound
	CodeInternal      = wire.CodeInternal
	CodeBadRequest    = wire.CodeBadRequest
	CodeTimeout       = wire.CodeTimeout
	CodeUnavailable   = wire.CodeUnavailable
	CodeAliasLoop     = wire.CodeAliasLoop
	CodeHeightTooHigh = wire.CodeHeightTooHigh
	CodeRateLimited   = wire.CodeRateLimited
	// CodeHeightPruned: a height older than the node keeps; the problem's
	// detail names the oldest it keeps.
	CodeHeightPruned = wire.CodeHeightPruned

	CodeMalformed       = registry.CodeMalformed
	CodeTooLarge        = registry.CodeTooLarge
	CodeBadSignature    = registry.CodeBadSignature
	CodeBadPubKey       = registry.CodeBadPubKey
	CodeNonceReplayed   = registry.CodeNonceReplayed
	CodeNonceGap        = registry.CodeNonceGap
	CodeUnknownKind     = registry.CodeUnknownKind
	CodeInvalid         = registry.CodeInvalid
	CodeInvalidID       = registry.CodeInvalidID
	CodeUnauthorized    = registry.CodeUnauthorized
	CodeExists          = registry.CodeExists
	CodeDuplicateCity   = registry.CodeDuplicateCity
	CodeDuplicateLocode = registry.CodeDuplicateLocode
	CodeAlreadyDecided  = registry.CodeAlreadyDecided
	CodeAlreadyVoted    = registry.CodeAlreadyVoted
	CodeVersionMismatch = registry.CodeVersionMismatch
	CodeInactive        = registry.CodeInactive
	CodeAlreadyActive   = registry.CodeAlreadyActive
	CodeAlreadyInactive = registry.CodeAlreadyInactive
	CodeBadValue        = registry.CodeBadValue
	CodeExhausted       = registry.CodeExhausted
	CodeExpired         = registry.CodeExpired
	CodeHashMismatch    = registry.CodeHashMismatch
	CodeAccountBusy     = registry.CodeAccountBusy
)

// Statuses an answer shows: of an application (Application.Status, and the
// status filter of Applications), and of a record (Record.Status).
const (
	AppPending        = registry.AppPending
	AppApproved       = registry.AppApproved
	AppRejected       = registry.AppRejected
	AppExpired        = registry.AppExpired
	StatusActive      = registry.StatusActive
	StatusDeactivated = registry.StatusDeactivated
)

// DatasetOf returns the dataset a record describes: its first DATA value's
// descriptor (values are in index order), and false when it has none.
// Whether the dataset is public, and the SHA-256 its bytes must have, are
// this descriptor's.
func DatasetOf(rec Record) (Dataset, bool) { return registry.DatasetOf(rec) }
