package accesslog

// Page is one answer of GET /v1/access-log/{id}: some entries of a
// dataset's log with the log's head as it stood, so a reader knows how many
// entries to fetch and what the last must hash to. Items are the entries
// after the ones already read; Next, when not empty, is the `after` of the
// next page.
type Page struct {
	Dataset string  `json:"dataset"`
	Height  int64   `json:"height"`  // the ledger height the request was decided at
	Entries uint64  `json:"entries"` // entries in the log (durable)
	Head    string  `json:"head"`    // hash of entry Entries; ZeroHash for none
	Items   []Entry `json:"items"`
	Next    string  `json:"next,omitempty"`
}
