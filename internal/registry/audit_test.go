package registry

// The security audit's findings that are about one transaction or a replay
// of one: each is a story a test tells again.

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// txUntil signs a transaction valid until height until.
func (s *signer) txUntil(t testing.TB, until uint64, kind string, msg any) []byte {
	t.Helper()
	body, err := NewBodyUntil(kind, s.nextNonce(t), until, msg)
	if err != nil {
		t.Fatal(err)
	}
	return signBody(t, testChainID, body, s.key)
}

// grantOf makes the world's school a dataset and returns a grant message
// of it to the city's health sector (registered here).
func (w *world) datasetGrant(t testing.TB) M {
	t.Helper()
	h := w.h
	h.mustApply(t, w.unitAdmin.tx(t, KindUpdate, M{"id": w.object, "version": h.record(t, w.object).Version, "values": []M{{"type": "DATA", "dataset": goodDataset()}}}))
	h.mustApply(t, w.cityAdmin.tx(t, KindRegisterSector, M{"id": w.city + ".86"}))
	return M{"dataset": w.object, "grantee": w.city + ".86"}
}

func TestGrantExpiryCannotHaltTheChain(t *testing.T) {
	// The audit's chain halt: an expiry whose negative offset carries year
	// 9999 into year 10000 in UTC, which JSON cannot write. Sent as the
	// signer's second transaction of a block, behind one that applies.
	w := newWorld(t)
	h := w.h
	msg := w.datasetGrant(t)
	ua := w.unitAdmin
	n := ua.nextNonce(t)
	good := ua.txNonce(t, n, KindRegister, M{"id": w.unit + "/before", "values": []M{}})
	msg["expires"] = "9999-12-31T23:59:59-23:59"
	poison := ua.txNonce(t, n+1, KindGrantAccess, msg)
	// Refused before its nonce is checked (the message is invalid in
	// itself), the poison does not use its nonce: the next transaction
	// takes it.
	after := ua.txNonce(t, n+1, KindRegister, M{"id": w.unit + "/after", "values": []M{}})
	rs := h.applyBlock(t, good, poison, after)
	if rs[0].Err != nil || rs[2].Err != nil {
		t.Fatalf("the transactions around the poison: %v, %v", rs[0].Err, rs[2].Err)
	}
	if rs[1].Err == nil || rs[1].Err.Code != CodeInvalid || !strings.Contains(rs[1].Err.Msg, "year 10000") {
		t.Fatalf("poison: %v, want invalid naming year 10000", rs[1].Err)
	}
	// Expiries within the years but past the network's term, or at the
	// very end of year 9999, are refused as content too.
	msg["expires"] = "9999-12-31T23:59:59Z"
	h.expectRejected(t, ua.tx(t, KindGrantAccess, msg), CodeInvalid, "more than 3653 days after the block time")
	msg["expires"] = blockTime(h.height+1).AddDate(10, 0, 2).Format(time.RFC3339)
	h.expectRejected(t, ua.tx(t, KindGrantAccess, msg), CodeInvalid, "renew a grant rather than make it longer")
	msg["expires"] = blockTime(h.height+1).AddDate(9, 0, 0).Format(time.RFC3339)
	h.mustApply(t, ua.tx(t, KindGrantAccess, msg))
}

