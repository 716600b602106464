package registry

import (
	"fmt"
	"strings"

	"github.com/cityid/cityid/code"
)

// Application states.
const (
	AppPending  = "pending"
	AppApproved = "approved"
	AppRejected = "rejected"
)

// AllocateCityNumber in an application's city number asks the registry to
// allocate the next free number of the country, for a city that has no
// national division code.
const AllocateCityNumber = "allocate"

// Application is a city's application for a city code.
type Application struct {
	ID         uint64   `json:"id"`
	Status     string   `json:"status"`
	Country    string   `json:"country"`
	CityNumber string   `json:"city_number"` // six digits, or "allocate" until issued
	Name       string   `json:"name"`
	NameEn     string   `json:"name_en,omitempty"`
	Locode     string   `json:"locode,omitempty"`
	Contact    string   `json:"contact,omitempty"`
	Endpoint   string   `json:"endpoint,omitempty"`
	Admins     []string `json:"admins"`
	Applicant  string   `json:"applicant"`
	Approvals  []Vote   `json:"approvals"`
	Rejections []Vote   `json:"rejections"`
	CityCode   string   `json:"city_code,omitempty"`
	Submitted  Stamp    `json:"submitted"`
	Decided    *Stamp   `json:"decided,omitempty"`
}

// Vote is one authority member's approval or rejection.
type Vote struct {
	Member string `json:"member"`
	Reason string `json:"reason,omitempty"`
	Height int64  `json:"height"`
}

// ApplyCity applies for a city code.
type ApplyCity struct {
	Country    string   `json:"country"`
	CityNumber string   `json:"city_number"`
	Name       string   `json:"name"`
	NameEn     string   `json:"name_en,omitempty"`
	Locode     string   `json:"locode,omitempty"`
	Admins     []string `json:"admins,omitempty"` // default: the applicant
	Contact    string   `json:"contact,omitempty"`
	Endpoint   string   `json:"endpoint,omitempty"`
}

func (a *ApplyCity) validate(signer string) *Error {
	if a.CityNumber == AllocateCityNumber {
		if _, err := code.NewCity(a.Country, "000000"); err != nil {
			return invalidID("country", a.Country, err)
		}
	} else if _, err := code.NewCity(a.Country, a.CityNumber); err != nil {
		return invalidID("city", a.Country+" "+a.CityNumber, err)
	} else if a.CityNumber == "000000" {
		return errorf(CodeInvalid, "city number 000000 is reserved: no national division code is all zeros; use %q to have one allocated", AllocateCityNumber)
	}
	if err := checkName("name", a.Name, true); err != nil {
		return err
	}
	if err := checkName("name_en", a.NameEn, false); err != nil {
		return err
	}
	if err := checkName("contact", a.Contact, false); err != nil {
		return err
	}
	if a.Endpoint != "" {
		if len(a.Endpoint) > MaxEndpointBytes {
			return errorf(CodeTooLarge, "endpoint is %d bytes, more than the %d allowed", len(a.Endpoint), MaxEndpointBytes)
		}
		if err := checkURL(a.Endpoint); err != nil {
			return errorf(CodeInvalid, "endpoint: %s", err.Msg)
		}
	}
	if a.Locode != "" {
		l, err := normalizeLocode(a.Locode, a.Country)
		if err != nil {
			return err
		}
		a.Locode = l
	}
	admins, err := normalizeAdmins(a.Admins, signer)
	if err != nil {
		return err
	}
	a.Admins = admins
	return nil
}

// normalizeLocode checks a UN/LOCODE ("CN SJW" or "CNSJW", any case): two
// letters of the country's ISO 3166-1 alpha-2 code and three letters or
// digits 2-9, as UNECE assigns them.
func normalizeLocode(s, country string) (string, *Error) {
	l := strings.ToUpper(strings.ReplaceAll(s, " ", ""))
	if len(l) != 5 {
		return "", errorf(CodeInvalid, "locode %q is not 2 letters and 3 letters or digits", clip(s))
	}
	for i := 0; i < 5; i++ {
		c := l[i]
		if !(c >= 'A' && c <= 'Z' || i >= 2 && c >= '2' && c <= '9') {
			want := "a letter"
			if i >= 2 {
				want = "a letter or a digit 2-9"
			}
			return "", errorf(CodeInvalid, "locode %q: character %d %q is not %s", clip(s), i+1, c, want)
		}
	}
	if c, ok := code.LookupCountry(country); ok && c.Alpha2 != l[:2] {
		return "", errorf(CodeInvalid, "locode %s is in country %s, but the application is for %s (%s)", l, l[:2], country, c.Alpha2)
	}
	return l, nil
}

// locodeClaim records who holds a UN/LOCODE: a pending application or a city.
type locodeClaim struct {
	Application uint64 `json:"application,omitempty"`
	City        string `json:"city,omitempty"`
}

