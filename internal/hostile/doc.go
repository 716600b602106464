// Package hostile is the catalogue of what the registry refuses, and why:
// one table (catalogue_test.go) of hostile transactions — the security
// audit's attacks and the older classes (non-canonical envelopes,
// duplicate keys, malleated signatures, oversize bodies, deep JSON, bad
// UTF-8, out-of-range numbers, foreign chain IDs, small-order keys, a key
// with no rights sending every kind) — each sent to a real node through its
// public interfaces: the HTTP API (POST /v1/txs) and CometBFT's RPC
// (broadcast_tx_sync).
//
// For every row the test checks the refusal code (and its HTTP status and
// ABCI number), and that nothing changed: the records, applications,
// grants, proposals, validators and every account's nonce read back the
// same, and at the end the app hash is the one the world was built with.
// A transaction refused in a block would use its nonce and change nothing
// else; through these interfaces CheckTx refuses every row first, so no
// row reaches a block and no nonce moves.
//
// The package holds tests only. It starts one node in process, on
// loopback ports, with the API's rate limits off, and stops it with the
// test.
package hostile
