// Package httpsig owns HTTP Message Signatures (RFC 9421) with Ed25519, the
// way CityID nodes sign and check requests between cities: building the
// signature base, the Signature-Input and Signature fields (RFC 8941
// structured-field dictionaries), signing, and verifying with the freshness
// and replay checks a server needs (created within a window, a nonce used
// once).
//
// It is public because programs outside CityID sign with it, as the client
// does. An outside program signs a request with the hex public key of a key
// that is an admin of its node as keyid:
//
//	req, _ := http.NewRequest("GET", "https://node.city-a.example/v1/data/1561301001.85.3/school-0042", nil)
//	signer := httpsig.Signer{
//		KeyID: hex.EncodeToString(priv.Public().(ed25519.PublicKey)),
//		Key:   priv,
//		Tag:   "cityid",
//	}
//	if err := signer.Sign(req); err != nil { ... }
//	resp, err := http.DefaultClient.Do(req)
//
// The request then carries, for instance:
//
//	Signature-Input: sig1=("@method" "@target-uri" "@authority");created=1796445300;nonce="Bq9Yx3bIy-0yVZ2nBs6wCA";alg="ed25519";keyid="3b6a27bc…";tag="cityid"
//	Signature: sig1=:<base64 of the 64-byte Ed25519 signature>:
//
// Covered by default are the method, the target URI and the authority, so a
// signature is good for one request to one node; add "content-digest" (RFC
// 9530) to Signer.Components to cover a body. A server checks with a
// Verifier, whose Key function maps a keyid to a public key and whose
// errors are *Error values with a stable Code.
//
// Supported components: @method, @target-uri, @authority, @scheme,
// @request-target, @path, @query and request fields by name. Component
// parameters (;sf, ;key, ;bs, ;req, ;name, hence @query-param) and
// responses are not: a signature that uses them is refused as malformed,
// never half-checked. Byte sequences are read as strict base64 (padded,
// zero pad bits), stricter than RFC 8941 asks.
//
// What this package must not do: import anything but the standard library
// (a test checks), hold global mutable state, panic on any request or field
// value, or accept a signature it did not check in full. It knows nothing of
// the registry: whether a key may read a dataset is the caller's business.
package httpsig
