package api

import (
	"encoding/json"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/invopop/jsonschema"

	"github.com/cityid/cityid/internal/accesslog"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/wire"
)

// route documents one operation of the API. The table below is the one
// place that lists them; New serves exactly these (a test holds both to
// each other) and /v1/openapi.json is built from it.
type route struct {
	Method, Path string // Path in OpenAPI's form, {param}
	Summary      string
	Description  string
	Params       []param
	Body         any            // request body type, nil for none
	BodyMedia    string         // a request body of this media type, not JSON (bytes)
	Answers      map[int]any    // status → answer type (nil: no JSON body)
	Media        map[int]string // status → media type other than JSON ("a, b" for several)
	// Also are media types an answer may come in besides its documented
	// one ("a, b"): a page for a browser in place of a problem.
	Also map[int]string
	Tag  string
}

type param struct {
	Name, In, Description, Type string
	Required, Repeat            bool
	// Limits, in the schema, so that validators and generators see what
	// the description says: minimum and maximum (nil: none), an enum, a
	// pattern.
	Min, Max *int
	Enum     []string
	Pattern  string
	// AllowEmpty documents ?name with no value (?pretty).
	AllowEmpty bool
}

func bound(n int) *int { return &n }

// Patterns of the parameters that are identifiers, keys and hashes.
const (
	// idPattern: a node code (country, city number, check character, up to
	// two more numbers) and an optional local id, any case.
	idPattern   = `^[0-9]{9}[0-9A-Za-z](\.[0-9]+){0,2}(/[A-Za-z0-9_-]+)?$`
	keyPattern  = `^[0-9a-f]{64}$`
	hashPattern = `^(0[xX])?[0-9A-Fa-f]{64}$`
)

var (
	pID     = param{Name: "id", In: "path", Required: true, Type: "string", Pattern: idPattern, Description: "an identifier in canonical text, any case: a node code (1561301001, 1561301001.85, 1561301001.85.3) or <node code>/<local id>; its '/' is part of the path"}
	pLimit  = param{Name: "limit", In: "query", Type: "integer", Min: bound(1), Max: bound(maxListLimit), Description: "entries per page, 1 to 1000 (default 100)"}
	pAfter  = param{Name: "after", In: "query", Type: "string", Description: "cursor: the next of the previous page"}
	pHeight = param{Name: "h", In: "path", Required: true, Type: "string", Pattern: `^([0-9]+|latest)$`, Description: "a block height, or latest"}
	pPretty = param{Name: "pretty", In: "query", Type: "boolean", AllowEmpty: true, Description: "indent the JSON answer (present with no value, true or 1; false or 0 for compact); answers are compact by default; any other value is a 400"}
	pSize   = param{Name: "size", In: "query", Type: "integer", Min: bound(64), Max: bound(2048), Description: "pixels, 64 to 2048 (default 256)"}
	pLevel  = param{Name: "level", In: "query", Type: "string", Enum: []string{"L", "M", "Q", "H"}, Description: "error correction: L, M, Q or H (default M)"}
	pN      = param{Name: "n", In: "path", Required: true, Type: "integer", Min: bound(1), Description: "the application's number"}
)

// answersJSON reports whether any of a route's answers is JSON: those
// take ?pretty.
func answersJSON(rt route) bool {
	if !jsonRoute(rt.Path) {
		return false
	}
	for status, v := range rt.Answers {
		if v != nil && rt.Media[status] == "" {
			return true
		}
	}
	return false
}

// problems are the error answers most routes share.
func problems(statuses ...int) map[int]any {
	m := map[int]any{}
	for _, s := range statuses {
		m[s] = wire.Problem{}
	}
	return m
}

func answers(ok any, errs ...int) map[int]any {
	m := problems(errs...)
	m[http.StatusOK] = ok
	return m
}

// dataDescription is what every data route shares.
const dataDescription = "Data sharing (docs/data-sharing.md): requests are signed with HTTP Message Signatures (RFC 9421), Ed25519, covering (\"@method\" \"@target-uri\" \"@authority\") with created, nonce, keyid (the hex public key), alg=\"ed25519\" and tag=\"cityid\"; a 401 says what to sign in Accept-Signature. Every request for a dataset is appended to its access log before it is answered, and the answer names the entry in CityID-Access-Log."

