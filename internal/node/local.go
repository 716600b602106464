package node

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
)

// Local is what a command on the same machine needs to talk to the node of
// a home: the URL of its HTTP API and the chain its genesis names. A
// command given --home of a node must talk to that node, not to the
// default address, which on a testnet is another node and maybe another
// chain (issue 13).
type Local struct {
	URL     string // http:// and the API's listen address, loopback for an unspecified host (HTTPS: the public URL)
	ChainID string // the genesis' chain ID
}

// LocalNode reads a home's HTTP address and chain ID. ok is false, with no
// error, for a home that holds no node (only keys, or nothing).
func LocalNode(home string) (_ Local, ok bool, err error) {
	if !Initialized(home) {
		return Local{}, false, nil
	}
	c, err := Load(home)
	if err != nil {
		return Local{}, false, err
	}
	host, port, err := net.SplitHostPort(c.HTTP.Listen)
	if err != nil {
		return Local{}, false, fmt.Errorf("%s: http.listen %q: %w", cityidFile(home), c.HTTP.Listen, err)
	}
	// A node listening on every address answers on loopback too; a
	// command on the same machine goes there rather than to the public
	// URL, which may be a proxy in front of several nodes.
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	chainID, err := genesisChainID(c.Comet.GenesisFile())
	if err != nil {
		return Local{}, false, err
	}
	u := "http://" + net.JoinHostPort(host, port)
	if c.HTTP.TLSCert != "" {
		// HTTPS: the certificate names the public URL's host, not
		// loopback's, so a command checks it there when there is one.
		u = "https://" + net.JoinHostPort(host, port)
		if c.HTTP.PublicURL != "" {
			u = c.HTTP.PublicURL
		}
	}
	return Local{URL: u, ChainID: chainID}, true, nil
}

// genesisChainID reads only the chain ID of a genesis file.
func genesisChainID(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read genesis: %w", err)
	}
	var g struct {
		ChainID string `json:"chain_id"`
	}
	if err := json.Unmarshal(b, &g); err != nil {
		return "", fmt.Errorf("read genesis %s: %w", path, err)
	}
	return g.ChainID, nil
}
