package registry

import (
	"crypto/sha256"
	"encoding/hex"
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
	// Hash is the application's content hash (ApplicationHash): a vote
	// names it as well as the number, so a vote signed for one
	// application can never count for another that later got its number.
	Hash string `json:"hash"`
	// Expires is the last height at which the application may be
	// decided; after it, a pending application has expired.
	Expires int64 `json:"expires"`
}

// Application status as readers show it: a pending application past its
// last height has expired.
const AppExpired = "expired"

// StatusAt is the application's status at height h: AppExpired for one
// still pending in state after its last height.
func (a Application) StatusAt(h int64) string {
	if a.Status == AppPending && h > a.Expires {
		return AppExpired
	}
	return a.Status
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
	} else if err := checkNationalNumber(a.Country, a.CityNumber); err != nil {
		return err
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
	if err := checkEndpoint(a.Endpoint); err != nil {
		return err
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

// locodeClaim records the city that holds a UN/LOCODE.
type locodeClaim struct {
	City string `json:"city"`
}

// ApplicationHash is the content hash the registry gives the application
// msg when applicant files it: what a vote names, computed by whoever built
// the application without asking a node.
func ApplicationHash(applicant string, msg ApplyCity) (string, *Error) {
	msg.Admins = append([]string(nil), msg.Admins...)
	if err := msg.validate(applicant); err != nil {
		return "", err
	}
	return contentHash(applicant, &msg)
}

// contentHash is SHA-256 over the applicant's key and the canonical,
// validated application message, in lowercase hex.
func contentHash(applicant string, a *ApplyCity) (string, *Error) {
	b, err := marshalCompact(struct {
		Applicant string     `json:"applicant"`
		Apply     *ApplyCity `json:"apply_city"`
	}{applicant, a})
	if err != nil {
		return "", errorf(CodeInvalid, "application cannot be encoded: %v", err)
	}
	sum := sha256.Sum256(append([]byte("cityid application\x00"), b...))
	return hex.EncodeToString(sum[:]), nil
}

// apply files the application. Nothing is reserved by it: a number or a
// UN/LOCODE is the city's only once its code is issued, so no applicant can
// squat on another city's number by applying first. A number or LOCODE
// that a city already holds is refused at once, to tell the applicant
// early; issuance checks both again.
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
	if err := c.checkNoOpenApplication(); err != nil {
		return Outcome{}, err
	}
	params, err := GetParams(c.st)
	if err != nil {
		return Outcome{}, internal("read params", err)
	}
	hash, herr := contentHash(c.signer, a)
	if herr != nil {
		return Outcome{}, herr
	}
	seq, err := getSeq(c.st, []byte(keyAppSeq))
	if err != nil {
		return Outcome{}, internal("read application counter", err)
	}
	app := Application{
		ID: seq + 1, Status: AppPending, Country: a.Country, CityNumber: a.CityNumber,
		Name: a.Name, NameEn: a.NameEn, Locode: a.Locode, Contact: a.Contact, Endpoint: a.Endpoint,
		Admins: a.Admins, Applicant: c.signer, Approvals: []Vote{}, Rejections: []Vote{},
		Submitted: c.stamp(), Hash: hash, Expires: c.block.Height + int64(params.ApplicationTerm()),
	}
	if err := putSeq(c.st, []byte(keyAppSeq), app.ID); err != nil {
		return Outcome{}, internal("write application counter", err)
	}
	if err := putJSON(c.st, ApplicationKey(app.ID), app); err != nil {
		return Outcome{}, internal("write application", err)
	}
	if err := putSeq(c.st, openKey(c.signer), app.ID); err != nil {
		return Outcome{}, internal("write open application", err)
	}
	return Outcome{Application: app.ID, Status: app.Status, Hash: app.Hash}, nil
}

// checkNoOpenApplication refuses a second application from a key whose
// last one is still pending and open: one open application per key, so
// one key cannot fill the authority's desk.
func (c *txContext) checkNoOpenApplication() *Error {
	id, err := getSeq(c.st, openKey(c.signer))
	if err != nil {
		return internal("read open application", err)
	}
	if id == 0 {
		return nil
	}
	var app Application
	ok, gerr := getJSON(c.st, ApplicationKey(id), &app)
	if gerr != nil {
		return internal("read application", gerr)
	}
	if ok && app.StatusAt(c.block.Height) == AppPending {
		return errorf(CodeExists, "key %s already has application %d open until height %d: one open application per key", c.signer, id, app.Expires)
	}
	return nil
}

func (c *txContext) checkCityFree(country, cityNumber, cityCode string) *Error {
	if ok, err := c.exists(RecordKey(cityCode)); err != nil {
		return err
	} else if ok {
		return errorf(CodeDuplicateCity, "country %s city number %s already has the city code %s", country, cityNumber, cityCode)
	}
	return nil
}

func (c *txContext) checkLocodeFree(locode string) *Error {
	var claim locodeClaim
	ok, err := getJSON(c.st, locodeKey(locode), &claim)
	if err != nil {
		return internal("read locode claim", err)
	}
	if ok && claim.City != "" {
		return errorf(CodeDuplicateLocode, "UN/LOCODE %s belongs to city %s", locode, claim.City)
	}
	return nil
}

func (c *txContext) exists(key []byte) (bool, *Error) {
	b, err := c.st.Get(key)
	if err != nil {
		return false, internal(fmt.Sprintf("read %q", key), err)
	}
	return b != nil, nil
}

// Decision approves or rejects an application (kinds approve_application and
// reject_application). The city code is issued when live approvals reach
// the authority's threshold; the application is rejected when so many
// members have rejected it that the threshold can no longer be reached.
// That one rule serves every M of N: 1 of 1 decides at once, 2 of 3 needs
// two votes either way. A vote decides only in its own direction, counts
// only while its member is in the authority and for VoteTerm blocks, and
// names the application's content hash as well as its number.
type Decision struct {
	Application uint64 `json:"application"`
	Hash        string `json:"hash"` // the application's content hash
	Reason      string `json:"reason,omitempty"`
	approve     bool
}

func (d *Decision) validate(string) *Error {
	if d.Application == 0 {
		return errorf(CodeInvalid, "application is required")
	}
	if err := checkHashText("hash", d.Hash); err != nil {
		return err
	}
	return checkName("reason", d.Reason, false)
}

// checkHashText checks a SHA-256 in lowercase hex.
func checkHashText(field, h string) *Error {
	if len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" {
		if h == "" {
			return errorf(CodeInvalid, "%s is required: the application's content hash (GET /v1/applications/{n} shows it)", field)
		}
		return errorf(CodeInvalid, "%s %q is not 64 lowercase hex digits", field, clip(h))
	}
	return nil
}

