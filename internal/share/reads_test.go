package share

import (
	"testing"

	"github.com/cityid/cityid/internal/registry"
)

// TestReadsBounded: what a height's reads and the memo keep is bounded in
// bytes, whatever is asked for: the reads stop keeping past
// maxReadBytes, and the memo starts again past maxMemoBytes.
func TestReadsBounded(t *testing.T) {
	m := newMemo()
	big := make([]byte, 1<<20)
	for i := range 3 * maxMemoBytes / len(big) {
		m.mu.Lock()
		m.room(len(big) + entryBytes)
		m.records[string(rune('a'+i%26))+string(rune(i))] = memoRecord{raw: big}
		if m.size > maxMemoBytes {
			t.Fatalf("the memo holds %d bytes, above %d", m.size, maxMemoBytes)
		}
		m.mu.Unlock()
	}
	if n := len(m.records); n == 0 || n > maxMemoBytes/len(big) {
		t.Errorf("the memo holds %d records of 1 MiB, want between 1 and %d", n, maxMemoBytes/len(big))
	}

	c := newReads(7, m, DefaultGrantScan)
	kept := 0
	for i := range 3 * maxReadBytes / len(big) {
		c.mu.Lock()
		if c.keep(len(big)) {
			c.records[string(rune(i))] = recordRead{rec: registry.Record{}, ok: true}
			kept++
		}
		c.mu.Unlock()
	}
	if kept == 0 || kept > maxReadBytes/len(big) || c.held > maxReadBytes {
		t.Errorf("a height's reads kept %d entries of 1 MiB (%d bytes), want between 1 and %d", kept, c.held, maxReadBytes/len(big))
	}
}
