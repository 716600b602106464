package registry

import (
	"testing"
)

// scan lists the keys with prefix, and their values, in the last committed
// state (the harness commits every block), in key order.
func scan(t testing.TB, h *harness, prefix []byte) (keys []string, values [][]byte) {
	t.Helper()
	err := h.kv.st.Latest().Iterate(prefix, nil, func(k, v []byte) bool {
		keys = append(keys, string(k))
		values = append(values, append([]byte(nil), v...))
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys, values
}
