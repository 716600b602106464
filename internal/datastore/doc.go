// Package datastore owns the bytes of the datasets a node serves: complete
// blobs named by their SHA-256, uploads in progress that survive a crash and
// resume where they stopped, and blobs set aside because their bytes no
// longer hash to their name.
//
// Layout under the root directory (the node passes <home>/data):
//
//	blobs/sha256/<hex>      complete, verified blobs
//	uploads/<hex>.part      bytes received so far
//	uploads/<hex>.state     the acknowledged (fsynced) offset and the declared size
//	quarantine/<hex>        a blob whose bytes stopped matching its name
//	quarantine/<hex>.reason why, and when
//
// Names are only ever a SHA-256 in 64 lowercase hex characters, checked
// before any path is built, so no input can name a path. Everything streams
// through fixed-size buffers: memory does not grow with the size of a file.
//
// A blob is moved into blobs/ only after the whole part file has been
// re-read and hashed to its name, by rename and directory fsync, so a crash
// leaves either the complete blob or the part file, never a blob that does
// not match. Bytes altered on disk afterwards are caught by reading through
// a VerifyingReader, which withholds the last bytes of a full read whose
// hash is wrong and quarantines the blob; a blob read whole and unchanged
// since (by its inode and ctime) is trusted for a while and may be served
// without hashing again.
//
// How the API uses it. An upload (PUT, after the ledger check): Upload(hash,
// size) with the DATA value's hash and size; ErrExists means nothing to do,
// ErrUploadInProgress a 409 to retry; WriteAt(ctx, body, offset) with the
// offset the client says it starts at (an *OffsetError carries the offset to
// resume from); Complete once Offset() == Size(); Close always. Status
// answers "how far did my upload get" without taking the upload over. A
// download: Open, then http.ServeContent over Blob.File when b.Trusted()
// (verified whole before and unchanged since: see trust.go), else over
// Blob.VerifyingReader(), which makes it trusted when it matches;
// ErrNotFound (also after a quarantine) is a 404. The errors' texts begin
// with a stable code (invalid_name, not_found, exists, upload_in_progress,
// wrong_offset, size_overflow, incomplete, digest_mismatch, closed).
//
// What this package must not do: decide who may upload or read (the API
// checks the ledger), know what a dataset is beyond its hash and size, or
// touch ledger state. It uses the wall clock only to date a quarantine and
// to judge when a verification can be trusted (trust.go).
package datastore