func TestValidUntilHeight(t *testing.T) {
	w := newWorld(t)
	h := w.h
	ua := w.unitAdmin
	next := uint64(h.height + 1)
	h.expectRejected(t, ua.txUntil(t, next-1, KindRegister, M{"id": w.unit + "/late", "values": []M{}}), CodeExpired,
		"valid until height "+itoa(next-1), "this is height "+itoa(next))
	if o := h.mustApply(t, ua.txUntil(t, next+1, KindRegister, M{"id": w.unit + "/late", "values": []M{}})); o.ID != w.unit+"/late" {
		t.Errorf("outcome %+v", o)
	}
	if o := h.mustApply(t, ua.txUntil(t, uint64(h.height+1), KindRegister, M{"id": w.unit + "/last", "values": []M{}})); o.ID != w.unit+"/last" {
		t.Errorf("valid until this very height: %+v", o)
	}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

func TestRefusedApprovalCannotBeReplayed(t *testing.T) {
	// The authority approves application 1 before it exists. Before the
	// fix the refusal kept its nonce, and once a squatter filed
	// application 1 anyone could send the same bytes again to issue the
	// squatter's city.
	h := newHarness(t, 1, 1)
	member := h.members[0]
	early := member.tx(t, KindApproveApplication, M{"application": 1, "hash": strings.Repeat("0", 64)})
	h.expectRejected(t, early, CodeNotFound, "application 1 does not exist")
	squatter := h.signer("squatter")
	h.mustApply(t, squatter.tx(t, KindApplyCity, M{"country": "156", "city_number": "130100", "name": "石家庄市"}))
	// The very bytes: their nonce is used.
	h.expectRejected(t, early, CodeNonceReplayed, "nonce 1 is already used")
	// Signed afresh for the number alone, the vote names another
	// application's content: it cannot count for the squatter's.
	h.expectRejected(t, member.tx(t, KindApproveApplication, M{"application": 1, "hash": strings.Repeat("0", 64)}), CodeHashMismatch, "signed for another application")
	if app := h.application(t, 1); app.Status != AppPending || len(app.Approvals) != 0 {
		t.Errorf("squatter's application %+v", app)
	}
}

func TestQueuedTransferCannotBeReplayed(t *testing.T) {
	// A transfer queued behind a missing nonce fails on the gap; before
	// the fix, its bytes applied later, once the gap was filled, and
	// handed the object away. Signed valid until a height, it expires.
	w := newWorld(t)
	h := w.h
	ua := w.unitAdmin
	n := ua.nextNonce(t)
	body, err := NewBodyUntil(KindTransfer, n+1, uint64(h.height+2), M{"id": w.object, "admins": []string{w.stranger.pub}})
	if err != nil {
		t.Fatal(err)
	}
	transfer := signBody(t, testChainID, body, ua.key)
	h.expectRejected(t, transfer, CodeNonceGap, "skips ahead")
	h.mustApply(t, ua.txNonce(t, n, KindRegister, M{"id": w.unit + "/filler", "values": []M{}}))
	h.applyBlock(t) // an empty block: the transfer's last height passes
	h.expectRejected(t, transfer, CodeExpired, "valid until height")
	if got := h.record(t, w.object).Admins; len(got) != 1 || got[0] != ua.pub {
		t.Errorf("admins %v: the object was handed away", got)
	}
	// And its nonce is used: the bytes can never apply.
	h.expectRejected(t, transfer, CodeNonceReplayed)
}

func TestRefusedTransactionUsesItsNonce(t *testing.T) {
	w := newWorld(t)
	h := w.h
	before := h.nonce(t, w.stranger.pub)
	tx := w.stranger.tx(t, KindRegister, M{"id": w.unit + "/mine", "values": []M{}})
	h.expectRejected(t, tx, CodeUnauthorized)
	if got := h.nonce(t, w.stranger.pub); got != before+1 {
		t.Errorf("nonce %d after a refusal in a block, want %d", got, before+1)
	}
	h.expectRejected(t, tx, CodeNonceReplayed)
}

func TestSmallOrderKeysAreRefused(t *testing.T) {
	// The identity point (01 00…00) and the other points of small order:
	// a signature (R = identity, S = 0) by the identity verifies for
	// every message.
	smallOrder := []string{
		"0100000000000000000000000000000000000000000000000000000000000000",
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"0000000000000000000000000000000000000000000000000000000000000000",
		"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
		"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
	}
	for _, k := range smallOrder {
		if _, err := ParsePubKey(k); err == nil || AsError(err).Code != CodeBadPubKey || !strings.Contains(err.Error(), "small order") {
			t.Errorf("ParsePubKey(%s) = %v, want bad_pub_key: small order", k, err)
		}
	}
	if _, err := ParsePubKey("0200000000000000000000000000000000000000000000000000000000000000"); err == nil || !strings.Contains(err.Error(), "not a point") {
		t.Errorf("a y with no point: %v, want not a point", err)
	}
	w := newWorld(t)
	h := w.h
	// As a signer: the forged envelope is refused before any state is read.
	body, err := NewBody(KindRegister, 1, M{"id": w.unit + "/forged", "values": []M{}})
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	sig[0] = 1 // R = identity, S = 0
	forged := encodeTx(t, Envelope{Body: body, PubKey: smallOrder[0], Signature: sig})
	h.expectRejected(t, forged, CodeBadPubKey, "small order")
	// As an admin, an authority member or a validator.
	h.expectRejected(t, w.unitAdmin.tx(t, KindTransfer, M{"id": w.object, "admins": []string{smallOrder[0]}}), CodeBadPubKey, "admin 1", "small order")
	h.expectRejected(t, h.members[0].tx(t, KindSetAuthority, M{"members": []string{h.members[0].pub, smallOrder[1]}, "threshold": 1}), CodeBadPubKey, "small order")
	h.expectRejected(t, h.members[0].tx(t, KindSetValidator, M{"pub_key": smallOrder[3], "power": 10}), CodeBadPubKey, "small order")
}

func TestTextThatIsNotWhatItSeems(t *testing.T) {
	w := newWorld(t)
	h := w.h
	ua := w.unitAdmin
	for _, tc := range []struct {
		name, code string
		body       func() []byte
		want       string
	}{
		{"invalid UTF-8 in the body", CodeMalformed, func() []byte {
			b, _ := NewBody(KindRegister, ua.nextNonce(t), M{"id": w.unit + "/x", "values": []M{{"type": "TEXT", "data": "AB"}}})
			return bytes.Replace(b, []byte("AB"), []byte{0xff, 0xfe}, 1)
		}, "is not valid UTF-8"},
		{"a lone surrogate escape", CodeMalformed, func() []byte {
			b, _ := NewBody(KindRegister, ua.nextNonce(t), M{"id": w.unit + "/x", "values": []M{{"type": "TEXT", "data": "AB"}}})
			return bytes.Replace(b, []byte("AB"), []byte(`\udc00`), 1)
		}, "escapes a UTF-16 surrogate"},
		{"half a surrogate escape before a character of three bytes", CodeMalformed, func() []byte {
			// FuzzSignedBody: the refusal quoted the four bytes after
			// \u, which cut the character in two, and was not UTF-8.
			b, _ := NewBody(KindRegister, ua.nextNonce(t), M{"id": w.unit + "/x", "values": []M{{"type": "TEXT", "data": "AB"}}})
			return bytes.Replace(b, []byte("AB"), []byte(`\ud8ෙ`), 1)
		}, `in \u hexadecimal character escape`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := h.expectRejected(t, signBody(t, testChainID, tc.body(), ua.key), tc.code, tc.want)
			if !utf8.ValidString(err.Msg) {
				t.Errorf("the refusal %q is not UTF-8", err.Msg)
			}
		})
	}
	// An escaped backslash before "ud800" is text, not an escape.
	h.mustApply(t, ua.tx(t, KindRegister, M{"id": w.unit + "/path", "values": []M{{"type": "TEXT", "data": `C:\ud800`}}}))
	for _, r := range []string{"\u200b", "\u200f", "\u061c", "\u202e", "\u2066", "\ufeff", "\u200d"} {
		h.expectRejected(t, w.cityAdmin.tx(t, KindRegisterUnit, M{"parent": w.sector, "name": "Bureau" + r + "x"}), CodeInvalid, "invisible format character")
	}
	for _, r := range []string{"\u200e", "\u200f", "\u061c", "\u202e", "\u2067"} {
		h.expectRejected(t, ua.tx(t, KindRegister, M{"id": w.unit + "/t", "values": []M{{"type": "TEXT", "data": "abc" + r + "def"}}}), CodeBadValue, "bidirectional control")
	}
	// Indexes the Handle interface gives the admins are not for values.
	for _, i := range []int{100, 115, 300, 315} {
		h.expectRejected(t, ua.tx(t, KindRegister, M{"id": w.unit + "/i", "values": []M{{"type": "TEXT", "data": "x", "index": i}}}), CodeBadValue, "is reserved", "HS_ADMIN")
	}
	h.mustApply(t, ua.tx(t, KindRegister, M{"id": w.unit + "/i", "values": []M{{"type": "TEXT", "data": "x", "index": 116}, {"type": "TEXT", "data": "y", "index": 316}}}))
}

