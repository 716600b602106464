package accesslog_test

import (
	"fmt"
	"os"

	"github.com/cityid/cityid/internal/accesslog"
)

// The node appends an entry per request and anchors the head; a reader
// checks the entries it fetched against the anchors from the ledger.
func ExampleVerify() {
	dir, _ := os.MkdirTemp("", "accesslog")
	defer os.RemoveAll(dir)
	l, _ := accesslog.Open(dir)
	defer l.Close()
	const ds = "1561301001.85.1/exam-2026"
	for _, result := range []string{"served", "no_grant", "served"} {
		l.Append(accesslog.Entry{Dataset: ds, Method: "GET", Result: result, Time: "2026-12-05T04:35:00Z"})
	}
	n, head, _ := l.Head(ds) // what the node puts on the ledger
	anchors := []accesslog.AnchorHead{{Entries: n, Head: head}}

	entries, _ := l.Entries(ds, 0, 0)
	r := accesslog.Verify(entries, anchors)
	fmt.Println(r.OK, r.Entries, r.Anchored)
	entries[1].Result = "served" // the owner rewrites a refusal
	r = accesslog.Verify(entries, anchors)
	fmt.Println(r.OK, r.Code, r.At)
	// Output:
	// true 3 3
	// false bad_hash 2
}
