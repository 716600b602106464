package wire

import "time"

// The defaults a node, its command line and its clients share, in one
// place: a node started with no configuration listens where a client
// started with no flags looks for it, and the resolver URLs and DNS names
// it prints are the ones it serves. The code package's FormOptions keep
// their own copy, since code is a public leaf that imports nothing of
// this module; TestDefaultsAgree holds the two together.
const (
	// DefaultHTTPAddr is the HTTP API's listen address: loopback, so a
	// node started with no flags is not open to the network.
	DefaultHTTPAddr = "127.0.0.1:8680"
	// DefaultNodeURL is where a client looks for a node, and the base of
	// resolver URLs (in QR codes) of a node that configured none.
	DefaultNodeURL = "http://" + DefaultHTTPAddr
	// DefaultDNSAddr is the DNS front end's listen address (a port above
	// 1024, which needs no privilege).
	DefaultDNSAddr = "127.0.0.1:8653"
	// DefaultZone is the zone of identifiers' DNS form: under .internal,
	// which ICANN reserves for private use, so it can never clash with a
	// real name.
	DefaultZone = "cityid.internal."
	// DefaultRPCAddr and DefaultP2PAddr are CometBFT's listen addresses.
	DefaultRPCAddr = "tcp://127.0.0.1:26657"
	DefaultP2PAddr = "tcp://127.0.0.1:26656"
	// DefaultSubmitWait is how long a submitter waits for its commit:
	// many blocks at CityID's block rate, so only a stalled chain makes a
	// write time out.
	DefaultSubmitWait = 30 * time.Second
	// SignatureTag is the RFC 9421 tag parameter of CityID's signed data
	// requests: a signature made for another application's protocol is
	// not taken for one of ours.
	SignatureTag = "cityid"
	// DataPath is the path, under a node's URL, of a dataset's bytes:
	// DataPath + identifier.
	DataPath = "/v1/data/"
	// AccessLogPath is the prefix of a dataset's access log's route.
	AccessLogPath = "/v1/access-log/"
)
