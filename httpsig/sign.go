package httpsig

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Signer signs requests with one Ed25519 key. The zero value of every field
// but KeyID and Key has a default; a Signer is safe for concurrent use when
// its Now and Nonce are.
type Signer struct {
	KeyID      string                 // keyid; CityID's is the hex Ed25519 public key
	Key        ed25519.PrivateKey     // the signing key
	Label      string                 // default DefaultLabel ("sig1")
	Components []string               // default DefaultComponents(); may name fields ("content-digest") and "@path", "@query", ...
	Tag        string                 // tag; CityID's requests carry "cityid"
	Now        func() time.Time       // default time.Now
	Nonce      func() (string, error) // default RandomNonce; "" leaves the nonce out
}

// Sign adds a Signature-Input and a Signature member to r, labelled
// s.Label, with the parameters created, nonce, alg="ed25519", keyid and tag
// (when set). Sign it last: a field or URL changed afterwards breaks it.
func (s Signer) Sign(r *http.Request) error {
	nonceFn := s.Nonce
	if nonceFn == nil {
		nonceFn = RandomNonce
	}
	nonce, err := nonceFn()
	if err != nil {
		return fmt.Errorf("httpsig: nonce: %w", err)
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	p := Params{
		Label:      s.Label,
		Components: s.Components,
		KeyID:      s.KeyID,
		Alg:        Alg,
		Created:    now(),
		Nonce:      nonce,
		Tag:        s.Tag,
	}
	if p.Label == "" {
		p.Label = DefaultLabel
	}
	if p.Components == nil {
		p.Components = DefaultComponents()
	}
	return SignParams(r, s.Key, p)
}

// SignParams signs r with key under exactly the parameters p holds (a zero
// field is left out), so that a caller can reproduce a given signature, such
// as RFC 9421's own examples. p.Label must be set.
func SignParams(r *http.Request, key ed25519.PrivateKey, p Params) error {
	if len(key) != ed25519.PrivateKeySize {
		return fmt.Errorf("httpsig: signing key has %d bytes, want %d", len(key), ed25519.PrivateKeySize)
	}
	if !validKey(p.Label) {
		return fmt.Errorf("httpsig: label %q is not a structured-field key (lowercase letters, digits, _-.*)", p.Label)
	}
	if r.URL == nil {
		return errors.New("httpsig: request has no URL")
	}
	if r.Header == nil {
		r.Header = http.Header{}
	}
	// Adding a second member with the same label would make both fields
	// name only the last one: refuse instead of silently replacing.
	for _, field := range []string{"Signature-Input", "Signature"} {
		dict, err := parseDictionary(joinField(r.Header, field))
		if err != nil {
			return fmt.Errorf("httpsig: the request's %s: %w", field, err)
		}
		for _, m := range dict {
			if m.key == p.Label {
				return fmt.Errorf("httpsig: the request already has a signature labelled %q", p.Label)
			}
		}
	}
	p.Created = p.Created.Truncate(time.Second)
	params, err := p.sfParams()
	if err != nil {
		return err
	}
	base, err := signatureBase(r, requestScheme(r, ""), p.Components, params)
	if err != nil {
		return fmt.Errorf("httpsig: %w", err)
	}
	sig := ed25519.Sign(key, base)
	// The signature-params value is the last line of the base, after its
	// name: the same bytes go into Signature-Input.
	input := base[lastLineStart(base)+len(`"@signature-params": `):]
	r.Header.Add("Signature-Input", p.Label+"="+string(input))
	r.Header.Add("Signature", p.Label+"=:"+base64.StdEncoding.EncodeToString(sig)+":")
	return nil
}

func lastLineStart(b []byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '\n' {
			return i + 1
		}
	}
	return 0
}

// RandomNonce returns 16 random bytes in base64url without padding, the
// Signer's default nonce.
func RandomNonce() (string, error) {
	var b [nonceBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}
