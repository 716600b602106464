package httpsig

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
)

// The part of RFC 8941 (Structured Field Values) that Signature-Input and
// Signature need: dictionaries whose members are items or inner lists, with
// parameters, and the serialization of an inner list for the
// @signature-params line. Parsing follows the RFC's algorithms (section 4.2)
// step by step; anything they fail is an error, never a guess.

// itemKind is the type of a bare item.
type itemKind uint8

const (
	kindInteger itemKind = iota
	kindDecimal
	kindString
	kindToken
	kindBytes
	kindBool
)

// bareItem is one bare item. A decimal is held as an integer count of
// thousandths (RFC 8941 allows 12 integer and 3 fractional digits, which
// fit an int64), so no float ever appears.
type bareItem struct {
	kind itemKind
	num  int64  // integer, or decimal in thousandths
	str  string // string or token
	raw  []byte // byte sequence
	bool bool
}

type param struct {
	key string
	val bareItem
}

type item struct {
	bare   bareItem
	params []param
}

// member is one member of a dictionary: an item, or an inner list (inner is
// true, list holds its items and params its parameters).
type member struct {
	key    string
	inner  bool
	item   item
	list   []item
	params []param
}

var errSyntax = errors.New("structured field syntax")

type sfParser struct {
	s string
	i int
}

func (p *sfParser) eof() bool { return p.i >= len(p.s) }

func (p *sfParser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.s[p.i]
}

func (p *sfParser) fail(what string) error {
	return errSyntaxAt(what, p.i)
}

func errSyntaxAt(what string, pos int) error {
	return &syntaxError{what: what, pos: pos}
}

type syntaxError struct {
	what string
	pos  int
}

func (e *syntaxError) Error() string {
	return "structured field syntax: " + e.what + " at byte " + strconv.Itoa(e.pos)
}

func (e *syntaxError) Unwrap() error { return errSyntax }

