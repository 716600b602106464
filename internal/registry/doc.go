// Package registry is CityID's state machine: the signed transaction envelope,
// the transaction kinds, the records they write and every rule that decides
// whether a transaction is accepted.
//
// It owns the meaning of the ledger state (its keys and encodings) and nothing
// else. It must stay deterministic: it never reads the wall clock, never
// iterates a map to produce output, never draws random numbers and never uses
// floating point. Block height and time come from the caller (the block
// header). It does no I/O and imports neither CometBFT nor IAVL nor net/http;
// it talks to state through the small KV interface in state.go, so it is
// tested with tables and no network (see machine_test.go).
//
// A transaction that is rejected leaves state untouched: every write of a
// transaction goes to an overlay that is flushed, in the order the writes were
// made, only when the whole transaction succeeds.
package registry
