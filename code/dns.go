package code

import (
	"strconv"
	"strings"
)

// DNS limits (RFC 1035 section 2.3.4) and how a local id fits them.
const (
	maxLabelLen = 63
	// localChunkLen is the most characters of a local id in one label. A
	// local id may have 64 characters and an escaped label one more, so a
	// long local id is split into labels of 62 characters (see DNSName).
	localChunkLen = maxLabelLen - 1
)

// DNSName returns the identifier as a fully qualified DNS name under zone,
// labels reversed and in lowercase:
//
//	school-0042.3.85.1561301001.cityid.internal.
//
// zone may be given with or without its trailing dot; "" or "." is the root.
//
// Two rules keep the name one-to-one with the identifier, since sector and
// unit labels are all digits and a DNS label holds at most 63 characters:
//   - a local-id label that is all digits, or starts with '_', gets one more
//     '_' in front: object "85" under a city is _85.1561301001.<zone>, which
//     sector 85 (85.1561301001.<zone>) is not;
//   - a local id longer than 62 characters is split into labels of 62
//     characters, in order, each escaped by the rule above.
func (id ID) DNSName(zone string) string {
	var b strings.Builder
	if id.Local != "" {
		l := id.Local
		for len(l) > localChunkLen {
			b.WriteString(escapeLocalLabel(l[:localChunkLen]))
			b.WriteByte('.')
			l = l[localChunkLen:]
		}
		b.WriteString(escapeLocalLabel(l))
		b.WriteByte('.')
	}
	if id.Sector != "" {
		if id.Unit != "" {
			b.WriteString(id.Unit)
			b.WriteByte('.')
		}
		b.WriteString(id.Sector)
		b.WriteByte('.')
	}
	b.WriteString(id.CityCode())
	b.WriteByte('.')
	if z := zoneName(zone); z != "" {
		b.WriteString(z)
		b.WriteByte('.')
	}
	return asciiLower(b.String())
}

func escapeLocalLabel(l string) string {
	if allDigits(l) || strings.HasPrefix(l, "_") {
		return "_" + l
	}
	return l
}

// zoneName returns zone in lowercase without its trailing dot; "" for the root.
func zoneName(zone string) string {
	return asciiLower(strings.TrimSuffix(zone, "."))
}

// ParseDNSName parses the DNS form of an identifier under zone. Case does not
// matter and the trailing dot is optional. A name that is not under zone
// fails with ErrOutsideZone, so that a DNS front end can answer "not here".
// Error positions count in name.
func ParseDNSName(zone, name string) (ID, error) {
	id, err := parseDNSName(zone, name)
	if err != nil {
		return ID{}, err
	}
	return id, nil
}

func parseDNSName(zone, name string) (ID, *Error) {
	if name == "" {
		return ID{}, &Error{Code: ErrEmpty, Msg: "DNS name is empty"}
	}
	n := strings.TrimSuffix(name, ".")
	rest := n
	if z := zoneName(zone); z != "" {
		if !hasSuffixFold(n, z) || len(n) > len(z) && n[len(n)-len(z)-1] != '.' {
			return ID{}, &Error{Code: ErrOutsideZone, Msg: "name is not under zone " + strconv.Quote(z+".")}
		}
		if len(n) == len(z) {
			return ID{}, &Error{Code: ErrEmpty, Msg: "name is the zone apex " + strconv.Quote(z+".") + ", not an identifier"}
		}
		rest = n[:len(n)-len(z)-1]
		if rest == "" { // name is ".<zone>"
			return ID{}, &Error{Code: ErrEmpty, Pos: 1, Msg: "DNS name has an empty label"}
		}
	}
	if rest == "" {
		return ID{}, &Error{Code: ErrEmpty, Msg: "DNS name has no labels"}
	}

	// Split into labels, remembering where each starts in name. Most
	// names have four labels or fewer: room for eight on the stack.
	var labelBuf [8]string
	var startBuf [8]int
	labels, starts := labelBuf[:0], startBuf[:0]
	for start := 0; ; {
		end := strings.IndexByte(rest[start:], '.')
		if end < 0 {
			end = len(rest)
		} else {
			end += start
		}
		l := rest[start:end]
		if l == "" {
			return ID{}, &Error{Code: ErrEmpty, Pos: runePos(name, start), Msg: "DNS name has an empty label"}
		}
		if len(l) > maxLabelLen {
			return ID{}, &Error{Code: ErrTooLong, Pos: runePos(name, start+maxLabelLen), Msg: "DNS label is longer than 63 characters"}
		}
		labels = append(labels, l)
		starts = append(starts, start)
		if end == len(rest) {
			break
		}
		start = end + 1
	}

	// Right to left: city code, then up to two all-digit labels (sector,
	// unit), then the local id.
	i := len(labels) - 1
	country, number, f := checkCityCode(labels[i])
	if f != nil {
		return ID{}, f.at(name, starts[i])
	}
	id := ID{Country: country, CityNumber: number}
	i--
	if i >= 0 && allDigits(labels[i]) {
		if f := checkSector(labels[i]); f != nil {
			return ID{}, f.at(name, starts[i])
		}
		id.Sector = labels[i]
		i--
		if i >= 0 && allDigits(labels[i]) {
			if f := checkUnit(labels[i]); f != nil {
				return ID{}, f.at(name, starts[i])
			}
			id.Unit = labels[i]
			i--
			if i >= 0 && allDigits(labels[i]) {
				return ID{}, &Error{Code: ErrBadForm, Pos: runePos(name, starts[i]),
					Msg: "label " + labels[i] + " is all digits where a local id goes: write it as _" + labels[i]}
			}
		}
	}
	if i < 0 {
		return id, nil
	}

	// labels[0..i] hold the local id, in order. One label (of up to 62
	// characters) is the usual local id, taken as it is, with no copy.
	var local strings.Builder
	for j := 0; j <= i; j++ {
		l, start := labels[j], starts[j]
		if l[0] == '_' {
			inner := l[1:]
			if !allDigits(inner) && !strings.HasPrefix(inner, "_") {
				return ID{}, &Error{Code: ErrBadForm, Pos: runePos(name, start),
					Msg: "local id label has an unneeded '_' escape: only all-digit labels and labels starting with '_' are escaped"}
			}
			l, start = inner, start+1
		}
		if f := checkLocal(l); f != nil {
			return ID{}, f.at(name, start)
		}
		if len(l) > localChunkLen || j < i && len(l) != localChunkLen {
			return ID{}, &Error{Code: ErrBadForm, Pos: runePos(name, starts[j]),
				Msg: "a local id is split into labels of 62 characters, and this label has " + strconv.Itoa(len(l))}
		}
		if local.Len()+len(l) > maxLocalLen {
			return ID{}, &Error{Code: ErrTooLong, Pos: runePos(name, start+maxLocalLen-local.Len()),
				Msg: "local id is longer than 64 characters"}
		}
		if i == 0 {
			id.Local = asciiLower(l)
			return id, nil
		}
		local.WriteString(l)
	}
	id.Local = asciiLower(local.String())
	return id, nil
}
