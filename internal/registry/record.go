package registry

import (
	"cmp"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cityid/cityid/code"
)

// Status of a record. A record is never deleted: deactivation keeps it, and
// its history, resolvable.
const (
	StatusActive      = "active"
	StatusDeactivated = "deactivated"
)

// Record is what an identifier resolves to: a list of typed values in the
// Handle System's manner, plus the registry's bookkeeping.
type Record struct {
	ID      string    `json:"id"`
	Kind    code.Kind `json:"kind"`
	Status  string    `json:"status"`
	Reason  string    `json:"reason,omitempty"` // why it was last deactivated or reactivated
	Version uint64    `json:"version"`
	Name    string    `json:"name,omitempty"`
	City    *CityInfo `json:"city,omitempty"`
	Values  []Value   `json:"values"`
	Admins  []string  `json:"admins"`
	Created Stamp     `json:"created"`
	Updated Stamp     `json:"updated"`
}

// Stamp says when and by which transaction something happened. Time is the
// block header's time, never a node's clock.
type Stamp struct {
	Height int64     `json:"height"`
	Time   time.Time `json:"time"`
	Tx     string    `json:"tx"`
}

// CityInfo is the part of a city's record that came from its application.
type CityInfo struct {
	Country     string `json:"country"`
	CityNumber  string `json:"city_number"`
	NameEn      string `json:"name_en,omitempty"`
	Locode      string `json:"locode,omitempty"`
	Contact     string `json:"contact,omitempty"`
	Endpoint    string `json:"endpoint,omitempty"`
	Application uint64 `json:"application"`
}

// Value types. User types are "namespace:name" (see validType).
const (
	TypeURL   = "URL"
	TypeEmail = "EMAIL"
	TypeText  = "TEXT"
	TypeGeo   = "GEO"
	TypeData  = "DATA"
	TypeAlias = "ALIAS"
	// TypeAdmin is reserved: a record's admins are its Admins field, which
	// resolvers present as an ADMIN (Handle: HS_ADMIN) value.
	TypeAdmin = "ADMIN"
)

// Value is one typed value of a record.
type Value struct {
	Index   uint32   `json:"index"`
	Type    string   `json:"type"`
	Data    string   `json:"data,omitempty"`
	Dataset *Dataset `json:"dataset,omitempty"`
	TTL     uint32   `json:"ttl"`
}

// Dataset describes a dataset whose bytes stay with the owning city's node
// (DESIGN section 5); the ledger holds what checks them.
type Dataset struct {
	URI       string `json:"uri"`
	SHA256    string `json:"sha256"`
	Size      int64  `json:"size"`
	MediaType string `json:"media_type"`
	// Public lets anyone download the bytes and any node mirror them
	// (issue 12); without it only the grantees the ledger names may.
	// Omitted when false, so records written before it stay as they were.
	Public bool `json:"public,omitempty"`
}

// normalizeValues validates values and returns them in canonical form:
// indexes assigned 1, 2, … when none is given, sorted by index, TTLs
// defaulted, aliases in canonical identifier form.
func normalizeValues(in []Value) ([]Value, *Error) {
	if len(in) > MaxValues {
		return nil, errorf(CodeTooLarge, "%d values, more than the %d allowed", len(in), MaxValues)
	}
	// In place: every caller normalizes the values of a message the
	// registry decoded itself. An empty list stays a list, not null.
	out := in
	if out == nil {
		out = []Value{}
	}
	given := 0
	for _, v := range out {
		if v.Index != 0 {
			given++
		}
	}
	if given != 0 && given != len(out) {
		return nil, errorf(CodeBadValue, "give an index to every value or to none")
	}
	for i := range out {
		v := &out[i]
		if given == 0 {
			v.Index = uint32(i + 1)
		}
		if v.Index > MaxValueIndex {
			return nil, errorf(CodeBadValue, "value %d: index %d is more than %d", i+1, v.Index, MaxValueIndex)
		}
		if reservedIndex(v.Index) {
			return nil, errorf(CodeBadValue, "value %d: index %d is reserved: %d–%d hold the admins as HS_ADMIN and %d–%d their keys as HS_PUBKEY",
				i+1, v.Index, AdminIndex, AdminIndex+MaxAdmins-1, PubKeyIndex, PubKeyIndex+MaxAdmins-1)
		}
		if v.TTL == 0 {
			v.TTL = DefaultTTL
		}
		if v.TTL > MaxTTL {
			return nil, errorf(CodeBadValue, "value %d: ttl %d is more than %d seconds", i+1, v.TTL, MaxTTL)
		}
		if err := normalizeValue(v); err != nil {
			return nil, errorf(err.Code, "value %d (%s): %s", i+1, clip(v.Type), err.Msg)
		}
	}
	// Values mostly come in their order (always when no index is given):
	// then there is nothing to sort, and SliceStable's reflection would
	// cost two allocations.
	byIndex := func(a, b Value) int { return cmp.Compare(a.Index, b.Index) }
	if !slices.IsSortedFunc(out, byIndex) {
		slices.SortStableFunc(out, byIndex)
	}
	for i := 1; i < len(out); i++ {
		if out[i].Index == out[i-1].Index {
			return nil, errorf(CodeBadValue, "index %d is used by two values", out[i].Index)
		}
	}
	return out, nil
}

