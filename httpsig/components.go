package httpsig

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Params are a signature's parameters and what it covers, as Signature-Input
// carries them (RFC 9421 2.3). The zero value of a field means the
// parameter is absent.
type Params struct {
	Label      string    // the member name in Signature-Input and Signature
	Components []string  // covered components, in order: "@method", "content-digest", ...
	KeyID      string    // keyid; CityID's is the hex Ed25519 public key
	Alg        string    // alg; "ed25519" or absent
	Created    time.Time // created, whole seconds
	Expires    time.Time // expires, whole seconds; zero when absent
	Nonce      string    // nonce
	Tag        string    // tag: the application the signature is for
}

// SignatureBase returns the signature base (RFC 9421 2.5) of r for p: one
// line per covered component, then the @signature-params line. The scheme
// is r.URL.Scheme for a request about to be sent (RequestURI empty);
// for a request a server received, https when r.TLS is set and http if
// not. It is what Sign signs and Verify checks, exported for tests and
// debugging.
func SignatureBase(r *http.Request, p Params) ([]byte, error) {
	if r.URL == nil {
		return nil, errors.New("httpsig: request has no URL")
	}
	params, err := p.sfParams()
	if err != nil {
		return nil, err
	}
	return signatureBase(r, requestScheme(r, ""), p.Components, params)
}

// sfParams gives p's parameters in the order RFC 9421 2.3 lists them.
func (p Params) sfParams() ([]param, error) {
	var params []param
	if !p.Created.IsZero() {
		params = append(params, param{"created", bareItem{kind: kindInteger, num: p.Created.Unix()}})
	}
	if !p.Expires.IsZero() {
		params = append(params, param{"expires", bareItem{kind: kindInteger, num: p.Expires.Unix()}})
	}
	for _, sp := range []struct{ key, val string }{
		{"nonce", p.Nonce}, {"alg", p.Alg}, {"keyid", p.KeyID}, {"tag", p.Tag},
	} {
		if sp.val == "" {
			continue
		}
		if _, err := appendBare(nil, bareItem{kind: kindString, str: sp.val}); err != nil {
			return nil, fmt.Errorf("httpsig: parameter %s: %w", sp.key, err)
		}
		params = append(params, param{sp.key, bareItem{kind: kindString, str: sp.val}})
	}
	return params, nil
}

// signatureBase builds the base from components and the parameters as they
// are (a verifier keeps the signer's order and any extension parameter).
func signatureBase(r *http.Request, scheme string, components []string, params []param) ([]byte, error) {
	if len(components) > maxComponents {
		return nil, fmt.Errorf("%d components, at most %d", len(components), maxComponents)
	}
	list := make([]item, 0, len(components))
	b := make([]byte, 0, 256)
	for i, name := range components {
		if err := checkComponentName(name); err != nil {
			return nil, err
		}
		for _, prev := range components[:i] {
			if prev == name {
				return nil, fmt.Errorf("component %q covered twice", name)
			}
		}
		value, err := componentValue(r, scheme, name)
		if err != nil {
			return nil, err
		}
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, `": `...)
		b = append(b, value...)
		b = append(b, '\n')
		list = append(list, item{bare: bareItem{kind: kindString, str: name}})
	}
	b = append(b, `"@signature-params": `...)
	return appendInnerList(b, list, params)
}

// checkComponentName accepts a derived component this package can compute
// or a lowercase field name. Component parameters (;sf, ;key, ;bs, ;req,
// ;name) are not supported, so @query-param and @status are refused too.
func checkComponentName(name string) error {
	if strings.HasPrefix(name, "@") {
		switch name {
		case "@method", "@target-uri", "@authority", "@scheme", "@request-target", "@path", "@query":
			return nil
		}
		return fmt.Errorf("derived component %q is not supported", name)
	}
	if name == "" {
		return errors.New("empty component name")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !isTChar(c) || (c >= 'A' && c <= 'Z') {
			return fmt.Errorf("component %q is not a lowercase field name", name)
		}
	}
	return nil
}

// requestScheme is the scheme of the request's target URI: the one
// configured (a server behind a TLS-terminating proxy), the URL's own for a
// client's request, or what the connection says for a server's request
// (RequestURI set): a request line in absolute form ("GET https://...")
// does not get to choose.
func requestScheme(r *http.Request, configured string) string {
	switch {
	case configured != "":
		return strings.ToLower(configured)
	case r.RequestURI == "" && r.URL != nil && r.URL.Scheme != "":
		return strings.ToLower(r.URL.Scheme)
	case r.TLS != nil:
		return "https"
	}
	return "http"
}

// authority is host[:port] as HTTP 4.2.3 normalises it: lowercase, without
// an empty or default port. Host is what the request line or Host header
// said (a server's r.Host, a client's r.Host or else its URL's host).
func authority(r *http.Request, scheme string) string {
	host := r.Host
	if host == "" && r.URL != nil {
		host = r.URL.Host
	}
	host = strings.ToLower(host)
	switch {
	case strings.HasSuffix(host, ":"):
		host = host[:len(host)-1]
	case scheme == "http" && strings.HasSuffix(host, ":80"):
		host = host[:len(host)-3]
	case scheme == "https" && strings.HasSuffix(host, ":443"):
		host = host[:len(host)-4]
	}
	return host
}

func componentValue(r *http.Request, scheme, name string) (string, error) {
	var v string
	switch name {
	case "@method":
		v = r.Method
		if v == "" { // a client's http.Request means GET by ""
			v = http.MethodGet
		}
	case "@target-uri":
		v = scheme + "://" + authority(r, scheme) + r.URL.RequestURI()
	case "@authority":
		v = authority(r, scheme)
	case "@scheme":
		v = scheme
	case "@request-target":
		v = r.URL.RequestURI()
	case "@path":
		v = r.URL.EscapedPath()
		if v == "" {
			v = "/"
		}
	case "@query":
		v = "?" + r.URL.RawQuery
	case "host":
		// Go moves Host out of the header map, into r.Host (a client's
		// request may leave it to the URL).
		v = r.Host
		if v == "" && r.URL != nil {
			v = r.URL.Host
		}
		if v == "" {
			return "", errors.New(`the request has no "host"`)
		}
	default:
		vals := r.Header.Values(name)
		if len(vals) == 0 {
			return "", fmt.Errorf("the request has no %q field", name)
		}
		// RFC 9421 2.1: each field line's value trimmed, the lines
		// joined by ", " in the order they came.
		var sb strings.Builder
		for i, fv := range vals {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(strings.Trim(fv, " \t"))
		}
		v = sb.String()
	}
	// A line break in a value would let it forge the lines after it.
	if strings.ContainsAny(v, "\r\n") {
		return "", fmt.Errorf("component %q holds a line break", name)
	}
	return v, nil
}
