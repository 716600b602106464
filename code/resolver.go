package code

import (
	"strconv"
	"strings"
)

// ResolverURL returns the URL that resolves the identifier, as carried in QR
// codes: <base>/r/<identifier>. Trailing slashes of base are ignored. The
// identifier needs no percent-encoding: all its characters are unreserved in
// a URL path (RFC 3986), and '/' separates the local id as in the text form.
func (id ID) ResolverURL(base string) string {
	return strings.TrimRight(base, "/") + "/r/" + id.String()
}

// ParseResolverURL parses a resolver URL under base. The base and "/r/" are
// compared ignoring ASCII case; anything after the identifier (a query, a
// fragment, percent-encoding) is rejected like any other character outside
// the grammar. Error positions count in u.
func ParseResolverURL(base, u string) (ID, error) {
	prefix := strings.TrimRight(base, "/") + "/r/"
	if !hasPrefixFold(u, prefix) {
		return ID{}, &Error{Code: ErrBadForm, Pos: 1,
			Msg: "URL is not under resolver " + strconv.Quote(prefix)}
	}
	id, err := parse(u[len(prefix):])
	if err != nil {
		return ID{}, shift(err, runePos(u, len(prefix))-1)
	}
	return id, nil
}