func normalizeValue(v *Value) *Error {
	if !validType(v.Type) {
		return errorf(CodeBadValue, "type %q is neither a registry type (URL, EMAIL, TEXT, GEO, DATA, ALIAS) nor namespace:name", clip(v.Type))
	}
	if len(v.Data) > MaxValueBytes {
		return errorf(CodeTooLarge, "data is %d bytes, more than the %d allowed", len(v.Data), MaxValueBytes)
	}
	if v.Type != TypeData && v.Dataset != nil {
		return errorf(CodeBadValue, "only a DATA value has a dataset")
	}
	if !utf8.ValidString(v.Data) {
		return errorf(CodeBadValue, "data is not valid UTF-8")
	}
	switch v.Type {
	case TypeAdmin:
		return errorf(CodeBadValue, "ADMIN is reserved: set a record's admins with its admins field")
	case TypeURL:
		return checkURL(v.Data)
	case TypeEmail:
		a, err := mail.ParseAddress(v.Data)
		if err != nil || a.Address != v.Data {
			return errorf(CodeBadValue, "%q is not a bare e-mail address", clip(v.Data))
		}
		for _, r := range v.Data {
			if unicode.Is(unicode.Cf, r) || unicode.IsControl(r) || unicode.IsSpace(r) {
				return errorf(CodeBadValue, "e-mail address %q contains the invisible or control character %U", clip(v.Data), r)
			}
		}
	case TypeText:
		return checkText(v.Data)
	case TypeGeo:
		return checkGeo(v.Data)
	case TypeAlias:
		id, err := code.Parse(v.Data)
		if err != nil {
			return errorf(CodeBadValue, "%s", invalidID("alias", v.Data, err).Msg)
		}
		v.Data = id.String()
	case TypeData:
		if v.Data != "" {
			return errorf(CodeBadValue, "a DATA value carries its dataset, not data")
		}
		return checkDataset(v.Dataset)
	default: // a user type: any text
		return checkText(v.Data)
	}
	return nil
}