func (d *Decision) apply(c *txContext) (Outcome, *Error) {
	auth, params, err := c.authority()
	if err != nil {
		return Outcome{}, err
	}
	app, err := c.openApplication(d.Application, d.Hash)
	if err != nil {
		return Outcome{}, err
	}
	live := liveVotes{members: auth.Members, height: c.block.Height, term: params.VoteTerm()}
	mine, other := &app.Approvals, &app.Rejections
	if !d.approve {
		mine, other = other, mine
	}
	// A member's vote replaces any earlier vote of theirs, in either
	// direction: a changed mind, or a vote renewed before it lapses.
	renewed := false
	for _, v := range *mine {
		renewed = renewed || v.Member == c.signer && live.counts(v)
	}
	*mine = append(withoutMember(*mine, c.signer), Vote{Member: c.signer, Reason: d.Reason, Height: c.block.Height})
	*other = withoutMember(*other, c.signer)
	approvals, rejections := live.count(app.Approvals), live.count(app.Rejections)
	switch {
	case d.approve && approvals >= auth.Threshold:
		if err := c.issueCity(&app); err != nil {
			return Outcome{}, err
		}
	case !d.approve && len(auth.Members)-rejections < auth.Threshold:
		if err := c.closeApplication(&app, AppRejected); err != nil {
			return Outcome{}, err
		}
	case renewed && d.Reason == "":
		// Asking again changes nothing a reader sees but the height
		// of the vote: refuse it, as before, unless it renews a vote
		// with a reason.
		return Outcome{}, errorf(CodeAlreadyVoted, "key %s has already voted this way on application %d", c.signer, app.ID)
	}
	if err := putJSON(c.st, ApplicationKey(app.ID), app); err != nil {
		return Outcome{}, internal("write application", err)
	}
	return Outcome{
		Application: app.ID, Status: app.Status, CityCode: app.CityCode,
		Approvals: approvals, Rejections: rejections, Threshold: auth.Threshold,
	}, nil
}