func (a *ApplyCity) apply(c *txContext) (Outcome, *Error) {
	if a.CityNumber != AllocateCityNumber {
		cityCode, _ := code.CityCode(a.Country, a.CityNumber)
		if err := c.checkCityFree(a.Country, a.CityNumber, cityCode); err != nil {
			return Outcome{}, err
		}
	}
	if a.Locode != "" {
		if err := c.checkLocodeFree(a.Locode); err != nil {
			return Outcome{}, err
		}
	}
	seq, err := getSeq(c.st, []byte(keyAppSeq))
	if err != nil {
		return Outcome{}, internal("read application counter", err)
	}
	app := Application{
		ID: seq + 1, Status: AppPending, Country: a.Country, CityNumber: a.CityNumber,
		Name: a.Name, NameEn: a.NameEn, Locode: a.Locode, Contact: a.Contact, Endpoint: a.Endpoint,
		Admins: a.Admins, Applicant: c.signer, Approvals: []Vote{}, Rejections: []Vote{},
		Submitted: c.stamp(),
	}
	if err := putSeq(c.st, []byte(keyAppSeq), app.ID); err != nil {
		return Outcome{}, internal("write application counter", err)
	}
	if err := putJSON(c.st, ApplicationKey(app.ID), app); err != nil {
		return Outcome{}, internal("write application", err)
	}
	if a.CityNumber != AllocateCityNumber {
		if err := putSeq(c.st, pendingKey(a.Country, a.CityNumber), app.ID); err != nil {
			return Outcome{}, internal("write pending index", err)
		}
	}
	if a.Locode != "" {
		if err := putJSON(c.st, locodeKey(a.Locode), locodeClaim{Application: app.ID}); err != nil {
			return Outcome{}, internal("write locode claim", err)
		}
	}
	return Outcome{Application: app.ID, Status: app.Status}, nil
}

func (c *txContext) checkCityFree(country, cityNumber, cityCode string) *Error {
	if ok, err := c.exists(RecordKey(cityCode)); err != nil {
		return err
	} else if ok {
		return errorf(CodeDuplicateCity, "country %s city number %s already has the city code %s", country, cityNumber, cityCode)
	}
	pending, err := getSeq(c.st, pendingKey(country, cityNumber))
	if err != nil {
		return internal("read pending index", err)
	}
	if pending != 0 {
		return errorf(CodeDuplicateCity, "application %d for country %s city number %s is pending", pending, country, cityNumber)
	}
	return nil
}

func (c *txContext) checkLocodeFree(locode string) *Error {
	var claim locodeClaim
	ok, err := getJSON(c.st, locodeKey(locode), &claim)
	if err != nil {
		return internal("read locode claim", err)
	}
	if !ok {
		return nil
	}
	if claim.City != "" {
		return errorf(CodeDuplicateLocode, "UN/LOCODE %s belongs to city %s", locode, claim.City)
	}
	return errorf(CodeDuplicateLocode, "UN/LOCODE %s is claimed by pending application %d", locode, claim.Application)
}

func (c *txContext) exists(key []byte) (bool, *Error) {
	b, err := c.st.Get(key)
	if err != nil {
		return false, internal(fmt.Sprintf("read %q", key), err)
	}
	return b != nil, nil
}

// Decision approves or rejects an application (kinds approve_application and
// reject_application). The city code is issued when approvals reach the
// authority's threshold; the application is rejected when so many members
// have rejected it that the threshold can no longer be reached. That one
// rule serves every M of N: 1 of 1 decides at once, 2 of 3 needs two votes
// either way.
type Decision struct {
	Application uint64 `json:"application"`
	Reason      string `json:"reason,omitempty"`
	approve     bool
}

func (d *Decision) validate(string) *Error {
	if d.Application == 0 {
		return errorf(CodeInvalid, "application is required")
	}
	return checkName("reason", d.Reason, false)
}

func (d *Decision) apply(c *txContext) (Outcome, *Error) {
	auth, err := GetAuthority(c.st)
	if err != nil {
		return Outcome{}, internal("read authority", err)
	}
	if !contains(auth.Members, c.signer) {
		return Outcome{}, errorf(CodeUnauthorized, "key %s is not a member of the registry authority", c.signer)
	}
	var app Application
	ok, err := getJSON(c.st, ApplicationKey(d.Application), &app)
	if err != nil {
		return Outcome{}, internal("read application", err)
	}
	if !ok {
		return Outcome{}, errorf(CodeNotFound, "application %d does not exist", d.Application)
	}
	if app.Status != AppPending {
		return Outcome{}, errorf(CodeAlreadyDecided, "application %d is already %s", app.ID, app.Status)
	}
	voted := false
	for _, v := range append(append([]Vote{}, app.Approvals...), app.Rejections...) {
		voted = voted || v.Member == c.signer
	}
	if !voted {
		vote := Vote{Member: c.signer, Reason: d.Reason, Height: c.block.Height}
		if d.approve {
			app.Approvals = append(app.Approvals, vote)
		} else {
			app.Rejections = append(app.Rejections, vote)
		}
	}
	// Decide by the votes of the current members against the current
	// threshold. A member who already voted may ask again: after the
	// authority changed, the votes cast may now decide the application,
	// and without this no one could make it so.
	switch {
	case countMembers(app.Approvals, auth.Members) >= auth.Threshold:
		if err := c.issueCity(&app); err != nil {
			return Outcome{}, err
		}
	case len(auth.Members)-countMembers(app.Rejections, auth.Members) < auth.Threshold:
		if err := c.rejectApplication(&app); err != nil {
			return Outcome{}, err
		}
	case voted:
		return Outcome{}, errorf(CodeAlreadyVoted, "key %s has already voted on application %d", c.signer, app.ID)
	}
	if err := putJSON(c.st, ApplicationKey(app.ID), app); err != nil {
		return Outcome{}, internal("write application", err)
	}
	return Outcome{
		Application: app.ID, Status: app.Status, CityCode: app.CityCode,
		Approvals: len(app.Approvals), Rejections: len(app.Rejections), Threshold: auth.Threshold,
	}, nil
}