// validType accepts the registry's types and user types "namespace:name",
// namespace a lowercase DNS-like name, name letters, digits, '_', '.', '-'.
func validType(t string) bool {
	switch t {
	case TypeURL, TypeEmail, TypeText, TypeGeo, TypeData, TypeAlias, TypeAdmin:
		return true
	}
	if len(t) == 0 || len(t) > MaxTypeBytes {
		return false
	}
	ns, name, ok := strings.Cut(t, ":")
	if !ok || ns == "" || name == "" {
		return false
	}
	for i := 0; i < len(ns); i++ {
		c := ns[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || (c == '.' || c == '-') && i > 0 && i < len(ns)-1) {
			return false
		}
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

func checkURL(s string) *Error {
	if plainWebURL(s) {
		return nil
	}
	return checkURLParsed(s)
}

// plainWebURL reports whether s is an http or https URL in the plainest
// form: "http://" or "https://", a host of letters, digits, dots, hyphens,
// underscores and tildes, and a path of unreserved characters, sub-delims,
// colons, at signs and slashes, with no escapes, query or fragment.
// url.Parse takes each such URL with its host and checkURLParsed finds
// nothing to refuse in it (TestPlainWebURL, FuzzPlainWebURL); anything
// else is parsed. Nearly every URL value is of this form, and parsing it
// was a tenth of a register's validation.
func plainWebURL(s string) bool {
	rest, ok := strings.CutPrefix(s, "https://")
	if !ok {
		if rest, ok = strings.CutPrefix(s, "http://"); !ok {
			return false
		}
	}
	host, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		host, path = rest[:i], rest[i:]
	}
	if host == "" {
		return false
	}
	for i := 0; i < len(host); i++ {
		if c := host[i]; !asciiAlnum(c) && c != '.' && c != '-' && c != '_' && c != '~' {
			return false
		}
	}
	for i := 0; i < len(path); i++ {
		if c := path[i]; !asciiAlnum(c) && strings.IndexByte("-._~!$&'()*+,;=:@/", c) < 0 {
			return false
		}
	}
	return true
}

func asciiAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// checkURLParsed is checkURL for any URL: parsed, then checked.
func checkURLParsed(s string) *Error {
	if s == "" {
		return errorf(CodeBadValue, "URL is empty")
	}
	u, err := url.Parse(s)
	if err != nil {
		return errorf(CodeBadValue, "%q is not a URL: %v", clip(s), err)
	}
	if !u.IsAbs() {
		return errorf(CodeBadValue, "%q is not an absolute URL (it needs a scheme such as https:)", clip(s))
	}
	switch strings.ToLower(u.Scheme) {
	case "javascript", "vbscript", "data", "file", "blob":
		// These run code or read local files where a resolver follows or
		// shows the link; an identifier never needs them.
		return errorf(CodeBadValue, "URL scheme %q is not allowed in a record", u.Scheme)
	}
	if (u.Scheme == "http" || u.Scheme == "https") && u.Host == "" {
		return errorf(CodeBadValue, "%q has no host", clip(s))
	}
	for _, r := range s {
		if r <= ' ' || unicode.IsControl(r) {
			return errorf(CodeBadValue, "URL %q contains a space or control character", clip(s))
		}
		if unicode.Is(unicode.Cf, r) || unicode.IsSpace(r) {
			// An override or an invisible character makes a link read
			// otherwise than where it goes (a resolver follows it).
			return errorf(CodeBadValue, "URL %q contains the invisible or format character %U", clip(s), r)
		}
	}
	return nil
}

// reservedIndex reports the value indexes the Handle interface gives a
// record's admins and their keys.
func reservedIndex(i uint32) bool {
	return i >= AdminIndex && i < AdminIndex+MaxAdmins || i >= PubKeyIndex && i < PubKeyIndex+MaxAdmins
}

// checkText accepts printable UTF-8 text; tab and newline are allowed, other
// control characters are not (they corrupt terminals, logs and DNS TXT), and
// neither are the bidirectional controls, which make text read otherwise
// than it is stored.
func checkText(s string) *Error {
	for i, r := range s {
		if r == '\t' || r == '\n' {
			continue
		}
		if unicode.IsControl(r) {
			return errorf(CodeBadValue, "byte %d: control character %q", i+1, r)
		}
		if isBidiControl(r) {
			return errorf(CodeBadValue, "byte %d: bidirectional control character %U", i+1, r)
		}
	}
	return nil
}

// checkGeo accepts "lat,lon" or "lat,lon,alt" in decimal degrees (WGS 84)
// and metres. It checks the ranges on the digits, without floating point.
func checkGeo(s string) *Error {
	parts := strings.Split(s, ",")
	if len(parts) < 2 || len(parts) > 3 {
		return errorf(CodeBadValue, "%q is not lat,lon or lat,lon,alt", clip(s))
	}
	limits := []int{90, 180, 99999}
	names := []string{"latitude", "longitude", "altitude"}
	for i, p := range parts {
		if err := checkDecimal(p, limits[i]); err != nil {
			return errorf(CodeBadValue, "%s %q: %s", names[i], clip(p), err.Msg)
		}
	}
	return nil
}

// checkDecimal accepts [-]digits[.digits] with at most 12 decimals and
// |value| <= limit.
func checkDecimal(s string, limit int) *Error {
	if strings.HasPrefix(s, "-") {
		s = s[1:]
	}
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" || len(whole) > 5 || (hasFrac && (frac == "" || len(frac) > 12)) {
		return errorf(CodeBadValue, "not a decimal number")
	}
	n := 0
	for _, c := range whole {
		if c < '0' || c > '9' {
			return errorf(CodeBadValue, "not a decimal number")
		}
		n = n*10 + int(c-'0')
	}
	fracZero := true
	for _, c := range frac {
		if c < '0' || c > '9' {
			return errorf(CodeBadValue, "not a decimal number")
		}
		if c != '0' {
			fracZero = false
		}
	}
	if n > limit || n == limit && !fracZero {
		return errorf(CodeBadValue, "out of range ±%d", limit)
	}
	return nil
}

