// Package web owns the portal's browser side: static files embedded in
// the binary, served as they are, with no build step. For now it holds
// static/verify.js, the browser's verifier of an answer (ICS23 proofs,
// CometBFT light blocks, the light client's rules of trust), and the
// vectors that hold it to Go's verdicts (testdata/vectors). It must not
// import the node's parts (chain, registry's state, api): the files it
// serves are the same on every node, so a person can compare their hash.
package web
