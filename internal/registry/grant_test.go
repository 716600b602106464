package registry

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// shareWorld is the world plus what data sharing needs: a dataset of the
// education bureau, a record without a DATA value, and a second city
// (Beijing, 156110100X, admin beijingAdmin) with a water sector (36) and a
// deactivated sewerage sector (37), to grant to.
type shareWorld struct {
	*world
	dataset      string
	plain        string
	beijing      string
	beijingAdmin *signer
}

func newShareWorld(t testing.TB) *shareWorld {
	t.Helper()
	w := &shareWorld{world: newWorld(t), dataset: "1561301001.85.1/exam-results", plain: "1561301001.85.1/school-0042", beijing: "156110100X"}
	h := w.h
	h.mustApply(t, w.unitAdmin.tx(t, KindRegister, M{"id": w.dataset, "values": []M{
		{"type": "TEXT", "data": "exam results 2025"}, {"type": "DATA", "dataset": goodDataset()},
	}}))
	w.beijingAdmin = h.signer("beijing-admin")
	o := h.mustApply(t, w.beijingAdmin.tx(t, KindApplyCity, M{"country": "156", "city_number": "110100", "name": "北京市"}))
	h.mustApply(t, approve(t, h.members[0], o.Application))
	if o := h.mustApply(t, approve(t, h.members[1], o.Application)); o.CityCode != w.beijing {
		t.Fatalf("city code %s, want %s", o.CityCode, w.beijing)
	}
	h.mustApply(t, w.beijingAdmin.tx(t, KindRegisterSector, M{"id": w.beijing + ".36"}))
	h.mustApply(t, w.beijingAdmin.tx(t, KindRegisterSector, M{"id": w.beijing + ".37"}))
	h.mustApply(t, w.beijingAdmin.tx(t, KindDeactivate, M{"id": w.beijing + ".37"}))
	return w
}

// rfc3339 is the wire form of a grant's expiry.
func rfc3339(t time.Time) string { return t.Format(time.RFC3339) }

func (h *harness) grant(t testing.TB, dataset, grantee string) Grant {
	t.Helper()
	g, ok, err := GetGrant(h.kv, dataset, grantee)
	if err != nil || !ok {
		t.Fatalf("grant of %s to %s: found %v, err %v", dataset, grantee, ok, err)
	}
	return g
}

