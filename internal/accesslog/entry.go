package accesslog

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// Entry is one access on the record.
type Entry struct {
	Seq     uint64 `json:"seq"`
	Time    string `json:"time"`              // RFC 3339 nano UTC, the node's clock (not ledger state)
	Dataset string `json:"dataset"`           // the dataset's identifier, canonical
	Key     string `json:"key,omitempty"`     // signer's hex public key; "" anonymous
	Grantee string `json:"grantee,omitempty"` // the node whose grant was relied on
	Grant   uint64 `json:"grant,omitempty"`   // that grant's version
	Height  int64  `json:"height"`            // ledger height the check was made at
	Method  string `json:"method"`
	Range   string `json:"range,omitempty"`
	Bytes   int64  `json:"bytes"`  // bytes served (or accepted, for uploads)
	Status  int    `json:"status"` // HTTP status answered
	Result  string `json:"result"` // "served", "uploaded", or the refusal's stable code
	Remote  string `json:"remote,omitempty"`
	// Target, SigInput and Sig are the request as signed: its target URI
	// as the node derived it, and its Signature-Input and Signature
	// fields (RFC 9421). With them anyone can check that the entry's key
	// really signed this request, so an owner cannot write an entry for a
	// request nobody made (client.CheckEntrySignature).
	Target   string `json:"target,omitempty"`
	SigInput string `json:"sig_input,omitempty"`
	Sig      string `json:"sig,omitempty"`
	Prev     string `json:"prev"` // hash of entry Seq-1; ZeroHash for entry 1
	Hash     string `json:"hash"` // ComputeHash of this entry
}

// ZeroHash is the Prev of entry 1 and the head of an empty log.
const ZeroHash = "0000000000000000000000000000000000000000000000000000000000000000"

// hashDomain starts the hashed bytes, so an entry's hash can never be taken
// for the hash of anything else, and names the encoding's version.
const hashDomain = "cityid-accesslog-v1\n"

// CanonicalBytes are the bytes ComputeHash hashes: the line
// "cityid-accesslog-v1\n", then every field but Hash, in this order, each
// as one line
//
//	<json name> "=" <length in bytes, decimal> ":" <value> "\n"
//
// seq, time, dataset, key, grantee, grant, height, method, range, bytes,
// status, result, remote, target, sig_input, sig, prev. Strings are their UTF-8 bytes as they are;
// numbers are decimal without leading zeros (a minus sign for a negative).
// Every field is present, empty or zero included. The length prefix makes
// the encoding unambiguous whatever the strings contain, and any language
// can produce it without a JSON canonicalisation library. Example, the
// start of entry 1:
//
//	cityid-accesslog-v1
//	seq=1:1
//	time=30:2026-12-05T04:35:00.123456789Z
func (e Entry) CanonicalBytes() []byte {
	b := make([]byte, 0, 512)
	b = append(b, hashDomain...)
	str := func(name, v string) {
		b = append(b, name...)
		b = append(b, '=')
		b = strconv.AppendInt(b, int64(len(v)), 10)
		b = append(b, ':')
		b = append(b, v...)
		b = append(b, '\n')
	}
	str("seq", strconv.FormatUint(e.Seq, 10))
	str("time", e.Time)
	str("dataset", e.Dataset)
	str("key", e.Key)
	str("grantee", e.Grantee)
	str("grant", strconv.FormatUint(e.Grant, 10))
	str("height", strconv.FormatInt(e.Height, 10))
	str("method", e.Method)
	str("range", e.Range)
	str("bytes", strconv.FormatInt(e.Bytes, 10))
	str("status", strconv.Itoa(e.Status))
	str("result", e.Result)
	str("remote", e.Remote)
	str("target", e.Target)
	str("sig_input", e.SigInput)
	str("sig", e.Sig)
	str("prev", e.Prev)
	return b
}

// ComputeHash is the hex SHA-256 of CanonicalBytes: what Hash must be.
func (e Entry) ComputeHash() string {
	h := sha256.Sum256(e.CanonicalBytes())
	return hex.EncodeToString(h[:])
}
