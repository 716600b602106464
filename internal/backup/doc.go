// Package backup owns CityID's backup archive: its format (format.go),
// writing one from a running node's committed state (write.go), reading
// and checking one without a node (read.go), and bootstrapping CometBFT's
// state of a new home from one (bootstrap.go), as CometBFT's offline state
// sync does.
//
// An archive holds the state at one committed height H, in the store's
// own snapshot stream (package store's Export, the one tree exporter),
// with what proves it: the signed header of H+1, whose app hash is the
// state's root, its commit and validator set, the header of H, the next
// validator set and the consensus parameters, and the genesis. Every part
// is hashed in the manifest, the last entry.
//
// It does not hold keys: a node's keys are its operator's, kept apart
// (docs/backup.md says where). It never holds a whole part in memory
// beyond a bounded piece, so a state of millions of records streams.
//
// It knows nothing of what the state's keys mean, and never starts a
// node: package node serves the archive of a running node and restores a
// home from one.
package backup
