// Package api is CityID's HTTP/JSON API (/v1/...), with health and readiness
// endpoints. Every read goes to the last committed, immutable version of the
// state, so reads never block writes and never see a half-applied block;
// writes go through the node's mempool and are answered only after their
// block is committed.
//
// Errors are application/problem+json (RFC 9457) with the registry's stable
// error code in "code". Bad input never panics a handler and never reaches
// the ledger.
//
// server.go holds the setup (Options, New) and the route table; the
// operations are documented once, in openapi.go's table, which a test holds
// to the routes served. Each resource has its own file: records.go
// (/v1/ids/{id}), history.go, children.go, qr.go, resolver.go (/r/{id}),
// portal.go (what the portal of internal/web reads, and mounts at /, /search,
// /ids/{id}, /dir and /static/), read.go (the reads both share), txs.go, blocks.go, accounts.go, cities.go,
// applications.go, grants.go, governance.go (validators and proposals),
// status.go (status, health, readiness) and handle.go, which mounts the
// Handle REST front end of package internal/api/handle.
// middleware.go wraps every request (CORS, rate limits, metrics, ?pretty,
// recovery); problem.go and json.go write the answers; params.go and
// state.go read a request's parameters and the state it is answered from.
// The answer types are in internal/wire, shared with the client.
package api