func TestGrantAccess(t *testing.T) {
	w := newShareWorld(t)
	h := w.h
	grantee := w.beijing + ".36"
	expires := blockTime(1000)

	t.Run("a grant on a dataset", func(t *testing.T) {
		tx := w.unitAdmin.tx(t, KindGrantAccess, M{"dataset": "1561301001.85.1/Exam-Results", "grantee": "156110100x.36", "expires": rfc3339(expires)})
		blk := h.next()
		r := h.apply(t, tx)
		if got, want := outcomeJSON(t, r), `{"id":"`+w.dataset+`","version":1,"status":"granted"}`; got != want {
			t.Errorf("outcome %s, want %s", got, want)
		}
		g := h.grant(t, w.dataset, grantee)
		want := Grant{Dataset: w.dataset, Grantee: grantee, Scope: DefaultScope, Expires: expires, Version: 1,
			Granted: Stamp{Height: blk.Height, Time: blk.Time, Tx: TxHash(tx)}}
		if g.Revoked != nil || g.Dataset != want.Dataset || g.Grantee != want.Grantee || g.Scope != "read" || !g.Expires.Equal(expires) ||
			g.Version != 1 || g.Granted != want.Granted {
			t.Errorf("grant %+v, want %+v", g, want)
		}
		if got := stateGet(t, h, string(granteeKey(grantee, w.dataset))); got != "read" {
			t.Errorf("grantee index holds %q, want the scope", got)
		}
	})
	t.Run("Live until the expiry, in block time", func(t *testing.T) {
		g := h.grant(t, w.dataset, grantee)
		for _, c := range []struct {
			at   time.Time
			live bool
		}{
			{h.next().Time, true},
			{expires.Add(-time.Nanosecond), true},
			{expires, false},
			{expires.Add(time.Second), false},
		} {
			if got := g.InForce(c.at); got != c.live {
				t.Errorf("Live(%s) = %v, want %v", c.at.Format(time.RFC3339Nano), got, c.live)
			}
		}
	})
	t.Run("the grantee index lists the grant", func(t *testing.T) {
		keys, values := scan(t, h, GranteePrefix(grantee))
		if len(keys) != 1 || keys[0] != string(granteeKey(grantee, w.dataset)) || string(values[0]) != "read" {
			t.Errorf("grantee index %q %q", keys, values)
		}
		if keys, _ := scan(t, h, GrantPrefix(w.dataset)); len(keys) != 1 || keys[0] != string(GrantKey(w.dataset, grantee)) {
			t.Errorf("dataset's grants %q", keys)
		}
	})
	t.Run("re-granting renews: a new expiry, scope and version", func(t *testing.T) {
		later := blockTime(5000).In(time.FixedZone("CST", 8*3600))
		tx := w.unitAdmin.tx(t, KindGrantAccess, M{"dataset": w.dataset, "grantee": grantee, "scope": "read:summary", "expires": rfc3339(later)})
		blk := h.next()
		if got, want := outcomeJSON(t, h.apply(t, tx)), `{"id":"`+w.dataset+`","version":2,"status":"granted"}`; got != want {
			t.Errorf("outcome %s, want %s", got, want)
		}
		g := h.grant(t, w.dataset, grantee)
		if g.Version != 2 || g.Scope != "read:summary" || !g.Expires.Equal(later) || g.Expires.Location() != time.UTC ||
			g.Granted != (Stamp{Height: blk.Height, Time: blk.Time, Tx: TxHash(tx)}) {
			t.Errorf("renewed grant %+v: want version 2, the new scope, the new expiry in UTC, the renewal's stamp", g)
		}
		if got := stateGet(t, h, string(granteeKey(grantee, w.dataset))); got != "read:summary" {
			t.Errorf("grantee index holds %q after the renewal", got)
		}
	})
	t.Run("an admin of a node above the dataset grants, to a city", func(t *testing.T) {
		o := h.mustApply(t, w.cityAdmin.tx(t, KindGrantAccess, M{"dataset": w.dataset, "grantee": w.beijing, "expires": rfc3339(expires)}))
		if o.Version != 1 {
			t.Errorf("outcome %+v", o)
		}
		if keys, _ := scan(t, h, GrantPrefix(w.dataset)); len(keys) != 2 {
			t.Errorf("dataset's grants %q, want two", keys)
		}
		// The city's index holds its own grant, not its sector's.
		if keys, _ := scan(t, h, GranteePrefix(w.beijing)); len(keys) != 1 || keys[0] != string(granteeKey(w.beijing, w.dataset)) {
			t.Errorf("the city's grantee index %q", keys)
		}
	})
	t.Run("revoke", func(t *testing.T) {
		tx := w.unitAdmin.tx(t, KindRevokeAccess, M{"dataset": w.dataset, "grantee": grantee})
		blk := h.next()
		if got, want := outcomeJSON(t, h.apply(t, tx)), `{"id":"`+w.dataset+`","version":3,"status":"revoked"}`; got != want {
			t.Errorf("outcome %s, want %s", got, want)
		}
		g := h.grant(t, w.dataset, grantee)
		if g.Revoked == nil || *g.Revoked != (Stamp{Height: blk.Height, Time: blk.Time, Tx: TxHash(tx)}) || g.Version != 3 || g.Scope != "read:summary" {
			t.Errorf("revoked grant %+v: the grant stays, marked", g)
		}
		if g.InForce(blk.Time) || g.InForce(blk.Time.Add(-time.Hour)) {
			t.Error("a revoked grant is live")
		}
		if stateHas(t, h, string(granteeKey(grantee, w.dataset))) {
			t.Error("the grantee index still holds the revoked grant")
		}
		if keys, _ := scan(t, h, GranteePrefix(grantee)); len(keys) != 0 {
			t.Errorf("grantee index %q after revocation", keys)
		}
	})
	t.Run("revoke twice", func(t *testing.T) {
		h.expectRejected(t, w.unitAdmin.tx(t, KindRevokeAccess, M{"dataset": w.dataset, "grantee": grantee}),
			CodeAlreadyInactive, fmt.Sprintf("the grant of %s to %s was revoked at height %d", w.dataset, grantee, h.height))
	})
	t.Run("granting again after revocation", func(t *testing.T) {
		o := h.mustApply(t, w.unitAdmin.tx(t, KindGrantAccess, M{"dataset": w.dataset, "grantee": grantee, "expires": rfc3339(expires)}))
		g := h.grant(t, w.dataset, grantee)
		if o.Version != 4 || g.Version != 4 || g.Revoked != nil || g.Scope != DefaultScope || !g.InForce(h.next().Time) {
			t.Errorf("outcome %+v, grant %+v: want version 4, live again, default scope", o, g)
		}
		if !stateHas(t, h, string(granteeKey(grantee, w.dataset))) {
			t.Error("grantee index not restored")
		}
	})
	t.Run("a deactivated dataset takes no grant, but its grants can be revoked", func(t *testing.T) {
		h.mustApply(t, w.unitAdmin.tx(t, KindDeactivate, M{"id": w.dataset}))
		h.expectRejected(t, w.unitAdmin.tx(t, KindGrantAccess, M{"dataset": w.dataset, "grantee": w.beijing, "expires": rfc3339(expires)}),
			CodeInactive, "dataset "+w.dataset+" is deactivated")
		h.mustApply(t, w.unitAdmin.tx(t, KindRevokeAccess, M{"dataset": w.dataset, "grantee": w.beijing}))
	})
}

