package dnsfront

import (
	"net"
	"testing"

	"github.com/miekg/dns"
)

// discard is a ResponseWriter that drops what it is given, as a UDP one.
type discard struct{ n int }

func (d *discard) LocalAddr() net.Addr         { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53} }
func (d *discard) RemoteAddr() net.Addr        { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5353} }
func (d *discard) WriteMsg(m *dns.Msg) error   { return nil }
func (d *discard) Write(b []byte) (int, error) { d.n += len(b); return len(b), nil }
func (d *discard) Close() error                { return nil }
func (d *discard) TsigStatus() error           { return nil }
func (d *discard) TsigTimersOnly(bool)         {}
func (d *discard) Hijack()                     {}

// BenchmarkServeDNS answers a TXT query for a school the way miekg/dns
// calls the handler over UDP: on a fresh goroutine per query, whose stack
// starts small. "same goroutine" is the answer's own cost, with no hand-off
// to a worker; "no work" is what a fresh goroutine costs.
func BenchmarkServeDNS(b *testing.B) {
	s, err := New(ledger(b), Options{})
	if err != nil {
		b.Fatal(err)
	}
	req := new(dns.Msg)
	req.SetQuestion("school-0042.1.85.1561301001.cityid.internal.", dns.TypeTXT)
	w := &discard{}
	// The workers, without listening: as ListenAndServe starts them.
	s.quit = make(chan struct{})
	defer close(s.quit)
	for range workers() {
		go s.work(s.quit)
	}
	b.Run("fresh goroutine", func(b *testing.B) {
		b.ReportAllocs()
		done := make(chan struct{})
		for b.Loop() {
			go func() {
				s.ServeDNS(w, req)
				done <- struct{}{}
			}()
			<-done
		}
	})
	b.Run("fresh goroutine, no work", func(b *testing.B) {
		done := make(chan struct{})
		for b.Loop() {
			go func() { done <- struct{}{} }()
			<-done
		}
	})
	b.Run("same goroutine", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.serve(w, req)
		}
	})
	if w.n == 0 {
		b.Fatal("nothing answered")
	}
}
