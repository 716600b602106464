package wire

// Problem is an RFC 9457 problem detail with CityID's stable error code.
// When an identifier that does not parse caused it, Reason and Position
// say why and where, as the code package's error does.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Code   string `json:"code"`
	// Reason is the code package's error code when an identifier did not
	// parse ("bad_check_char", "unknown_sector", ...), or why a deflated
	// body was refused ("inflated_too_large", "bad_deflate").
	Reason string `json:"reason,omitempty" jsonschema_description:"when an identifier did not parse: why, as a stable code of the identifier grammar (bad_check_char, unknown_country, unknown_sector, leading_zero, too_long, too_short, empty, bad_char, trailing_junk, not_a_node, outside_zone, bad_form); when a deflated body was refused: inflated_too_large or bad_deflate"`
	// Position is where in the identifier the parse failed: 1-based, in
	// characters; for a deflated body, the byte of the compressed body
	// where inflating stood; absent when the problem has no single place.
	Position int    `json:"position,omitempty" jsonschema_description:"when an identifier did not parse: where, 1-based, in characters; when a deflated body was refused: the 1-based byte of the compressed body where inflating stopped; absent when the problem has no single place (an empty identifier)"`
	Hash     string `json:"hash,omitempty"`   // for a refused or failed transaction
	Height   int64  `json:"height,omitempty"` // for a transaction that failed in a block; the state version of a read
	Proof    *Proof `json:"proof,omitempty"`  // for an unknown identifier asked with ?proof=true: proof of its absence
}
