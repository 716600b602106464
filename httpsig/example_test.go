package httpsig_test

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/cityid/cityid/httpsig"
)

// An outside program signs a request to a city's node with an admin key of
// its own node; the node verifies it. The clock and nonce are fixed here
// only so that the output is stable.
func Example() {
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	keyID := hex.EncodeToString(priv.Public().(ed25519.PublicKey))
	now := time.Date(2026, 12, 5, 4, 35, 0, 0, time.UTC)

	// The reader's side.
	req, _ := http.NewRequest("GET", "http://node.city-a.example/v1/data/1561301001.85.3/school-0042", nil)
	signer := httpsig.Signer{
		KeyID: keyID,
		Key:   priv,
		Tag:   "cityid",
		Now:   func() time.Time { return now },
		Nonce: func() (string, error) { return "Bq9Yx3bIy-0yVZ2nBs6wCA", nil },
	}
	if err := signer.Sign(req); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("Signature-Input:", strings.Replace(req.Header.Get("Signature-Input"), keyID, "…", 1))

	// The owner's node.
	verifier := &httpsig.Verifier{
		Key: func(id string) (ed25519.PublicKey, error) {
			if id != keyID {
				return nil, errors.New("not an admin key of a node")
			}
			return priv.Public().(ed25519.PublicKey), nil
		},
		Tag:    "cityid",
		Nonces: httpsig.NewNonceCache(1 << 16),
		Now:    func() time.Time { return now.Add(2 * time.Second) },
	}
	// What the server receives: the same request, read off the wire.
	received := httptest.NewRequest(req.Method, req.URL.String(), nil)
	received.Header = req.Header.Clone()
	p, err := verifier.Verify(received, "")
	fmt.Println("verified:", err == nil, p.Created.UTC().Format(time.RFC3339))
	_, err = verifier.Verify(received, "")
	fmt.Println("again:", httpsig.ErrorCode(err))
	// Output:
	// Signature-Input: sig1=("@method" "@target-uri" "@authority");created=1796445300;nonce="Bq9Yx3bIy-0yVZ2nBs6wCA";alg="ed25519";keyid="…";tag="cityid"
	// verified: true 2026-12-05T04:35:00Z
	// again: signature_replayed
}
