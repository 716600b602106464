// Package apitest is what the HTTP front ends' tests (internal/api,
// internal/api/handle) and the resolve benchmarks (internal/bench) share
// to serve committed state without a running node: Backend, an
// api.Backend over a store that refuses anything needing a chain, and
// Ledger, state built by the registry's own state machine one
// transaction a block, with fixed keys and block times so that answers
// are the same on every run and can be held to golden files; and
// RangeServer, a dataset's owner node as a download sees it (ranges, cut
// connections), for the client's and the CLI's download tests.
//
// It owns no production behaviour: node assembles the real backend from
// chain.Node. It must not start CometBFT, listen anywhere but loopback, or
// read the wall clock into state.
package apitest
