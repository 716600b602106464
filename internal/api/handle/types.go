package handle

import "github.com/cityid/cityid/internal/wire"

// The answer types of the Handle REST API live in package wire with the
// API's other answers, so the Go client reads them without linking the
// server. This is the one file of the package that names them.
//
// Their names are those of the OpenAPI document's schemas (HandleAnswer,
// HandleValue, ...), which are taken from the Go type names: renaming one
// changes the published contract.
type (
	HandleAnswer = wire.HandleAnswer
	HandleValue  = wire.HandleValue
	HandleData   = wire.HandleData
	HandleAdmin  = wire.HandleAdmin
)
