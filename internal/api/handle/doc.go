// Package handle is CityID's Handle-compatible REST front end:
// GET /api/handles/{prefix}/{suffix} answers in the JSON shape and with
// the response codes of the Handle.net REST API (the handle proxy's
// /api/handles), so existing Handle clients resolve CityID identifiers.
// An identifier's handle is prefix = its node code, suffix = its local
// id; a node itself is the handle 0.NA/<node code>, as a Handle prefix is
// 0.NA/<prefix>.
//
// It owns the mapping of a record to handle values (ALIAS as HS_ALIAS,
// admins as HS_ADMIN pointing at HS_PUBKEY values), the ?type= and ?index=
// filters, and which response code each outcome gets. setup.go builds the
// front end; serve.go reads a request and answers it from one committed
// view of the state; values.go is the pure record-to-values mapping.
// testdata/ holds its golden answers.
//
// It reads committed state only, through the one method of Reader, and
// never writes. It does not route, rate-limit, indent (?pretty) or count
// requests: the HTTP API (package api) mounts it and does that for every
// route alike. A bad request never panics it; an internal failure is
// logged and answered "internal error", never with its details.
package handle
