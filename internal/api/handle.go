package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/wire"
)

// The Handle-compatible REST front end: GET /api/handles/{prefix}/{suffix}
// answers in the JSON shape and with the response codes of the Handle.net
// REST API (the handle proxy's /api/handles), so existing Handle clients
// resolve CityID identifiers. An identifier's Handle form is prefix = its
// node code, suffix = its local id; a node itself is the handle
// 0.NA/<node code>, as a Handle prefix is 0.NA/<prefix>.

// Handle protocol response codes.
const (
	hsSuccess          = 1
	hsError            = 2
	hsHandleNotFound   = 100
	hsInvalidHandle    = 102
	hsValuesNotFound   = 200
	hsNotResponsible   = 301
	hsAdminPermissions = "011111110011"       // Handle's usual admin permission bits
	hsAdminIndex       = registry.AdminIndex  // HS_ADMIN values start here; the registry keeps these indexes free
	hsPubKeyIndex      = registry.PubKeyIndex // the admin keys, as HS_PUBKEY values, start here
)

func (s *Server) getHandle(w http.ResponseWriter, r *http.Request) {
	handle := r.PathValue("handle")
	prefix, suffix, ok := strings.Cut(handle, "/")
	if !ok || prefix == "" || suffix == "" {
		s.writeHandle(w, http.StatusBadRequest, wire.HandleAnswer{ResponseCode: hsInvalidHandle, Handle: handle,
			Message: "a handle is <prefix>/<suffix>: <node code>/<local id>, or 0.NA/<node code>"})
		return
	}
	var id code.ID
	var err error
	if strings.EqualFold(prefix, "0.NA") {
		id, err = code.Parse(suffix)
		if err == nil && !id.IsNode() {
			err = &code.Error{Code: code.ErrNotANode, Msg: "0.NA/ names a node code, not an identifier with a local id"}
		}
	} else {
		id, err = code.ParseHandle(prefix, suffix)
	}
	if err != nil {
		s.writeHandle(w, http.StatusBadRequest, wire.HandleAnswer{ResponseCode: hsInvalidHandle, Handle: handle, Message: err.Error()})
		return
	}
	q := r.URL.Query()
	var indexes []int
	for _, v := range q["index"] {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			s.writeHandle(w, http.StatusBadRequest, wire.HandleAnswer{ResponseCode: hsError, Handle: handle, Message: "index " + quote(v) + " is not a number"})
			return
		}
		indexes = append(indexes, n)
	}
	view, ok := s.view(w)
	if !ok {
		return
	}
	rec, found, err := registry.GetRecord(view, id.String())
	if err != nil {
		s.log.Error("handle lookup", "handle", handle, "err", err)
		s.writeHandle(w, http.StatusInternalServerError, wire.HandleAnswer{ResponseCode: hsError, Handle: handle, Message: "internal error"})
		return
	}
	if !found {
		// A city this network never issued is not ours to answer for;
		// an unknown identifier under one of our cities does not exist.
		if _, cityFound, _ := registry.GetRecord(view, id.CityCode()); !cityFound {
			s.writeHandle(w, http.StatusBadRequest, wire.HandleAnswer{ResponseCode: hsNotResponsible, Handle: handle,
				Message: "city " + id.CityCode() + " is not registered on this network"})
			return
		}
		s.writeHandle(w, http.StatusNotFound, wire.HandleAnswer{ResponseCode: hsHandleNotFound, Handle: handle, Message: "handle not found"})
		return
	}
	values := handleValues(id, rec)
	if len(indexes) > 0 || len(q["type"]) > 0 {
		values = filterValues(values, indexes, q["type"])
		if len(values) == 0 {
			s.writeHandle(w, http.StatusOK, wire.HandleAnswer{ResponseCode: hsValuesNotFound, Handle: handle, Message: "values not found"})
			return
		}
	}
	s.writeHandle(w, http.StatusOK, wire.HandleAnswer{ResponseCode: hsSuccess, Handle: handle, Values: values})
}

// HandleOf is the handle of an identifier.
func HandleOf(id code.ID) string {
	if id.IsNode() {
		return "0.NA/" + id.String()
	}
	p, s := id.Handle()
	return p + "/" + s
}

// handleValues presents a record as handle values: its values as they are
// (ALIAS as Handle's HS_ALIAS), then its admins as HS_ADMIN values pointing
// at HS_PUBKEY values of the same handle that hold the keys.
func handleValues(id code.ID, rec registry.Record) []wire.HandleValue {
	ts := rec.Updated.Time.UTC().Format(time.RFC3339)
	var out []wire.HandleValue
	for _, v := range rec.Values {
		hv := wire.HandleValue{Index: int(v.Index), Type: v.Type, TTL: v.TTL, Timestamp: ts, Data: wire.HandleData{Format: "string", Value: v.Data}}
		switch v.Type {
		case registry.TypeAlias:
			hv.Type = "HS_ALIAS"
			if target, err := code.Parse(v.Data); err == nil {
				hv.Data.Value = HandleOf(target)
			}
		case registry.TypeData:
			b, _ := json.Marshal(v.Dataset)
			hv.Data.Value = string(b)
		}
		out = append(out, hv)
	}
	self := HandleOf(id)
	for i := range rec.Admins {
		out = append(out, wire.HandleValue{Index: hsAdminIndex + i, Type: "HS_ADMIN", TTL: registry.DefaultTTL, Timestamp: ts,
			Data: wire.HandleData{Format: "admin", Value: wire.HandleAdmin{Handle: self, Index: hsPubKeyIndex + i, Permissions: hsAdminPermissions}}})
	}
	for i, k := range rec.Admins {
		out = append(out, wire.HandleValue{Index: hsPubKeyIndex + i, Type: "HS_PUBKEY", TTL: registry.DefaultTTL, Timestamp: ts,
			Data: wire.HandleData{Format: "hex", Value: k}})
	}
	return out
}

// filterValues keeps the values of a listed index or a listed type (a type
// ending in '.' takes its sub-types too), as the Handle REST API does.
func filterValues(values []wire.HandleValue, indexes []int, types []string) []wire.HandleValue {
	var out []wire.HandleValue
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

func (s *Server) writeHandle(w http.ResponseWriter, status int, a wire.HandleAnswer) {
	s.writeJSON(w, status, a)
}
