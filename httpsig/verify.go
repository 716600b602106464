package httpsig

import (
	"crypto/ed25519"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Verifier checks signed requests. Its fields are read only; a Verifier is
// safe for concurrent use when Key is (the NonceCache is).
type Verifier struct {
	// Key returns the public key for a keyid; an error refuses the request
	// with ErrUnknownKey, wrapping it.
	Key func(keyID string) (ed25519.PublicKey, error)
	// Required are the components every signature must cover; nil means
	// DefaultComponents().
	Required []string
	// Tag, when set, is the tag every signature must carry.
	Tag string
	// MaxAge: a signature created longer ago is stale. Default DefaultMaxAge.
	MaxAge time.Duration
	// MaxSkew: a signature created later than now plus this is from the
	// future. Default DefaultMaxSkew.
	MaxSkew time.Duration
	// Nonces, when set, makes the nonce required and refuses one seen for
	// the same key within MaxAge.
	Nonces *NonceCache
	// NotBefore: a signature created before it is stale. A node sets its
	// start time, so that a restart, which empties the nonce cache, cannot
	// let through a replay of a request the node served before it. created
	// has whole seconds, so a request signed in the second the node starts
	// is refused too.
	NotBefore time.Time
	// Scheme of @target-uri when the server's connection does not say it
	// (behind a TLS-terminating proxy: "https"). Default: https when r.TLS
	// is set, http otherwise.
	Scheme string
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Verify checks the signature labelled label ("" means the first one of
// Signature-Input) on r, as a server received it, and returns its
// parameters: Check, then UseNonce. On a refusal the error is an *Error,
// and Params holds what could be read (for the log; not to be trusted).
func (v *Verifier) Verify(r *http.Request, label string) (Params, error) {
	p, err := v.Check(r, label)
	if err != nil {
		return p, err
	}
	return p, v.UseNonce(p)
}

// Check is Verify without recording the nonce: a server that lets a
// request in only after further checks of its own (the signer's rights)
// calls UseNonce then, so that requests it refuses cannot fill the nonce
// cache. Checks run cheapest first; with Nonces set, a signature without a
// nonce is refused here.
func (v *Verifier) Check(r *http.Request, label string) (Params, error) {
	// One reading of the clock for every check of this request.
	now := v.now()
	p, in, sig, err := readSignature(r, label)
	if err != nil {
		return p, err
	}
	if err := v.checkParams(p, now); err != nil {
		return p, err
	}
	if p.KeyID == "" {
		return p, refuse(ErrUnknownKey, "the signature has no keyid")
	}
	if v.Key == nil {
		return p, refuse(ErrUnknownKey, "the verifier knows no keys")
	}
	pub, err := v.Key(p.KeyID)
	if err != nil {
		return p, &Error{Code: ErrUnknownKey, Msg: "keyid " + strconv.Quote(p.KeyID), Err: err}
	}
	if len(pub) != ed25519.PublicKeySize {
		return p, refuse(ErrUnknownKey, "the key of keyid "+strconv.Quote(p.KeyID)+" is not an Ed25519 public key")
	}
	base, err := signatureBase(r, requestScheme(r, v.Scheme), p.Components, in.params)
	if err != nil {
		// A covered field the request no longer has: it is not the
		// request that was signed.
		return p, &Error{Code: ErrBad, Msg: "cannot rebuild the signature base", Err: err}
	}
	if !ed25519.Verify(pub, base, sig) {
		return p, refuse(ErrBad, "the signature does not verify for this request and keyid "+strconv.Quote(p.KeyID))
	}
	return p, nil
}

// UseNonce records the nonce of a signature Check accepted, refusing one
// the key used within MaxAge (ErrReplayed) or one the cache cannot
// remember now (ErrBusy). Without Nonces it does nothing. Recording only
// after the signature verified means forged requests cannot spend a
// nonce or fill the cache.
func (v *Verifier) UseNonce(p Params) error {
	if v.Nonces == nil {
		return nil
	}
	if p.Nonce == "" {
		return refuse(ErrMalformed, "the signature has no nonce, which this server requires")
	}
	// A nonce may be accepted from MaxSkew before its created time to
	// MaxAge after: that long is the cache's window.
	return v.Nonces.use(p.KeyID, p.Nonce, p.Created, v.now().Add(-v.maxAge()), v.maxAge()+v.maxSkew())
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) maxAge() time.Duration {
	if v.MaxAge > 0 {
		return v.MaxAge
	}
	return DefaultMaxAge
}

func (v *Verifier) maxSkew() time.Duration {
	if v.MaxSkew > 0 {
		return v.MaxSkew
	}
	return DefaultMaxSkew
}

// checkParams checks what needs no key: algorithm, tag, coverage, times and
// the presence of a nonce.
func (v *Verifier) checkParams(p Params, now time.Time) error {
	if p.Alg != "" && p.Alg != Alg {
		return refuse(ErrAlg, "alg "+strconv.Quote(p.Alg)+", want "+strconv.Quote(Alg))
	}
	if v.Tag != "" && p.Tag != v.Tag {
		return refuse(ErrTag, "tag "+strconv.Quote(p.Tag)+", want "+strconv.Quote(v.Tag))
	}
	required := v.Required
	if required == nil {
		required = DefaultComponents()
	}
	for _, want := range required {
		covered := false
		for _, c := range p.Components {
			if c == want {
				covered = true
				break
			}
		}
		if !covered {
			return refuse(ErrNotCovered, "the signature does not cover "+strconv.Quote(want))
		}
	}
	if p.Created.IsZero() {
		return refuse(ErrMalformed, "the signature has no created parameter")
	}
	if p.Created.After(now.Add(v.maxSkew())) {
		return refuse(ErrFuture, "created "+p.Created.UTC().Format(time.RFC3339)+" is ahead of this server's clock "+now.UTC().Format(time.RFC3339)+" by more than "+v.maxSkew().String())
	}
	if p.Created.Before(now.Add(-v.maxAge())) {
		return refuse(ErrStale, "created "+p.Created.UTC().Format(time.RFC3339)+" is more than "+v.maxAge().String()+" before this server's clock "+now.UTC().Format(time.RFC3339))
	}
	if !v.NotBefore.IsZero() && p.Created.Before(v.NotBefore) {
		return refuse(ErrStale, "created "+p.Created.UTC().Format(time.RFC3339)+" is before this server started")
	}
	if !p.Expires.IsZero() && !now.Before(p.Expires) {
		return refuse(ErrStale, "expired at "+p.Expires.UTC().Format(time.RFC3339))
	}
	if v.Nonces != nil && p.Nonce == "" {
		return refuse(ErrMalformed, "the signature has no nonce, which this server requires")
	}
	return nil
}

// signatureInput is one Signature-Input member as parsed: the parameters
// stay in the signer's order, with any extension parameter, because the
// @signature-params line must be rebuilt exactly.
type signatureInput struct {
	params []param
}

func joinField(h http.Header, name string) string {
	return strings.Join(h.Values(name), ", ")
}

// readSignature parses both fields and picks the member labelled label.
func readSignature(r *http.Request, label string) (Params, signatureInput, []byte, error) {
	var p Params
	inputField, sigField := joinField(r.Header, "Signature-Input"), joinField(r.Header, "Signature")
	if inputField == "" || sigField == "" {
		return p, signatureInput{}, nil, refuse(ErrMissing, "the request has no Signature-Input and Signature fields")
	}
	if r.URL == nil {
		return p, signatureInput{}, nil, refuse(ErrMalformed, "the request has no URL")
	}
	inputs, err := parseDictionary(inputField)
	if err != nil {
		return p, signatureInput{}, nil, &Error{Code: ErrMalformed, Msg: "Signature-Input", Err: err}
	}
	sigs, err := parseDictionary(sigField)
	if err != nil {
		return p, signatureInput{}, nil, &Error{Code: ErrMalformed, Msg: "Signature", Err: err}
	}
	if label == "" {
		if len(inputs) == 0 {
			return p, signatureInput{}, nil, refuse(ErrMissing, "Signature-Input has no member")
		}
		label = inputs[0].key
	}
	p.Label = label
	in, ok := findMember(inputs, label)
	if !ok {
		return p, signatureInput{}, nil, refuse(ErrMissing, "Signature-Input has no signature labelled "+strconv.Quote(label))
	}
	sm, ok := findMember(sigs, label)
	if !ok {
		return p, signatureInput{}, nil, refuse(ErrMissing, "Signature has no signature labelled "+strconv.Quote(label))
	}
	if !in.inner {
		return p, signatureInput{}, nil, refuse(ErrMalformed, "Signature-Input member "+strconv.Quote(label)+" is not an inner list")
	}
	for i, it := range in.list {
		if it.bare.kind != kindString {
			return p, signatureInput{}, nil, refuse(ErrMalformed, "component "+strconv.Itoa(i+1)+" is not a string")
		}
		if len(it.params) > 0 {
			return p, signatureInput{}, nil, refuse(ErrMalformed, "component "+strconv.Quote(it.bare.str)+" has parameters, which are not supported")
		}
		if err := checkComponentName(it.bare.str); err != nil {
			return p, signatureInput{}, nil, &Error{Code: ErrMalformed, Msg: "Signature-Input", Err: err}
		}
		for _, prev := range p.Components {
			if prev == it.bare.str {
				return p, signatureInput{}, nil, refuse(ErrMalformed, "component "+strconv.Quote(prev)+" is covered twice")
			}
		}
		p.Components = append(p.Components, it.bare.str)
	}
	for _, pr := range in.params {
		if err := setParamField(&p, pr); err != nil {
			return p, signatureInput{}, nil, err
		}
	}
	if sm.inner || sm.item.bare.kind != kindBytes {
		return p, signatureInput{}, nil, refuse(ErrMalformed, "Signature member "+strconv.Quote(label)+" is not a byte sequence")
	}
	if len(sm.item.bare.raw) != ed25519.SignatureSize {
		return p, signatureInput{}, nil, refuse(ErrMalformed, "the signature has "+strconv.Itoa(len(sm.item.bare.raw))+" bytes, an Ed25519 signature 64")
	}
	return p, signatureInput{params: in.params}, sm.item.bare.raw, nil
}

func findMember(dict []member, key string) (member, bool) {
	for _, m := range dict {
		if m.key == key {
			return m, true
		}
	}
	return member{}, false
}

// setParamField reads one parameter into p, checking the type RFC 9421 2.3
// gives it. Other parameters are kept (they are signed) but not read.
func setParamField(p *Params, pr param) error {
	wantInt := func() (time.Time, error) {
		if pr.val.kind != kindInteger {
			return time.Time{}, refuse(ErrMalformed, "parameter "+pr.key+" is not an integer")
		}
		return time.Unix(pr.val.num, 0), nil
	}
	wantString := func() (string, error) {
		if pr.val.kind != kindString {
			return "", refuse(ErrMalformed, "parameter "+pr.key+" is not a string")
		}
		return pr.val.str, nil
	}
	var err error
	switch pr.key {
	case "created":
		p.Created, err = wantInt()
	case "expires":
		p.Expires, err = wantInt()
	case "nonce":
		p.Nonce, err = wantString()
	case "alg":
		p.Alg, err = wantString()
	case "keyid":
		p.KeyID, err = wantString()
	case "tag":
		p.Tag, err = wantString()
	}
	return err
}