// authority reads the registry authority and the network's parameters, and
// checks that the signer is a member.
func (c *txContext) authority() (Authority, Params, *Error) {
	auth, err := GetAuthority(c.st)
	if err != nil {
		return auth, Params{}, internal("read authority", err)
	}
	params, err := GetParams(c.st)
	if err != nil {
		return auth, params, internal("read params", err)
	}
	if !contains(auth.Members, c.signer) {
		return auth, params, errorf(CodeUnauthorized, "key %s is not a member of the registry authority", c.signer)
	}
	return auth, params, nil
}

// openApplication reads an application that can still be voted on, and
// checks that it is the one the voter saw.
func (c *txContext) openApplication(id uint64, hash string) (Application, *Error) {
	var app Application
	ok, err := getJSON(c.st, ApplicationKey(id), &app)
	if err != nil {
		return app, internal("read application", err)
	}
	if !ok {
		return app, errorf(CodeNotFound, "application %d does not exist", id)
	}
	if app.Hash != hash {
		return app, errorf(CodeHashMismatch, "application %d has the content hash %s, not %s: the vote was signed for another application", id, app.Hash, hash)
	}
	switch app.StatusAt(c.block.Height) {
	case AppPending:
		return app, nil
	case AppExpired:
		return app, errorf(CodeExpired, "application %d expired after height %d without a decision; the city may apply again", id, app.Expires)
	}
	return app, errorf(CodeAlreadyDecided, "application %d is already %s", app.ID, app.Status)
}

// VoteCount is how an application stands at a height: the votes that
// count (of current members, within the vote term) and the threshold.
type VoteCount struct {
	Approvals  int `json:"approvals"`
	Rejections int `json:"rejections"`
	Threshold  int `json:"threshold"`
}

// CountVotes counts an application's votes as a vote at height h would:
// only those of current members of auth, cast within the vote term.
func CountVotes(a Application, auth Authority, p Params, h int64) VoteCount {
	live := liveVotes{members: auth.Members, height: h, term: p.VoteTerm()}
	return VoteCount{Approvals: live.count(a.Approvals), Rejections: live.count(a.Rejections), Threshold: auth.Threshold}
}

// liveVotes counts the votes that still count: cast by a current member
// of the authority, no more than term blocks ago.
type liveVotes struct {
	members []string
	height  int64
	term    uint64
}

func (l liveVotes) counts(v Vote) bool {
	return contains(l.members, v.Member) && l.height-v.Height <= int64(l.term)
}

func (l liveVotes) count(votes []Vote) int {
	n := 0
	for _, v := range votes {
		if l.counts(v) {
			n++
		}
	}
	return n
}

// withoutMember returns votes less any vote of member, in a new slice.
func withoutMember(votes []Vote, member string) []Vote {
	out := make([]Vote, 0, len(votes))
	for _, v := range votes {
		if v.Member != member {
			out = append(out, v)
		}
	}
	return out
}

// WithdrawVote takes back the signer's vote on an application or a
// governance proposal (kind withdraw_vote): exactly one of Application
// (with its Hash) and Proposal.
type WithdrawVote struct {
	Application uint64 `json:"application,omitempty"`
	Hash        string `json:"hash,omitempty"`
	Proposal    string `json:"proposal,omitempty"`
}

func (w *WithdrawVote) validate(string) *Error {
	switch {
	case w.Application != 0 && w.Proposal != "", w.Application == 0 && w.Proposal == "":
		return errorf(CodeInvalid, "name either an application (with its hash) or a proposal")
	case w.Application != 0:
		return checkHashText("hash", w.Hash)
	}
	if len(w.Proposal) != 32 || strings.Trim(w.Proposal, "0123456789abcdef") != "" {
		return errorf(CodeInvalid, "proposal %q is not 32 lowercase hex digits", clip(w.Proposal))
	}
	return nil
}

