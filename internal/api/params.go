package api

import (
	"net/http"
	"strconv"

	"github.com/cityid/cityid/internal/wire"
)

// heightParam parses a block height path parameter; "latest" is 0.
func heightParam(w http.ResponseWriter, r *http.Request) (int64, bool) {
	hs := r.PathValue("h")
	if hs == "latest" {
		return 0, true
	}
	h, err := strconv.ParseInt(hs, 10, 64)
	if err != nil || h < 1 {
		writeProblem(w, wire.Problem{Code: wire.CodeBadRequest, Detail: "height " + quote(hs) + " is not a positive number or \"latest\""})
		return 0, false
	}
	return h, true
}

func boolParam(w http.ResponseWriter, v, name string) (bool, bool) {
	switch v {
	case "", "false", "0":
		return false, true
	case "true", "1":
		return true, true
	}
	writeProblem(w, wire.Problem{Code: wire.CodeBadRequest, Detail: name + " " + quote(v) + " is not true or false"})
	return false, false
}

func listLimit(w http.ResponseWriter, r *http.Request) (int, bool) {
	q := r.URL.Query().Get("limit")
	if q == "" {
		return defaultListLimit, true
	}
	n, err := strconv.Atoi(q)
	if err != nil || n < 1 || n > maxListLimit {
		writeProblem(w, wire.Problem{Code: wire.CodeBadRequest,
			Detail: "limit " + quote(q) + " is not a number from 1 to " + strconv.Itoa(maxListLimit)})
		return 0, false
	}
	return n, true
}
