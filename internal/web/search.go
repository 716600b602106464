package web

import (
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/cityid/cityid/code"
)

// parseAny reads an identifier in any of its forms, as a person pastes or
// types it: canonical (any case), URN, DNS name (under the network's
// zone, with or without the final dot), Handle (prefix/suffix, which is
// the canonical text), ISO/IEC 15459 (under the network's agency code),
// or a resolver URL (of any node: the identifier follows "/r/"), and a
// node's handle under the Handle REST's 0.NA prefix. Spaces
// around it are dropped. A code.Error's position counts in the text as
// given, so the page can point at the character.
func parseAny(text string, opts code.FormOptions) (code.ID, error) {
	trimmed := strings.TrimLeft(text, " \t\r\n")
	lead := utf8.RuneCountInString(text) - utf8.RuneCountInString(trimmed)
	s := strings.TrimRight(trimmed, " \t\r\n")
	id, err := parseForm(s, opts)
	var ce *code.Error
	if err != nil && errors.As(err, &ce) && ce.Pos > 0 {
		moved := *ce
		moved.Pos += lead
		return code.ID{}, &moved
	}
	return id, err
}

func parseForm(s string, opts code.FormOptions) (code.ID, error) {
	lower := strings.ToLower(s)
	switch {
	case strings.HasPrefix(lower, "urn:"):
		return code.ParseURN(s)
	case strings.HasPrefix(lower, "0.na/"):
		// A node's own handle (internal/api/handle): 0.NA/<node code>.
		id, err := code.ParseHandle(s[len("0.na/"):], "")
		var ce *code.Error
		if errors.As(err, &ce) && ce.Pos > 0 {
			moved := *ce
			moved.Pos += len("0.na/")
			return code.ID{}, &moved
		}
		return id, err
	case strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://"):
		// Any node's resolver URL: the base is everything before "/r/".
		rest := s[strings.Index(s, "//")+2:]
		i := strings.Index(strings.ToLower(rest), "/r/")
		if i < 0 {
			return code.ID{}, &code.Error{Code: code.ErrBadForm, Pos: 1, Msg: `URL is not a resolver URL: no "/r/" after its host`}
		}
		base := s[:len(s)-len(rest)+i]
		return code.ParseResolverURL(base, s)
	}
	zone := strings.ToLower(strings.TrimSuffix(opts.Zone, "."))
	if zone != "" && (strings.HasSuffix(lower, "."+zone) || strings.HasSuffix(lower, "."+zone+".")) {
		if !strings.HasSuffix(s, ".") {
			s += "."
		}
		return code.ParseDNSName(opts.Zone, s)
	}
	if iac := opts.IAC; iac != "" && strings.HasPrefix(lower, strings.ToLower(iac)+".") {
		return code.ParseISO15459(iac, s)
	}
	return code.Parse(s)
}
