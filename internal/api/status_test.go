package api_test

import (
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cityid/cityid/internal/api"
	"github.com/cityid/cityid/internal/apitest"
)

// GET /v1/status, /v1/accounts/{key}, /healthz and /readyz over committed
// state: the chain as the backend reports it with the network's
// parameters and authority from state; an account's last nonce; ready
// once there is state.
func TestStatusAndAccounts(t *testing.T) {
	s := serveStory(t, api.Options{})
	var st StatusAnswer
	s.json("/v1/status", http.StatusOK, &st)
	if st.ChainID != apitest.ChainID || st.Height != s.l.Height() || st.AppHash != strings.ToUpper(hex.EncodeToString(s.l.Store().Hash())) ||
		st.Params.OIDArc != "1.3.6.1.4.1.99999" || st.Params.IAC != "MA" ||
		len(st.Authority.Members) != 1 || st.Authority.Members[0] != apitest.PubKey("operator") || st.Authority.Threshold != 1 {
		t.Errorf("status: %+v", st)
	}
	var acc Account
	// alice sent 13: 3 in City (the operator approved), a sector, 7 registers, an update and a grant.
	s.json("/v1/accounts/"+apitest.PubKey("alice"), http.StatusOK, &acc)
	if acc.Key != apitest.PubKey("alice") || acc.Nonce != 13 || acc.NextNonce != 14 || acc.Pending != 0 || acc.Height != s.l.Height() {
		t.Errorf("alice: %+v, want nonce 13", acc)
	}
	s.json("/v1/accounts/"+apitest.PubKey("nobody"), http.StatusOK, &acc)
	if acc.Nonce != 0 || acc.NextNonce != 1 {
		t.Errorf("a new account: %+v, want nonce 0, next 1", acc)
	}
	s.problem("/v1/accounts/xyz", http.StatusBadRequest, "bad_pub_key", "")
	var h Health
	s.json("/healthz", http.StatusOK, &h)
	if h.Status != "ok" {
		t.Errorf("healthz: %+v", h)
	}
	s.json("/readyz", http.StatusOK, &h)
	if h.Status != "ready" || h.Height != s.l.Height() {
		t.Errorf("readyz: %+v", h)
	}
}

// Before the first commit every read of state is a 503, and the node is
// alive but not ready.
func TestNoStateYet(t *testing.T) {
	srv := httptest.NewServer(apitest.Validated(t, api.New(apitest.NewEmptyBackend(t), api.Options{})))
	t.Cleanup(srv.Close)
	s := &served{t: t, url: srv.URL}
	for _, path := range []string{"/v1/ids/1561301001", "/v1/ids/1561301001/children", "/v1/cities", "/readyz", "/api/handles/1561301001.85.1/x"} {
		s.problem(path, http.StatusServiceUnavailable, CodeUnavailable, "no block committed yet")
	}
	if r := s.get("/healthz"); r.status != http.StatusOK {
		t.Errorf("healthz: %d", r.status)
	}
}
