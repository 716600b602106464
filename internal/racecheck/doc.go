// Package racecheck holds one test: it runs the tests of the packages
// whose code runs on many goroutines at once — the store under concurrent
// readers and a writing block, the ABCI application's CheckTx beside
// FinalizeBlock, the registry's pending states, data sharing's nonce
// cache and access logs, the HTTP and DNS front ends, the public client —
// under Go's race detector, so that the README's one test command
// (`go test ./...`) also finds data races there. The whole suite under
// -race would take several times as long; these packages take about two
// minutes, and a second when none of them changed (the go command caches
// the race run's results).
//
// Nothing here is used by the program.
package racecheck