func TestDeactivationHoldsEverythingUnder(t *testing.T) {
	// Under a deactivated unit, its admin can no longer update, transfer
	// or grant, nor lift the deactivation himself.
	w := newWorld(t)
	h := w.h
	ua, ca := w.unitAdmin, w.cityAdmin
	grant := w.datasetGrant(t)
	grant["expires"] = blockTime(h.height + 1000).Format(time.RFC3339)
	h.mustApply(t, ua.tx(t, KindGrantAccess, grant))
	g, _, _ := GetGrant(h.kv, w.object, w.city+".86")
	if live, why, err := g.LiveAt(h.kv, h.next().Time); err != nil || !live {
		t.Fatalf("a fresh grant is not live: %s %v", why, err)
	}
	h.mustApply(t, ca.tx(t, KindDeactivate, M{"id": w.unit, "reason": "audit"}))
	version := h.record(t, w.object).Version
	under := w.unit + ", which is deactivated"
	for _, tc := range []struct {
		kind string
		msg  M
	}{
		{KindUpdate, M{"id": w.object, "version": version, "values": []M{}}},
		{KindTransfer, M{"id": w.object, "admins": []string{w.stranger.pub}}},
		{KindDeactivate, M{"id": w.object}},
		{KindGrantAccess, grant},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			h.expectRejected(t, ua.tx(t, tc.kind, tc.msg), CodeInactive, w.unit+" is deactivated")
		})
	}
	if live, why, _ := g.LiveAt(h.kv, h.next().Time); live || !strings.Contains(why, "under "+under) {
		t.Errorf("grant under a deactivated unit: live %v (%s)", live, why)
	}
	// The unit's own admin cannot lift it; the city's admin can.
	h.expectRejected(t, ua.tx(t, KindReactivate, M{"id": w.unit}), CodeUnauthorized, "lifted by an admin of the parent")
	h.mustApply(t, ca.tx(t, KindReactivate, M{"id": w.unit}))
	if live, why, _ := g.LiveAt(h.kv, h.next().Time); !live {
		t.Errorf("grant after the reactivation: %s", why)
	}
	// A grantee under a deactivated node gets no grant, and a grant to it
	// is not live.
	h.mustApply(t, ca.tx(t, KindRegisterUnit, M{"parent": w.city + ".86", "name": "Hospital"}))
	h.mustApply(t, ca.tx(t, KindDeactivate, M{"id": w.city + ".86"}))
	grant["grantee"] = w.city + ".86.1"
	h.expectRejected(t, ua.tx(t, KindGrantAccess, grant), CodeInactive, "grantee:", w.city+".86 is deactivated")
	if live, why, _ := g.LiveAt(h.kv, h.next().Time); live || !strings.Contains(why, "grantee "+w.city+".86 is deactivated") {
		t.Errorf("grant to a deactivated grantee: live %v (%s)", live, why)
	}
	h.mustApply(t, ca.tx(t, KindReactivate, M{"id": w.city + ".86"}))
	// A dataset that dropped its DATA value is no dataset.
	h.mustApply(t, ua.tx(t, KindUpdate, M{"id": w.object, "version": h.record(t, w.object).Version, "values": []M{}}))
	if live, why, _ := g.LiveAt(h.kv, h.next().Time); live || !strings.Contains(why, "no DATA value") {
		t.Errorf("grant of a record without DATA: live %v (%s)", live, why)
	}
	// And a city is reactivated by the authority only.
	h.mustApply(t, ca.tx(t, KindDeactivate, M{"id": w.city}))
	h.expectRejected(t, ca.tx(t, KindReactivate, M{"id": w.city}), CodeUnauthorized, "the registry authority reactivates a city")
}

