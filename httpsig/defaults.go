package httpsig

import "time"

// Every default and bound of the package, with its reason.
const (
	// DefaultLabel names the signature in both fields when the Signer sets
	// no label; RFC 9421's own examples use sig1 for a lone signature.
	DefaultLabel = "sig1"

	// Alg is the only algorithm this package signs and verifies (RFC 9421
	// 3.3.6): Ed25519 keys are what CityID's admins hold.
	Alg = "ed25519"

	// DefaultMaxAge bounds how old a signature may be. Five minutes covers a
	// slow upload's request line and ordinary clock drift between cities,
	// and bounds how long the nonce cache must remember a nonce.
	DefaultMaxAge = 5 * time.Minute

	// DefaultMaxSkew bounds how far in the future created may be: a
	// signer's clock a little ahead of the verifier's, no more, so that a
	// signature cannot be made now to be replayed later.
	DefaultMaxSkew = 30 * time.Second

	// nonceBytes is the randomness of a default nonce: 128 bits never
	// repeat by chance.
	nonceBytes = 16

	// maxComponents bounds the components of one signature, so the work of
	// building a signature base is bounded whatever a request says. RFC
	// 9421's examples cover at most a dozen.
	maxComponents = 64

	// maxSignatures bounds the members of each field that Verify reads: a
	// request signed by a few parties is normal, thousands is an attack.
	maxSignatures = 16

	// maxParams bounds the parameters of one item or inner list: RFC 9421
	// defines six signature parameters.
	maxParams = 32
)

// DefaultComponents are the components every CityID request covers: the
// method, the whole target URI (scheme, authority, path and query) and the
// authority on its own, so that a signature is for one request to one node.
// A fresh slice each call: callers may append to it.
func DefaultComponents() []string {
	return []string{"@method", "@target-uri", "@authority"}
}
