// Package chain is CityID's ABCI application and the in-process CometBFT
// node that runs it. It is the only package of a node that imports CometBFT's
// node and ABCI packages; internal/bench, the benchmark harness, starts
// CometBFT nodes of its own, assembled as Start assembles one, so that it
// can feed their mempools and watch their blocks without an API here.
//
// The application is kept thin, in the manner of CometBFT's kvstore example:
// it decodes requests, calls package registry, and maps results to ABCI
// codes (code.go). CheckTx runs the stateless checks, the signature and the
// nonce; FinalizeBlock applies the block to the store's working version and
// returns its hash; Commit saves that version and only then tells waiting
// submitters that their transaction is on the ledger.
//
// The parallel work ahead of the registry's sequential apply is the
// chain's (prepare.go): ApplyBlock decodes a block's transactions and
// checks their signatures in batches on every core while the registry
// applies the earlier ones in order, and the prepared-transaction cache
// spares FinalizeBlock what CheckTx did already. Neither changes a
// result: the block's outcome is the registry's ApplyBlock's, for any
// number of workers.
package chain
