package handle

// The answer types of the Handle REST API. This is the one file of the
// package that names them: when they move to the wire package with the
// API's other answers, these become aliases of those.
//
// Their names are those of the OpenAPI document's schemas (HandleAnswer,
// HandleValue, ...), which are taken from the Go type names: renaming one
// changes the published contract.

// HandleAnswer is the Handle REST answer.
type HandleAnswer struct {
	ResponseCode int           `json:"responseCode"`
	Handle       string        `json:"handle"`
	Message      string        `json:"message,omitempty"`
	Values       []HandleValue `json:"values,omitempty"`
}

// HandleValue is one handle value.
type HandleValue struct {
	Index     int        `json:"index"`
	Type      string     `json:"type"`
	Data      HandleData `json:"data"`
	TTL       uint32     `json:"ttl"`
	Timestamp string     `json:"timestamp"`
}

// HandleData says how a value's bytes are shown: format "string", "hex" or
// "admin".
type HandleData struct {
	Format string `json:"format"`
	Value  any    `json:"value"`
}

// HandleAdmin is the value of an HS_ADMIN in "admin" format: the handle
// and index of the key that administers, and what it may do.
type HandleAdmin struct {
	Handle      string `json:"handle"`
	Index       int    `json:"index"`
	Permissions string `json:"permissions"`
}
