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

// parse reads a request without state: what does not parse is answered
// here, before any read, with its HTTP status.
func parse(handle string, q url.Values) (request, int, *HandleAnswer) {
	req := request{handle: handle, types: q["type"]}
	prefix, suffix, ok := strings.Cut(handle, "/")
	if !ok || prefix == "" || suffix == "" {
		return req, http.StatusBadRequest, &HandleAnswer{ResponseCode: CodeInvalidHandle, Handle: handle,
			Message: "a handle is <prefix>/<suffix>: <node code>/<local id>, or 0.NA/<node code>"}
	}
	var err error
	if strings.EqualFold(prefix, "0.NA") {
		req.id, err = code.Parse(suffix)
		if err == nil && !req.id.IsNode() {
			err = &code.Error{Code: code.ErrNotANode, Msg: "0.NA/ names a node code, not an identifier with a local id"}
		}
	} else {
		req.id, err = code.ParseHandle(prefix, suffix)
	}
	if err != nil {
		return req, http.StatusBadRequest, &HandleAnswer{ResponseCode: CodeInvalidHandle, Handle: handle, Message: err.Error()}
	}
	for _, v := range q["index"] {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return req, http.StatusBadRequest, &HandleAnswer{ResponseCode: CodeError, Handle: handle, Message: "index " + quote(v) + " is not a number"}
		}
		req.indexes = append(req.indexes, n)
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