func (p *sfParser) skipSP() {
	for !p.eof() && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *sfParser) skipOWS() {
	for !p.eof() && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

// parseDictionary parses a whole field value as a dictionary (RFC 8941
// 4.2 with 4.2.2). A key seen twice keeps its first position and its last
// value, as the RFC's ordered map does. Members, inner-list items and
// parameters are bounded (defaults.go), which also keeps the search for a
// repeated key from growing with the square of a megabyte of header.
func parseDictionary(s string) ([]member, error) {
	p := &sfParser{s: s}
	p.skipSP()
	var dict []member
	for !p.eof() {
		key, err := p.key()
		if err != nil {
			return nil, err
		}
		var m member
		if p.peek() == '=' {
			p.i++
			m, err = p.itemOrInnerList()
		} else {
			var params []param
			params, err = p.params()
			m = member{item: item{bare: bareItem{kind: kindBool, bool: true}, params: params}}
		}
		if err != nil {
			return nil, err
		}
		m.key = key
		if dict = setMember(dict, m); len(dict) > maxSignatures {
			return nil, p.fail("more than " + strconv.Itoa(maxSignatures) + " members")
		}
		p.skipOWS()
		if p.eof() {
			break
		}
		if p.s[p.i] != ',' {
			return nil, p.fail("want ',' between dictionary members")
		}
		p.i++
		p.skipOWS()
		if p.eof() {
			return nil, p.fail("trailing ','")
		}
	}
	return dict, nil
}

func setMember(dict []member, m member) []member {
	for i := range dict {
		if dict[i].key == m.key {
			dict[i] = m
			return dict
		}
	}
	return append(dict, m)
}

func (p *sfParser) itemOrInnerList() (member, error) {
	if p.peek() == '(' {
		list, params, err := p.innerList()
		return member{inner: true, list: list, params: params}, err
	}
	it, err := p.item()
	return member{item: it}, err
}

func (p *sfParser) innerList() ([]item, []param, error) {
	p.i++ // '('
	var list []item
	for !p.eof() {
		p.skipSP()
		if p.peek() == ')' {
			p.i++
			params, err := p.params()
			return list, params, err
		}
		it, err := p.item()
		if err != nil {
			return nil, nil, err
		}
		if list = append(list, it); len(list) > maxComponents {
			return nil, nil, p.fail("more than " + strconv.Itoa(maxComponents) + " items in an inner list")
		}
		if c := p.peek(); c != ' ' && c != ')' {
			return nil, nil, p.fail("want ' ' or ')' in an inner list")
		}
	}
	return nil, nil, p.fail("unterminated inner list")
}

func (p *sfParser) item() (item, error) {
	bare, err := p.bareItem()
	if err != nil {
		return item{}, err
	}
	params, err := p.params()
	return item{bare: bare, params: params}, err
}

func (p *sfParser) params() ([]param, error) {
	var params []param
	for p.peek() == ';' {
		p.i++
		p.skipSP()
		key, err := p.key()
		if err != nil {
			return nil, err
		}
		val := bareItem{kind: kindBool, bool: true}
		if p.peek() == '=' {
			p.i++
			if val, err = p.bareItem(); err != nil {
				return nil, err
			}
		}
		if params = setParam(params, param{key: key, val: val}); len(params) > maxParams {
			return nil, p.fail("more than " + strconv.Itoa(maxParams) + " parameters")
		}
	}
	return params, nil
}

func setParam(params []param, np param) []param {
	for i := range params {
		if params[i].key == np.key {
			params[i] = np
			return params
		}
	}
	return append(params, np)
}

func isLCAlpha(c byte) bool { return c >= 'a' && c <= 'z' }
func isDigit(c byte) bool   { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool   { return isLCAlpha(c) || (c >= 'A' && c <= 'Z') }

// isTChar reports an RFC 9110 tchar.
func isTChar(c byte) bool {
	return isAlpha(c) || isDigit(c) || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func (p *sfParser) key() (string, error) {
	start := p.i
	if c := p.peek(); !isLCAlpha(c) && c != '*' {
		return "", p.fail("a key starts with a lowercase letter or '*'")
	}
	p.i++
	for !p.eof() {
		c := p.s[p.i]
		if !isLCAlpha(c) && !isDigit(c) && c != '_' && c != '-' && c != '.' && c != '*' {
			break
		}
		p.i++
	}
	return p.s[start:p.i], nil
}

// validKey reports whether s is an RFC 8941 key (a label or a parameter
// name), so that the signer never writes what a parser refuses.
func validKey(s string) bool {
	p := &sfParser{s: s}
	k, err := p.key()
	return err == nil && k == s
}

func (p *sfParser) bareItem() (bareItem, error) {
	c := p.peek()
	switch {
	case c == '-' || isDigit(c):
		return p.number()
	case c == '"':
		return p.string()
	case c == ':':
		return p.bytes()
	case c == '?':
		return p.boolean()
	case isAlpha(c) || c == '*':
		return p.token(), nil
	}
	return bareItem{}, p.fail("not the start of an item")
}

func (p *sfParser) number() (bareItem, error) {
	neg := false
	if p.peek() == '-' {
		neg = true
		p.i++
	}
	if !isDigit(p.peek()) {
		return bareItem{}, p.fail("want a digit")
	}
	var intPart, frac int64
	intDigits, fracDigits := 0, 0
	decimal := false
	for !p.eof() {
		c := p.s[p.i]
		switch {
		case isDigit(c):
			if decimal {
				frac = frac*10 + int64(c-'0')
				fracDigits++
			} else {
				intPart = intPart*10 + int64(c-'0')
				intDigits++
			}
		case c == '.' && !decimal:
			if intDigits > 12 {
				return bareItem{}, p.fail("a decimal has at most 12 integer digits")
			}
			decimal = true
		default:
			goto done
		}
		p.i++
		if !decimal && intDigits > 15 {
			return bareItem{}, p.fail("an integer has at most 15 digits")
		}
		if decimal && fracDigits > 3 {
			return bareItem{}, p.fail("a decimal has at most 3 fractional digits")
		}
	}
done:
	if !decimal {
		if neg {
			intPart = -intPart
		}
		return bareItem{kind: kindInteger, num: intPart}, nil
	}
	if fracDigits == 0 {
		return bareItem{}, p.fail("a decimal ends with a digit")
	}
	for ; fracDigits < 3; fracDigits++ {
		frac *= 10
	}
	v := intPart*1000 + frac
	if neg {
		v = -v
	}
	return bareItem{kind: kindDecimal, num: v}, nil
}

func (p *sfParser) string() (bareItem, error) {
	p.i++ // '"'
	var b strings.Builder
	for !p.eof() {
		c := p.s[p.i]
		p.i++
		switch {
		case c == '\\':
			if p.eof() {
				return bareItem{}, p.fail("unterminated escape")
			}
			n := p.s[p.i]
			if n != '"' && n != '\\' {
				return bareItem{}, p.fail("only \\\" and \\\\ are escapes")
			}
			p.i++
			b.WriteByte(n)
		case c == '"':
			return bareItem{kind: kindString, str: b.String()}, nil
		case c < 0x20 || c > 0x7e:
			return bareItem{}, errSyntaxAt("a string holds printable ASCII only", p.i-1)
		default:
			b.WriteByte(c)
		}
	}
	return bareItem{}, p.fail("unterminated string")
}

func (p *sfParser) token() bareItem {
	start := p.i
	p.i++
	for !p.eof() && (isTChar(p.s[p.i]) || p.s[p.i] == ':' || p.s[p.i] == '/') {
		p.i++
	}
	return bareItem{kind: kindToken, str: p.s[start:p.i]}
}

func (p *sfParser) bytes() (bareItem, error) {
	p.i++ // ':'
	end := strings.IndexByte(p.s[p.i:], ':')
	if end < 0 {
		return bareItem{}, p.fail("unterminated byte sequence")
	}
	text := p.s[p.i : p.i+end]
	// Strict base64: padding required and zero pad bits. RFC 8941 asks
	// parsers to be lenient here; we are not, so that one signature has
	// one spelling, as the rest of CityID reads base64.
	raw, err := base64.StdEncoding.Strict().DecodeString(text)
	if err != nil {
		return bareItem{}, p.fail("byte sequence is not base64")
	}
	p.i += end + 1
	return bareItem{kind: kindBytes, raw: raw}, nil
}

func (p *sfParser) boolean() (bareItem, error) {
	p.i++ // '?'
	switch p.peek() {
	case '1':
		p.i++
		return bareItem{kind: kindBool, bool: true}, nil
	case '0':
		p.i++
		return bareItem{kind: kindBool, bool: false}, nil
	}
	return bareItem{}, p.fail("a boolean is ?0 or ?1")
}

// appendBare serializes a bare item (RFC 8941 4.1.3). It fails for a
// string or token no parser would read back.
func appendBare(b []byte, v bareItem) ([]byte, error) {
	switch v.kind {
	case kindInteger:
		if v.num > 999_999_999_999_999 || v.num < -999_999_999_999_999 {
			return nil, errors.New("integer out of range")
		}
		return strconv.AppendInt(b, v.num, 10), nil
	case kindDecimal:
		n := v.num
		if n < 0 {
			b = append(b, '-')
			n = -n
		}
		if n/1000 > 999_999_999_999 {
			return nil, errors.New("decimal out of range")
		}
		b = strconv.AppendInt(b, n/1000, 10)
		b = append(b, '.')
		frac := strconv.Itoa(int(n%1000) + 1000)[1:] // three digits
		frac = strings.TrimRight(frac, "0")
		if frac == "" {
			frac = "0"
		}
		return append(b, frac...), nil
	case kindString:
		b = append(b, '"')
		for i := 0; i < len(v.str); i++ {
			c := v.str[i]
			if c < 0x20 || c > 0x7e {
				return nil, errors.New("a string holds printable ASCII only")
			}
			if c == '"' || c == '\\' {
				b = append(b, '\\')
			}
			b = append(b, c)
		}
		return append(b, '"'), nil
	case kindToken:
		p := &sfParser{s: v.str}
		if c := p.peek(); !isAlpha(c) && c != '*' {
			return nil, errors.New("not a token")
		}
		if p.token(); !p.eof() {
			return nil, errors.New("not a token")
		}
		return append(b, v.str...), nil
	case kindBytes:
		b = append(b, ':')
		b = base64.StdEncoding.AppendEncode(b, v.raw)
		return append(b, ':'), nil
	case kindBool:
		if v.bool {
			return append(b, "?1"...), nil
		}
		return append(b, "?0"...), nil
	}
	return nil, errors.New("unknown item kind")
}

func appendParams(b []byte, params []param) ([]byte, error) {
	for _, pr := range params {
		if !validKey(pr.key) {
			return nil, errors.New("parameter name " + strconv.Quote(pr.key) + " is not a key")
		}
		b = append(b, ';')
		b = append(b, pr.key...)
		if pr.val.kind == kindBool && pr.val.bool {
			continue
		}
		b = append(b, '=')
		var err error
		if b, err = appendBare(b, pr.val); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// appendInnerList serializes an inner list with its parameters (RFC 8941
// 4.1.1.1): the form of the @signature-params line and of a Signature-Input
// member.
func appendInnerList(b []byte, list []item, params []param) ([]byte, error) {
	b = append(b, '(')
	for i, it := range list {
		if i > 0 {
			b = append(b, ' ')
		}
		var err error
		if b, err = appendBare(b, it.bare); err != nil {
			return nil, err
		}
		if b, err = appendParams(b, it.params); err != nil {
			return nil, err
		}
	}
	b = append(b, ')')
	return appendParams(b, params)
}