func TestAuthoritySuspendsACity(t *testing.T) {
	// A city's key leaked: the authority (2 of 3) suspends the city, gives
	// it new admin keys, and restores it.
	w := newWorld(t)
	h := w.h
	thief, heir := w.cityAdmin, h.signer("new-city-admin")
	suspend := M{"city": w.city, "status": StatusDeactivated, "reason": "leaked key"}
	o := h.mustApply(t, h.members[0].tx(t, KindSetCity, suspend))
	if o.Status != AppPending || o.Approvals != 1 {
		t.Fatalf("first approval %+v", o)
	}
	h.expectRejected(t, thief.tx(t, KindSetCity, suspend), CodeUnauthorized, "not a member of the registry authority")
	if o := h.mustApply(t, h.members[1].tx(t, KindSetCity, suspend)); o.Status != "applied" || o.ID != w.city {
		t.Fatalf("second approval %+v", o)
	}
	if rec := h.record(t, w.city); rec.Status != StatusDeactivated || rec.Reason != "leaked key" {
		t.Fatalf("city %+v", rec)
	}
	h.expectRejected(t, thief.tx(t, KindRegisterSector, M{"id": w.city + ".36"}), CodeInactive)
	h.expectRejected(t, thief.tx(t, KindTransfer, M{"id": w.city, "admins": []string{thief.pub}}), CodeInactive, "its own admins cannot hand it over")
	restore := M{"city": w.city, "status": StatusActive, "admins": []string{heir.pub}}
	h.mustApply(t, h.members[2].tx(t, KindSetCity, restore))
	h.mustApply(t, h.members[0].tx(t, KindSetCity, restore))
	rec := h.record(t, w.city)
	if rec.Status != StatusActive || len(rec.Admins) != 1 || rec.Admins[0] != heir.pub {
		t.Fatalf("restored city %+v", rec)
	}
	h.expectRejected(t, thief.tx(t, KindRegisterSector, M{"id": w.city + ".36"}), CodeUnauthorized)
	h.mustApply(t, heir.tx(t, KindRegisterSector, M{"id": w.city + ".36"}))
	h.expectRejected(t, h.members[0].tx(t, KindSetCity, M{"city": w.city, "status": StatusActive}), CodeAlreadyActive)
	h.expectRejected(t, h.members[0].tx(t, KindSetCity, M{"city": w.sector, "status": StatusActive}), CodeInvalid, "want a city")
}

