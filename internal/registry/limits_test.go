package registry

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cityid/cityid/code"
)

// TestLimitsArePinned: the bounds are consensus (limits.go). Changing one
// changes which transactions are valid, so it must come with a coordinated
// upgrade; this test makes the change deliberate. Update it together with the
// upgrade note, never alone.
func TestLimitsArePinned(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want int
	}{
		{"MaxTxBytes", MaxTxBytes, 2098176},
		{"MaxBodyBytes", MaxBodyBytes, 65536},
		{"MaxBatchBodyBytes", MaxBatchBodyBytes, 1572864},
		{"MaxBatch", MaxBatch, 5000},
		{"MaxDatasetURIBytes", MaxDatasetURIBytes, 768},
		{"MaxScopeBytes", MaxScopeBytes, 64},
		{"MaxValidatorPower", MaxValidatorPower, 1000000000},
		{"MaxValidators", MaxValidators, 150},
		{"MaxValues", MaxValues, 32},
		{"MaxValueBytes", MaxValueBytes, 1024},
		{"MaxAdmins", MaxAdmins, 16},
		{"MaxNameBytes", MaxNameBytes, 256},
		{"MaxEndpointBytes", MaxEndpointBytes, 512},
		{"MaxTypeBytes", MaxTypeBytes, 64},
		{"MaxValueIndex", MaxValueIndex, 65535},
		{"DefaultTTL", DefaultTTL, 86400},
		{"MaxTTL", MaxTTL, 604800},
		{"MaxAuthority", MaxAuthority, 64},
		{"MaxUnit", MaxUnit, 999999},
		{"MaxCityNumber", MaxCityNumber, 999999},
		{"MaxAllocateProbes", MaxAllocateProbes, 1000},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %d, pinned at %d: a change of consensus", tc.name, tc.got, tc.want)
		}
	}
}

// TestLimitsAgreeWithTheGrammar: the registry allocates no unit or city
// number the grammar cannot write.
func TestLimitsAgreeWithTheGrammar(t *testing.T) {
	if _, err := code.Parse(fmt.Sprintf("1561301001.85.%d", MaxUnit)); err != nil {
		t.Errorf("unit MaxUnit does not parse: %v", err)
	}
	if _, err := code.Parse(fmt.Sprintf("1561301001.85.%d", MaxUnit+1)); err == nil {
		t.Errorf("unit MaxUnit+1 parses: MaxUnit is below what the grammar allows")
	}
	if _, err := code.NewCity("250", fmt.Sprintf("%06d", MaxCityNumber)); err != nil {
		t.Errorf("city number MaxCityNumber is not six digits: %v", err)
	}
	if MaxTTL < DefaultTTL {
		t.Errorf("DefaultTTL %d is over MaxTTL %d", DefaultTTL, MaxTTL)
	}
}

// TestRecordAtEveryBoundFits: limits.go says MaxBodyBytes "holds a record at
// every other bound (32 values of 1 KiB plus admins and names)". True for
// values whose text JSON does not escape; see the report for values that
// it does (quotes, backslashes, and <, >, & which encoding/json writes as
// six bytes each).
func TestRecordAtEveryBoundFits(t *testing.T) {
	w := newWorld(t)
	var values []M
	for i := 0; i < MaxValues; i++ {
		values = append(values, M{"type": "gov.cn:" + strings.Repeat("t", MaxTypeBytes-7), "data": strings.Repeat("水", MaxValueBytes/3), "ttl": MaxTTL, "index": MaxValueIndex - i})
	}
	var admins []string
	for i := 0; i < MaxAdmins; i++ {
		admins = append(admins, pubHex(testKey(fmt.Sprint("bound-admin-", i))))
	}
	tx := w.cityAdmin.tx(t, KindRegister, M{"id": w.unit + "/" + strings.Repeat("b", 64), "values": values, "admins": admins})
	if n := len(decodeTx(t, tx).Body); n > MaxBodyBytes {
		t.Fatalf("a record at every bound needs a %d-byte body, more than MaxBodyBytes %d", n, MaxBodyBytes)
	}
	w.h.mustApply(t, tx)
}
