// Package node assembles one running CityID node from its parts: the
// CometBFT node with the registry application (package chain), the HTTP API
// (package api), and the configuration and home folder they share. It owns
// the node's lifecycle: initialising a home, starting every part, and
// stopping them in order. It also decides where a home's keyring gets its
// passphrase ([keys], OpenKeyring), since that is configuration; the
// keyring itself (files, encryption) is package keyring's.
package node