func TestVotesMeanWhatTheySay(t *testing.T) {
	t.Run("a rejection never issues a city", func(t *testing.T) {
		// 1 approval of 3; the threshold drops to 1; a reject then must
		// not issue the city, as it did before.
		h := newHarness(t, 3, 2)
		h.mustApply(t, h.signer("city").tx(t, KindApplyCity, M{"country": "156", "city_number": "130100", "name": "石家庄市"}))
		h.mustApply(t, approve(t, h.members[0], 1))
		members := []string{h.members[0].pub, h.members[1].pub, h.members[2].pub}
		h.mustApply(t, h.members[0].tx(t, KindSetAuthority, M{"members": members, "threshold": 1}))
		h.mustApply(t, h.members[1].tx(t, KindSetAuthority, M{"members": members, "threshold": 1}))
		o := h.mustApply(t, reject(t, h.members[2], 1, "no"))
		if o.CityCode != "" || h.application(t, 1).Status != AppPending {
			t.Fatalf("a rejection issued the city: %+v", o)
		}
		// An approval now decides it: the member who approved asks again.
		if o := h.mustApply(t, approve(t, h.members[0], 1)); o.CityCode != "1561301001" {
			t.Fatalf("approval after the threshold was lowered: %+v", o)
		}
	})
	t.Run("removed members do not count", func(t *testing.T) {
		h := newHarness(t, 3, 2)
		h.mustApply(t, h.signer("city").tx(t, KindApplyCity, M{"country": "156", "city_number": "130100", "name": "石家庄市"}))
		h.mustApply(t, approve(t, h.members[0], 1))
		members := []string{h.members[1].pub, h.members[2].pub}
		h.mustApply(t, h.members[0].tx(t, KindSetAuthority, M{"members": members, "threshold": 2}))
		h.mustApply(t, h.members[1].tx(t, KindSetAuthority, M{"members": members, "threshold": 2}))
		if o := h.mustApply(t, approve(t, h.members[1], 1)); o.Approvals != 1 || o.CityCode != "" {
			t.Fatalf("the removed member's approval counted: %+v", o)
		}
	})
	t.Run("votes expire and can be withdrawn", func(t *testing.T) {
		h := newHarness(t, 3, 2)
		h.mustApply(t, h.signer("city").tx(t, KindApplyCity, M{"country": "156", "city_number": "130100", "name": "石家庄市"}))
		h.mustApply(t, approve(t, h.members[0], 1))
		o := h.mustApply(t, h.members[0].tx(t, KindWithdrawVote, M{"application": 1, "hash": h.appHash(t, 1)}))
		if o.Approvals != 0 || len(h.application(t, 1).Approvals) != 0 {
			t.Fatalf("withdrawn: %+v", o)
		}
		h.expectRejected(t, h.members[0].tx(t, KindWithdrawVote, M{"application": 1, "hash": h.appHash(t, 1)}), CodeNotFound, "has no vote")
		// An approval older than the vote term no longer counts.
		h.mustApply(t, approve(t, h.members[0], 1))
		live := liveVotes{members: []string{h.members[0].pub}, height: h.height + int64(DefaultVoteBlocks) + 1, term: DefaultVoteBlocks}
		if live.count(h.application(t, 1).Approvals) != 0 {
			t.Error("a vote counts past its term")
		}
		live.height = h.height + int64(DefaultVoteBlocks)
		if live.count(h.application(t, 1).Approvals) != 1 {
			t.Error("a vote does not count at the end of its term")
		}
	})
	t.Run("an application expires", func(t *testing.T) {
		h := newHarness(t, 1, 1)
		city := h.signer("city")
		h.mustApply(t, city.tx(t, KindApplyCity, M{"country": "156", "city_number": "130100", "name": "石家庄市"}))
		app := h.application(t, 1)
		if app.Expires != 1+int64(DefaultApplicationBlocks) || app.StatusAt(app.Expires) != AppPending || app.StatusAt(app.Expires+1) != AppExpired {
			t.Errorf("application expires at %d: %s, then %s", app.Expires, app.StatusAt(app.Expires), app.StatusAt(app.Expires+1))
		}
	})
}

