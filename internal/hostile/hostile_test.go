package hostile

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cityid/cityid/internal/chain"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/wire"
)

// httpStatus is the status POST /v1/txs answers each refusal with.
var httpStatus = map[string]int{
	registry.CodeMalformed: 400, registry.CodeInvalid: 400, registry.CodeInvalidID: 400,
	registry.CodeBadValue: 400, registry.CodeUnknownKind: 400, registry.CodeBadPubKey: 400,
	registry.CodeTooLarge: 413, registry.CodeBadSignature: 401, registry.CodeUnauthorized: 403,
	registry.CodeNotFound: 404, registry.CodeExpired: 410, registry.CodeAccountBusy: 429,
	registry.CodeExists: 409, registry.CodeDuplicateCity: 409, registry.CodeDuplicateLocode: 409,
	registry.CodeVersionMismatch: 409, registry.CodeNonceReplayed: 409, registry.CodeNonceGap: 409,
	registry.CodeAlreadyDecided: 409, registry.CodeAlreadyVoted: 409, registry.CodeAlreadyActive: 409,
	registry.CodeAlreadyInactive: 409, registry.CodeInactive: 409, registry.CodeHashMismatch: 409,
	registry.CodeUpgradeTooSoon: 409,
}

// rpcMaxTx is the largest transaction sent through CometBFT's RPC as
// well: its requests are 1 MB at most (rpc.max_body_bytes), and the
// transaction goes in them in base64. Larger rows go through the API only.
const rpcMaxTx = 700_000

// TestHostileCatalogue sends every row of the catalogue to one node and
// checks, for each:
//   - the API answers a problem+json with the row's code and its HTTP
//     status, refused before any block (no height);
//   - CometBFT's RPC answers CheckTx's refusal with the same code, as its
//     ABCI number in the cityid codespace;
//   - what refuses it is what the row says: a row refused by its content
//     is refused by the state machine's stateless checks (Prepare) with
//     the same code; a row refused on its nonce or the state passes them;
//   - nothing changed: the world's records, histories, children,
//     applications, grants, proposals, validators, authority and every
//     account read back the same.
//
// At the end the app hash is the one the world was built with, and the
// chain goes on: bob's next transaction, with the nonce no row used, is
// committed.
func TestHostileCatalogue(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	w := newWorld(t)
	rows := catalogue(w)
	checkCoverage(t, w, rows)
	machine := registry.New(w.chainID)
	hash := w.settledAppHash()
	base := w.snapshot()
	bobNext := w.nextNonce(w.bob)
	names := map[string]bool{}
	for _, r := range rows {
		if names[r.name] {
			t.Fatalf("two rows are named %q", r.name)
		}
		names[r.name] = true
		t.Run(r.name, func(t *testing.T) {
			w := w.with(t)
			var tx []byte
			if r.raw != nil {
				tx = r.raw(w)
			} else {
				tx = w.sign(r.by, r.kind, r.msg)
			}
			_, perr := machine.Prepare(tx)
			switch {
			case r.on == onContent && (perr == nil || perr.Code != r.code):
				t.Errorf("the row says its content is refused with %s; the stateless checks say %v", r.code, perr)
			case r.on != onContent && perr != nil:
				t.Errorf("the row says it is refused on its %s; the stateless checks refuse it first: %v", r.on, perr)
			}

			var a answer
			if !r.rpcOnly {
				a = w.post(tx)
				if a.Code != r.code || a.Status != httpStatus[r.code] || !strings.HasPrefix(a.ContentType, "application/problem+json") {
					t.Errorf("POST /v1/txs: %d %s (%s): %s\nwant %d %s: %s", a.Status, a.Code, a.ContentType, a.Detail, httpStatus[r.code], r.code, r.why)
				}
				if r.reason != "" && (a.Reason != r.reason || a.Position < 1) {
					t.Errorf("POST /v1/txs: reason %q, position %d; want %q and a position", a.Reason, a.Position, r.reason)
				}
			}
			if len(tx) <= rpcMaxTx {
				c, err := w.broadcast(tx)
				want := chain.ABCICode(&registry.Error{Code: r.code})
				if err != nil {
					t.Errorf("broadcast_tx_sync: %v\nwant %d (%s)", err, want, r.code)
				} else if c.Code != want || c.Codespace != chain.Codespace {
					t.Errorf("broadcast_tx_sync: code %d %q: %s\nwant %d (%s)", c.Code, c.Codespace, c.Log, want, r.code)
				}
			}
			after := w.snapshot()
			if a.Height > 0 {
				// Refused in a block: that uses its nonce, and only a
				// refusal by the state may get there.
				t.Errorf("refused in block %d: CheckTx let it through (%s)", a.Height, a.Detail)
				if r.on != onState {
					t.Errorf("a transaction refused on its %s reached a block", r.on)
				}
				if r.by != nil {
					path := "/v1/accounts/" + r.by.pub
					var was, is wire.Account
					_ = json.Unmarshal([]byte(base[path]), &was)
					_ = json.Unmarshal([]byte(after[path]), &is)
					if is.Nonce != was.Nonce+1 {
						t.Errorf("%s's nonce went from %d to %d in the block, want %d", r.by.name, was.Nonce, is.Nonce, was.Nonce+1)
					}
					base[path] = after[path]
				}
			}
			for _, d := range diff(base, after) {
				t.Errorf("changed by a refused transaction: %s", d)
			}
			base = after
		})
	}
	if got := w.settledAppHash(); got != hash {
		t.Errorf("app hash %s after the catalogue, %s before: a refused transaction wrote", got, hash)
	}
	w.must(w.bob, registry.KindRegister, registry.Register{ID: unit + "/after-the-catalogue", Values: text("the chain goes on")})
	if n := w.nextNonce(w.bob); n != bobNext+1 {
		t.Errorf("bob's next nonce %d after one more transaction, was %d before the catalogue", n, bobNext)
	}
}

// checkCoverage keeps the catalogue whole: the stranger sends every kind
// there is, and every refusal code but the four the catalogue's comment
// names is some row's.
func checkCoverage(t *testing.T, w *world, rows []row) {
	t.Helper()
	sent, codes := map[string]bool{}, map[string]bool{}
	for _, r := range rows {
		if r.by == w.stranger && r.kind != "" {
			sent[r.kind] = true
		}
		codes[r.code] = true
		if httpStatus[r.code] == 0 {
			t.Errorf("row %q: no HTTP status for %s", r.name, r.code)
		}
	}
	for _, k := range registry.Kinds() {
		if !sent[k] {
			t.Errorf("no row has the stranger send %s", k)
		}
	}
	elsewhere := map[string]bool{ // see the comment above catalogue
		registry.CodeAccountBusy: true, registry.CodeAlreadyVoted: true, registry.CodeExhausted: true, registry.CodeInternal: true,
	}
	for _, c := range registry.Codes() {
		if !codes[c] && !elsewhere[c] {
			t.Errorf("no row is refused with %s", c)
		}
	}
}

// with is the world seen from a subtest.
func (w *world) with(t *testing.T) *world {
	c := *w
	c.t = t
	return &c
}
