package dnsfront

import "time"

// Every bound and default of the DNS front end, with its reason.
const (
	// maxUDPSize is the largest UDP answer we send, whatever the client
	// advertises: 1232 bytes avoids IP fragmentation (DNS flag day 2020),
	// and it bounds what one spoofed query can reflect onto a victim to
	// about 20 times the query's size. A larger answer is truncated and
	// the client asks again over TCP, which a spoofer cannot.
	maxUDPSize = 1232

	// DefaultResponsesPerSecond is the answers of one kind a client
	// network gets a second over UDP: the upper end of BIND's examples
	// (5 to 20). A resolver caches an answer for its TTL (minutes to a
	// day here), so twenty identical answers a second to one network is
	// a flood, not its users; and a network over the limit still gets
	// every other answer as TC and the whole answer over TCP.
	DefaultResponsesPerSecond = 20

	// DefaultSlip truncates every other answer beyond the limit, as BIND
	// does by default: a real client asks again over TCP, and a victim of
	// spoofing gets half as many packets, each the size of the query.
	DefaultSlip = 2

	// DefaultWindow is BIND's: a network that floods stays limited for up
	// to 15 s after it stops.
	DefaultWindow = 15 * time.Second

	// DefaultIPv4Prefix and DefaultIPv6Prefix make a client network, as
	// BIND's defaults do: a /24 is a site's allocation in IPv4, a /56 a
	// customer's in IPv6 (RIPE-690), so a spoofer cannot escape the limit
	// by varying the low bits.
	DefaultIPv4Prefix = 24
	DefaultIPv6Prefix = 56

	// MaxResponsesPerSecond, MaxSlip and MaxWindow bound the settings, as
	// BIND bounds its own: beyond them a typo, not a plan.
	MaxResponsesPerSecond = 1000
	MaxSlip               = 10
	MaxWindow             = time.Hour

	// rateTableSize bounds the accounts the rate limit keeps: when full, a
	// new one takes the place of the one used longest ago, so a flood from
	// spoofed sources costs at most ~100 bytes an account, 6.5 MiB in
	// all. At a node's full rate on the benchmark machine (about 100,000
	// answers a second, README, Performance) a churn of one-time
	// accounts turns the table over in about 0.65 s, so an account
	// answered more often than that, as a flood's is, is never pushed
	// out by them.
	rateTableSize = 1 << 16

	// cacheBytes bounds the packed answers the UDP path keeps (cache.go),
	// keys and bookkeeping counted: 32 MiB holds about 70,000 answers of
	// the usual size (a school's TXT, 250 bytes, with its truncated form
	// and key), more than the bench's 10,000 identifiers asked every way,
	// and a small part of a node's value cache. An answer is kept until
	// the next block; a flood of distinct names only churns the cache.
	cacheBytes = 32 << 20

	// cacheShards splits the cache so that the UDP loops, one per core,
	// rarely take the same lock; a power of two beyond the cores a node
	// has.
	cacheShards = 64

	// admitBits and admitMarks size the cache's doorkeeper (cache.go,
	// admit): 16,384 bits a shard (2 KiB, 128 KiB in all), cleared once
	// 4,096 keys have marked them, so at most a quarter are set and a
	// name is kept when asked again within about 260,000 other names,
	// several times the answers the cache holds.
	admitBits  = 1 << 14
	admitMarks = admitBits / 4

	// cacheEntryOverhead is what an entry costs beyond its bytes: the
	// map's cell, the entry's struct and slice headers.
	cacheEntryOverhead = 128

	// udpBatch is how many datagrams a UDP loop reads (recvmmsg) and
	// writes (sendmmsg) in one system call: under load a socket holds
	// dozens of queries, and one call for many is most of the saving;
	// 32 buffers of 1232 bytes is 40 KiB a loop, twice for the replies.
	udpBatch = 32
)
