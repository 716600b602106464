// Package store keeps CityID's ledger state in an IAVL v1 Merkle tree on an
// embedded goleveldb database under the node's home folder. It owns the
// tree's lifecycle: the working version a block writes to, the committed
// versions readers see and which of them are kept (Prune; a read below
// the oldest kept is a *PrunedError), proofs, snapshots, and a cache of the
// latest version's values in memory (cache.go) that a node preloads at
// start.
//
// Writes go only to the working version, from one goroutine (the consensus
// connection). Reads go only to committed versions, which are immutable, so
// reads never block writes and never see a half-applied block.
//
// It knows nothing of what the keys mean: that is package registry's.
package store
