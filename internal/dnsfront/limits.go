package dnsfront

// Every bound of the DNS front end, with its reason.
const (
	// maxUDPSize is the largest UDP answer we send, whatever the client
	// advertises: 1232 bytes avoids IP fragmentation (DNS flag day 2020),
	// and it bounds what one spoofed query can reflect onto a victim to
	// about 20 times the query's size. A larger answer is truncated and
	// the client asks again over TCP, which a spoofer cannot.
	maxUDPSize = 1232
)
