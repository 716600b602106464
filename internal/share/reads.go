package share

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/store"
)

// reads are the ledger reads of the decisions made at one committed
// height, each decoded once. A decision reads the dataset's record and
// every record above it, the dataset's grants, and for the signer's grant
// its grantee's record and both lineages: a dozen JSON records or more,
// which cost a grantee's request more than its signature did (80 µs
// beside Ed25519's 50 with one grant, 180 with 16: BenchmarkDecide). A
// committed height never changes, so what was read at it holds for every
// request decided at it; a new height starts from nothing, so a
// revocation, an expiry in block time or a deactivation is seen with its
// block, as when every request read the ledger itself.
//
// What it hands out is shared between requests: read only.
type reads struct {
	height int64

	mu      sync.Mutex
	held    int // entries in the maps below, bounded by maxReads
	records map[string]recordRead
	grants  map[string][]registry.Grant // by dataset, in key order, at most maxGrantScan
	live    map[string]liveRead         // by grant key
}

// maxReads bounds the entries a height's reads hold (a record is ~1 KiB
// decoded): past it, reads go to the ledger each time, as before.
const maxReads = 1 << 14

type recordRead struct {
	rec registry.Record
	ok  bool
}

type liveRead struct {
	live bool
	why  string
}

func newReads(height int64) *reads {
	return &reads{height: height, records: map[string]recordRead{}, grants: map[string][]registry.Grant{}, live: map[string]liveRead{}}
}

// readsAt is the reads of view's height: the service's current ones when
// view is at their height, new ones (kept for the requests that follow)
// when view is newer, and throwaway ones for an older view, so that a
// request still holding the last height cannot send the cache back.
func (s *Service) readsAt(view *store.View) *reads {
	h := view.Version()
	cur := s.reads.Load()
	if cur != nil && cur.height == h {
		return cur
	}
	r := newReads(h)
	if cur == nil || cur.height < h {
		s.reads.CompareAndSwap(cur, r)
	}
	return r
}

// keep stores an entry unless the bound is reached; the caller holds mu.
func (c *reads) keep() bool {
	if c.held >= maxReads {
		return false
	}
	c.held++
	return true
}

// record is registry.GetRecord at the reads' height.
func (c *reads) record(view *store.View, id string) (registry.Record, bool, error) {
	c.mu.Lock()
	r, hit := c.records[id]
	c.mu.Unlock()
	if hit {
		return r.rec, r.ok, nil
	}
	rec, ok, err := registry.GetRecord(view, id)
	if err != nil {
		return rec, ok, err
	}
	c.mu.Lock()
	if _, dup := c.records[id]; !dup && c.keep() {
		c.records[id] = recordRead{rec, ok}
	}
	c.mu.Unlock()
	return rec, ok, nil
}

// grantsOf is the dataset's first maxGrantScan grants, in key order.
func (c *reads) grantsOf(view *store.View, dataset string) ([]registry.Grant, error) {
	c.mu.Lock()
	gs, hit := c.grants[dataset]
	c.mu.Unlock()
	if hit {
		return gs, nil
	}
	var scanErr error
	err := view.Iterate(registry.GrantPrefix(dataset), nil, func(_, v []byte) bool {
		if len(gs) == maxGrantScan {
			return false
		}
		var g registry.Grant
		if scanErr = json.Unmarshal(v, &g); scanErr != nil {
			return false
		}
		gs = append(gs, g)
		return true
	})
	if err == nil {
		err = scanErr
	}
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if _, dup := c.grants[dataset]; !dup && c.keep() {
		c.grants[dataset] = gs
	}
	c.mu.Unlock()
	return gs, nil
}

// liveAt is g.LiveAt(view, blockTime), blockTime being the time of the
// reads' height: the same for every request at it.
func (c *reads) liveAt(view *store.View, g registry.Grant, blockTime time.Time) (bool, string, error) {
	key := string(registry.GrantKey(g.Dataset, g.Grantee))
	c.mu.Lock()
	l, hit := c.live[key]
	c.mu.Unlock()
	if hit {
		return l.live, l.why, nil
	}
	live, why, err := g.LiveAt(view, blockTime)
	if err != nil {
		return live, why, err
	}
	c.mu.Lock()
	if _, dup := c.live[key]; !dup && c.keep() {
		c.live[key] = liveRead{live, why}
	}
	c.mu.Unlock()
	return live, why, nil
}
