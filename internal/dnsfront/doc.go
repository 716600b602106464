// Package dnsfront is CityID's authoritative DNS front end: it answers for
// one zone (cityid.internal. by default) from the node's last committed
// state. The DNS form of an identifier (code.ID.DNSName) answers TXT with
// its values and URI records (RFC 7553) for its URL values; the apex has SOA
// and NS; a name that is not an identifier or not registered gets NXDOMAIN
// with the SOA; a name outside the zone is REFUSED; it never recurses.
// Zone transfers (AXFR, IXFR) are REFUSED, and ANY gets the minimal answer
// of RFC 8482 (one synthesized HINFO). Over UDP an answer larger than the
// client allows (512 bytes without EDNS, at most 1232 with it) comes back
// truncated (TC) with no records, and a resolver retries over TCP, where
// it is whole. Answers over UDP are rate limited per client network and
// kind of answer (RateLimit, as BIND's RRL), since the source address of
// a UDP query can be forged; TCP is never limited. README.md says it all
// for operators.
//
// Like a CoreDNS plugin, it is three parts: setup (setup.go: Options, New,
// ListenAndServe, Shutdown), serving (serve.go: ServeDNS and the UDP and
// TCP paths, sizes, the rate limit) and the zone's answers (answer.go: a
// pure function of a committed state view and a question, with no I/O;
// answer_wire.go writes the commonest of its answers, a record's TXT or
// URI records, straight from the stored record, to the same bytes).
// The answer function is tested by calling it (answer_test.go), the
// server by real queries, and the bytes of every kind of answer are
// pinned by testdata/answers.golden.
//
// It must not write state, recurse, or answer from anything but the
// latest committed view.
package dnsfront
