package api_test

import (
	"net/http"
	"testing"

	"github.com/cityid/cityid/internal/api"
	"github.com/cityid/cityid/internal/apitest"
	"github.com/cityid/cityid/internal/registry"
)

// A pending application past its last height is shown expired, in the
// list, its filter and its own page; state still says pending.
func TestApplicationShownExpired(t *testing.T) {
	l := apitest.NewLedger(t)
	o := l.Send("bob", registry.KindApplyCity, registry.ApplyCity{Country: "156", CityNumber: "130200", Name: "唐山市"})
	s := serveLedger(t, l, api.Options{})
	status := func() string {
		t.Helper()
		var a ApplicationAnswer
		s.json("/v1/applications/1", http.StatusOK, &a)
		return a.Application.Status
	}
	count := func(filter string) int {
		t.Helper()
		var list ApplicationList
		s.json("/v1/applications?status="+filter, http.StatusOK, &list)
		return len(list.Applications)
	}
	app, _, err := registry.GetApplication(l.Store().Latest(), o.Application)
	if err != nil {
		t.Fatal(err)
	}
	for l.Height()+1 <= app.Expires {
		if got := status(); got != registry.AppPending {
			t.Fatalf("at height %d (last height %d): %s", l.Height(), app.Expires, got)
		}
		if st, _, err := registry.GetApplication(l.Store().Latest(), o.Application); err != nil || st.Status != registry.AppPending {
			t.Fatalf("state at height %d: %+v %v, want pending", l.Height(), st, err)
		}
		l.Commit() // an empty block
	}
	if got := status(); got != registry.AppExpired {
		t.Errorf("after its last height: %s, want expired", got)
	}
	if st, _, err := registry.GetApplication(l.Store().Latest(), o.Application); err != nil || st.Status != registry.AppPending {
		t.Errorf("state after its last height: %+v %v, want still pending (only the answer says expired)", st, err)
	}
	if count("pending") != 0 || count("expired") != 1 {
		t.Errorf("filters: pending %d, expired %d", count("pending"), count("expired"))
	}
	// Its counts are of the votes that would count in the next block.
	var a ApplicationAnswer
	if s.json("/v1/applications/1", http.StatusOK, &a); a.Application.Count.Threshold != 1 {
		t.Errorf("count %+v, want threshold 1", a.Application.Count)
	}
	s.problem("/v1/applications?status=open", http.StatusBadRequest, CodeBadRequest, "open")
}
