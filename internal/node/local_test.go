package node

import (
	"path/filepath"
	"testing"
)

// A command given --home of a node reaches it on loopback at its
// configured port, and knows its chain; a home with no node is no answer.
func TestLocalNode(t *testing.T) {
	for _, tc := range []struct{ listen, want string }{
		{"127.0.0.1:18931", "http://127.0.0.1:18931"},
		{"0.0.0.0:18932", "http://127.0.0.1:18932"},
		{"[::]:18933", "http://[::1]:18933"},
		{":18934", "http://127.0.0.1:18934"},
	} {
		home := filepath.Join(t.TempDir(), "home")
		if _, err := Init(home, InitOptions{HTTP: tc.listen, DNS: "off", ChainID: "cityid-local-test01"}); err != nil {
			t.Fatal(err)
		}
		l, ok, err := LocalNode(home)
		if err != nil || !ok || l.URL != tc.want || l.ChainID != "cityid-local-test01" {
			t.Errorf("listen %s: LocalNode = %+v, %v, %v; want %s on cityid-local-test01", tc.listen, l, ok, err, tc.want)
		}
	}
	if _, ok, err := LocalNode(t.TempDir()); ok || err != nil {
		t.Errorf("a home with no node: ok %v, err %v", ok, err)
	}
}