func checkDataset(d *Dataset) *Error {
	if d == nil {
		return errorf(CodeBadValue, "a DATA value needs a dataset {uri, sha256, size, media_type}")
	}
	if len(d.URI) > MaxDatasetURIBytes {
		return errorf(CodeTooLarge, "dataset uri is %d bytes, more than the %d allowed", len(d.URI), MaxDatasetURIBytes)
	}
	if err := checkURL(d.URI); err != nil {
		return errorf(CodeBadValue, "dataset uri: %s", err.Msg)
	}
	if len(d.SHA256) != 64 || strings.Trim(d.SHA256, "0123456789abcdef") != "" {
		return errorf(CodeBadValue, "dataset sha256 %q is not 64 lowercase hex digits", clip(d.SHA256))
	}
	if d.Size < 0 {
		return errorf(CodeBadValue, "dataset size %d is negative", d.Size)
	}
	typ, sub, ok := strings.Cut(d.MediaType, "/")
	if !ok || typ == "" || sub == "" || len(d.MediaType) > 127 || !mediaTypeChars(d.MediaType) {
		return errorf(CodeBadValue, "dataset media_type %q is not type/subtype", clip(d.MediaType))
	}
	return nil
}

// mediaTypeChars accepts the characters of a media type with its
// parameters (RFC 6838 names, ";charset=utf-8"): printable ASCII without
// spaces, so a descriptor shown in a terminal or a log cannot carry escapes.
func mediaTypeChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// normalizeAdmins validates admin keys. An empty list means the signer.
func normalizeAdmins(in []string, signer string) ([]string, *Error) {
	if len(in) == 0 {
		return []string{signer}, nil
	}
	if err := checkKeys("admin", in, MaxAdmins); err != nil {
		return nil, err
	}
	return append([]string(nil), in...), nil
}

// checkKeys validates a list of public keys: at most max, each well formed,
// none twice.
func checkKeys(what string, keys []string, max int) *Error {
	if len(keys) > max {
		return errorf(CodeTooLarge, "%d %ss, more than the %d allowed", len(keys), what, max)
	}
	for i, k := range keys {
		if _, err := ParsePubKey(k); err != nil {
			return errorf(CodeBadPubKey, "%s %d: %s", what, i+1, AsError(err).Msg)
		}
		for _, prev := range keys[:i] {
			if prev == k {
				return errorf(CodeInvalid, "%s %d: key %s is listed twice", what, i+1, k)
			}
		}
	}
	return nil
}

// checkName checks a required or optional display name.
func checkName(field, s string, required bool) *Error {
	if s == "" {
		if required {
			return errorf(CodeInvalid, "%s is required", field)
		}
		return nil
	}
	if len(s) > MaxNameBytes {
		return errorf(CodeTooLarge, "%s is %d bytes, more than the %d allowed", field, len(s), MaxNameBytes)
	}
	if !utf8.ValidString(s) {
		return errorf(CodeInvalid, "%s is not valid UTF-8", field)
	}
	if strings.TrimSpace(s) != s {
		return errorf(CodeInvalid, "%s %q has leading or trailing space", field, clip(s))
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return errorf(CodeInvalid, "%s %q contains a control character", field, clip(s))
		}
		if unicode.Is(unicode.Cf, r) {
			// Names are shown in lists and trees beside other names: an
			// invisible character (zero-width space, joiners) or a
			// direction mark or override can make one name look like
			// another.
			return errorf(CodeInvalid, "%s %q contains the invisible format character %U", field, clip(s), r)
		}
	}
	return nil
}

// isBidiControl reports the Unicode bidirectional marks and controls:
// ALM (U+061C), LRM and RLM (U+200E, U+200F), the embeddings and overrides
// (U+202A–U+202E) and the isolates (U+2066–U+2069).
func isBidiControl(r rune) bool {
	return r == 0x061C || r == 0x200E || r == 0x200F || r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
