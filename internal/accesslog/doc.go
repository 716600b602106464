// Package accesslog owns the record of every access to a dataset served by
// this node: one append-only log per dataset, each entry chained to the one
// before by its SHA-256, written and fsynced before Append returns, so an
// acknowledged entry survives a crash (AppendDeferred's within about a
// second, DeferredSyncEvery); and the pure check of such a log
// against the heads anchored on the ledger.
//
// On disk: <root>/<dataset as a safe file name>.log, one JSON object per
// line (an Entry), numbered from 1, and beside it <file>.durable, the size
// its last fsync made durable (written after each), which a load after a
// restart never cuts below. Entry.ComputeHash documents the exact
// bytes hashed. The ledger keeps (entries, head) pairs (AnchorHead), so the
// owner cannot rewrite what it anchored, and Verify names the first entry
// that does not hold.
//
// Two halves: Entry, ComputeHash, Verify and Report are pure (no I/O, no
// clock) for the public client, which checks a log it downloaded; Log is
// the node's side, files and locks. Neither imports anything of ours.
//
// How the node uses it: Append one Entry per request before answering (an
// error means the access cannot be recorded, so it is refused), or
// AppendDeferred for a refused request, whose answer carries no receipt:
// its line is fsynced with the next one that is, so refusals cannot make
// the node fsync once each; the
// anchoring loop reads Status(dataset) for each of Datasets() and anchors
// its head when it moved since its last anchor (how soon depends on
// whether an entry since names a grantee: Status.LastGrantee); GET .../log pages with Entries(dataset,
// after, limit), after = entries already sent. Head and Entries show only
// entries that are durable, so an anchor never names an entry a crash could
// take back. The reader fetches every page and the dataset's anchors and
// calls Verify.
//
// What this package must not do: decide what is logged (the API does), touch
// ledger state, or repair acknowledged history. What a crash leaves after
// the last durable point is cut off with a note and kept in a side file
// (<file>.torn-<time>): a torn last line, or, from the first line holding
// zero bytes (pages a file system left unwritten while later ones were
// written), the rest of the file, when all of it is zeros or this log's
// later entries: a zero byte was never fsynced, so no line ending after it
// was acknowledged (tornTail); never below the durable mark, nor more
// lines or a longer span of entries than a crash takes back. Anything else
// malformed is an error naming the file and line, and a chain that does not
// hold on disk, or a file shorter than its mark, is never extended. Hold
// stops appends to a log that no longer holds what was anchored of it (the
// anchoring loop decides that: this package knows nothing of the ledger).
package accesslog
