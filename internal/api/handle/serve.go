package handle

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/store"
)

// request is a Handle REST request that parsed: the handle as asked, the
// identifier it names, and the filters.
type request struct {
	handle  string
	id      code.ID
	indexes []int
	types   []string
}

// ServeHTTP answers GET /api/handles/{handle...}: the handle is read from
// the Pattern's wildcard.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req, status, bad := parse(r.PathValue("handle"), r.URL.Query())
	if bad != nil {
		writeAnswer(s.log, w, status, *bad)
		return
	}
	view := s.r.Latest()
	if view == nil {
		s.unavailable(w)
		return
	}
	status, a, err := answer(view, req)
	if err != nil {
		s.log.Error("handle lookup", "handle", req.handle, "err", err)
	}
	writeAnswer(s.log, w, status, a)
}

// ServeWrite answers a write (PUT, DELETE, POST): never accepted here,
// as a Handle answer (responseCode 401, HTTP 403) saying how an
// identifier is changed instead.
func (s *Server) ServeWrite(w http.ResponseWriter, r *http.Request) {
	writeAnswer(s.log, w, http.StatusForbidden, HandleAnswer{ResponseCode: CodeInsufficientPermissions, Handle: r.PathValue("handle"),
		Message: "handles are not written through this interface: a CityID identifier changes only by a transaction signed by its admins " +
			"(POST /v1/txs, or cityid tx register/update/transfer), which every node of the ledger checks"})
}

// parse reads a request without state: what does not parse is answered
// here, before any read, with its HTTP status. A handle is <prefix>/<suffix>
// and either may hold any character, the suffix '/' too: a prefix that is
// not a node code of this grammar is not ours (301), and a suffix that is
// no local id names a handle that cannot exist (100).
func parse(handle string, q url.Values) (request, int, *HandleAnswer) {
	req := request{handle: handle, types: q["type"]}
	prefix, suffix, ok := strings.Cut(handle, "/")
	if !ok || prefix == "" || suffix == "" {
		return req, http.StatusBadRequest, &HandleAnswer{ResponseCode: CodeInvalidHandle, Handle: handle,
			Message: "a handle is <prefix>/<suffix>: <node code>/<local id>, or 0.NA/<node code>"}
	}
	for _, v := range q["index"] {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return req, http.StatusBadRequest, &HandleAnswer{ResponseCode: CodeInvalidValue, Handle: handle, Message: "index " + quote(v) + " is not a value index (0, 1, 2, …)"}
		}
		req.indexes = append(req.indexes, n)
	}
	node := prefix
	if strings.EqualFold(prefix, "0.NA") {
		node = suffix
	}
	parsed, err := code.Parse(node)
	if err == nil && !parsed.IsNode() {
		err = &code.Error{Code: code.ErrNotANode, Msg: node + " has a local id: a prefix is a node code"}
	}
	if err != nil {
		return req, http.StatusBadRequest, &HandleAnswer{ResponseCode: CodeNotResponsible, Handle: handle,
			Message: "not responsible for this handle: " + quote(node) + " is not a CityID node code (" + err.Error() + ")"}
	}
	if strings.EqualFold(prefix, "0.NA") {
		req.id = parsed
		return req, 0, nil
	}
	if req.id, err = code.ParseHandle(prefix, suffix); err != nil {
		return req, http.StatusNotFound, &HandleAnswer{ResponseCode: CodeHandleNotFound, Handle: handle,
			Message: "handle not found: " + quote(suffix) + " is not a CityID local id, so no such handle exists (" + err.Error() + ")"}
	}
	return req, 0, nil
}

// answer is the answer to a parsed request from one committed view, with
// its HTTP status; err, when not nil, is an internal failure to log, which
// the answer does not show.
func answer(view *store.View, req request) (int, HandleAnswer, error) {
	rec, found, err := registry.GetRecord(view, req.id.String())
	if err != nil {
		return http.StatusInternalServerError, HandleAnswer{ResponseCode: CodeError, Handle: req.handle, Message: "internal error"}, err
	}
	if !found {
		// A city this network never issued is not ours to answer for;
		// an unknown identifier under one of our cities does not exist.
		if _, cityFound, _ := registry.GetRecord(view, req.id.CityCode()); !cityFound {
			return http.StatusBadRequest, HandleAnswer{ResponseCode: CodeNotResponsible, Handle: req.handle,
				Message: "city " + req.id.CityCode() + " is not registered on this network"}, nil
		}
		return http.StatusNotFound, HandleAnswer{ResponseCode: CodeHandleNotFound, Handle: req.handle, Message: "handle not found"}, nil
	}
	values := recordValues(req.id, rec)
	if len(req.indexes) > 0 || len(req.types) > 0 {
		values = filterValues(values, req.indexes, req.types)
		if len(values) == 0 {
			return http.StatusOK, HandleAnswer{ResponseCode: CodeValuesNotFound, Handle: req.handle, Message: "values not found"}, nil
		}
	}
	return http.StatusOK, HandleAnswer{ResponseCode: CodeSuccess, Handle: req.handle, Values: values}, nil
}

// internalError is the answer when one cannot be encoded, written as
// bytes because encoding is what failed.
const internalError = `{"responseCode":2,"handle":"","message":"internal error"}` + "\n"

// writeAnswer sends a as compact JSON, the way the HTTP API sends its
// answers. The answer is encoded before its status is sent, so one that
// cannot be encoded is a 500, logged, never a 200 with half a body.
func writeAnswer(log *slog.Logger, w http.ResponseWriter, status int, a HandleAnswer) {
	b, err := json.Marshal(a)
	if err != nil {
		log.Error("encode handle answer", "handle", a.Handle, "err", err)
		status, b = http.StatusInternalServerError, []byte(internalError)
	} else {
		b = append(b, '\n')
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// quote is s as a JSON string, so that what a client sent is shown
// unambiguously in a message.
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
