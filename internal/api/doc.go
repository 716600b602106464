// Package api is CityID's HTTP/JSON API (/v1/...), with health and readiness
// endpoints. Every read goes to the last committed, immutable version of the
// state, so reads never block writes and never see a half-applied block;
// writes go through the node's mempool and are answered only after their
// block is committed.
//
// Errors are application/problem+json (RFC 9457) with the registry's stable
// error code in "code". Bad input never panics a handler and never reaches
// the ledger.
package api
