package web

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/internal/registry"
)

// valueView is a record's value as the record page shows it. Every string
// here is text: the templates escape it, and Href is set only for an
// http or https URL, an e-mail address or an identifier's page.
type valueView struct {
	Index uint32
	Type  string
	// Show is how the template lays the value out: "url", "email",
	// "geo", "data", "alias" or "text".
	Show string
	Text string
	Href string
	Geo  *geoView
	Data *dataView
}

type geoView struct {
	Lat, Lon, Alt string // "38.0428° N", "114.5149° E", "80 m" or ""
}

type dataView struct {
	URI, URIHref, MediaType, SHA256, Size string
	Bytes                                 int64
	Public                                bool // anyone may download it, any node mirror it
}

// viewValue presents one value by its type.
func viewValue(v registry.Value) valueView {
	out := valueView{Index: v.Index, Type: visible(v.Type), Show: "text", Text: visible(v.Data)}
	switch v.Type {
	case registry.TypeURL:
		out.Show, out.Href = "url", webURL(v.Data)
	case registry.TypeEmail:
		out.Show = "email"
		if !strings.ContainsAny(v.Data, "?#/\\ \"<>") && strings.Count(v.Data, "@") == 1 {
			out.Href = "mailto:" + v.Data
		}
	case registry.TypeGeo:
		if g, ok := viewGeo(v.Data); ok {
			out.Show, out.Geo = "geo", &g
		}
	case registry.TypeData:
		if d := v.Dataset; d != nil {
			out.Show = "data"
			out.Data = &dataView{URI: visible(d.URI), URIHref: webURL(d.URI), MediaType: visible(d.MediaType),
				SHA256: visible(d.SHA256), Size: humanSize(d.Size), Bytes: d.Size, Public: d.Public}
		}
	case registry.TypeAlias:
		if id, err := code.Parse(v.Data); err == nil {
			out.Show, out.Href, out.Text = "alias", "/ids/"+id.String(), id.String()
		}
	}
	return out
}

// webURL is s when it is an absolute http or https URL with a host, to be
// a link; "" for anything else (javascript:, data:, relative), which is
// shown as text only.
func webURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return ""
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	default:
		return ""
	}
	for _, r := range s {
		if r <= ' ' || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return ""
		}
	}
	return s
}

// viewGeo reads "lat,lon[,alt]" (the registry's checkGeo form) into
// hemispheres, as text: no floating point, the digits are shown as
// written.
func viewGeo(s string) (geoView, bool) {
	parts := strings.Split(s, ",")
	if len(parts) < 2 || len(parts) > 3 {
		return geoView{}, false
	}
	hemi := func(p, pos, neg string) (string, bool) {
		n, minus := strings.CutPrefix(p, "-")
		if n == "" || strings.Trim(n, "0123456789.") != "" {
			return "", false
		}
		if minus {
			return n + "° " + neg, true
		}
		return n + "° " + pos, true
	}
	lat, ok1 := hemi(parts[0], "N", "S")
	lon, ok2 := hemi(parts[1], "E", "W")
	if !ok1 || !ok2 {
		return geoView{}, false
	}
	g := geoView{Lat: lat, Lon: lon}
	if len(parts) == 3 {
		if strings.Trim(parts[2], "-0123456789.") != "" {
			return geoView{}, false
		}
		g.Alt = parts[2] + " m"
	}
	return g, true
}

// humanSize is a byte count in the largest unit that keeps it at least
// 1, with one decimal, in integers: "1.2 MB".
func humanSize(n int64) string {
	if n < 1000 {
		return strconv.FormatInt(n, 10) + " B"
	}
	units := []string{"kB", "MB", "GB", "TB", "PB", "EB"}
	div, i := int64(1000), 0
	for n/div >= 1000 && i < len(units)-1 {
		div *= 1000
		i++
	}
	tenths := n / (div / 10)
	return fmt.Sprintf("%d.%d %s", tenths/10, tenths%10, units[i])
}

// visible makes characters that change how text reads, without being
// seen, visible: bidirectional controls (an RTL override turns "gpj.exe"
// round), other format characters, and control characters but tab and
// newline are shown as ⟨U+202E⟩. The registry refuses them in TEXT, but a
// page shows what the ledger holds, whatever wrote it.
func visible(s string) string {
	clean := true
	for _, r := range s {
		if hidden(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if hidden(r) {
			fmt.Fprintf(&b, "⟨U+%04X⟩", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func hidden(r rune) bool {
	if r == '\n' || r == '\t' {
		return false
	}
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == unicode.ReplacementChar
}

// change is what one version changed of the one before.
type change struct {
	// What is "created", "status", "name", "added", "removed",
	// "changed", "admins" or "nothing".
	What     string
	Index    uint32
	Type     string
	Old, New string
}

// versionView is one entry of the record's timeline.
type versionView struct {
	Version uint64
	Height  int64
	Time    string
	Tx      string
	Status  string
	Reason  string
	Changes []change
}

// timeline is the versions, newest first, each with what it changed of
// the one before it (prev is the version before the first, if known).
func timeline(prev *registry.Record, versions []registry.Record) []versionView {
	out := make([]versionView, 0, len(versions))
	for i := range versions {
		cur := versions[i]
		var before *registry.Record
		if i > 0 {
			before = &versions[i-1]
		} else {
			before = prev
		}
		out = append(out, versionView{Version: cur.Version, Height: cur.Updated.Height,
			Time: cur.Updated.Time.UTC().Format("2006-01-02 15:04:05 UTC"), Tx: cur.Updated.Tx,
			Status: cur.Status, Reason: visible(cur.Reason), Changes: diff(before, cur)})
	}
	slices.Reverse(out)
	return out
}

// diff lists what cur changed of before (nil: cur is the first version).
func diff(before *registry.Record, cur registry.Record) []change {
	if before == nil {
		if cur.Version <= 1 {
			return []change{{What: "created"}}
		}
		return nil // the version before is on no page read
	}
	var out []change
	if before.Status != cur.Status {
		out = append(out, change{What: "status", Old: before.Status, New: cur.Status})
	}
	if before.Name != cur.Name {
		out = append(out, change{What: "name", Old: visible(before.Name), New: visible(cur.Name)})
	}
	show := func(v registry.Value) string {
		if d := v.Dataset; d != nil {
			public := ""
			if d.Public { // so that making a dataset public, or no longer, shows as a change
				public = ", public"
			}
			return visible(d.URI) + " (" + humanSize(d.Size) + ", sha256 " + visible(d.SHA256) + public + ")"
		}
		return visible(v.Data)
	}
	old := map[uint32]registry.Value{}
	for _, v := range before.Values {
		old[v.Index] = v
	}
	seen := map[uint32]bool{}
	for _, v := range cur.Values {
		seen[v.Index] = true
		o, had := old[v.Index]
		switch {
		case !had:
			out = append(out, change{What: "added", Index: v.Index, Type: visible(v.Type), New: show(v)})
		case o.Type != v.Type || show(o) != show(v) || o.TTL != v.TTL:
			out = append(out, change{What: "changed", Index: v.Index, Type: visible(v.Type), Old: show(o), New: show(v)})
		}
	}
	for _, v := range before.Values {
		if !seen[v.Index] {
			out = append(out, change{What: "removed", Index: v.Index, Type: visible(v.Type), Old: show(v)})
		}
	}
	if !slices.Equal(before.Admins, cur.Admins) {
		out = append(out, change{What: "admins"})
	}
	if len(out) == 0 {
		out = append(out, change{What: "nothing"})
	}
	return out
}
