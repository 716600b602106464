// Package web owns the portal: the pages every node serves to people at
// / on its HTTP listener (search and network status, the directory, a
// record's page, the explorer, labels, error pages, and the desks where a
// person signs: keys, a city's application, the authority's desk, a
// city's desk with batch upload, the check of a saved answer), rendered
// on the server with html/template
// from templates/ and working without JavaScript, in English and Chinese;
// and the static files under static/, embedded and served as they are,
// with no build step: the style sheet, the record page's verification
// badge (badge.js), the browser's verifier of an answer (verify.js:
// ICS23 proofs, CometBFT light blocks, the light client's rules of trust),
// held to Go's verdicts by the vectors in testdata/vectors, and what the
// desks sign with: keys kept in the browser (keys.js), transactions made
// byte for byte as the CLI makes them (sign.js, messages.js), batch files
// read and their identifiers checked as the CLI reads and checks them
// (batch.js; code.js, the identifier grammar, and codetables.js), driven
// by desk.js; and data
// sharing's side in the browser: RFC 9421 requests (httpsig.js), files
// hashed in slices (sha256.js), datasets uploaded and downloaded, checked
// against the proved DATA value before they are offered (data.js,
// dataset.js), and access logs checked against the ledger's anchors
// (accesslog.js). Keys never leave the browser.
//
// It reads only through Source, which internal/api implements with the
// reads its JSON answers come from, and its handlers are mounted by
// internal/api's route table, the one list of routes. It must not import
// the node's parts (api, store, chain, node): it has no way to the state
// but the API's, and the files it serves are the same on every node, so
// a person can compare their hash. Every value a person wrote is shown as
// text (html/template escapes it; characters that hide how text reads are
// made visible), links are made only of http and https URLs, and every
// page is served under Policy, which runs no inline script and loads
// nothing from another origin.
package web
