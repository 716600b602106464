package chain

import "github.com/cityid/cityid/internal/registry"

// Codespace is the ABCI codespace of CityID's result codes.
const Codespace = "cityid"

// ABCI result codes, one per registry error code. The numbers are part of
// the wire protocol (CometBFT RPC clients see them): never renumber, only
// append. The result's Info carries the registry's string code too.
const (
	CodeOK              uint32 = 0
	CodeMalformed       uint32 = 1
	CodeTooLarge        uint32 = 2
	CodeBadSignature    uint32 = 3
	CodeBadPubKey       uint32 = 4
	CodeNonceReplayed   uint32 = 5
	CodeNonceGap        uint32 = 6
	CodeUnknownKind     uint32 = 7
	CodeInvalid         uint32 = 8
	CodeInvalidID       uint32 = 9
	CodeUnauthorized    uint32 = 10
	CodeNotFound        uint32 = 11
	CodeExists          uint32 = 12
	CodeDuplicateCity   uint32 = 13
	CodeDuplicateLocode uint32 = 14
	CodeAlreadyDecided  uint32 = 15
	CodeAlreadyVoted    uint32 = 16
	CodeVersionMismatch uint32 = 17
	CodeInactive        uint32 = 18
	CodeAlreadyActive   uint32 = 19
	CodeAlreadyInactive uint32 = 20
	CodeBadValue        uint32 = 21
	CodeExhausted       uint32 = 22
	CodeExpired         uint32 = 23
	CodeHashMismatch    uint32 = 24
	CodeAccountBusy     uint32 = 25
	CodeInternal        uint32 = 99
)

// abciCodes maps each registry error code to its ABCI number.
var abciCodes = map[string]uint32{
	registry.CodeMalformed:       CodeMalformed,
	registry.CodeTooLarge:        CodeTooLarge,
	registry.CodeBadSignature:    CodeBadSignature,
	registry.CodeBadPubKey:       CodeBadPubKey,
	registry.CodeNonceReplayed:   CodeNonceReplayed,
	registry.CodeNonceGap:        CodeNonceGap,
	registry.CodeUnknownKind:     CodeUnknownKind,
	registry.CodeInvalid:         CodeInvalid,
	registry.CodeInvalidID:       CodeInvalidID,
	registry.CodeUnauthorized:    CodeUnauthorized,
	registry.CodeNotFound:        CodeNotFound,
	registry.CodeExists:          CodeExists,
	registry.CodeDuplicateCity:   CodeDuplicateCity,
	registry.CodeDuplicateLocode: CodeDuplicateLocode,
	registry.CodeAlreadyDecided:  CodeAlreadyDecided,
	registry.CodeAlreadyVoted:    CodeAlreadyVoted,
	registry.CodeVersionMismatch: CodeVersionMismatch,
	registry.CodeInactive:        CodeInactive,
	registry.CodeAlreadyActive:   CodeAlreadyActive,
	registry.CodeAlreadyInactive: CodeAlreadyInactive,
	registry.CodeBadValue:        CodeBadValue,
	registry.CodeExhausted:       CodeExhausted,
	registry.CodeExpired:         CodeExpired,
	registry.CodeHashMismatch:    CodeHashMismatch,
	registry.CodeAccountBusy:     CodeAccountBusy,
	registry.CodeInternal:        CodeInternal,
}

// ABCICode returns the ABCI result code of a registry error (CodeOK for nil).
func ABCICode(err *registry.Error) uint32 {
	if err == nil {
		return CodeOK
	}
	if c, ok := abciCodes[err.Code]; ok {
		return c
	}
	return CodeInternal
}
