package wire

import (
	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/internal/registry"
)

// ProofType is the type of every proof a node gives: an ICS23 commitment
// proof over the IAVL tree, as CometBFT names the proof operation.
const ProofType = "ics23:iavl"

// RecordAnswer is the answer to GET /v1/ids/{id}.
type RecordAnswer struct {
	// Height is the state version the record was read at.
	Height int64           `json:"height"`
	Record registry.Record `json:"record"`
	Proof  *Proof          `json:"proof,omitempty"`
}

// Proof proves what a key holds (or that it holds nothing) in the state
// whose root is AppHash, which the header of block HeaderHeight signs.
type Proof struct {
	// Type is CometBFT's proof op type: an ICS23 commitment proof over
	// the IAVL tree (ProofType).
	Type string `json:"type"`
	Key  []byte `json:"key"`
	// Value is the exact bytes stored under Key, which Record decodes; a
	// verifier checks these, not a re-encoding of Record. Absent in a
	// proof of non-existence.
	Value []byte `json:"value,omitempty"`
	// Proof is the ICS23 CommitmentProof, protobuf-encoded.
	Proof        []byte `json:"proof"`
	Height       int64  `json:"height"`
	AppHash      string `json:"app_hash"`
	HeaderHeight int64  `json:"header_height"`
}

// HistoryEntry is one version of a record.
type HistoryEntry struct {
	Version uint64          `json:"version"`
	Height  int64           `json:"height"`
	Time    string          `json:"time"`
	Tx      string          `json:"tx"`
	Status  string          `json:"status"`
	Record  registry.Record `json:"record"`
}

// History is a page of an identifier's versions, oldest first.
type History struct {
	ID       string         `json:"id"`
	Height   int64          `json:"height"`
	Versions []HistoryEntry `json:"versions"`
	Next     string         `json:"next,omitempty"`
}

// Child is one child of a node.
type Child struct {
	ID     string    `json:"id"`
	Kind   code.Kind `json:"kind"`
	Name   string    `json:"name,omitempty"`
	Status string    `json:"status"`
}

// Children is a page of a node's children: its sectors or units first, then
// the objects registered directly under it, each in identifier order.
type Children struct {
	ID       string  `json:"id"`
	Height   int64   `json:"height"`
	Children []Child `json:"children"`
	Next     string  `json:"next,omitempty"`
}

// UploadAnswer is the answer to PUT /v1/data/{id}: how much of the
// dataset's bytes the node holds. Complete is true once they are stored,
// checked against the SHA-256 on the ledger.
type UploadAnswer struct {
	ID       string `json:"id"`
	SHA256   string `json:"sha256"`
	Size     int64  `json:"size"`
	Received int64  `json:"received"`
	Complete bool   `json:"complete"`
}
