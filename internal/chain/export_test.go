package chain

import "github.com/cityid/cityid/internal/registry"

// VerifyForTest is Signatures.verify, for the benchmarks of package
// chain_test.
func VerifyForTest(s *Signatures, u *registry.Unchecked) bool { return s.verify(u) }

// VerifyBatchForTest checks us as one batch and reports whether every
// signature verified.
func VerifyBatchForTest(s *Signatures, us []*registry.Unchecked) bool {
	pending := make([]int, len(us))
	for i := range pending {
		pending[i] = i
	}
	for _, ok := range s.verifyBatch(us, pending) {
		if !ok {
			return false
		}
	}
	return true
}