func (w *WithdrawVote) apply(c *txContext) (Outcome, *Error) {
	if w.Proposal != "" {
		return c.withdrawProposalVote(w.Proposal)
	}
	auth, params, err := c.authority()
	if err != nil {
		return Outcome{}, err
	}
	app, err := c.openApplication(w.Application, w.Hash)
	if err != nil {
		return Outcome{}, err
	}
	na, nr := len(app.Approvals), len(app.Rejections)
	app.Approvals, app.Rejections = withoutMember(app.Approvals, c.signer), withoutMember(app.Rejections, c.signer)
	if len(app.Approvals) == na && len(app.Rejections) == nr {
		return Outcome{}, errorf(CodeNotFound, "key %s has no vote on application %d", c.signer, app.ID)
	}
	if err := putJSON(c.st, ApplicationKey(app.ID), app); err != nil {
		return Outcome{}, internal("write application", err)
	}
	live := liveVotes{members: auth.Members, height: c.block.Height, term: params.VoteTerm()}
	return Outcome{
		Application: app.ID, Status: app.Status, Approvals: live.count(app.Approvals),
		Rejections: live.count(app.Rejections), Threshold: auth.Threshold,
	}, nil
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
	// Uniqueness is decided here, when the code is issued: two
	// applications for one number may both wait, and the first approved
	// gets it.
	if err := c.checkCityFree(app.Country, number, cityCode); err != nil {
		return errorf(err.Code, "%s: reject application %d", err.Msg, app.ID)
	}
	if app.Locode != "" {
		if err := c.checkLocodeFree(app.Locode); err != nil {
			return errorf(err.Code, "%s: reject application %d", err.Msg, app.ID)
		}
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
	if app.Locode != "" {
		if err := putJSON(c.st, locodeKey(app.Locode), locodeClaim{City: cityCode}); err != nil {
			return internal("write locode claim", err)
		}
	}
	app.CityNumber = number
	app.CityCode = cityCode
	return c.closeApplication(app, AppApproved)
}

// closeApplication marks an application decided and frees its applicant to
// apply again.
func (c *txContext) closeApplication(app *Application, status string) *Error {
	st := c.stamp()
	app.Status = status
	app.Decided = &st
	open, err := getSeq(c.st, openKey(app.Applicant))
	if err != nil {
		return internal("read open application", err)
	}
	if open == app.ID {
		if err := c.st.Delete(openKey(app.Applicant)); err != nil {
			return internal("delete open application", err)
		}
	}
	return nil
}

// cityNumberTaken reports whether country's number n is a city's.
func (c *txContext) cityNumberTaken(country string, n uint64) (bool, *Error) {
	cityCode, perr := code.CityCode(country, fmt.Sprintf("%06d", n))
	if perr != nil {
		return false, invalidID("city", fmt.Sprintf("%s %06d", country, n), perr)
	}
	return c.exists(RecordKey(cityCode))
}

// allocateCityNumber returns the country's next free city number.
func (c *txContext) allocateCityNumber(country string) (string, *Error) {
	n, err := c.takeNumber(citySeqKey(country), MaxCityNumber, "city number of country "+country, func(m uint64) (bool, *Error) {
		return c.cityNumberTaken(country, m)
	})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%06d", n), nil
}

// GetApplication reads an application; ok is false when it does not exist.
func GetApplication(r Reader, id uint64) (Application, bool, error) {
	var a Application
	ok, err := getJSON(r, ApplicationKey(id), &a)
	return a, ok, err
}

// checkEndpoint checks a city node's endpoint URL ("" is none): an http
// or https URL (the scheme in lower case, as url.Parse keeps it).
func checkEndpoint(endpoint string) *Error {
	if endpoint == "" {
		return nil
	}
	if len(endpoint) > MaxEndpointBytes {
		return errorf(CodeTooLarge, "endpoint is %d bytes, more than the %d allowed", len(endpoint), MaxEndpointBytes)
	}
	if err := checkURL(endpoint); err != nil {
		return errorf(CodeInvalid, "endpoint: %s", err.Msg)
	}
	// Other nodes and the portal reach the city's node over HTTP.
	if !strings.HasPrefix(endpoint, "https://") && !strings.HasPrefix(endpoint, "http://") {
		return errorf(CodeInvalid, "endpoint %q is not an http or https URL: it is where others reach the city's node", clip(endpoint))
	}
	return nil
}
