package dnsfront

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/cityid/cityid/internal/registry"
)

// Answers kept by the UDP path follow the ledger: a block committed while
// clients ask is seen at once, whatever was asked before it (a name that
// was NXDOMAIN, a record whose values changed, the SOA's serial), and the
// clients asking all the while meet no error (go test -race checks the
// cache's sharing).
func TestCacheFollowsCommits(t *testing.T) {
	st, apply := newLedger(t)
	s, err := New(st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	udp, _, err := s.ListenAndServe("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	s.mu.Lock()
	conns := len(s.conns)
	s.mu.Unlock()
	if want := runtime.GOMAXPROCS(0); reusePortSupported && conns != want {
		t.Fatalf("%d batch sockets on a single address, want one per core, %d", conns, want)
	}
	addr := udp.String()
	const later = "later.1.85.1561301001.cityid.internal."
	const school = "school-0042.1.85.1561301001.cityid.internal."
	if r := query(t, "udp", addr, later, dns.TypeTXT, true); r.Rcode != dns.RcodeNameError {
		t.Fatalf("before it is registered: %s", dns.RcodeToString[r.Rcode])
	}
	serial := func() uint32 {
		r := query(t, "udp", addr, "cityid.internal.", dns.TypeSOA, false)
		return r.Answer[0].(*dns.SOA).Serial
	}
	before := serial()

	var stop atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &dns.Client{Net: "udp", Timeout: 3 * time.Second}
			for n := 0; !stop.Load(); n++ {
				m := new(dns.Msg)
				m.SetQuestion([]string{later, school, "cityid.internal."}[(i+n)%3], dns.TypeTXT)
				if i%2 == 0 {
					m.SetEdns0(1232, false)
				}
				r, _, err := c.Exchange(m, addr)
				if err != nil {
					errs <- err
					return
				}
				if r.Id != m.Id || r.Question[0] != m.Question[0] {
					errs <- fmt.Errorf("the answer to %v is %v", m.Question[0], r)
					return
				}
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	apply(registry.KindRegister, registry.Register{ID: "1561301001.85.1/later", Values: []registry.Value{{Type: "TEXT", Data: "registered later"}}})
	r := query(t, "udp", addr, later, dns.TypeTXT, true)
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 2 || !strings.Contains(r.Answer[1].String(), "1:TEXT=registered later") {
		t.Errorf("after it is registered: %s, %v", dns.RcodeToString[r.Rcode], r.Answer)
	}
	time.Sleep(50 * time.Millisecond)
	apply(registry.KindUpdate, registry.Update{ID: "1561301001.85.1/school-0042", Version: 1, Values: []registry.Value{{Type: "URL", Data: "https://example.org/moved"}}})
	r = query(t, "udp", addr, school, dns.TypeTXT, false)
	if len(r.Answer) != 2 || !strings.Contains(r.Answer[0].String(), "version=2;") || !strings.Contains(r.Answer[1].String(), "1:URL=https://example.org/moved") {
		t.Errorf("after an update: %v", r.Answer)
	}
	if after := serial(); after != before+2 {
		t.Errorf("SOA serial %d after two blocks over %d", after, before)
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// The cache holds no more than its bound, whatever is put in it, and only
// the latest view's answers.
func TestCacheBound(t *testing.T) {
	c := newAnswerCache()
	root := []byte("root")
	big := &cachedAnswer{full: make([]byte, maxUDPSize), trunc: make([]byte, 60)}
	for i := range 4 * cacheBytes / big.size() {
		c.put(fmt.Appendf(nil, "name-%d.cityid.internal.", i), 7, root, big)
	}
	total := 0
	for i := range c.shards {
		sh := &c.shards[i]
		n := 0
		for k, e := range sh.entries {
			n += len(k) + e.size()
		}
		if n != sh.bytes || n > cacheBytes/cacheShards {
			t.Fatalf("shard %d holds %d bytes, counts %d, bound %d", i, n, sh.bytes, cacheBytes/cacheShards)
		}
		total += n
	}
	if total < cacheBytes/2 {
		t.Errorf("the cache holds %d bytes of %d: it throws away too much", total, cacheBytes)
	}
	key := []byte("name-1.cityid.internal.")
	c.put(key, 7, root, big)
	if c.get(key, 7, root) != big || c.get(key, 8, root) != nil || c.get(key, 7, []byte("other")) != nil {
		t.Fatal("an answer is kept for another view")
	}
	c.put(key, 8, root, big)
	old := []byte("old-0")
	for i := 1; c.shard(old) != c.shard(key); i++ {
		old = fmt.Appendf(nil, "old-%d", i)
	}
	c.put(old, 7, root, big) // from a loop that read the older view
	if c.get(key, 8, root) != big || c.get(old, 7, root) != nil {
		t.Fatal("an older view's answer replaced the newer view's")
	}
}

// truncatedOf cuts from a packed answer the bytes packing it truncated
// gives, for every plain golden query, with EDNS and without, and every
// kind of answer the zone gives them.
func TestTruncatedOf(t *testing.T) {
	st := ledger(t)
	s, err := New(st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	cut := 0
	for i, pkt := range udpQueries(t) {
		q, ok := parseQuery(pkt)
		if !ok {
			continue
		}
		req := new(dns.Msg)
		if err := req.Unpack(pkt); err != nil {
			t.Fatal(err)
		}
		m, err := s.z.answer(st.Latest(), req)
		if err != nil {
			t.Fatal(err)
		}
		if q.edns {
			m.SetEdns0(maxUDPSize, false)
		}
		full, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		truncate(m)
		want, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		got := truncatedOf(nil, full, q.edns)
		if !bytes.Equal(got, want) {
			t.Fatalf("query %d %x, %s:\n got %x\nwant %x", i, pkt, dns.RcodeToString[m.Rcode], got, want)
		}
		// Appended after what dst holds, which it leaves alone.
		if got := truncatedOf([]byte("kept"), full, q.edns); !bytes.Equal(got, append([]byte("kept"), want...)) {
			t.Fatalf("query %d: appended to dst:\n got %x\nwant %x", i, got, append([]byte("kept"), want...))
		}
		cut++
	}
	if cut < 10 {
		t.Fatalf("only %d plain queries cut", cut)
	}
	for _, bad := range [][]byte{nil, make([]byte, 11), make([]byte, 12)} {
		if got := truncatedOf(nil, bad, false); got != nil {
			t.Fatalf("truncatedOf(%x) = %x, want nil", bad, got)
		}
	}
}

// The doorkeeper keeps an answer from its key's second question on, and
// forgets the questions it marked once its shard's marks are spent.
func TestAdmit(t *testing.T) {
	c := newAnswerCache()
	key := []byte("school-0042.1.85.1561301001.cityid.internal.")
	if c.admit(key) {
		t.Fatal("an answer asked for once is kept")
	}
	if !c.admit(key) || !c.admit(key) {
		t.Fatal("an answer asked for again is not kept")
	}
	// Other keys of the same shard, until its marks are cleared.
	sh := c.shard(key)
	for i := 0; sh.marks != 1 || c.admit(key); i++ {
		other := fmt.Appendf(nil, "name-%d.cityid.internal.", i)
		if c.shard(other) == sh {
			c.admit(other)
		}
		if i > 100*admitMarks*cacheShards {
			t.Fatal("the shard's marks are never cleared")
		}
	}
}
