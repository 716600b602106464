package registry

import (
	"fmt"
	"strings"
	"testing"
)

// approve and reject vote on application app, naming the content hash it
// has in state (a made-up one when it does not exist).
func approve(t testing.TB, s *signer, app uint64) []byte {
	return s.tx(t, KindApproveApplication, M{"application": app, "hash": s.h.appHash(t, app)})
}

func reject(t testing.TB, s *signer, app uint64, reason string) []byte {
	return s.tx(t, KindRejectApplication, M{"application": app, "hash": s.h.appHash(t, app), "reason": reason})
}

// stateHas reports whether a raw state key exists.
func stateHas(t testing.TB, h *harness, key string) bool {
	t.Helper()
	b, err := h.kv.Get([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return b != nil
}

func stateGet(t testing.TB, h *harness, key string) string {
	t.Helper()
	b, err := h.kv.Get([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCityIssuedAtThreshold(t *testing.T) {
	h := newHarness(t, 3, 2)
	applicant := h.signer("city-admin")
	o := h.mustApply(t, applicant.tx(t, KindApplyCity, M{
		"country": "156", "city_number": "130100", "name": "石家庄市", "name_en": "Shijiazhuang",
		"locode": "cn sjw", "contact": "CityID office", "endpoint": "https://node.sjz.example/",
	}))
	if o.Application != 1 || o.Status != AppPending {
		t.Fatalf("apply outcome %+v, want application 1 pending", o)
	}
	// An application reserves nothing: the number and the LOCODE are the
	// city's only once its code is issued.
	if stateHas(t, h, "locode/CNSJW") {
		t.Errorf("a pending application claims its LOCODE: %q", stateGet(t, h, "locode/CNSJW"))
	}
	if got := stateGet(t, h, "open/"+applicant.pub); got != "1" {
		t.Errorf("open application of the applicant = %q, want 1", got)
	}

	t.Run("first of two approvals leaves it pending", func(t *testing.T) {
		r := h.apply(t, approve(t, h.members[0], 1))
		if got, want := outcomeJSON(t, r), `{"application":1,"status":"pending","approvals":1,"threshold":2}`; got != want {
			t.Errorf("outcome %s, want %s", got, want)
		}
		if stateHas(t, h, "id/1561301001") || stateHas(t, h, "city/1561301001") {
			t.Error("city record written before the threshold")
		}
	})
	issueTx := approve(t, h.members[2], 1)
	issued := h.next()
	t.Run("second approval issues 1561301001", func(t *testing.T) {
		r := h.apply(t, issueTx)
		want := `{"application":1,"status":"approved","approvals":2,"threshold":2,"city_code":"1561301001"}`
		if got := outcomeJSON(t, r); got != want {
			t.Errorf("outcome %s, want %s", got, want)
		}
	})
	t.Run("city record, directory and claims", func(t *testing.T) {
		if want := cityCode("156", "130100"); want != "1561301001" {
			t.Fatalf("independent check gives %s", want)
		}
		rec := h.record(t, "1561301001")
		stamp := Stamp{Height: issued.Height, Time: issued.Time, Tx: TxHash(issueTx)}
		if rec.ID != "1561301001" || rec.Kind != "city" || rec.Status != StatusActive || rec.Version != 1 || rec.Name != "石家庄市" {
			t.Errorf("record %+v", rec)
		}
		if rec.City == nil || *rec.City != (CityInfo{Country: "156", CityNumber: "130100", NameEn: "Shijiazhuang",
			Locode: "CNSJW", Contact: "CityID office", Endpoint: "https://node.sjz.example/", Application: 1}) {
			t.Errorf("city info %+v", rec.City)
		}
		if len(rec.Admins) != 1 || rec.Admins[0] != applicant.pub {
			t.Errorf("admins %v, want the applicant (the default)", rec.Admins)
		}
		if rec.Values == nil || len(rec.Values) != 0 {
			t.Errorf("values %#v, want empty", rec.Values)
		}
		if !rec.Created.Time.Equal(stamp.Time) || rec.Created.Height != stamp.Height || rec.Created.Tx != stamp.Tx || rec.Updated != rec.Created {
			t.Errorf("created %+v updated %+v, want %+v", rec.Created, rec.Updated, stamp)
		}
		if got := stateGet(t, h, "city/1561301001"); got != "石家庄市" {
			t.Errorf("directory entry %q", got)
		}
		if stateHas(t, h, "pend/156130100") {
			t.Error("pending index still there after issue")
		}
		if got := stateGet(t, h, "locode/CNSJW"); got != `{"city":"1561301001"}` {
			t.Errorf("locode claim %q, want the city", got)
		}
		app := h.application(t, 1)
		if app.Status != AppApproved || app.CityCode != "1561301001" || app.Decided == nil || app.Decided.Height != issued.Height {
			t.Errorf("application %+v", app)
		}
		if len(app.Approvals) != 2 || app.Approvals[0].Member != h.members[0].pub || app.Approvals[1].Member != h.members[2].pub ||
			app.Approvals[1].Height != issued.Height {
			t.Errorf("approvals %+v", app.Approvals)
		}
	})
	t.Run("third approval is too late", func(t *testing.T) {
		h.expectRejected(t, approve(t, h.members[1], 1), CodeAlreadyDecided, "application 1 is already approved")
	})
	t.Run("a rejection is too late too", func(t *testing.T) {
		h.expectRejected(t, reject(t, h.members[1], 1, ""), CodeAlreadyDecided, "application 1 is already approved")
	})
	t.Run("check character X", func(t *testing.T) {
		bj := h.signer("beijing")
		h.mustApply(t, bj.tx(t, KindApplyCity, M{"country": "156", "city_number": "110100", "name": "北京市"}))
		h.mustApply(t, approve(t, h.members[0], 2))
		o := h.mustApply(t, approve(t, h.members[1], 2))
		if want := cityCode("156", "110100"); o.CityCode != want || want != "156110100X" {
			t.Errorf("city code %s, want %s (156110100X)", o.CityCode, want)
		}
	})
}

// TestDecisionRule runs votes on one application for several M of N and
// checks its status after each: approved at M approvals, rejected as soon as
// so many reject that M can no longer be reached.
func TestDecisionRule(t *testing.T) {
	type vote struct {
		approve bool
		member  int // 0-based
		want    string
	}
	a := func(m int, want string) vote { return vote{true, m, want} }
	r := func(m int, want string) vote { return vote{false, m, want} }
	const P, A, R = AppPending, AppApproved, AppRejected
	tests := []struct {
		name  string
		n, m  int
		votes []vote
		final string // exact outcome JSON of the last vote
	}{
		{"1 of 1: one approval approves", 1, 1, []vote{a(0, A)},
			`{"application":1,"status":"approved","approvals":1,"threshold":1,"city_code":"1563101003"}`},
		{"1 of 1: one rejection rejects", 1, 1, []vote{r(0, R)},
			`{"application":1,"status":"rejected","rejections":1,"threshold":1}`},
		{"2 of 3: one rejection leaves it pending, the second rejects", 3, 2, []vote{r(0, P), r(1, R)},
			`{"application":1,"status":"rejected","rejections":2,"threshold":2}`},
		{"2 of 3: approve, reject, approve issues", 3, 2, []vote{a(0, P), r(1, P), a(2, A)},
			`{"application":1,"status":"approved","approvals":2,"rejections":1,"threshold":2,"city_code":"1563101003"}`},
		{"2 of 3: reject, approve, reject rejects", 3, 2, []vote{r(0, P), a(1, P), r(2, R)},
			`{"application":1,"status":"rejected","approvals":1,"rejections":2,"threshold":2}`},
		{"3 of 3: a single rejection rejects", 3, 3, []vote{a(0, P), r(2, R)},
			`{"application":1,"status":"rejected","approvals":1,"rejections":1,"threshold":3}`},
		{"2 of 4: two rejections leave it pending, three reject", 4, 2, []vote{r(0, P), r(1, P), r(3, R)},
			`{"application":1,"status":"rejected","rejections":3,"threshold":2}`},
		{"3 of 5: approved at the third approval", 5, 3, []vote{a(4, P), a(0, P), r(1, P), a(2, A)},
			`{"application":1,"status":"approved","approvals":3,"rejections":1,"threshold":3,"city_code":"1563101003"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.n, tc.m)
			h.mustApply(t, h.signer("shanghai").tx(t, KindApplyCity, M{"country": "156", "city_number": "310100", "name": "上海市"}))
			var last Result
			for i, v := range tc.votes {
				tx := reject(t, h.members[v.member], 1, "not a city")
				if v.approve {
					tx = approve(t, h.members[v.member], 1)
				}
				last = h.apply(t, tx)
				if last.Err != nil {
					t.Fatalf("vote %d rejected: %s", i+1, last.Err)
				}
				if got := h.application(t, 1).Status; got != v.want {
					t.Fatalf("after vote %d: %s, want %s", i+1, got, v.want)
				}
			}
			if got := string(last.Data); got != tc.final {
				t.Errorf("last outcome %s, want %s", got, tc.final)
			}
			issued := stateHas(t, h, "id/1563101003")
			if want := tc.votes[len(tc.votes)-1].want == A; issued != want {
				t.Errorf("city record exists: %v, want %v", issued, want)
			}
		})
	}
}

func TestRejectionFreesTheApplicant(t *testing.T) {
	for _, tc := range []struct {
		name string
		n, m int
	}{{"2 of 3", 3, 2}, {"1 of 1", 1, 1}} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.n, tc.m)
			first := h.signer("applicant-1")
			msg := M{"country": "156", "city_number": "110100", "name": "北京市", "locode": "CNBJS"}
			h.mustApply(t, first.tx(t, KindApplyCity, msg))
			for i := 0; i < tc.n-tc.m+1; i++ {
				if i < tc.n-tc.m {
					h.expectRejected(t, first.tx(t, KindApplyCity, msg), CodeExists, "already has application 1 open", "one open application per key")
				}
				h.mustApply(t, reject(t, h.members[i], 1, "duplicate of an existing division"))
			}
			app := h.application(t, 1)
			if app.Status != AppRejected || app.Decided == nil || app.CityCode != "" || len(app.Rejections) != tc.n-tc.m+1 {
				t.Fatalf("application %+v", app)
			}
			if app.Rejections[0].Reason != "duplicate of an existing division" {
				t.Errorf("rejection reason %q", app.Rejections[0].Reason)
			}
			if stateHas(t, h, "open/"+first.pub) || stateHas(t, h, "locode/CNBJS") {
				t.Error("open application or locode claim left behind by the rejection")
			}
			o := h.mustApply(t, first.tx(t, KindApplyCity, msg))
			if o.Application != 2 || o.Status != AppPending {
				t.Errorf("new application %+v, want 2 pending", o)
			}
		})
	}
}

func TestApplicationsCannotSquat(t *testing.T) {
	// A squatter applies first for the real city's number and LOCODE; the
	// real city applies too, and the authority approves the real one. The
	// squatter's application can then never be issued.
	h := newHarness(t, 1, 1)
	squatter, city := h.signer("squatter"), h.signer("city")
	msg := M{"country": "156", "city_number": "130100", "name": "石家庄市", "locode": "CNSJW"}
	if o := h.mustApply(t, squatter.tx(t, KindApplyCity, msg)); o.Application != 1 {
		t.Fatalf("squatter's application %+v", o)
	}
	if o := h.mustApply(t, city.tx(t, KindApplyCity, msg)); o.Application != 2 {
		t.Fatalf("the city's application %+v: a pending application must not hold its number", o)
	}
	if o := h.mustApply(t, approve(t, h.members[0], 2)); o.CityCode != "1561301001" {
		t.Fatalf("city code %q", o.CityCode)
	}
	h.expectRejected(t, approve(t, h.members[0], 1), CodeDuplicateCity, "already has the city code 1561301001", "reject application 1")
	h.mustApply(t, reject(t, h.members[0], 1, "squatting"))
	if got := h.record(t, "1561301001").Admins; len(got) != 1 || got[0] != city.pub {
		t.Errorf("city admins %v, want the city's key", got)
	}
	// Numbers and LOCODEs held by cities are refused at once.
	h.expectRejected(t, squatter.tx(t, KindApplyCity, msg), CodeDuplicateCity, "already has the city code 1561301001")
	h.expectRejected(t, squatter.tx(t, KindApplyCity, M{"country": "156", "city_number": "130200", "name": "唐山市", "locode": "CNSJW"}), CodeDuplicateLocode, "belongs to city 1561301001")
	// A hand-picked Chinese number must be a GB/T 2260 division.
	h.expectRejected(t, squatter.tx(t, KindApplyCity, M{"country": "156", "city_number": "999999", "name": "No such city"}), CodeInvalid, "not a GB/T 2260")
}

func TestAllocateCityNumber(t *testing.T) {
	allocate := func(t testing.TB, s *signer, country string) []byte {
		return s.tx(t, KindApplyCity, M{"country": country, "city_number": "allocate", "name": "Ville " + s.name})
	}
	byHand := func(t testing.TB, s *signer, country, number string) []byte {
		return s.tx(t, KindApplyCity, M{"country": country, "city_number": number, "name": "Ville " + s.name})
	}
	t.Run("first number of a country is 000001", func(t *testing.T) {
		h := newHarness(t, 1, 1)
		o := h.mustApply(t, allocate(t, h.signer("a"), "250"))
		if o.Application != 1 || o.Status != AppPending {
			t.Fatalf("outcome %+v", o)
		}
		if stateHas(t, h, "pend/250allocate") {
			t.Error("an allocate application must not hold a pending number")
		}
		o = h.mustApply(t, approve(t, h.members[0], 1))
		if want := cityCode("250", "000001"); o.CityCode != want || want != "2500000015" {
			t.Errorf("city code %s, want %s (2500000015)", o.CityCode, want)
		}
		if app := h.application(t, 1); app.CityNumber != "000001" {
			t.Errorf("application keeps city number %q, want the allocated 000001", app.CityNumber)
		}
		if rec := h.record(t, "2500000015"); rec.City.CityNumber != "000001" || rec.City.Country != "250" {
			t.Errorf("city info %+v", rec.City)
		}
	})
	t.Run("a pending hand-made application holds no number", func(t *testing.T) {
		h := newHarness(t, 1, 1)
		h.mustApply(t, byHand(t, h.signer("hand"), "250", "000001"))
		h.mustApply(t, allocate(t, h.signer("auto"), "250"))
		if o := h.mustApply(t, approve(t, h.members[0], 2)); o.CityCode != "2500000015" {
			t.Errorf("allocated %s, want 2500000015", o.CityCode)
		}
		// The number was issued meanwhile: the hand-made application
		// cannot be.
		h.expectRejected(t, approve(t, h.members[0], 1), CodeDuplicateCity, "2500000015")
		h.mustApply(t, allocate(t, h.signer("auto-2"), "250"))
		if o := h.mustApply(t, approve(t, h.members[0], 3)); o.CityCode != cityCode("250", "000002") || o.CityCode != "2500000023" {
			t.Errorf("second city %s, want 2500000023", o.CityCode)
		}
	})
	t.Run("skips a number already issued by hand", func(t *testing.T) {
		h := newHarness(t, 1, 1)
		h.mustApply(t, byHand(t, h.signer("hand"), "250", "000001"))
		h.mustApply(t, approve(t, h.members[0], 1))
		h.mustApply(t, allocate(t, h.signer("auto"), "250"))
		if o := h.mustApply(t, approve(t, h.members[0], 2)); o.CityCode != "2500000023" {
			t.Errorf("allocated %s, want 2500000023", o.CityCode)
		}
	})
	t.Run("a hand-made application for an allocated number is a duplicate", func(t *testing.T) {
		h := newHarness(t, 1, 1)
		h.mustApply(t, allocate(t, h.signer("auto"), "250"))
		h.mustApply(t, approve(t, h.members[0], 1))
		h.expectRejected(t, byHand(t, h.signer("hand"), "250", "000001"), CodeDuplicateCity,
			"country 250 city number 000001 already has the city code 2500000015")
	})
	t.Run("numbers are allocated at approval, in approval order", func(t *testing.T) {
		h := newHarness(t, 1, 1)
		h.mustApply(t, allocate(t, h.signer("first"), "250"))
		h.mustApply(t, allocate(t, h.signer("second"), "250"))
		if o := h.mustApply(t, approve(t, h.members[0], 2)); o.CityCode != "2500000015" {
			t.Errorf("first approved got %s, want 2500000015", o.CityCode)
		}
		if o := h.mustApply(t, approve(t, h.members[0], 1)); o.CityCode != "2500000023" {
			t.Errorf("second approved got %s, want 2500000023", o.CityCode)
		}
	})
	t.Run("each country counts on its own", func(t *testing.T) {
		h := newHarness(t, 1, 1)
		h.mustApply(t, allocate(t, h.signer("fr"), "250"))
		h.mustApply(t, allocate(t, h.signer("de"), "276"))
		h.mustApply(t, approve(t, h.members[0], 1))
		if o := h.mustApply(t, approve(t, h.members[0], 2)); o.CityCode != cityCode("276", "000001") || o.CityCode != "2760000011" {
			t.Errorf("first German city %s, want 2760000011", o.CityCode)
		}
	})
	t.Run("a rejected allocate application uses no number", func(t *testing.T) {
		h := newHarness(t, 1, 1)
		h.mustApply(t, allocate(t, h.signer("no"), "250"))
		h.mustApply(t, reject(t, h.members[0], 1, ""))
		h.mustApply(t, allocate(t, h.signer("yes"), "250"))
		if o := h.mustApply(t, approve(t, h.members[0], 2)); o.CityCode != "2500000015" {
			t.Errorf("city %s, want 2500000015", o.CityCode)
		}
	})
	t.Run("an allocated city keeps its UN/LOCODE", func(t *testing.T) {
		h := newHarness(t, 1, 1)
		h.mustApply(t, h.signer("x").tx(t, KindApplyCity, M{"country": "250", "city_number": "allocate", "name": "Paris", "locode": "FRPAR"}))
		h.mustApply(t, approve(t, h.members[0], 1))
		if got := stateGet(t, h, "locode/FRPAR"); got != `{"city":"2500000015"}` {
			t.Errorf("locode claim %q", got)
		}
	})
}

func TestApplicationRejections(t *testing.T) {
	w := newWorld(t)
	h := w.h
	beijing := h.signer("beijing")
	h.mustApply(t, beijing.tx(t, KindApplyCity, M{"country": "156", "city_number": "110100", "name": "北京市", "locode": "CNBJS"}))
	// Application 3 is rejected, for the already-decided cases.
	h.mustApply(t, h.signer("tianjin").tx(t, KindApplyCity, M{"country": "156", "city_number": "120100", "name": "天津市"}))
	h.mustApply(t, reject(t, h.members[0], 3, ""))
	h.mustApply(t, reject(t, h.members[1], 3, ""))
	h.mustApply(t, approve(t, h.members[0], 2))
	applicant := h.signer("applicant")
	apply := func(t testing.TB, msg M) []byte { return applicant.tx(t, KindApplyCity, msg) }
	city := func(number string, extra ...any) M {
		m := M{"country": "156", "city_number": number, "name": "某市"}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i].(string)] = extra[i+1]
		}
		return m
	}
	keys := func(n int) []string {
		var ks []string
		for i := 0; i < n; i++ {
			ks = append(ks, pubHex(testKey(fmt.Sprint("admin-", i))))
		}
		return ks
	}
	stranger := w.stranger

	tests := []struct {
		name string
		tx   func(t testing.TB) []byte
		code string
		msg  []string
	}{
		{"city already issued", func(t testing.TB) []byte { return apply(t, city("130100")) },
			CodeDuplicateCity, []string{"country 156 city number 130100 already has the city code 1561301001"}},
		{"city number outside GB/T 2260", func(t testing.TB) []byte { return apply(t, city("130000")) },
			CodeInvalid, []string{"city number 130000 is not a GB/T 2260 prefecture- or county-level division code"}},
		{"locode of an issued city", func(t testing.TB) []byte { return apply(t, city("310100", "locode", "CNSJW")) },
			CodeDuplicateLocode, []string{"UN/LOCODE CNSJW belongs to city 1561301001"}},
		{"locode of an issued city, other spelling", func(t testing.TB) []byte { return apply(t, city("310100", "locode", "cn sjw")) },
			CodeDuplicateLocode, []string{"UN/LOCODE CNSJW belongs to city 1561301001"}},
		{"locode of another country", func(t testing.TB) []byte { return apply(t, city("310100", "locode", "FRPAR")) },
			CodeInvalid, []string{"locode FRPAR is in country FR, but the application is for 156 (CN)"}},
		{"locode with digit 1", func(t testing.TB) []byte { return apply(t, city("310100", "locode", "CN1AB")) },
			CodeInvalid, []string{`locode "CN1AB": character 3 '1' is not a letter or a digit 2-9`}},
		{"locode with a digit in the country part", func(t testing.TB) []byte { return apply(t, city("310100", "locode", "C2SHA")) },
			CodeInvalid, []string{`character 2 '2' is not a letter`}},
		{"locode of four characters", func(t testing.TB) []byte { return apply(t, city("310100", "locode", "CNSH")) },
			CodeInvalid, []string{`locode "CNSH" is not 2 letters and 3 letters or digits`}},
		{"unknown country", func(t testing.TB) []byte { return apply(t, M{"country": "999", "city_number": "130100", "name": "x"}) },
			CodeInvalidID, []string{"999", "unknown_country"}},
		{"unknown country with allocate", func(t testing.TB) []byte {
			return apply(t, M{"country": "999", "city_number": "allocate", "name": "x"})
		}, CodeInvalidID, []string{`country "999"`, "unknown_country"}},
		{"city number of five digits", func(t testing.TB) []byte { return apply(t, city("13010")) },
			CodeInvalidID, []string{"too_short"}},
		{"city number with a letter", func(t testing.TB) []byte { return apply(t, city("13a100")) },
			CodeInvalidID, []string{"bad_char", "'a'"}},
		{"allocate in capitals is not the keyword", func(t testing.TB) []byte { return apply(t, city("ALLOCATE")) },
			CodeInvalidID, []string{"bad_char"}},
		{"name missing", func(t testing.TB) []byte { return apply(t, M{"country": "156", "city_number": "310100"}) },
			CodeInvalid, []string{"name is required"}},
		{"name with leading space", func(t testing.TB) []byte {
			return apply(t, M{"country": "156", "city_number": "310100", "name": " 上海市"})
		},
			CodeInvalid, []string{"name", "leading or trailing space"}},
		{"name with a control character", func(t testing.TB) []byte {
			return apply(t, M{"country": "156", "city_number": "310100", "name": "上海\x1b市"})
		}, CodeInvalid, []string{"name", "control character"}},
		{"name over MaxNameBytes", func(t testing.TB) []byte {
			return apply(t, M{"country": "156", "city_number": "310100", "name": strings.Repeat("a", MaxNameBytes+1)})
		}, CodeTooLarge, []string{fmt.Sprintf("name is %d bytes, more than the %d allowed", MaxNameBytes+1, MaxNameBytes)}},
		{"name_en over MaxNameBytes", func(t testing.TB) []byte {
			return apply(t, city("310100", "name_en", strings.Repeat("a", MaxNameBytes+1)))
		}, CodeTooLarge, []string{"name_en is"}},
		{"contact with a newline", func(t testing.TB) []byte { return apply(t, city("310100", "contact", "a\nb")) },
			CodeInvalid, []string{"contact", "control character"}},
		{"endpoint without a scheme", func(t testing.TB) []byte { return apply(t, city("310100", "endpoint", "node.sh.example")) },
			CodeInvalid, []string{"endpoint:", "not an absolute URL"}},
		{"endpoint over MaxEndpointBytes", func(t testing.TB) []byte {
			return apply(t, city("310100", "endpoint", "https://x.example/"+strings.Repeat("a", MaxEndpointBytes)))
		}, CodeTooLarge, []string{fmt.Sprintf("endpoint is %d bytes, more than the %d allowed", len("https://x.example/")+MaxEndpointBytes, MaxEndpointBytes)}},
		{"more than MaxAdmins admins", func(t testing.TB) []byte { return apply(t, city("310100", "admins", keys(MaxAdmins+1))) },
			CodeTooLarge, []string{fmt.Sprintf("%d admins, more than the %d allowed", MaxAdmins+1, MaxAdmins)}},
		{"admin key in uppercase hex", func(t testing.TB) []byte {
			return apply(t, city("310100", "admins", []string{keys(1)[0], strings.ToUpper(keys(2)[1])}))
		}, CodeBadPubKey, []string{"admin 2:", "must be lowercase hex"}},
		{"admin key of wrong length", func(t testing.TB) []byte {
			return apply(t, city("310100", "admins", []string{keys(1)[0][:40]}))
		}, CodeBadPubKey, []string{"admin 1:", "is 40 characters"}},
		{"admin key listed twice", func(t testing.TB) []byte {
			return apply(t, city("310100", "admins", []string{keys(1)[0], keys(1)[0]}))
		}, CodeInvalid, []string{"admin 2: key " + keys(1)[0] + " is listed twice"}},

		{"approval by a non-member", func(t testing.TB) []byte { return approve(t, stranger, 2) },
			CodeUnauthorized, []string{"key " + stranger.pub + " is not a member of the registry authority"}},
		{"rejection by a non-member", func(t testing.TB) []byte { return reject(t, stranger, 2, "") },
			CodeUnauthorized, []string{stranger.pub, "not a member"}},
		{"approval by the applicant", func(t testing.TB) []byte { return approve(t, beijing, 2) },
			CodeUnauthorized, []string{beijing.pub}},
		{"approval of an unknown application", func(t testing.TB) []byte { return approve(t, h.members[1], 99) },
			CodeNotFound, []string{"application 99 does not exist"}},
		{"approval of application 0", func(t testing.TB) []byte { return approve(t, h.members[1], 0) },
			CodeInvalid, []string{"application is required"}},
		{"second approval by the same member", func(t testing.TB) []byte { return approve(t, h.members[0], 2) },
			CodeAlreadyVoted, []string{"key " + h.members[0].pub + " has already voted this way on application 2"}},
		{"approval naming another content hash", func(t testing.TB) []byte {
			return h.members[1].tx(t, KindApproveApplication, M{"application": 2, "hash": h.appHash(t, 3)})
		}, CodeHashMismatch, []string{"application 2 has the content hash " + h.appHash(t, 2), "the vote was signed for another application"}},
		{"approval without a hash", func(t testing.TB) []byte {
			return h.members[1].tx(t, KindApproveApplication, M{"application": 2})
		}, CodeInvalid, []string{"hash is required"}},
		{"approval of an approved application", func(t testing.TB) []byte { return approve(t, h.members[2], w.cityApp) },
			CodeAlreadyDecided, []string{fmt.Sprintf("application %d is already approved", w.cityApp)}},
		{"approval of a rejected application", func(t testing.TB) []byte { return approve(t, h.members[2], 3) },
			CodeAlreadyDecided, []string{"application 3 is already rejected"}},
		{"reason over MaxNameBytes", func(t testing.TB) []byte {
			return reject(t, h.members[2], 2, strings.Repeat("r", MaxNameBytes+1))
		}, CodeTooLarge, []string{"reason is"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h.expectRejected(t, tc.tx(t), tc.code, tc.msg...)
		})
	}
	t.Run("MaxAdmins admins are allowed", func(t *testing.T) {
		o := h.mustApply(t, apply(t, city("310100", "admins", keys(MaxAdmins))))
		if got := h.application(t, o.Application).Admins; len(got) != MaxAdmins {
			t.Errorf("%d admins stored", len(got))
		}
	})
}