func TestGrantRejections(t *testing.T) {
	w := newShareWorld(t)
	h := w.h
	ua := w.unitAdmin
	later := rfc3339(blockTime(1000))
	h.mustApply(t, ua.tx(t, KindRegister, M{"id": w.unit + "/old-data", "values": []M{{"type": "DATA", "dataset": goodDataset()}}}))
	h.mustApply(t, ua.tx(t, KindDeactivate, M{"id": w.unit + "/old-data"}))
	h.mustApply(t, ua.tx(t, KindGrantAccess, M{"dataset": w.dataset, "grantee": w.beijing, "expires": later}))
	grant := func(m M) func(t testing.TB) []byte {
		return func(t testing.TB) []byte { return ua.tx(t, KindGrantAccess, m) }
	}
	g := func(dataset, grantee string) M { return M{"dataset": dataset, "grantee": grantee, "expires": later} }

	tests := []struct {
		name string
		tx   func(t testing.TB) []byte
		code string
		msg  []string
	}{
		// The dataset.
		{"a record without a DATA value", grant(g(w.plain, w.beijing)),
			CodeInvalid, []string{w.plain + " has no DATA value: only a dataset's access is granted"}},
		{"a node without a DATA value", grant(g(w.unit, w.beijing)),
			CodeInvalid, []string{w.unit + " has no DATA value"}},
		{"an unknown dataset", grant(g(w.unit+"/nothing", w.beijing)),
			CodeNotFound, []string{"dataset " + w.unit + "/nothing is not registered"}},
		{"a deactivated dataset", grant(g(w.unit+"/old-data", w.beijing)),
			CodeInactive, []string{"dataset " + w.unit + "/old-data is deactivated"}},
		{"a dataset that does not parse", grant(g(w.unit+"/bad id", w.beijing)),
			CodeInvalidID, []string{`dataset "` + w.unit + `/bad id"`, "bad_char"}},
		{"a stranger", func(t testing.TB) []byte { return w.stranger.tx(t, KindGrantAccess, g(w.dataset, w.beijing)) },
			CodeUnauthorized, []string{"key " + w.stranger.pub + " is not an admin of " + w.dataset + " or of any node above it"}},
		{"the grantee's admin", func(t testing.TB) []byte { return w.beijingAdmin.tx(t, KindGrantAccess, g(w.dataset, w.beijing)) },
			CodeUnauthorized, []string{w.beijingAdmin.pub, "not an admin of " + w.dataset}},

		// The grantee.
		{"an object as grantee", grant(g(w.dataset, w.plain)),
			CodeInvalid, []string{"grantee " + w.plain + " is an object: access is granted to a node (city, sector or unit)"}},
		{"an unknown grantee", grant(g(w.dataset, w.beijing+".38")),
			CodeNotFound, []string{"grantee " + w.beijing + ".38 is not registered"}},
		{"an unknown city as grantee", grant(g(w.dataset, "1563101003")),
			CodeNotFound, []string{"grantee 1563101003 is not registered"}},
		{"a deactivated grantee", grant(g(w.dataset, w.beijing+".37")),
			CodeInactive, []string{"grantee " + w.beijing + ".37 is deactivated"}},
		{"a grantee that does not parse", grant(g(w.dataset, "156110100")),
			CodeInvalidID, []string{`grantee "156110100"`}},

		// The expiry.
		{"expires in the past", grant(M{"dataset": w.dataset, "grantee": w.beijing, "expires": rfc3339(genesisTime)}),
			CodeInvalid, []string{"expires " + rfc3339(genesisTime) + " is not after the block time"}},
		{"expires at the block time", func(t testing.TB) []byte {
			return ua.tx(t, KindGrantAccess, M{"dataset": w.dataset, "grantee": w.beijing, "expires": rfc3339(h.next().Time)})
		}, CodeInvalid, []string{"is not after the block time"}}, // the exact message: below
		{"expires at the block time, in another zone", func(t testing.TB) []byte {
			return ua.tx(t, KindGrantAccess, M{"dataset": w.dataset, "grantee": w.beijing, "expires": h.next().Time.In(time.FixedZone("CST", 8*3600)).Format(time.RFC3339)})
		}, CodeInvalid, []string{"is not after the block time"}},
		{"expires missing", grant(M{"dataset": w.dataset, "grantee": w.beijing}),
			CodeInvalid, []string{"expires is required"}},
		{"expires not RFC 3339", grant(M{"dataset": w.dataset, "grantee": w.beijing, "expires": "2030-01-01"}),
			CodeMalformed, []string{"grant_access msg:"}},
		{"expires a number", grant(M{"dataset": w.dataset, "grantee": w.beijing, "expires": 1893456000}),
			CodeMalformed, []string{"grant_access msg:"}},

		// The scope.
		{"a scope in uppercase", grant(M{"dataset": w.dataset, "grantee": w.beijing, "expires": later, "scope": "Read"}),
			CodeInvalid, []string{`scope "Read": character 1 'R' is not a lowercase letter, digit, ':', '_', '.' or '-'`}},
		{"a scope with a space", grant(M{"dataset": w.dataset, "grantee": w.beijing, "expires": later, "scope": "read all"}),
			CodeInvalid, []string{`scope "read all": character 5 ' '`}},
		{"a scope with a non-ASCII letter", grant(M{"dataset": w.dataset, "grantee": w.beijing, "expires": later, "scope": "réad"}),
			CodeInvalid, []string{`scope "réad": character 2`}},
		{"a scope over MaxScopeBytes", grant(M{"dataset": w.dataset, "grantee": w.beijing, "expires": later, "scope": strings.Repeat("r", MaxScopeBytes+1)}),
			CodeTooLarge, []string{fmt.Sprintf("scope is %d bytes, more than the %d allowed", MaxScopeBytes+1, MaxScopeBytes)}},

		// Revocation.
		{"revoke by a stranger", func(t testing.TB) []byte {
			return w.stranger.tx(t, KindRevokeAccess, M{"dataset": w.dataset, "grantee": w.beijing})
		}, CodeUnauthorized, []string{"key " + w.stranger.pub + " is not an admin of " + w.dataset}},
		{"revoke by the grantee", func(t testing.TB) []byte {
			return w.beijingAdmin.tx(t, KindRevokeAccess, M{"dataset": w.dataset, "grantee": w.beijing})
		}, CodeUnauthorized, []string{w.beijingAdmin.pub}},
		{"revoke a grant never made", func(t testing.TB) []byte {
			return ua.tx(t, KindRevokeAccess, M{"dataset": w.dataset, "grantee": w.beijing + ".36"})
		}, CodeNotFound, []string{w.beijing + ".36 has no grant to " + w.dataset}},
		{"revoke on an unknown dataset", func(t testing.TB) []byte {
			return ua.tx(t, KindRevokeAccess, M{"dataset": w.unit + "/nothing", "grantee": w.beijing})
		}, CodeNotFound, []string{"dataset " + w.unit + "/nothing is not registered"}},
		{"revoke to an object grantee", func(t testing.TB) []byte {
			return ua.tx(t, KindRevokeAccess, M{"dataset": w.dataset, "grantee": w.plain})
		}, CodeInvalid, []string{"grantee " + w.plain + " is an object"}},
		{"revoke with an expiry", func(t testing.TB) []byte {
			return ua.tx(t, KindRevokeAccess, M{"dataset": w.dataset, "grantee": w.beijing, "expires": later})
		}, CodeMalformed, []string{"revoke_access msg:", `unknown field "expires"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h.expectRejected(t, tc.tx(t), tc.code, tc.msg...)
		})
	}
	t.Run("expires one second after the block time is accepted, at it is not", func(t *testing.T) {
		at := rfc3339(h.next().Time)
		h.expectRejected(t, ua.tx(t, KindGrantAccess, M{"dataset": w.dataset, "grantee": w.beijing + ".36", "expires": at}),
			CodeInvalid, "expires "+at+" is not after the block time "+at)
		h.mustApply(t, ua.tx(t, KindGrantAccess, M{"dataset": w.dataset, "grantee": w.beijing + ".36", "expires": rfc3339(h.next().Time.Add(time.Second))}))
	})
	if g := h.grant(t, w.dataset, w.beijing); g.Version != 1 || g.Revoked != nil {
		t.Errorf("the grant after the refused transactions %+v", g)
	}
}

// Was: a grant cannot be revoked once its dataset's record no longer holds a
// DATA value. RevokeAccess.apply (grant.go) checks the dataset with
// c.dataset, which refuses a record without a DATA value ("has no DATA
// value: only a dataset's access is granted"). So when the owner updates the
// record and drops the DATA value (replaces the dataset, or stops sharing
// it), the grant stays unrevoked and live (Grant.Live, the grantee index),
// and comes back into force the moment a DATA value is put back: the owner
// can only revoke by first re-publishing a dataset. Revocation must always
// be possible for the dataset's admins.
// Fix: in grant.go, RevokeAccess.apply, replace
//
//	if _, err := c.dataset(m.dataset); err != nil {
//		return Outcome{}, err
//	}
//
// with an existence and authorization check that does not ask for a DATA
// value:
//
//	if _, found, err := c.record(m.Dataset); err != nil {
//		return Outcome{}, err
//	} else if !found {
//		return Outcome{}, errorf(CodeNotFound, "dataset %s is not registered", m.Dataset)
//	}
//	if err := c.authorize(m.dataset); err != nil {
//		return Outcome{}, err
//	}
func TestRegressionRevokeAfterTheDataValueIsRemoved(t *testing.T) {
	w := newShareWorld(t)
	h := w.h
	h.mustApply(t, w.unitAdmin.tx(t, KindGrantAccess, M{"dataset": w.dataset, "grantee": w.beijing, "expires": rfc3339(blockTime(1000))}))
	rec := h.record(t, w.dataset)
	h.mustApply(t, w.unitAdmin.tx(t, KindUpdate, M{"id": w.dataset, "version": rec.Version, "values": []M{{"type": "TEXT", "data": "withdrawn"}}}))
	r := h.apply(t, w.unitAdmin.tx(t, KindRevokeAccess, M{"dataset": w.dataset, "grantee": w.beijing}))
	if r.Err != nil {
		t.Errorf("revoking the grant of a record whose DATA value was removed: %s: %s", r.Err.Code, r.Err.Msg)
	}
	if g := h.grant(t, w.dataset, w.beijing); g.Revoked == nil {
		t.Errorf("grant %+v is still unrevoked and live (%v)", g, g.InForce(h.next().Time))
	}
}
