package chain

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"sync"

	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"

	"github.com/cityid/cityid/internal/registry"
)

// Signatures checks transactions' signatures under the registry's rule
// (registry.SignatureOptions, ZIP-215): one at a time for CheckTx, in
// batches for a block. It remembers the keys it has seen: that each passed
// the registry's point check (so Decode does not repeat it: a square root,
// ~7 µs), and each one's expanded form (voi's precomputed tables, 1.5 KiB):
// a key that signs again is checked alone in 29 µs instead of 34
// (BenchmarkSignature on the benchmark machine), and accounts mostly sign
// many transactions. The cache holds no consensus state: a
// verdict is the same with or without it (TestBatchAgreesWithSingle,
// TestKnownKeys). It is safe for concurrent use.
type Signatures struct {
	opts *voi.Options

	mu    sync.Mutex
	keys  map[string]*knownKey // by the key's 32 bytes; looked up only
	order []string             // insertion order, oldest first, from head
	head  int
	max   int
}

// knownKey is what Signatures remembers of a key.
type knownKey struct {
	expanded *voi.ExpandedPublicKey // nil until a signature by it is checked
	checked  bool                   // it passed registry.ParsePubKey's point check
}

// expandedKeys bounds the cache: 6 MiB of tables, more signers than a
// mempool's worth of transactions (CometBFT's default is 5,000) usually
// come from.
const expandedKeys = 4096

// NewSignatures returns a checker that keeps up to max keys (expandedKeys
// when max is 0 or more than that).
func NewSignatures(max int) *Signatures {
	if max <= 0 || max > expandedKeys {
		max = expandedKeys
	}
	return &Signatures{opts: registry.SignatureOptions(), keys: make(map[string]*knownKey), max: max}
}

// entry returns pub's entry, made if new. Call with mu held.
func (s *Signatures) entry(pub []byte) *knownKey {
	k, ok := s.keys[string(pub)]
	if ok {
		return k
	}
	k = &knownKey{}
	s.keys[string(pub)] = k
	s.order = append(s.order, string(pub))
	for len(s.keys) > s.max {
		delete(s.keys, s.order[s.head])
		s.head++
	}
	if s.head > len(s.order)/2 && s.head > 1024 {
		s.order = append([]string(nil), s.order[s.head:]...)
		s.head = 0
	}
	return k
}

// decode is m.Decode, without the point check of a key whose transaction
// it decoded before.
func (s *Signatures) decode(m *registry.Machine, tx []byte) (*registry.Unchecked, *registry.Error) {
	return s.noteChecked(m.DecodeKnown(tx, s.known))
}

// decodeHashed is decode of a transaction whose SHA-256 is sum.
func (s *Signatures) decodeHashed(m *registry.Machine, tx []byte, sum [32]byte) (*registry.Unchecked, *registry.Error) {
	// A key found known is noted as checked already: CheckTx, one
	// transaction at a time, need not look for it again.
	known := false
	u, err := m.DecodeHashed(tx, sum, func(pub string) bool {
		known = s.known(pub)
		return known
	})
	if known && err == nil {
		return u, nil
	}
	return s.noteChecked(u, err)
}

// noteChecked notes the key of a transaction decode accepted as checked.
func (s *Signatures) noteChecked(u *registry.Unchecked, err *registry.Error) (*registry.Unchecked, *registry.Error) {
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.entry(u.PubKey).checked = true
	s.mu.Unlock()
	return u, nil
}

// known reports whether the key pub (text form) passed the point check in
// a transaction decode accepted.
func (s *Signatures) known(pub string) bool {
	// Decoded on the stack: this runs for every transaction CheckTx and
	// a block's workers decode.
	var b [ed25519.PublicKeySize]byte
	if len(pub) != hex.EncodedLen(len(b)) {
		return false
	}
	for i := range b {
		hi, ok1 := fromHex(pub[2*i])
		lo, ok2 := fromHex(pub[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		b[i] = hi<<4 | lo
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[string(b[:])]
	return ok && k.checked
}

// fromHex is the value of a hex digit, in either case as
// hex.DecodeString takes it.
func fromHex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// expanded returns pub's expanded form, made once. nil for a key that
// does not expand (no point of the curve): DecodeEnvelope refuses those.
func (s *Signatures) expanded(pub []byte) *voi.ExpandedPublicKey {
	s.mu.Lock()
	if k, ok := s.keys[string(pub)]; ok && k.expanded != nil {
		s.mu.Unlock()
		return k.expanded
	}
	s.mu.Unlock()
	x, err := voi.NewExpandedPublicKey(voi.PublicKey(pub))
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.entry(pub)
	if k.expanded == nil {
		k.expanded = x
	}
	return k.expanded
}

// verify checks one signature.
func (s *Signatures) verify(u *registry.Unchecked) bool {
	k := s.expanded(u.PubKey)
	if k == nil || len(u.Signature) != voi.SignatureSize {
		return registry.VerifySignature(u.PubKey, u.Message, u.Signature)
	}
	return voi.VerifyExpandedWithOptions(k, u.Message, u.Signature, s.opts)
}

// check prepares what Decode made of a transaction: its signature
// checked, then its body's verdict.
func (s *Signatures) check(u *registry.Unchecked) (*registry.Tx, *registry.Error) {
	return u.Checked(s.verify(u))
}

// verifyBatch checks the signatures of us[pending...] and reports each
// verdict. The verdicts are those of registry.VerifySignature, one by one
// (TestBatchAgreesWithSingle, FuzzBatchVerify): the rule is ZIP-215's,
// whose cofactored equation a batch checks as a sum; when the sum does not
// hold, voi checks each signature alone to find the bad ones. The batch's
// random coefficients are drawn from a hash of its entries, not from the
// system's randomness, so a block's verdicts are a function of the block;
// grinding entries to fool the sum still faces a 2^-128 chance per try,
// as with fresh randomness.
func (s *Signatures) verifyBatch(us []*registry.Unchecked, pending []int) []bool {
	valid := make([]bool, len(pending))
	switch len(pending) {
	case 0:
		return valid
	case 1:
		valid[0] = s.verify(us[pending[0]])
		return valid
	}
	bv := voi.NewBatchVerifierWithCapacity(len(pending))
	seed := sha512.New()
	for _, i := range pending {
		u := us[i]
		if k := s.expanded(u.PubKey); k != nil {
			bv.AddExpandedWithOptions(k, u.Message, u.Signature, s.opts)
		} else {
			bv.AddWithOptions(voi.PublicKey(u.PubKey), u.Message, u.Signature, s.opts)
		}
		seed.Write(u.PubKey)
		seed.Write(u.Signature)
		seed.Write(binary.BigEndian.AppendUint64(nil, uint64(len(u.Message))))
		seed.Write(u.Message)
	}
	_, valid = bv.Verify(bytes.NewReader(seed.Sum(nil)))
	return valid
}
