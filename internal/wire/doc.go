// Package wire holds what crosses the wire between a CityID node and its
// readers: the HTTP API's answer types (records, proofs, history,
// children, lists, transaction answers, accounts, status, problems and
// the Handle REST answers), what the chain layer exposes to readers
// (transaction results, node status, transaction and block info), the
// table of stable error codes with their HTTP statuses and ABCI numbers,
// and the defaults a node and its clients share.
//
// It is a leaf: it imports only the standard library, code and registry,
// so the public client can decode every answer without linking the
// server, the store or CometBFT's node. It must hold no behaviour beyond
// looking up its own tables, and no state.
package wire
