// Package bench measures CityID's throughput against the targets of its
// benchmark issue and against baselines measured in the same run:
//
//   - the state machine alone (RunState): signed register transactions
//     applied per second by chain.ApplyBlock (FinalizeBlock's) onto an in-memory
//     IAVL tree, every signature verified, a commit after each block;
//     beside it, Ed25519 verification on every core, the same blocks with
//     signatures taken as verified, and the same writes straight to IAVL;
//
//   - one node end to end (RunE2E): committed register transactions per
//     second through a real in-process CometBFT node, and CometBFT's own
//     kvstore example app through the same harness with the same settings,
//     as the baseline;
//
//   - register_batch on one node (RunBatch), resolve latency, proofs and
//     the light client (RunResolve), and served resolves per second over
//     HTTP/JSON, Handle REST and DNS beside bare servers (RunServe);
//
//   - data sharing (RunData): a dataset served to a signed request of a
//     live grantee through the node's serving path, beside
//     http.ServeContent of the same file, and the signature and grant
//     check of a request beside one Ed25519 verification.
//
// Run runs the chosen benchmarks under each GOMAXPROCS setting asked for;
// Results.WriteText renders the report (`cityid bench` only parses flags
// and calls them). Every target, with its reason, is in targets.go. The
// package starts its own CometBFT nodes (comet.go), assembled as
// chain.Start assembles one, so that production packages need no API for
// it; servers are assembled by node.ServeFrontEnds, as on a node.
//
// Every run is bounded in transactions and time, listens on loopback only,
// works in temporary folders it removes, and stops by itself. The package
// measures and reports; it never changes the code it measures. How the
// figures read and how to reproduce them is in README.md beside this file.
package bench