// routes is the API.
func routes() []route {
	return []route{
		{Method: "POST", Path: "/v1/txs", Tag: "transactions", Summary: "Submit a signed transaction and wait for its commit",
			Description: "The body is a signed envelope {body, pub_key, signature} in any JSON encoding (spaces, key order, escapes, a trailing newline); the node submits its canonical encoding (Envelope.Encode: no spaces, keys in that order), the only one the ledger holds, and answers with that transaction's hash. The answer comes once the transaction's block is committed: its hash, height and result; or the refusal, with the registry's stable code, from CheckTx (no height) or from the block (with height). " + limitedWrites,
			Body:        registry.Envelope{}, Answers: answers(wire.TxAnswer{}, 400, 401, 403, 404, 409, 413, 429, 500, 504)},
		{Method: "GET", Path: "/v1/ids/{id}", Tag: "identifiers", Summary: "Resolve an identifier",
			Description: "The record from the last committed state, or as it was at ?height=H. With ?proof=true, an ICS23 proof of the stored bytes against the app hash of that height, which the header of the next block signs (without ?height, the proof is read at the height whose block last changed the state, so that header exists or comes at once); a height older than the node keeps is 410 height_pruned; for an unknown identifier the 404 carries the proof of its absence. " + limitedReads + " with ?proof=true or ?height=H.",
			Params:      []param{pID, {Name: "height", In: "query", Type: "integer", Description: "the state version (block height) to read"}, {Name: "proof", In: "query", Type: "boolean", Description: "include an ICS23 proof"}},
			Answers:     answers(wire.RecordAnswer{}, 400, 404, 410, 429, 503)},
		{Method: "GET", Path: "/v1/ids/{id}/history", Tag: "identifiers", Summary: "Every version of a record, oldest first", Description: limitedReads + ".",
			Params: []param{pID, pLimit, {Name: "after", In: "query", Type: "integer", Description: "the last version of the previous page"}}, Answers: answers(wire.History{}, 400, 404, 429)},
		{Method: "GET", Path: "/v1/ids/{id}/children", Tag: "identifiers", Summary: "A node's sectors or units, then its objects", Description: limitedReads + ".",
			Params: []param{pID, pLimit, pAfter}, Answers: answers(wire.Children{}, 400, 404, 429)},
		{Method: "GET", Path: "/v1/ids/{id}/qr.png", Tag: "identifiers", Summary: "The QR code of the identifier's resolver URL, PNG", Description: limitedReads + " above the default size.",
			Params:  []param{pID, pSize, pLevel},
			Answers: map[int]any{200: nil, 400: wire.Problem{}, 404: wire.Problem{}, 429: wire.Problem{}}, Media: map[int]string{200: "image/png"}},
		{Method: "GET", Path: "/v1/ids/{id}/qr.svg", Tag: "identifiers", Summary: "The QR code of the identifier's resolver URL, SVG", Description: limitedReads + " above the default size.",
			Params:  []param{pID, pSize, pLevel},
			Answers: map[int]any{200: nil, 400: wire.Problem{}, 404: wire.Problem{}, 429: wire.Problem{}}, Media: map[int]string{200: "image/svg+xml"}},
		{Method: "GET", Path: "/v1/cities", Tag: "directory", Summary: "The directory of cities", Params: []param{pLimit, pAfter}, Answers: answers(wire.CityList{}, 400)},
		{Method: "GET", Path: "/v1/applications", Tag: "directory", Summary: "Applications for city codes, oldest first",
			Description: limitedReads + " with ?status=, which may read every application to fill a page.",
			Params:      []param{pLimit, {Name: "after", In: "query", Type: "integer", Description: "the last application of the previous page"}, {Name: "status", In: "query", Type: "string", Description: "pending, approved, rejected or expired (pending past its last height)"}},
			Answers:     answers(wire.ApplicationList{}, 400, 429)},
		{Method: "GET", Path: "/v1/applications/{n}", Tag: "directory", Summary: "One application and its votes",
			Params: []param{pN}, Answers: answers(wire.ApplicationAnswer{}, 400, 404)},
		{Method: "GET", Path: "/v1/grants", Tag: "sharing", Summary: "Data-sharing grants of a dataset, or held by a node",
			Params:  []param{{Name: "dataset", In: "query", Type: "string", Description: "a dataset identifier"}, {Name: "grantee", In: "query", Type: "string", Description: "a node code"}, pLimit, pAfter},
			Answers: answers(wire.GrantList{}, 400)},
		{Method: "GET", Path: "/v1/anchors/{id}", Tag: "sharing", Summary: "A dataset's anchored access-log heads (anchor_log), ascending by count, and the latest",
			Description: "Each anchor says that after `entries` entries the owner's access log ended with the entry whose SHA-256 is `head`. With ?proof=true, an ICS23 proof of the latest anchor (the bytes under anchorhead/<dataset>), or of its absence, against the app hash of `proof.height`; ?height=H reads an older state. 404 for an identifier not registered. " + limitedReads + " with ?proof=true or ?height=H.",
			Params: []param{pID, pLimit, {Name: "after", In: "query", Type: "integer", Description: "a log length: the anchors of longer logs (the next of the previous page)"},
				{Name: "proof", In: "query", Type: "boolean", Description: "include an ICS23 proof of the latest anchor"}, {Name: "height", In: "query", Type: "integer", Description: "the state version (block height) to read"}},
			Answers: answers(wire.AnchorList{}, 400, 404, 410, 429, 503)},
		{Method: "GET", Path: "/v1/data/{id}", Tag: "sharing", Summary: "A dataset's bytes, from the node that keeps them",
			Description: dataDescription + " Anyone may read a public dataset; any other only a request signed by an admin key of the dataset (or of a node above it) or of a node holding a live grant for it. Single ranges (Range, If-Range), a strong ETag \"sha256:<hex>\", Repr-Digest, and Content-Digest on a whole answer (RFC 9530). A whole answer whose bytes on disk no longer hash to the ledger's SHA-256 is cut short. 404 not_a_dataset for an identifier without a DATA value, data_not_here when this node does not keep its bytes (the detail names its city's node).",
			Params:      []param{pID, {Name: "index", In: "query", Type: "integer", Description: "the DATA value's index (default: the first)"}},
			Answers:     map[int]any{200: nil, 206: nil, 304: nil, 400: wire.Problem{}, 401: wire.Problem{}, 403: wire.Problem{}, 404: wire.Problem{}, 412: nil, 416: nil, 429: wire.Problem{}, 503: wire.Problem{}},
			// The bytes come in the DATA value's media type.
			Media: map[int]string{200: "*/*", 206: "*/*"}},
		{Method: "PUT", Path: "/v1/data/{id}", Tag: "sharing", Summary: "Upload a dataset's bytes (its admins), resumable",
			Description: dataDescription + " Without Content-Range the body is the whole; with `bytes FIRST-LAST/SIZE` a chunk that must start where the bytes received end (else 409 upload_offset, with Range); `bytes */SIZE` and no body asks where that is. 308 with `Range: bytes=0-N` while incomplete, 201 when the whole hashes to the DATA value's SHA-256 (409 digest_mismatch when not: nothing is kept), 200 when the bytes were already kept.",
			Params:      []param{pID, {Name: "index", In: "query", Type: "integer", Description: "the DATA value's index (default: the first)"}},
			BodyMedia:   "application/octet-stream",
			Answers: map[int]any{200: wire.UploadAnswer{}, 201: wire.UploadAnswer{}, 308: wire.UploadAnswer{}, 400: wire.Problem{}, 401: wire.Problem{}, 403: wire.Problem{},
				404: wire.Problem{}, 409: wire.Problem{}, 413: wire.Problem{}, 429: wire.Problem{}, 503: wire.Problem{}}},
		{Method: "GET", Path: "/v1/access-log/{id}", Tag: "sharing", Summary: "A page of a dataset's access log, with its head (its admins)",
			Description: dataDescription + " Each entry is one request for the dataset: who, the grant relied on, the height decided at, bytes, status and result, chained by SHA-256 (prev, hash). The reader checks the chain and the ledger's anchors (GET /v1/anchors/{id}).",
			Params:      []param{pID, pLimit, {Name: "after", In: "query", Type: "integer", Description: "the last entry of the previous page"}},
			Answers:     answers(accesslog.Page{}, 400, 401, 403, 404, 429, 503)},
		{Method: "GET", Path: "/v1/validators", Tag: "governance", Summary: "The validator set", Answers: answers(wire.ValidatorList{}, 503)},
		{Method: "GET", Path: "/v1/proposals", Tag: "governance", Summary: "Governance proposals waiting for approvals", Answers: answers(wire.ProposalList{}, 503)},
		{Method: "GET", Path: "/v1/upgrade", Tag: "governance", Summary: "The application version, the pending upgrade plan and the upgrades that ran",
			Description: "An upgrade is scheduled by the registry authority (set_upgrade, M of N: a name and a height; docs/upgrade.md). At its height a node whose binary has no handler for the name stops before the block; the new binary runs the migration once, records it under done, and reports the new app_version (also in block headers, version.app). plan is absent when no upgrade is pending.",
			Answers:     answers(wire.UpgradeStatus{}, 503)},
		{Method: "GET", Path: "/v1/accounts/{key}", Tag: "transactions", Summary: "An account's nonce",
			Params: []param{{Name: "key", In: "path", Required: true, Type: "string", Pattern: keyPattern, Description: "an Ed25519 public key, 64 lowercase hex digits"}}, Answers: answers(wire.Account{}, 400)},
		{Method: "GET", Path: "/v1/blocks/{h}", Tag: "explorer", Summary: "A block with its transactions, decoded, and their results", Description: limitedReads + ".", Params: []param{pHeight}, Answers: answers(wire.BlockInfo{}, 400, 404, 410, 429)},
		{Method: "GET", Path: "/v1/txs/{hash}", Tag: "explorer", Summary: "A committed transaction, decoded, with its result",
			Params: []param{{Name: "hash", In: "path", Required: true, Type: "string", Pattern: hashPattern, Description: "the transaction hash, 64 hex digits"}}, Answers: answers(wire.TxInfo{}, 400, 404)},
		{Method: "GET", Path: "/v1/light/{h}", Tag: "explorer", Summary: "The signed header and validator set of a height, for light clients",
			Description: "In CometBFT's JSON encoding of a LightBlock: what a light client needs to verify the header, and with it the app hash of the height before.",
			Params:      []param{pHeight}, Answers: map[int]any{200: wire.LightBlock{}, 400: wire.Problem{}, 404: wire.Problem{}, 410: wire.Problem{}}},
		{Method: "GET", Path: "/v1/status", Tag: "node", Summary: "Chain, height, app hash, network parameters and authority", Answers: answers(wire.StatusAnswer{}, 500)},
		{Method: "GET", Path: "/v1/trust", Tag: "node", Summary: "A trust root: a header (chain, height, hash, time) a browser or light client may start trusting, and the portal's address that pins it",
			Description: limitedReads + ".",
			Params:      []param{{Name: "height", In: "query", Type: "integer", Description: "the header's height (default: the latest)"}},
			Answers:     answers(wire.TrustRoot{}, 400, 404, 410, 429)},
		{Method: "GET", Path: "/v1/trust/{format}", Tag: "node", Summary: "The trust root's QR code (the portal's address that pins it), for the registry authority to print",
			Description: limitedReads + ".",
			Params:      []param{{Name: "format", In: "path", Required: true, Type: "string", Description: "qr.svg or qr.png"}, {Name: "height", In: "query", Type: "integer", Description: "the header's height (default: the latest)"}},
			Answers:     map[int]any{200: nil, 400: wire.Problem{}, 404: wire.Problem{}, 429: wire.Problem{}}, Media: map[int]string{200: "image/svg+xml"}},
		{Method: "GET", Path: "/v1/openapi.json", Tag: "node", Summary: "This document", Answers: map[int]any{200: OpenAPIDocument{}}},
		{Method: "GET", Path: "/api/handles/{prefix}/{suffix}", Tag: "handle", Summary: "Resolve as the Handle.net REST API does",
			Description: "responseCode 1 success (200), 2 error (500), 100 handle not found (404: also a suffix that is no CityID local id, such as one ending in '/'), 102 invalid handle (400: no prefix or suffix), 200 values not found (200, after type or index filters), 202 invalid value (400: an ?index that is not a number), 301 not responsible (400: a prefix that is not a CityID node code, or a city this network never issued), as the HANDLE.NET manual's REST API section pairs them. An identifier's handle is <node code>/<local id>; a node's is 0.NA/<node code>. ALIAS values are HS_ALIAS.",
			Params: []param{{Name: "prefix", In: "path", Required: true, Type: "string", Description: "a node code, or 0.NA"}, {Name: "suffix", In: "path", Required: true, Type: "string", Description: "a local id, or (after 0.NA) a node code"},
				{Name: "type", In: "query", Type: "string", Repeat: true, Description: "only values of this type (repeatable; a type ending in . takes its sub-types)"},
				{Name: "index", In: "query", Type: "integer", Repeat: true, Description: "only the value of this index (repeatable)"}},
			Answers: map[int]any{200: wire.HandleAnswer{}, 400: wire.HandleAnswer{}, 404: wire.HandleAnswer{}, 500: wire.HandleAnswer{}},
			// ?pretty is the API's, and so is its refusal.
			Also: map[int]string{400: "application/problem+json"}},
		{Method: "PUT", Path: "/api/handles/{prefix}/{suffix}", Tag: "handle", Summary: "Not accepted: handles are written by signed ledger transactions",
			Description: "Always 403 with responseCode 401 (insufficient permissions): a CityID identifier changes only by a transaction signed by its admins (POST /v1/txs).",
			Params:      []param{{Name: "prefix", In: "path", Required: true, Type: "string", Description: "a node code, or 0.NA"}, {Name: "suffix", In: "path", Required: true, Type: "string", Description: "a local id"}},
			Answers:     map[int]any{403: wire.HandleAnswer{}}},
		{Method: "DELETE", Path: "/api/handles/{prefix}/{suffix}", Tag: "handle", Summary: "Not accepted: handles are written by signed ledger transactions",
			Description: "Always 403 with responseCode 401 (insufficient permissions): a CityID identifier changes only by a transaction signed by its admins (POST /v1/txs).",
			Params:      []param{{Name: "prefix", In: "path", Required: true, Type: "string", Description: "a node code, or 0.NA"}, {Name: "suffix", In: "path", Required: true, Type: "string", Description: "a local id"}},
			Answers:     map[int]any{403: wire.HandleAnswer{}}},
		{Method: "POST", Path: "/api/handles/{prefix}/{suffix}", Tag: "handle", Summary: "Not accepted: handles are written by signed ledger transactions",
			Description: "Always 403 with responseCode 401 (insufficient permissions): a CityID identifier changes only by a transaction signed by its admins (POST /v1/txs).",
			Params:      []param{{Name: "prefix", In: "path", Required: true, Type: "string", Description: "a node code, or 0.NA"}, {Name: "suffix", In: "path", Required: true, Type: "string", Description: "a local id"}},
			Answers:     map[int]any{403: wire.HandleAnswer{}}},
		{Method: "GET", Path: "/r/{id}", Tag: "resolver", Summary: "The resolver URL of a QR code",
			Description: "A browser is sent (302) to the record's first URL value, or (303) to its page when it has none; a record with no URL but an ALIAS sends it on to what the alias names, up to 5 hops (508 alias_loop when they loop); a client that accepts application/json gets the record. " + limitedReads + " with ?proof=true or ?height=H.",
			Params:      []param{pID}, Answers: map[int]any{200: wire.RecordAnswer{}, 302: nil, 303: nil, 400: wire.Problem{}, 404: wire.Problem{}, 429: wire.Problem{}, 508: wire.Problem{}},
			Also: map[int]string{400: "text/html", 404: "text/html", 429: "text/html", 508: "text/html"}},
		{Method: "GET", Path: "/", Tag: "portal", Summary: "The portal: search and the network's status, for people",
			Answers: map[int]any{200: nil}, Media: map[int]string{200: "text/html"}},
		{Method: "GET", Path: "/search", Tag: "portal", Summary: "An identifier in any form, sent (303) to its page; one that does not parse is a page saying where",
			Params:  []param{{Name: "q", In: "query", Type: "string", Description: "an identifier: canonical, URN, DNS name, Handle, ISO/IEC 15459 or resolver URL"}},
			Answers: map[int]any{303: nil, 400: nil}, Media: map[int]string{400: "text/html"}},
		{Method: "GET", Path: "/ids/{id}", Tag: "portal", Summary: "A record's page, for people; an identifier not registered or not parsing is a page too",
			Description: limitedReads + " (a page for a browser).",
			Params:      []param{pID}, Answers: map[int]any{200: nil, 400: nil, 404: nil, 429: wire.Problem{}}, Media: map[int]string{200: "text/html", 400: "text/html", 404: "text/html"}},
		{Method: "GET", Path: "/dir", Tag: "portal", Summary: "The directory: countries, with their cities' counts",
			Description: limitedReads + " (a page for a browser).",
			Answers:     map[int]any{200: nil, 429: wire.Problem{}}, Media: map[int]string{200: "text/html"}},
		{Method: "GET", Path: "/dir/{path}", Tag: "portal", Summary: "A country's cities, or a city's, sector's or unit's children, in pages",
			Description: limitedReads + " (a page for a browser).",
			Params:      []param{{Name: "path", In: "path", Required: true, Type: "string", Description: "an ISO 3166-1 numeric country, or a node code"}, pAfter},
			Answers:     map[int]any{200: nil, 400: nil, 404: nil, 429: wire.Problem{}}, Media: map[int]string{200: "text/html", 400: "text/html", 404: "text/html"}},
		{Method: "GET", Path: "/keys", Tag: "portal", Summary: "The keys kept in this browser: made, imported (a key file or a backup) and backed up there, never sent",
			Answers: map[int]any{200: nil}, Media: map[int]string{200: "text/html"}},
		{Method: "GET", Path: "/apply", Tag: "portal", Summary: "A city's application for its code, signed in the browser, and its progress",
			Answers: map[int]any{200: nil}, Media: map[int]string{200: "text/html"}},
		{Method: "GET", Path: "/authority", Tag: "portal", Summary: "The registry authority's desk: pending applications and proposals with their votes, approved or rejected in the browser",
			Answers: map[int]any{200: nil}, Media: map[int]string{200: "text/html"}},
		{Method: "GET", Path: "/desk", Tag: "portal", Summary: "A city's desk: sectors, units and identifiers registered, values edited, records deactivated, batch files uploaded, signed in the browser",
			Answers: map[int]any{200: nil}, Media: map[int]string{200: "text/html"}},
		{Method: "GET", Path: "/labels", Tag: "portal", Summary: "A printable sheet of labels (A4, twelve a page): each identifier's QR code, its text, and its city's and unit's names",
			Description: limitedReads + " (a page for a browser).",
			Params: []param{{Name: "id", In: "query", Type: "string", Repeat: true, Description: "an identifier, or several separated by commas (repeatable)"},
				{Name: "under", In: "query", Type: "string", Description: "a node whose children fill the sheet"}},
			Answers: map[int]any{200: nil, 400: nil, 404: nil, 429: wire.Problem{}}, Media: map[int]string{200: "text/html", 400: "text/html", 404: "text/html"}},
		{Method: "GET", Path: "/trust", Tag: "portal", Summary: "The trust root: this node's latest header with the QR code that pins it; with chain, height and hash (what the QR code holds), the page that pins that root in the browser after checking it",
			Description: limitedReads + " (a page for a browser).",
			Params:      []param{{Name: "chain", In: "query", Type: "string", Description: "a chain ID"}, {Name: "height", In: "query", Type: "integer", Description: "the trusted header's height"}, {Name: "hash", In: "query", Type: "string", Description: "the trusted header's hash, 64 hex digits"}},
			Answers:     map[int]any{200: nil, 400: nil, 429: wire.Problem{}}, Media: map[int]string{200: "text/html", 400: "text/html"}},
		{Method: "GET", Path: "/verify", Tag: "portal", Summary: "A saved answer (a record with its proof, or a proof of absence) checked in the browser against the validators it trusts",
			Answers: map[int]any{200: nil}, Media: map[int]string{200: "text/html"}},
		{Method: "GET", Path: "/explorer", Tag: "portal", Summary: "The explorer: the latest blocks, the applications with their votes, the open proposals and the validators",
			Description: limitedReads + " (a page for a browser).",
			Params:      []param{{Name: "status", In: "query", Type: "string", Description: "only applications of this status: pending, approved, rejected or expired"}, {Name: "after", In: "query", Type: "integer", Description: "applications after this number"}},
			Answers:     map[int]any{200: nil, 400: nil, 429: wire.Problem{}}, Media: map[int]string{200: "text/html", 400: "text/html"}},
		{Method: "GET", Path: "/blocks/{h}", Tag: "portal", Summary: "A block's page: its header's facts and its transactions with their results",
			Description: limitedReads + " (a page for a browser).",
			Params:      []param{{Name: "h", In: "path", Required: true, Type: "integer", Description: "a height"}},
			Answers:     map[int]any{200: nil, 400: nil, 404: nil, 410: nil, 429: wire.Problem{}}, Media: map[int]string{200: "text/html", 400: "text/html", 404: "text/html", 410: "text/html"}},
		{Method: "GET", Path: "/txs/{hash}", Tag: "portal", Summary: "A transaction's page: decoded, with its result",
			Params:  []param{{Name: "hash", In: "path", Required: true, Type: "string", Pattern: hashPattern, Description: "the transaction's SHA-256, 64 hex digits"}},
			Answers: map[int]any{200: nil, 400: nil, 404: nil}, Media: map[int]string{200: "text/html", 400: "text/html", 404: "text/html"}},
		{Method: "GET", Path: "/applications/{n}", Tag: "portal", Summary: "An application's page: its content, status, votes and the city code it was issued",
			Params:  []param{pN},
			Answers: map[int]any{200: nil, 400: nil, 404: nil}, Media: map[int]string{200: "text/html", 400: "text/html", 404: "text/html"}},
		{Method: "GET", Path: "/static/{file}", Tag: "portal", Summary: "The portal's static files (style sheet, scripts, the browser's verifier), the same on every node",
			Params:  []param{{Name: "file", In: "path", Required: true, Type: "string", Description: "a file name: portal.css, badge.js, verify.js"}},
			Answers: map[int]any{200: nil, 404: nil}, Media: map[int]string{200: "text/css, text/javascript, image/svg+xml", 404: "text/html"}},
		{Method: "GET", Path: "/metrics", Tag: "node", Summary: "Prometheus metrics (404 on a server built without them)",
			Answers: map[int]any{200: nil, 404: wire.Problem{}}, Media: map[int]string{200: "text/plain"}, Also: map[int]string{404: "text/html"}},
		{Method: "GET", Path: "/healthz", Tag: "node", Summary: "The process is alive", Answers: answers(wire.Health{})},
		{Method: "GET", Path: "/readyz", Tag: "node", Summary: "The node has committed state and is not catching up", Answers: answers(wire.Health{}, 503)},
	}
}

