package wire_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/wire"
)

// TestErrorTable pins every row: a code's ABCI number is part of the wire
// protocol and its HTTP status part of the API, so neither may change.
// A new code is a new row here too.
func TestErrorTable(t *testing.T) {
	want := []wire.ErrorCode{
		{Code: "malformed", HTTP: 400, ABCI: 1},
		{Code: "too_large", HTTP: 413, ABCI: 2},
		{Code: "bad_signature", HTTP: 401, ABCI: 3},
		{Code: "bad_pub_key", HTTP: 400, ABCI: 4},
		{Code: "nonce_replayed", HTTP: 409, ABCI: 5},
		{Code: "nonce_gap", HTTP: 409, ABCI: 6},
		{Code: "unknown_kind", HTTP: 400, ABCI: 7},
		{Code: "invalid", HTTP: 400, ABCI: 8},
		{Code: "invalid_id", HTTP: 400, ABCI: 9},
		{Code: "unauthorized", HTTP: 403, ABCI: 10},
		{Code: "not_found", HTTP: 404, ABCI: 11},
		{Code: "exists", HTTP: 409, ABCI: 12},
		{Code: "duplicate_city", HTTP: 409, ABCI: 13},
		{Code: "duplicate_locode", HTTP: 409, ABCI: 14},
		{Code: "already_decided", HTTP: 409, ABCI: 15},
		{Code: "already_voted", HTTP: 409, ABCI: 16},
		{Code: "version_mismatch", HTTP: 409, ABCI: 17},
		{Code: "inactive", HTTP: 409, ABCI: 18},
		{Code: "already_active", HTTP: 409, ABCI: 19},
		{Code: "already_inactive", HTTP: 409, ABCI: 20},
		{Code: "bad_value", HTTP: 400, ABCI: 21},
		{Code: "exhausted", HTTP: 409, ABCI: 22},
		{Code: "expired", HTTP: 410, ABCI: 23},
		{Code: "hash_mismatch", HTTP: 409, ABCI: 24},
		{Code: "account_busy", HTTP: 429, ABCI: 25},
		{Code: "internal", HTTP: 500, ABCI: 99},
		{Code: "bad_request", HTTP: 400},
		{Code: "timeout", HTTP: 504},
		{Code: "unavailable", HTTP: 503},
		{Code: "alias_loop", HTTP: 508},
		{Code: "height_too_high", HTTP: 404},
		{Code: "rate_limited", HTTP: 429},
		{Code: "height_pruned", HTTP: 410},
		{Code: "not_a_dataset", HTTP: 404},
		{Code: "signature_required", HTTP: 401},
		{Code: "no_grant", HTTP: 403},
		{Code: "grant_revoked", HTTP: 403},
		{Code: "grant_expired", HTTP: 403},
		{Code: "grant_inactive", HTTP: 403},
		{Code: "data_not_here", HTTP: 404},
		{Code: "digest_mismatch", HTTP: 409},
		{Code: "upload_offset", HTTP: 409},
		{Code: "method_not_allowed", HTTP: 405},
		{Code: "upgrade_too_soon", HTTP: 409, ABCI: 26},
		{Code: "access_log_held", HTTP: 503},
	}
	got := wire.Errors()
	if !slices.Equal(got, want) {
		for i := range max(len(got), len(want)) {
			var g, w wire.ErrorCode
			if i < len(got) {
				g = got[i]
			}
			if i < len(want) {
				w = want[i]
			}
			if g != w {
				t.Errorf("row %d: %+v, want %+v", i, g, w)
			}
		}
	}
	for _, e := range want {
		if s := wire.HTTPStatus(e.Code); s != e.HTTP {
			t.Errorf("HTTPStatus(%q) = %d, want %d", e.Code, s, e.HTTP)
		}
		if e.ABCI == 0 {
			continue
		}
		if n := wire.ABCICode(&registry.Error{Code: e.Code}); n != e.ABCI {
			t.Errorf("ABCICode(%q) = %d, want %d", e.Code, n, e.ABCI)
		}
		if c := wire.CodeOfABCI(e.ABCI); c != e.Code {
			t.Errorf("CodeOfABCI(%d) = %q, want %q", e.ABCI, c, e.Code)
		}
	}
	got[0].Code = "changed"
	if wire.Errors()[0].Code != "malformed" {
		t.Error("a caller changed the table through the slice Errors returned")
	}
}

// TestErrorTableCoversRegistry: every code the registry can refuse a
// transaction with has an ABCI number of its own, and nothing else has one.
func TestErrorTableCoversRegistry(t *testing.T) {
	numbered := map[string]bool{}
	seen := map[uint32]string{}
	codes := map[string]bool{}
	for _, e := range wire.Errors() {
		if codes[e.Code] {
			t.Errorf("code %q has two rows", e.Code)
		}
		codes[e.Code] = true
		if e.ABCI == 0 {
			continue
		}
		numbered[e.Code] = true
		if prev, dup := seen[e.ABCI]; dup {
			t.Errorf("ABCI %d is both %q and %q", e.ABCI, prev, e.Code)
		}
		seen[e.ABCI] = e.Code
	}
	for _, c := range registry.Codes() {
		if !numbered[c] {
			t.Errorf("registry code %q has no ABCI number", c)
		}
		delete(numbered, c)
	}
	for c := range numbered {
		t.Errorf("%q has an ABCI number but is no registry code", c)
	}
}

func TestUnknownCodes(t *testing.T) {
	if s := wire.HTTPStatus("no_such_code"); s != 500 {
		t.Errorf("HTTPStatus of an unknown code = %d, want 500", s)
	}
	if n := wire.ABCICode(&registry.Error{Code: "no_such_code"}); n != 99 {
		t.Errorf("ABCICode of an unknown code = %d, want 99 (internal)", n)
	}
	if n := wire.ABCICode(nil); n != wire.ABCIOK {
		t.Errorf("ABCICode(nil) = %d, want OK", n)
	}
	for _, n := range []uint32{0, 27, 98, 100} {
		if c := wire.CodeOfABCI(n); c != registry.CodeInternal {
			t.Errorf("CodeOfABCI(%d) = %q, want internal", n, c)
		}
	}
}

// docs/transactions.md is where a user reads the codes: every row of the
// table is there with its ABCI number and HTTP status, so the page cannot
// drift from what the node answers.
func TestErrorTableIsDocumented(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "transactions.md"))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, e := range wire.Errors() {
		abci := "—"
		if e.ABCI != wire.ABCIOK {
			abci = strconv.FormatUint(uint64(e.ABCI), 10)
		}
		row := fmt.Sprintf("| `%s` | %s | %d |", e.Code, abci, e.HTTP)
		if !strings.Contains(page, row) {
			t.Errorf("docs/transactions.md has no row %q", row)
		}
	}
}