func TestLinksThatReadOtherwise(t *testing.T) {
	// Found by the hostile catalogue: overrides and invisible characters
	// in URLs, e-mail addresses and dataset descriptors, and escapes in a
	// media type.
	w := newWorld(t)
	h := w.h
	ua := w.unitAdmin
	ds := func(uri, media string) M {
		return M{"type": "DATA", "dataset": M{"uri": uri, "sha256": goodSHA, "size": 1, "media_type": media}}
	}
	for _, tc := range []struct {
		name  string
		value M
		want  string
	}{
		{"override in a URL's host", M{"type": "URL", "data": "https://\u202eexample.org/gnp.exe"}, "U+202E"},
		{"zero-width space in a URL", M{"type": "URL", "data": "https://exa\u200bmple.org/"}, "U+200B"},
		{"override in an e-mail address", M{"type": "EMAIL", "data": "a\u202eb@example.org"}, "U+202E"},
		{"override in a dataset URI", ds("https://example.org/\u202ex", "text/csv"), "U+202E"},
		{"escape and NUL in a media type", ds("https://example.org/x", "text/\u001b[31mcsv\u0000"), "is not type/subtype"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.expectRejected(t, ua.tx(t, KindRegister, M{"id": w.unit + "/probe", "values": []M{tc.value}}), CodeBadValue, tc.want)
		})
	}
	h.expectRejected(t, h.signer("applicant").tx(t, KindApplyCity, M{"country": "156", "city_number": "130200", "name": "唐山市", "endpoint": "https://example.org/\u202e"}), CodeInvalid, "U+202E")
	h.mustApply(t, ua.tx(t, KindRegister, M{"id": w.unit + "/probe", "values": []M{ds("https://example.org/x", "text/csv;charset=utf-8")}}))
}