// What the rate-limited operations say of their 429 (see Limits).
const (
	limitedWrites = "Writes are rate-limited per client ([http.limits] of the node): past the limit the answer is 429 with code rate_limited and a Retry-After header, in seconds."
	limitedReads  = "A costly read, rate-limited per client ([http.limits] of the node): past the limit the answer is 429 with code rate_limited and a Retry-After header, in seconds"
)

// OpenAPIDocument is an OpenAPI 3.1 document: the answer of
// GET /v1/openapi.json, which only this package builds.
type OpenAPIDocument struct {
	OpenAPI    string           `json:"openapi"`
	Info       map[string]any   `json:"info"`
	Servers    []map[string]any `json:"servers"`
	Security   []map[string]any `json:"security"`
	Paths      map[string]any   `json:"paths"`
	Components map[string]any   `json:"components"`
}

// openAPI builds the document once.
var openAPI = sync.OnceValues(buildOpenAPI)

func buildOpenAPI() ([]byte, error) {
	r := &jsonschema.Reflector{
		DoNotReference: false,
		Anonymous:      true,
		Mapper: func(t reflect.Type) *jsonschema.Schema {
			if t == reflect.TypeOf(json.RawMessage{}) {
				return &jsonschema.Schema{Description: "any JSON value"}
			}
			return nil
		},
	}
	schemas := map[string]any{}
	ref := func(v any) map[string]any {
		s := r.Reflect(v)
		for name, def := range s.Definitions {
			schemas[name] = rewriteRefs(def)
		}
		name := reflect.TypeOf(v).Name()
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	paths := map[string]map[string]any{}
	for _, rt := range routes() {
		op := map[string]any{"summary": rt.Summary, "tags": []string{rt.Tag}, "operationId": operationID(rt)}
		if rt.Description != "" {
			op["description"] = rt.Description
		}
		var params []any
		ps := rt.Params
		if answersJSON(rt) {
			ps = append(slices.Clip(ps), pPretty)
		}
		for _, p := range ps {
			sch := map[string]any{"type": p.Type}
			if p.Min != nil {
				sch["minimum"] = *p.Min
			}
			if p.Max != nil {
				sch["maximum"] = *p.Max
			}
			if p.Enum != nil {
				sch["enum"] = p.Enum
			}
			if p.Pattern != "" {
				sch["pattern"] = p.Pattern
			}
			if p.Repeat {
				sch = map[string]any{"type": "array", "items": sch}
			}
			doc := map[string]any{"name": p.Name, "in": p.In, "required": p.Required, "description": p.Description, "schema": sch}
			if p.AllowEmpty {
				doc["allowEmptyValue"] = true
			}
			params = append(params, doc)
		}
		if params != nil {
			op["parameters"] = params
		}
		if rt.Body != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": ref(rt.Body)}}}
		}
		if rt.BodyMedia != "" {
			op["requestBody"] = map[string]any{"required": false, "content": map[string]any{rt.BodyMedia: map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}}}
		}
		answers := maps.Clone(rt.Answers)
		also := maps.Clone(rt.Also)
		if also == nil {
			also = map[int]string{}
		}
		if _, ok := answers[http.StatusBadRequest]; !ok && answersJSON(rt) {
			// ?pretty with a value that is no boolean is a 400 on every
			// JSON route.
			answers[http.StatusBadRequest] = wire.Problem{}
		}
		if _, ok := answers[http.StatusTooManyRequests]; ok && also[http.StatusTooManyRequests] == "" {
			// The rate limit answers a browser with a page.
			also[http.StatusTooManyRequests] = "text/html"
		}
		// Any route may fail inside (500) or find the node without
		// committed state yet (503): a problem, or a page for a browser.
		for _, st := range []int{http.StatusInternalServerError, http.StatusServiceUnavailable} {
			if _, ok := answers[st]; !ok {
				answers[st] = wire.Problem{}
				also[st] = "text/html"
			}
		}
		responses := map[string]any{}
		for status, v := range answers {
			resp := map[string]any{"description": http.StatusText(status)}
			content := map[string]any{}
			switch {
			case rt.Media[status] != "":
				for _, m := range strings.Split(rt.Media[status], ", ") {
					content[m] = map[string]any{}
				}
			case v == nil:
			case reflect.TypeOf(v) == reflect.TypeOf(wire.Problem{}):
				content["application/problem+json"] = map[string]any{"schema": ref(v)}
			default:
				content["application/json"] = map[string]any{"schema": ref(v)}
			}
			if also[status] != "" {
				for _, m := range strings.Split(also[status], ", ") {
					content[m] = map[string]any{}
				}
			}
			if len(content) > 0 {
				resp["content"] = content
			}
			if status == http.StatusTooManyRequests {
				resp["headers"] = map[string]any{"Retry-After": map[string]any{
					"description": "seconds until the client's bucket holds a token again",
					"schema":      map[string]any{"type": "integer", "minimum": 1},
				}}
			}
			responses[itoa(status)] = resp
		}
		op["responses"] = responses
		if paths[rt.Path] == nil {
			paths[rt.Path] = map[string]any{}
		}
		paths[rt.Path][strings.ToLower(rt.Method)] = op
	}
	doc := map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "CityID node API",
			"version":     wire.Version,
			"description": "Resolve, verify and register CityID identifiers on any node of the network. Reads come from the node's last committed state; errors are application/problem+json (RFC 9457) with the registry's stable code in `code`. Answers are compact JSON; ?pretty indents any of them. Writes and costly reads (proofs, old heights, history, children, blocks, large QR codes) are rate-limited per client: 429 rate_limited, with Retry-After.",
		},
		// Every node serves the same paths; the default one is where a
		// client started with no flags looks.
		"servers": []map[string]any{{"url": wire.DefaultNodeURL, "description": "a node started with no flags (cityid start); every node of the network answers the same paths"}},
		// Reads are public and writes are signed in their bodies (POST
		// /v1/txs) or with HTTP Message Signatures (the data routes), which
		// OpenAPI has no scheme for: no security requirement at the HTTP
		// level.
		"security":   []map[string]any{},
		"paths":      paths,
		"components": map[string]any{"schemas": schemas},
	}
	return json.MarshalIndent(doc, "", "  ")
}

// rewriteRefs points the reflector's #/$defs/ references at the
// document's components.
func rewriteRefs(s *jsonschema.Schema) any {
	b, _ := json.Marshal(s)
	b = []byte(strings.ReplaceAll(string(b), `"#/$defs/`, `"#/components/schemas/`))
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

func operationID(rt route) string {
	id := strings.ToLower(rt.Method)
	for _, part := range strings.Split(strings.Trim(rt.Path, "/"), "/") {
		part = strings.Trim(part, "{}")
		part = strings.NewReplacer(".", "_", "-", "_").Replace(part)
		if part != "" {
			id += "_" + part
		}
	}
	return id
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func (s *Server) getOpenAPI(w http.ResponseWriter, r *http.Request) {
	b, err := openAPI()
	if err != nil {
		writeProblem(w, internalProblem(s.log, r, err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

// Paths lists the documented operations as "METHOD /path", sorted.
func Paths() []string {
	var out []string
	for _, rt := range routes() {
		out = append(out, rt.Method+" "+rt.Path)
	}
	sort.Strings(out)
	return out
}