// countMembers counts the votes cast by current members: a member removed
// from the authority no longer counts.
func countMembers(votes []Vote, members []string) int {
	n := 0
	for _, v := range votes {
		if contains(members, v.Member) {
			n++
		}
	}
	return n
}

func (c *txContext) issueCity(app *Application) *Error {
	number := app.CityNumber
	if number == AllocateCityNumber {
		n, err := c.allocateCityNumber(app.Country)
		if err != nil {
			return err
		}
		number = n
	}
	id, perr := code.NewCity(app.Country, number)
	if perr != nil {
		return invalidID("city", app.Country+" "+number, perr)
	}
	cityCode := id.String()
	if ok, err := c.exists(RecordKey(cityCode)); err != nil {
		return err
	} else if ok {
		// Only possible for a number given by hand that a later allocation
		// could not have taken, but checked so a city is never overwritten.
		return errorf(CodeDuplicateCity, "city code %s is already issued", cityCode)
	}
	st := c.stamp()
	rec := Record{
		ID: cityCode, Kind: code.KindCity, Status: StatusActive, Version: 1, Name: app.Name,
		City: &CityInfo{
			Country: app.Country, CityNumber: number, NameEn: app.NameEn, Locode: app.Locode,
			Contact: app.Contact, Endpoint: app.Endpoint, Application: app.ID,
		},
		Values: []Value{}, Admins: app.Admins, Created: st, Updated: st,
	}
	if err := putJSON(c.st, RecordKey(cityCode), rec); err != nil {
		return internal("write city", err)
	}
	if err := c.st.Set(cityKey(cityCode), []byte(app.Name)); err != nil {
		return internal("write city directory", err)
	}
	if app.CityNumber != AllocateCityNumber {
		if err := c.st.Delete(pendingKey(app.Country, app.CityNumber)); err != nil {
			return internal("delete pending index", err)
		}
	}
	if app.Locode != "" {
		if err := putJSON(c.st, locodeKey(app.Locode), locodeClaim{City: cityCode}); err != nil {
			return internal("write locode claim", err)
		}
	}
	app.CityNumber = number
	app.Status = AppApproved
	app.CityCode = cityCode
	app.Decided = &st
	return nil
}

func (c *txContext) rejectApplication(app *Application) *Error {
	if app.CityNumber != AllocateCityNumber {
		if err := c.st.Delete(pendingKey(app.Country, app.CityNumber)); err != nil {
			return internal("delete pending index", err)
		}
	}
	if app.Locode != "" {
		if err := c.st.Delete(locodeKey(app.Locode)); err != nil {
			return internal("delete locode claim", err)
		}
	}
	st := c.stamp()
	app.Status = AppRejected
	app.Decided = &st
	return nil
}

// allocateCityNumber returns the country's next free city number, skipping
// numbers already taken by cities or pending applications.
func (c *txContext) allocateCityNumber(country string) (string, *Error) {
	last, err := getSeq(c.st, citySeqKey(country))
	if err != nil {
		return "", internal("read city counter", err)
	}
	for n, probes := last+1, 0; n <= MaxCityNumber && probes < MaxAllocateProbes; n, probes = n+1, probes+1 {
		number := fmt.Sprintf("%06d", n)
		cityCode, perr := code.CityCode(country, number)
		if perr != nil {
			return "", invalidID("city", country+" "+number, perr)
		}
		if c.checkCityFree(country, number, cityCode) != nil {
			continue
		}
		if err := putSeq(c.st, citySeqKey(country), n); err != nil {
			return "", internal("write city counter", err)
		}
		return number, nil
	}
	return "", errorf(CodeExhausted, "no free city number for country %s after %06d", country, last)
}

// GetApplication reads an application; ok is false when it does not exist.
func GetApplication(r Reader, id uint64) (Application, bool, error) {
	var a Application
	ok, err := getJSON(r, ApplicationKey(id), &a)
	return a, ok, err
}
