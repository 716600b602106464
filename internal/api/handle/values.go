package handle

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/internal/registry"
)

// handleOf is the handle of an identifier: <node code>/<local id> for an
// object, 0.NA/<node code> for a node.
func handleOf(id code.ID) string {
	if id.IsNode() {
		return "0.NA/" + id.String()
	}
	p, s := id.Handle()
	return p + "/" + s
}

// recordValues presents a record as handle values: its values as they are
// (ALIAS as Handle's HS_ALIAS, DATA as its descriptor's JSON), then its
// admins as HS_ADMIN values pointing at HS_PUBKEY values of the same
// handle that hold the keys. Every value carries the time of the record's
// last change.
func recordValues(id code.ID, rec registry.Record) []HandleValue {
	ts := rec.Updated.Time.UTC().Format(time.RFC3339)
	var out []HandleValue
	for _, v := range rec.Values {
		hv := HandleValue{Index: int(v.Index), Type: v.Type, TTL: v.TTL, Timestamp: ts, Data: HandleData{Format: "string", Value: v.Data}}
		switch v.Type {
		case registry.TypeAlias:
			hv.Type = "HS_ALIAS"
			if target, err := code.Parse(v.Data); err == nil {
				hv.Data.Value = handleOf(target)
			}
		case registry.TypeData:
			b, _ := json.Marshal(v.Dataset)
			hv.Data.Value = string(b)
		}
		out = append(out, hv)
	}
	self := handleOf(id)
	for i := range rec.Admins {
		out = append(out, HandleValue{Index: adminIndex + i, Type: "HS_ADMIN", TTL: registry.DefaultTTL, Timestamp: ts,
			Data: HandleData{Format: "admin", Value: HandleAdmin{Handle: self, Index: pubKeyIndex + i, Permissions: adminPermissions}}})
	}
	for i, k := range rec.Admins {
		out = append(out, HandleValue{Index: pubKeyIndex + i, Type: "HS_PUBKEY", TTL: registry.DefaultTTL, Timestamp: ts,
			Data: HandleData{Format: "hex", Value: k}})
	}
	return out
}

// filterValues keeps the values of a listed index or a listed type (a type
// ending in '.' takes its sub-types too), as the Handle REST API does.
func filterValues(values []HandleValue, indexes []int, types []string) []HandleValue {
	var out []HandleValue
	for _, v := range values {
		keep := false
		for _, i := range indexes {
			keep = keep || v.Index == i
		}
		for _, t := range types {
			if strings.HasSuffix(t, ".") {
				keep = keep || strings.HasPrefix(v.Type, t) || v.Type == strings.TrimSuffix(t, ".")
			} else {
				keep = keep || v.Type == t
			}
		}
		if keep {
			out = append(out, v)
		}
	}
	return out
}
