package node

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cityid/cityid/internal/store"
)

// Only a start-up error that shows the data damaged advises a reset: a
// store whose files are corrupt (made so here, then opened) and CometBFT's
// handshake do; a permission, a full disk and an error of no known kind
// do not (a reset would cost a whole sync and mend nothing).
func TestRecoverHint(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	manifests, err := filepath.Glob(filepath.Join(dir, "state.db", "MANIFEST-*"))
	if err != nil || len(manifests) == 0 {
		t.Fatalf("no MANIFEST in the store (%v)", err)
	}
	if err := os.WriteFile(manifests[0], []byte("not a manifest"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, corrupt := store.Open(dir, store.Options{})
	if corrupt == nil {
		t.Fatal("a store with a damaged manifest opened")
	}
	for _, tc := range []struct {
		name    string
		err     error
		damaged bool
	}{
		{"a corrupt store", corrupt, true},
		{"CometBFT's stores at odds with the state", fmt.Errorf("create node: %w", errors.New("error during handshake: error on replay: app block height (7) is higher than core (5)")), true},
		{"a permission", fmt.Errorf("open store: %w", &fs.PathError{Op: "open", Path: "/var/lib/cityid/data", Err: syscall.EACCES}), false},
		{"a full disk", fmt.Errorf("start node: %w", &fs.PathError{Op: "write", Path: "/var/lib/cityid/data/cs.wal", Err: syscall.ENOSPC}), false},
		{"an error of no known kind", errors.New("start node: listen tcp 10.9.9.9:26656: bind: cannot assign requested address"), false},
	} {
		got := recoverHint("/var/lib/cityid", tc.err).Error()
		if damaged := strings.Contains(got, "damaged") || strings.Contains(got, "cityid reset"); damaged != tc.damaged {
			t.Errorf("%s: %q\nsays the data is damaged: %v, want %v", tc.name, got, damaged, tc.damaged)
		}
		if !strings.HasPrefix(got, tc.err.Error()) {
			t.Errorf("%s: %q does not start with the error", tc.name, got)
		}
	}
}
