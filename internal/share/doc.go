// Package share is the owner node's side of cross-city data sharing
// (DESIGN section 5, issue 12): it decides, from the committed ledger
// state, whether a request may download a dataset's bytes, upload them or
// read the dataset's access log; it keeps the bytes (internal/datastore)
// and the access log (internal/accesslog); and it anchors the log's heads
// on the ledger.
//
// The rules, in one place (the authorization matrix in
// docs/data-sharing.md holds every case):
//   - download: anyone when the DATA value is public; otherwise a request
//     signed (RFC 9421, package httpsig) by an admin key of the dataset
//     (or of a node above it), or by an admin key of a node that holds a
//     live grant for the dataset at the latest committed height. Live is
//     registry.Grant.LiveAt at the latest block's time, and also not past
//     its expiry by this node's clock: a node whose chain is quiet does
//     not serve a grant that has expired by the calendar.
//   - upload: a request signed by an admin of the dataset or of a node
//     above it, the dataset and every node above it active, the bytes
//     hashing to the SHA-256 on the ledger.
//   - reading the log, or anchoring it now: an admin of the dataset or of
//     a node above it.
//
// A grant is for its grantee node's own admin keys: an admin of the node
// above the grantee is refused unless it holds a grant itself, as a grant
// names the party whose requests it lets in.
//
// Decisions read the latest committed state through reads.go: what one
// height's decisions read is decoded once for every request at that
// height, and kept by its bytes for the next heights, so that the check
// of a request costs little beyond its signature (issue 12 bounds it at
// 100 µs) and a revocation still takes effect with its block.
//
// Nothing here writes ledger state but the anchor transactions, which
// go through the mempool as any client's do.
package share
