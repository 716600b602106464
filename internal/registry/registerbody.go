package registry

import "math"

// parseRegisterBody reads the body of a register transaction in the plain
// form clients write (NewBody): one JSON object with no spaces, its
// members in any order, strings without escapes, numbers as unsigned
// integers without sign, fraction or exponent, and a message whose
// values have no dataset. It reports false for anything else, and the
// JSON decoders then read the body from the start, so a body's verdict
// and a refusal's words are theirs (FuzzRegisterBody). b must have
// passed checkBodyText: the text is UTF-8, so a string without escapes
// reads as its bytes. What it reads passes checkObjectKeys (its names
// are its own few, none repeated, four deep at most), which decodeBody
// then spares it. Most transactions of a loaded node are registrations,
// and reading one with the decoders' reflection was a third of its
// decode.
func parseRegisterBody(b []byte) (body Body, msg *Register, ok bool) {
	p := plainJSON{b: b, s: string(b)}
	msg = &Register{}
	hasMsg := false
	read := p.object(func(key []byte) bool {
		var ok bool
		switch string(key) {
		case "kind":
			body.Kind, ok = p.str()
		case "nonce":
			body.Nonce, ok = p.uint(math.MaxUint64)
		case "valid_until_height":
			body.ValidUntilHeight, ok = p.uint(math.MaxUint64)
		case "msg":
			ok, hasMsg = p.register(msg), true
		}
		return ok
	})
	if !read || p.i != len(b) || body.Kind != KindRegister || !hasMsg {
		return Body{}, nil, false
	}
	return body, msg, true
}

// plainJSON reads the plain form parseRegisterBody takes; every method
// reports false at anything outside it.
type plainJSON struct {
	b []byte
	s string // b as a string, made once: the strings read are its parts
	i int
}

func (p *plainJSON) next(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// object reads an object with at least one member and no name twice,
// calling member after each name and its colon to read the value. The
// name is b's bytes, to be compared, not kept.
func (p *plainJSON) object(member func(key []byte) bool) bool {
	if !p.next('{') {
		return false
	}
	// The plain form's objects have four names at most (member refuses
	// any other), so a name seen before is found by comparing.
	var seen [4][]byte
	n := 0
	for {
		key, ok := p.raw()
		if !ok || !p.next(':') {
			return false
		}
		for _, k := range seen[:n] {
			if string(k) == string(key) {
				return false
			}
		}
		if n == len(seen) || !member(key) {
			return false
		}
		seen[n] = key
		n++
		if p.next('}') {
			return true
		}
		if !p.next(',') {
			return false
		}
	}
}

// array reads an array with at least one element, calling elem for each.
func (p *plainJSON) array(elem func() bool) bool {
	if !p.next('[') {
		return false
	}
	for {
		if !elem() {
			return false
		}
		if p.next(']') {
			return true
		}
		if !p.next(',') {
			return false
		}
	}
}

// str reads a string without escapes or control characters.
func (p *plainJSON) str() (string, bool) {
	b, ok := p.raw()
	if !ok {
		return "", false
	}
	end := p.i - 1 // before the closing quote
	return p.s[end-len(b) : end], true
}

// raw is str as b's bytes.
func (p *plainJSON) raw() ([]byte, bool) {
	if !p.next('"') {
		return nil, false
	}
	start := p.i
	for ; p.i < len(p.b); p.i++ {
		switch c := p.b[p.i]; {
		case c == '"':
			p.i++
			return p.b[start : p.i-1], true
		case c == '\\' || c < 0x20:
			return nil, false
		}
	}
	return nil, false
}

// uint reads an unsigned integer of at most max, in its shortest form
// and followed by the end of its member or element.
func (p *plainJSON) uint(max uint64) (uint64, bool) {
	start := p.i
	var n uint64
	for ; p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9'; p.i++ {
		d := uint64(p.b[p.i] - '0')
		if n > (max-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	digits := p.i - start
	if digits == 0 || digits > 1 && p.b[start] == '0' || p.i < len(p.b) && p.b[p.i] != ',' && p.b[p.i] != '}' && p.b[p.i] != ']' {
		return 0, false
	}
	return n, true
}

func (p *plainJSON) literal(s string) bool {
	if len(p.b)-p.i < len(s) || string(p.b[p.i:p.i+len(s)]) != s {
		return false
	}
	p.i += len(s)
	return true
}

func (p *plainJSON) register(m *Register) bool {
	return p.object(func(key []byte) bool {
		var ok bool
		switch string(key) {
		case "id":
			m.ID, ok = p.str()
		case "allocate":
			switch {
			case p.literal("true"):
				m.Allocate, ok = true, true
			case p.literal("false"):
				m.Allocate, ok = false, true
			}
		case "values":
			m.Values = make([]Value, 0, 4) // a register's usual few, in one allocation
			ok = p.array(func() bool {
				var v Value
				if !p.value(&v) {
					return false
				}
				m.Values = append(m.Values, v)
				return true
			})
		case "admins":
			ok = p.array(func() bool {
				a, ok := p.str()
				m.Admins = append(m.Admins, a)
				return ok
			})
		}
		return ok
	})
}

func (p *plainJSON) value(v *Value) bool {
	return p.object(func(key []byte) bool {
		var ok bool
		var n uint64
		switch string(key) {
		case "index":
			n, ok = p.uint(math.MaxUint32)
			v.Index = uint32(n)
		case "type":
			v.Type, ok = p.str()
		case "data":
			v.Data, ok = p.str()
		case "ttl":
			n, ok = p.uint(math.MaxUint32)
			v.TTL = uint32(n)
		}
		return ok
	})
}
