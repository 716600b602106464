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
// It is sequential, like raft's core: no goroutines, no locks (the import
// test forbids runtime and sync). ApplyBlock defines a block: each
// transaction prepared (Prepare: envelope, signature, body) and applied in
// order. The work that needs no state may be done ahead, anywhere: the
// chain decodes a block's transactions (Decode), checks their signatures in
// batches on every core (SignatureOptions, VerifySignature, Checked) and
// feeds them in order to a BlockApply, with ApplyBlock's results. A body
// that travels deflated (Envelope.BodyEncoding) is inflated in Checked,
// once its signature has verified, within MaxBatchBodyBytes; every reader
// of a body reads it through Envelope.PlainBody.
//
// A transaction that is rejected writes nothing of its own: every write of a
// transaction goes to an overlay that is flushed, in the order the writes were
// made, only when the whole transaction succeeds. One rejected after its nonce
// check has still used its nonce (only that is written), so its bytes can
// never apply later; one rejected before it (it does not decode, verify or
// validate, or its nonce is not the account's next) leaves state untouched.
//
// It also owns the state's export (export.go, docs/export.md): which
// entries a new network carries, their one written form, and the checks an
// import makes as InitGenesisFrom writes them. It reads and writes
// through io.Reader and io.Writer, never files.
//
// Nothing a transaction says can make applying a block fail: content that
// cannot be applied is a refusal with its code (errors.go), and CodeInternal
// is kept for state that cannot be read, the only reason a node stops.
package registry
